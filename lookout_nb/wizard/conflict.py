"""A scheduler of that name exists with another configuration: the differences, once, and an Update action.

Submit shows a :class:`~lookout_nb.errors.SchedulerConflict` here rather than in the error area: one table of the
differing fields (existing and requested values, and whether UpdateInferenceScheduler can change each), and an
"Update scheduler" button that changes the existing scheduler's updatable fields to the requested values
(``scheduler.update``) and shows the result.

>>> from lookout_nb.errors import SchedulerConflict
>>> from lookout_nb.calls.scheduler import Difference
>>> view = ConflictView()
>>> view.show(SchedulerConflict("exists", [Difference("upload_frequency", "DataUploadFrequency", "PT5M", "PT10M")]),
...           "pump")
>>> view.update_button.disabled, view.changes
(False, {'upload_frequency': 'PT10M'})
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import pandas as pd

from .._palette import level_colour
from ..calls.scheduler import updatable
from .fields import button_layout
from .render import notice, table_html


def differences_table(differences) -> pd.DataFrame:
    """One row per differing field: field, API member, existing, requested, updatable (yes/no)."""
    fields = set(updatable())
    return pd.DataFrame(
        [(d.field, d.path, repr(d.old), repr(d.new), "yes" if d.field in fields else "no") for d in differences],
        columns=["field", "API member", "existing", "requested", "updatable"],
    )


class ConflictView:
    """The conflict's differences and the Update action (hidden while there is no conflict)."""

    def __init__(self):
        self.message = widgets.HTML()
        self.message.add_class("lnb-conflict")
        self.update_button = widgets.Button(
            description="Update scheduler", icon="pencil", disabled=True, layout=button_layout(),
            tooltip="Change the existing scheduler's updatable fields to the requested values",
        )
        self.update_button.add_class("lnb-update-scheduler")
        self.result = widgets.HTML()
        self.result.add_class("lnb-update-result")
        self.name: str | None = None
        #: The updatable fields that differ, with the requested values (what Update sends).
        self.changes: dict = {}
        self.box = widgets.VBox([self.message, self.update_button, self.result],
                                layout=widgets.Layout(display="none"))

    def show(self, conflict, name: str) -> None:
        """Show the differences of ``conflict`` (a SchedulerConflict) with the scheduler ``name``."""
        self.name = name
        diffs = list(conflict.differences)
        fields = set(updatable())
        self.changes = {d.field: d.new for d in diffs if d.field in fields}
        fixed = [d.field for d in diffs if d.field not in fields]
        self.result.value = ""
        self.box.layout.display = ""
        if not diffs:  # same visible configuration, another token: nothing to update
            self.message.value = notice(str(conflict), "error")
            self._offer(False)
            return
        if fixed:
            advice = (f"{', '.join(fixed)} cannot be updated (UpdateInferenceScheduler does not change them): choose "
                      "another scheduler name, or stop and delete the existing scheduler first."
                      + (" Update changes only the updatable fields." if self.changes else ""))
        else:
            advice = ("Update changes the existing scheduler to this request (UpdateInferenceScheduler); or choose "
                      "another scheduler name to create a second one.")
        self.message.value = (
            f'<div style="color:{level_colour("error")}">&#10007; A scheduler named <b>{html.escape(name)}</b> '
            f"already exists with a different configuration ({len(diffs)} field(s) differ):</div>"
            f"{table_html(differences_table(diffs))}<div>{html.escape(advice)}</div>"
        )
        self._offer(bool(self.changes))

    def _offer(self, on: bool) -> None:
        self.update_button.disabled = not on
        self.update_button.layout.display = "" if on else "none"
        n = len(self.changes)
        self.update_button.description = f"Update {n} field{'s' if n != 1 else ''}" if on else "Update scheduler"

    def set_current(self, current: bool) -> None:
        """The request changed (``current=False``): these differences no longer hold, so Update is withdrawn."""
        if self.name is not None and self.changes:
            self._offer(current)

    def set_updating(self, name: str) -> None:
        self.update_button.disabled = True
        self.result.value = notice(f"Updating {name}…", "info")

    def show_updated(self, info, changes: dict, now=None) -> None:
        """Show the described scheduler ``info`` after the update of ``changes``; the conflict is resolved."""
        listed = ", ".join(f"{k} = {v!r}" for k, v in changes.items())
        when = f" at service time {now:%Y-%m-%d %H:%M:%S} UTC" if now is not None else ""
        self.message.value = ""
        self._offer(False)
        self.changes = {}
        self.result.value = notice(f"Updated {info.name}{when}: {listed}. Its status is {info.status}; the Monitor "
                                   "follows it.", "ok")

    def show_failed(self) -> None:
        self.update_button.disabled = not self.changes
        self.result.value = notice("The update was refused: see the error above.", "error")

    def clear(self) -> None:
        self.name, self.changes = None, {}
        self.message.value = self.result.value = ""
        self._offer(False)
        self.box.layout.display = "none"
