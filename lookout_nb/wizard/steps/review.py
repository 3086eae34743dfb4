"""Step 6, Review: the validation summary, the request as Python, JSON and CloudFormation, and the next runs.

Everything shown comes from the request the fields build: ``to_python()`` (the exact boto3 call),
``to_json()``, ``to_cloudformation()``, and ``timing`` for the wake-ups. Code blocks can be selected and copied,
downloaded in the browser, or saved as files next to the notebook.

>>> from lookout_nb.contract.request import SchedulerRequest
>>> step = ReviewStep()
>>> step.show_request(SchedulerRequest(model_name="pump"), [])
>>> "create_inference_scheduler" in step.python.value
True
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import ipywidgets as widgets

from ..._palette import level_colour
from ...contract.filematch import REASONS
from ..fields import STYLE, button_layout
from ..render import code_html, download_link, notice, table_html

FILES = {"python": "create_scheduler.py", "json": "scheduler_request.json", "cloudformation": "scheduler.cfn.json"}


def texts(request) -> dict[str, str]:
    """The three exports of ``request``: Python, JSON and a CloudFormation template (JSON)."""
    return {
        "python": request.to_python(),
        "json": request.to_json(),
        "cloudformation": json.dumps(request.to_cloudformation(), indent=2, default=str),
    }


def save_exports(request, folder) -> list[Path]:
    """Write the three exports into ``folder`` (created if needed); return the paths written."""
    folder = Path(folder).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, text in texts(request).items():
        path = folder / FILES[kind]
        path.write_text(text)
        written.append(path)
    return written


class ReviewStep:
    """Summary, exports (copy, download, save), state save/load, and the timing picture."""

    title = "6 Review"

    def __init__(self):
        self.refresh = widgets.Button(description="Refresh review", tooltip="Rebuild the review from the fields",
                                      icon="refresh", layout=button_layout())
        self.summary = widgets.HTML()
        self.summary.add_class("lnb-review-summary")
        self.python = widgets.HTML()
        self.json = widgets.HTML()
        self.cloudformation = widgets.HTML()
        self.exports = widgets.Accordion(children=[self.python, self.json, self.cloudformation],
                                         titles=("boto3 call (Python)", "JSON", "CloudFormation"))
        self.exports.selected_index = 0
        self.downloads = widgets.HTML()
        self.folder = widgets.Text(value=".", description="Save to folder", style=STYLE,
                                   layout=widgets.Layout(width="460px"))
        self.save = widgets.Button(description="Save files", tooltip="Write the Python, JSON and CloudFormation files",
                                   icon="save", layout=button_layout())
        self.state_path = widgets.Text(value="scheduler_wizard.json", description="State file", style=STYLE,
                                       layout=widgets.Layout(width="460px"))
        self.save_state = widgets.Button(description="Save state", tooltip="Save the wizard's fields as JSON",
                                         icon="download", layout=button_layout())
        self.load_state = widgets.Button(description="Load state", tooltip="Fill the wizard from a saved JSON state",
                                         icon="upload", layout=button_layout())
        self.saved = widgets.HTML()
        self.existing = widgets.HTML()
        self.existing.add_class("lnb-review-existing")
        self.service_now = widgets.HTML()
        self.service_now.add_class("lnb-service-now")
        self.next_runs = widgets.HTML()
        self.next_runs.add_class("lnb-next-runs")
        self.picture = widgets.Image(format="png", layout=widgets.Layout(max_width="900px", display="none"))
        self.picture.add_class("lnb-timing-picture")
        self.files_note = widgets.HTML()
        self.files_note.add_class("lnb-files-note")
        self.files_picture = widgets.Image(format="png", layout=widgets.Layout(max_width="900px", display="none"))
        self.files_picture.add_class("lnb-files-picture")
        self.box = widgets.VBox(
            [
                widgets.HBox([widgets.HTML("<b>Check everything before submitting.</b>"), self.refresh]),
                self.summary,
                self.existing,
                self.exports,
                self.downloads,
                widgets.HBox([self.folder, self.save]),
                widgets.HBox([self.state_path, self.save_state, self.load_state]),
                self.saved,
                widgets.HTML("<h4 style='margin:6px 0'>The next runs</h4>"),
                self.service_now,
                self.next_runs,
                self.picture,
                widgets.HTML("<h4 style='margin:6px 0'>The input files of the recent runs</h4>"),
                self.files_note,
                self.files_picture,
            ]
        )

    def show_request(self, request, problems) -> None:
        """Show the validation summary and the exports of ``request``."""
        if problems:
            items = "".join(f"<li><code>{html.escape(p.field)}</code>: {html.escape(p.message)}</li>" for p in problems)
            self.summary.value = (
                f'<div class="lnb-error" style="color:{level_colour("error")}">&#10007; {len(problems)} problem(s) '
                f"to fix before submitting:<ul>{items}</ul></div>"
            )
        else:
            self.summary.value = notice("The request is valid: ready to submit.", "ok")
        exported = texts(request)
        self.python.value = code_html(exported["python"], "python")
        self.json.value = code_html(exported["json"], "json")
        self.cloudformation.value = code_html(exported["cloudformation"], "cloudformation")
        self.downloads.value = "Download: " + " &nbsp; ".join(
            download_link(exported[k], FILES[k], "application/json" if k != "python" else "text/x-python")
            for k in FILES
        )

    def show_existing(self, name: str | None, differences) -> None:
        """Say whether a scheduler named ``name`` exists and how it differs from the request (``differences``: None
        when there is none, else the list of :class:`~lookout_nb.calls.scheduler.Difference`).

        >>> step = ReviewStep(); step.show_existing("pump", [])
        >>> "exists already and matches" in step.existing.value
        True
        """
        if not name or differences is None:
            self.existing.value = ""
            return
        if not differences:
            self.existing.value = notice(
                f"A scheduler named {name} exists already and matches this request: Submit returns it if it was "
                "created with the same token, else the service refuses the name.", "info")
            return
        listed = "; ".join(f"{d.field}: {d.old!r} -> {d.new!r}" for d in differences)
        self.existing.value = notice(
            f"A scheduler named {name} exists already and differs from this request (existing -> requested): "
            f"{listed}. Submit will be refused; the Submit step then offers to update the fields that can be "
            "updated.", "warning")

    def show_files(self, match, png: bytes | None, reason: str | None = None) -> None:
        """Show which input files the recent runs would have read (a FileMatch and its picture: ticks at each
        file's arrival, late files orange, runs missing a component red), or ``reason`` there is none.

        >>> step = ReviewStep(); step.show_files(None, None, "type the input bucket first")
        >>> "No input files checked: type the input bucket first" in step.files_note.value
        True
        """
        if reason or match is None:
            self.files_note.value = notice(f"No input files checked: {reason or 'no file or no plan'}", "info")
        else:
            bad = int((~match.runs["ok"]).sum())
            unread = match.unread
            unreadable = int((unread["reason"] != REASONS["range"]).sum()) if len(unread) else 0
            self.files_note.value = notice(
                f"The last {len(match.runs)} runs: {bad} missing a component, {len(match.late)} file(s) arrived after "
                f"their run woke up, {unreadable} file(s) under the prefix no run can read (name, component or "
                "sub-folder).", "ok" if not (bad or len(match.late) or unreadable) else "warning")
        self.files_picture.value = png or b""
        self.files_picture.layout.display = "" if png else "none"

    def show_timing(self, runs, png: bytes | None, reason: str | None = None, now=None, clock_note=None) -> None:
        """Show the next runs (a DataFrame, first column the wake-up) and the timing picture (PNG bytes), or
        ``reason`` no plan was made; ``now`` is the service time they were planned from (``clock_note``: why it
        is this computer's clock instead).

        >>> import pandas as pd
        >>> step = ReviewStep()
        >>> now = pd.Timestamp("2026-01-05 09:00Z")
        >>> step.show_timing(None, None, "DataUploadFrequency: must be one of PT5M, ...", now)
        >>> "No plan yet: DataUploadFrequency" in step.next_runs.value
        True
        >>> "Planned at service time" in step.service_now.value and "2026-01-05 09:00:00 UTC" in step.service_now.value
        True
        """
        if now is None:
            self.service_now.value = ""
        elif clock_note:
            self.service_now.value = notice(f"Computer's clock now: {now:%Y-%m-%d %H:%M:%S} UTC, since {clock_note}",
                                            "warning")
        else:
            self.service_now.value = (
                f'<div>Planned at service time <b style="white-space:nowrap">{now:%Y-%m-%d %H:%M:%S} UTC</b> (the '
                "clock of the service the wizard talks to); Refresh review plans again from the service's time "
                "then.</div>"
            )
        if reason:
            self.next_runs.value = notice(f"No plan yet: {reason}", "warning")
        else:
            self.next_runs.value = table_html(runs, empty="No run can be planned until the schedule is valid.")
        self.picture.value = png or b""
        self.picture.layout.display = "" if png else "none"
