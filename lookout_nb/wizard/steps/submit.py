"""Step 7, Submit: one button, disabled while the request has problems, safe to click twice.

The wizard does the submitting (through ``scheduler.submit``); this step only shows the state: why the button is
disabled, and what the service answered.

>>> step = SubmitStep()
>>> step.set_problems(["ModelName: is required"])
>>> step.button.disabled
True
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from ..._palette import MUTED, level_colour
from ..conflict import ConflictView
from ..fields import button_layout
from ..render import notice


class SubmitStep:
    """The Submit button, why it is disabled, and the outcome."""

    title = "7 Submit"

    def __init__(self):
        self.button = widgets.Button(
            description="Submit scheduler", tooltip="Create the inference scheduler and wait until it runs",
            icon="rocket", button_style="success", disabled=True, layout=button_layout(),
        )
        self.why = widgets.HTML()
        self.why.add_class("lnb-submit-why")
        self.outcome = widgets.HTML()
        self.outcome.add_class("lnb-submit-outcome")
        #: The request the outcome is about, and the outcome's words (shown as "earlier" once the request changes).
        self.outcome_request = None
        self._outcome: tuple[str, str] = ("", "info")
        self.conflict = ConflictView()
        self.submitting = False
        self._problems: list[str] = []
        #: The request the fields build now, and the one the service's scheduler was last made to match (by a
        #: Submit or an Update): while they are equal there is nothing to submit.
        self._request = None
        self.applied: tuple[object, str] | None = None
        self.box = widgets.VBox(
            [
                widgets.HTML(
                    "<b>Create the scheduler.</b> The request carries a token derived from its content, so a retry "
                    "of the same request returns the same scheduler instead of a second one."
                ),
                self.why,
                self.button,
                self.outcome,
                self.conflict.box,
            ]
        )

    def show_outcome(self, text: str, level: str, request) -> None:
        """Say what the service answered to ``request`` (the outcome is marked "earlier" once the request changes)."""
        self.outcome_request = request
        self._outcome = (text, level)
        self.outcome.value = notice(text, level) if text else ""

    def set_request(self, request) -> None:
        """The request the fields build now: an outcome about another request says that it is an earlier one.

        >>> from lookout_nb.contract.request import SchedulerRequest
        >>> step = SubmitStep()
        >>> step.show_outcome("Scheduler a was PENDING.", "ok", SchedulerRequest(scheduler_name="a"))
        >>> step.set_request(SchedulerRequest(scheduler_name="b"))
        >>> "before the request changed" in step.outcome.value
        True
        """
        self._request = request
        self._update()
        text, level = self._outcome
        if not text or self.outcome_request is None:
            return
        if request == self.outcome_request:
            self.outcome.value = notice(text, level)
            self.conflict.set_current(True)
            return
        self.outcome.value = (
            f'<div class="lnb-outcome-earlier" style="color:{MUTED}">Earlier, before the request changed: '
            f"{html.escape(text)}<br>The fields have changed since: that answer is not about the request they "
            "build now (submit it to ask the service).</div>"
        )
        self.conflict.set_current(False)

    def set_problems(self, problems) -> None:
        """Enable the button only when there is no problem (and nothing is being submitted)."""
        self._problems = [str(p) for p in problems]
        self._update()

    def set_applied(self, request, name: str) -> None:
        """Scheduler ``name`` now matches ``request`` (submitted or updated): Submit stays off until a field changes.

        >>> from lookout_nb.contract.request import SchedulerRequest
        >>> step, request = SubmitStep(), SchedulerRequest(scheduler_name="a")
        >>> step.set_problems([]); step.set_request(request); step.set_applied(request, "a")
        >>> step.button.disabled, step.set_request(request.replace(scheduler_name="b")), step.button.disabled
        (True, None, False)
        """
        self.applied = (request, name)
        self._update()

    def forget(self, name: str) -> None:
        """Scheduler ``name`` no longer exists (deleted): the request it matched may be submitted again."""
        if self.applied is not None and self.applied[1] == name:
            self.applied = None
            self._update()

    def set_submitting(self, submitting: bool) -> None:
        self.submitting = submitting
        self._update()

    def _update(self) -> None:
        done = self.applied is not None and self._request is not None and self.applied[0] == self._request
        self.button.disabled = bool(self._problems) or self.submitting or done
        if self.submitting:
            self.why.value = notice("Submitting; the button comes back when the service has answered.", "info")
        elif self._problems:
            items = "".join(f"<li>{html.escape(p)}</li>" for p in self._problems[:12])
            more = f"<li>&hellip; and {len(self._problems) - 12} more</li>" if len(self._problems) > 12 else ""
            self.why.value = (
                f'<div style="color:{level_colour("error")}">Submit is disabled: {len(self._problems)} problem(s) '
                f"(each shown beside its field):<ul>{items}{more}</ul></div>"
            )
        elif done and self.applied is not None:
            self.why.value = notice(f"Scheduler {self.applied[1]} already runs this request: change a field to "
                                    "submit another.", "ok")
        else:
            self.why.value = notice("The request is valid.", "ok")
