"""Step 8, Monitor: a scheduler's status and ARN, its executions, plan versus actual, results; Stop/Start/Delete.

Everything slow runs in the wizard's worker threads, so the notebook stays responsive: Refresh reads the
scheduler (``scheduler.describe``, ``executions``, ``results``) and draws the pictures (``plot.plot_schedule`` with
the plan from ``timing.plan_schedule``, ``plot.plot_results``) off the kernel's thread. Auto-refresh repeats that
from a background thread until unticked.

>>> monitor = Monitor(backend=None, tasks=None)
>>> monitor.refresh_button.disabled        # nothing to monitor yet
True
"""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass

import ipywidgets as widgets
import pandas as pd

from .fields import STYLE
from .render import notice, picture, table_html
from .tasks import describe_error

#: How many runs the plan-versus-actual picture shows at most.
PICTURE_RUNS = 36
#: The results picture has two panels (scores, sensor contributions): taller than the others.
RESULTS_FIGSIZE = (9, 5.5)
EXECUTION_COLUMNS = ["scheduled_start", "data_start", "data_end", "status", "failed_reason", "result_key"]


@dataclass
class Snapshot:
    """What one refresh read: the described scheduler, its executions and results, and the pictures."""

    info: object
    executions: pd.DataFrame
    results: pd.DataFrame
    plan_png: bytes | None
    results_png: bytes | None
    notes: tuple = ()


class Monitor:
    """Status, executions and pictures of one scheduler, with lifecycle buttons."""

    title = "8 Monitor"

    def __init__(self, backend, tasks, on_deleted=None):
        self.backend = backend
        self.tasks = tasks
        self.on_deleted = on_deleted
        self.name: str | None = None
        self.snapshot: Snapshot | None = None
        self.header = widgets.HTML(notice("Nothing to monitor yet: submit a scheduler first.", "info"))
        self.header.add_class("lnb-monitor-header")
        self.status = widgets.HTML()
        self.status.add_class("lnb-monitor-status")
        self.refresh_button = widgets.Button(description="Refresh", tooltip="Read the status, executions and results again",
                                             icon="refresh", disabled=True, layout=widgets.Layout(width="auto"))
        self.auto = widgets.Checkbox(description="Auto-refresh", value=False, indent=False, disabled=True,
                                     layout=widgets.Layout(width="auto"))
        self.interval = widgets.BoundedIntText(value=30, min=2, max=3600, description="Every (seconds)",
                                               style=STYLE, layout=widgets.Layout(width="280px"))
        self.stop_button = widgets.Button(description="Stop scheduler", tooltip="Stop the scheduler (billing stops)",
                                          icon="stop", disabled=True, layout=widgets.Layout(width="auto"))
        self.start_button = widgets.Button(description="Start scheduler", tooltip="Start the stopped scheduler again",
                                           icon="play", disabled=True, layout=widgets.Layout(width="auto"))
        self.delete_button = widgets.Button(description="Delete scheduler",
                                            tooltip="Delete the stopped scheduler (its results stay in S3)",
                                            icon="trash", disabled=True, layout=widgets.Layout(width="auto"))
        self.executions = widgets.HTML()
        self.executions.add_class("lnb-executions")
        self.plan_picture = widgets.Image(format="png", layout=widgets.Layout(max_width="900px", display="none"))
        self.plan_picture.add_class("lnb-plan-picture")
        self.results_picture = widgets.Image(format="png", layout=widgets.Layout(max_width="900px", display="none"))
        self.results_picture.add_class("lnb-results-picture")
        self.results_note = widgets.HTML()
        self.picture_notes = widgets.HTML()
        self._confirm_delete = False
        self._refreshing = None
        self._refresh_lock = threading.Lock()
        self._auto_stop: threading.Event | None = None
        self._auto_thread: threading.Thread | None = None
        self.refresh_button.on_click(lambda _: self.refresh())
        self.stop_button.on_click(lambda _: self.stop())
        self.start_button.on_click(lambda _: self.start())
        self.delete_button.on_click(lambda _: self.delete())
        self.auto.observe(lambda change: self.set_auto(change["new"]), names="value")
        self.box = widgets.VBox(
            [
                self.header,
                self.status,
                widgets.HBox([self.refresh_button, self.auto, self.interval]),
                widgets.HBox([self.stop_button, self.start_button, self.delete_button]),
                widgets.HTML("<h4 style='margin:6px 0'>Executions (newest first)</h4>"),
                self.executions,
                widgets.HTML("<h4 style='margin:6px 0'>Plan versus actual</h4>"),
                self.picture_notes,
                self.plan_picture,
                widgets.HTML("<h4 style='margin:6px 0'>Results</h4>"),
                self.results_note,
                self.results_picture,
            ]
        )

    # -- attaching and refreshing ----------------------------------------------------------------------------
    def attach(self, name: str):
        """Monitor the scheduler ``name`` and read it now (returns the refresh's future)."""
        self.name = name
        self._confirm_delete = False
        self.delete_button.description = "Delete scheduler"
        self.header.value = f"<h3 style='margin:4px 0'>Scheduler <code>{html.escape(name)}</code></h3>"
        self.refresh_button.disabled = False
        self.auto.disabled = False
        return self.refresh()

    def refresh(self):
        """Read the scheduler again in a worker; a refresh already running is reused, never doubled."""
        if self.name is None:
            return None
        with self._refresh_lock:
            if self._refreshing is not None and not self._refreshing.done():
                return self._refreshing
            self._refreshing = self.tasks.run(f"Refreshing {self.name}", self._read, self.name, on_done=self._show)
            return self._refreshing

    def _read(self, name: str) -> Snapshot:
        info = self.backend.describe(name)
        runs = self.backend.executions(name)
        succeeded = len(runs) and (runs["status"] == "SUCCESS").any()
        res = self.backend.results(name) if succeeded else pd.DataFrame()
        notes = []
        plan_png = _drawn(lambda: self._plan_png(info, runs), "The plan-versus-actual picture", notes)
        results_png = _drawn(lambda: self._results_png(res), "The results picture", notes)
        return Snapshot(info, runs, res, plan_png, results_png, tuple(notes))

    def _plan_png(self, info, runs: pd.DataFrame) -> bytes | None:
        from .. import plot, timing

        request = info.request
        freq = request.frequency
        if freq is None:
            return None
        latest = runs["scheduled_start"].max() if len(runs) else None
        anchor = max(t for t in (latest, info.created_at) if t is not None and not pd.isna(t)) if (
            latest is not None or info.created_at is not None) else self.backend.now()
        now = self.backend.now()
        if not anchor - pd.Timedelta(days=1) <= now <= anchor + pd.Timedelta(days=1):
            now = anchor  # a simulated clock: the wall clock would be off the picture
        end = max(anchor, now) + 2 * freq
        start = end - PICTURE_RUNS * freq
        if info.created_at is not None and info.created_at > start:
            start = info.created_at
        plan = timing.plan_schedule(request, start=start, end=end)
        return picture(lambda ax: plot.plot_schedule(plan, executions=runs, ax=ax, now=now))

    @staticmethod
    def _results_png(res: pd.DataFrame) -> bytes | None:
        if res is None or not len(res):
            return None
        from .. import plot

        return picture(lambda ax: plot.plot_results(res, ax=ax), figsize=RESULTS_FIGSIZE)

    def _show(self, snap: Snapshot) -> None:
        self.snapshot = snap
        info = snap.info
        self.status.value = (
            f"<div>Status <b class='lnb-status-{html.escape(info.status)}'>{html.escape(info.status)}</b>"
            f" &middot; latest result {html.escape(info.latest_result or 'none yet')}"
            f" &middot; {len(snap.executions)} execution(s)</div>"
            f"<div>ARN <code class='lnb-arn'>{html.escape(info.arn)}</code></div>"
        )
        running = info.status in ("PENDING", "RUNNING")
        self.stop_button.disabled = not running
        self.start_button.disabled = info.status != "STOPPED"
        self.delete_button.disabled = info.status != "STOPPED"
        if info.status in ("PENDING", "STOPPING"):
            self.status.value += notice(
                f"{info.status} settles shortly: click Refresh, or tick Auto-refresh.", "info")
        runs = snap.executions
        if len(runs):
            runs = runs.sort_values("scheduled_start", ascending=False)[
                [c for c in EXECUTION_COLUMNS if c in runs.columns]
            ]
        self.executions.value = table_html(runs, empty="No execution yet: the first run wakes up after the next "
                                                         "boundary plus the delay.")
        self.picture_notes.value = "".join(notice(n, "warning") for n in snap.notes)
        _set_picture(self.plan_picture, snap.plan_png)
        _set_picture(self.results_picture, snap.results_png)
        if len(snap.results):
            flagged = int((snap.results["prediction"] == 1).sum()) if "prediction" in snap.results else 0
            self.results_note.value = notice(f"{len(snap.results)} scored row(s), {flagged} flagged as anomalous.",
                                             "warning" if flagged else "ok")
        else:
            self.results_note.value = notice("No results yet: they appear after the first successful run.", "info")

    # -- lifecycle -------------------------------------------------------------------------------------------
    def stop(self):
        """Stop the scheduler (in a worker), then refresh: STOPPING, then STOPPED."""
        if self.name is None:
            return None
        self.stop_button.disabled = True
        return self.tasks.run(f"Stopping {self.name}", self.backend.stop, self.name, on_done=lambda _: self.refresh())

    def start(self):
        """Start the stopped scheduler (in a worker), then refresh: PENDING, then RUNNING."""
        if self.name is None:
            return None
        self.start_button.disabled = True
        return self.tasks.run(f"Starting {self.name}", self.backend.start, self.name, on_done=lambda _: self.refresh())

    def delete(self):
        """First click asks for confirmation; the second deletes the (stopped) scheduler."""
        if self.name is None:
            return None
        if not self._confirm_delete:
            self._confirm_delete = True
            self.delete_button.description = "Confirm delete"
            self.delete_button.button_style = "danger"
            self.delete_button.tooltip = "Click again to delete the scheduler"
            return None
        name = self.name
        self._confirm_delete = False
        self.delete_button.description = "Delete scheduler"
        self.delete_button.button_style = ""
        self.delete_button.disabled = True
        return self.tasks.run(f"Deleting {name}", self.backend.delete, name, on_done=lambda _: self._deleted(name))

    def _deleted(self, name: str) -> None:
        self.set_auto(False)
        self.auto.value = False
        self.name = None
        self.header.value = notice(f"Scheduler {name} was deleted; its results stay in S3.", "ok")
        self.status.value = ""
        for button in (self.refresh_button, self.stop_button, self.start_button, self.delete_button):
            button.disabled = True
        self.auto.disabled = True
        if self.on_deleted:
            self.on_deleted(name)

    # -- auto-refresh ----------------------------------------------------------------------------------------
    def set_auto(self, on: bool) -> None:
        """Refresh every ``interval`` seconds from a background thread (``on=False`` stops it)."""
        if self._auto_stop is not None:
            self._auto_stop.set()
            self._auto_stop = None
            self._auto_thread = None
        if on and self.name is not None:
            stop = threading.Event()
            self._auto_stop = stop
            self._auto_thread = threading.Thread(target=self._auto_loop, args=(stop,), daemon=True,
                                                 name="lookout-nb-auto-refresh")
            self._auto_thread.start()

    @property
    def auto_refreshing(self) -> bool:
        """True while the auto-refresh thread runs."""
        return self._auto_thread is not None and self._auto_thread.is_alive()

    def _auto_loop(self, stop: threading.Event) -> None:
        while not stop.wait(max(2, int(self.interval.value))):
            future = self.refresh()
            if future is None:
                return
            try:
                future.result()
            except Exception:  # noqa: BLE001 - shown in the error area by Tasks
                pass


def _drawn(draw, what: str, notes: list) -> bytes | None:
    """``draw()``, or None with a note: a picture that cannot be drawn must not hide the status and tables."""
    try:
        return draw()
    except Exception as exc:  # noqa: BLE001 - reported in the monitor
        notes.append(f"{what} could not be drawn: {describe_error(exc)}")
        return None


def _set_picture(image: widgets.Image, png: bytes | None) -> None:
    image.value = png or b""
    image.layout.display = "" if png else "none"
