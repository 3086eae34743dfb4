"""Step 8, Monitor: a scheduler's status and ARN, its executions, plan versus actual, results; Stop/Start/Delete.

Everything slow runs in the wizard's worker threads, so the notebook stays responsive: Refresh reads the
scheduler (``scheduler.describe``, ``executions``, ``results``) and draws the pictures (``plot.plot_schedule`` with
the plan from ``timing.plan_schedule``, ``plot.plot_results``) off the kernel's thread.

The monitor is live: attaching a scheduler ticks Auto-refresh, which repeats that from a background thread every
few seconds (a period suited to how fast the service's clock moves, see :mod:`.pace`) until it is unticked, the
scheduler is deleted, or the monitor or the wizard is closed. "Now" is the service's time (``services.now()``); the
plan-versus-actual picture spans from the scheduler's first planned run to a little after now, and its caption
(``lnb-plan-caption``) says the axis and the now line it drew.

>>> monitor = Monitor(services=None, tasks=None)
>>> monitor.refresh_button.disabled        # nothing to monitor yet
True
"""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ipywidgets as widgets
import pandas as pd

from ... import plot
from ..._palette import MUTED
from ...contract import timing
from ...errors import ResourceNotFound
from ..fields import STYLE, button_layout
from ..history import DEFAULT_RANGE, RANGES, ResultsCache, since
from ..pace import MAX_PERIOD, MIN_PERIOD, Pace
from ..render import axis_caption, drawn, notice, picture, table_html
from ..tasks import describe_error

if TYPE_CHECKING:
    from ...calls.scheduler import SchedulerInfo

#: How many runs the plan-versus-actual picture shows at most (from the first planned run, then the latest).
PICTURE_RUNS = 5000
#: How far after now the plan goes, in upload periods (the next wake-ups to come).
AHEAD = 2
#: How many executions the table lists (newest first); the rest are counted under it.
EXECUTION_ROWS = 50
#: The executions table's height on the page: longer, it scrolls in its box (the pictures stay in view below).
EXECUTIONS_HEIGHT = "260px"
#: The results picture has two panels (scores, sensor contributions): taller than the others.
RESULTS_FIGSIZE = (9, 5.5)
EXECUTION_COLUMNS = ["scheduled_start", "data_start", "data_end", "status", "failed_reason", "result_key"]


@dataclass
class Snapshot:
    """What one refresh read: the described scheduler, its executions and results, and the pictures."""

    info: SchedulerInfo
    executions: pd.DataFrame
    results: pd.DataFrame
    plan_png: bytes | None
    results_png: bytes | None
    notes: tuple = ()
    #: The service time this refresh read ("now" in the picture).
    now: pd.Timestamp | None = None
    #: The plan picture's axis and now line, in words (empty without a picture).
    caption: str = ""
    #: The time range read (its label) and where it starts (None: everything).
    range_label: str = ""
    since: pd.Timestamp | None = None
    #: How many lifecycle actions (Stop, Start, Delete) had been answered when this refresh began reading.
    acted: int = 0


class Monitor:
    """Status, executions and pictures of one scheduler, with lifecycle buttons."""

    title = "8 Monitor"

    def __init__(self, services, tasks, on_deleted=None):
        self.services = services
        self.tasks = tasks
        self.on_deleted = on_deleted
        self.name: str | None = None
        self.snapshot: Snapshot | None = None
        self.header = widgets.HTML(notice("Nothing to monitor yet: submit a scheduler first.", "info"))
        self.header.add_class("lnb-monitor-header")
        self.status = widgets.HTML()
        self.status.add_class("lnb-monitor-status")
        self.refresh_button = widgets.Button(description="Refresh",
                                             tooltip="Read the status, executions and results again",
                                             icon="refresh", disabled=True, layout=button_layout())
        self.auto = widgets.Checkbox(description="Auto-refresh", value=False, indent=False, disabled=True,
                                     layout=button_layout())
        self.auto.add_class("lnb-auto-refresh")
        self.interval = widgets.BoundedIntText(value=2, min=MIN_PERIOD, max=3600, description="Every (seconds)",
                                               style=STYLE, layout=widgets.Layout(width="280px"))
        self.interval.add_class("lnb-refresh-interval")
        #: How fast the service clock moves, learnt from the refreshes; it sets ``interval`` until the user does.
        self.pace = Pace()
        self.interval_chosen = False
        self._setting_interval = False
        self.interval.observe(self._interval_edited, names="value")
        self.stop_button = widgets.Button(description="Stop scheduler", tooltip="Stop the scheduler (billing stops)",
                                          icon="stop", disabled=True, layout=button_layout())
        self.start_button = widgets.Button(description="Start scheduler", tooltip="Start the stopped scheduler again",
                                           icon="play", disabled=True, layout=button_layout())
        self.delete_button = widgets.Button(description="Delete scheduler",
                                            tooltip="Delete the stopped scheduler (its results stay in S3)",
                                            icon="trash", disabled=True, layout=button_layout())
        self.executions = widgets.HTML()
        self.executions.add_class("lnb-executions")
        self.plan_picture = widgets.Image(format="png", layout=widgets.Layout(max_width="900px", display="none"))
        self.plan_picture.add_class("lnb-plan-picture")
        self.results_picture = widgets.Image(format="png", layout=widgets.Layout(max_width="900px", display="none"))
        self.results_picture.add_class("lnb-results-picture")
        self.results_note = widgets.HTML()
        self.range = widgets.Dropdown(options=RANGES, value=DEFAULT_RANGE, description="Show", style=STYLE,
                                      layout=widgets.Layout(width="340px"))
        self.range.add_class("lnb-range")
        self.range.observe(lambda _change: self.refresh(), names="value")
        self.results_cache = ResultsCache(lambda name, start: self.services.results(name, start=start))
        self.action = widgets.HTML()
        self.action.add_class("lnb-monitor-action")
        self._action: str | None = None  # the lifecycle action asked and not yet seen in a refresh
        self._action_status: str | None = None  # the status the "done" line quotes
        self._acted = 0  # lifecycle actions answered so far
        self._action_seen_at: int | None = None  # a refresh that began after this many answers shows the action
        self.picture_notes = widgets.HTML()
        self.plan_caption = widgets.HTML()
        self.plan_caption.add_class("lnb-plan-caption")
        self._drawn_plan: tuple | None = None  # (what was drawn, png, caption): an unchanged picture is not redrawn
        self._drawn_results: tuple | None = None  # (result keys, results, png)
        self._confirm_delete = False
        self._deleting = None  # the scheduler a Delete was asked for (its reads may then find it gone)
        self._refreshing = None
        self._reading = False  # the current refresh has not finished reading (a new ask makes it read again)
        self._again = False
        self._refresh_lock = threading.Lock()
        self._auto_stop: threading.Event | None = None
        self._auto_thread: threading.Thread | None = None
        self._closed = False
        self.refresh_button.on_click(lambda _: self.refresh())
        self.stop_button.on_click(lambda _: self.stop())
        self.start_button.on_click(lambda _: self.start())
        self.delete_button.on_click(lambda _: self.delete())
        self.auto.observe(lambda change: self.set_auto(change["new"]), names="value")
        self.box = self._layout()
        self.box.observe(lambda change: change["new"] is None and self.close(), names="comm")  # box.close()

    def _layout(self) -> widgets.VBox:
        """The monitor's widgets, top to bottom."""
        return widgets.VBox(
            [
                self.header,
                self.status,
                widgets.HBox([self.refresh_button, self.auto, self.interval]),
                widgets.HBox([self.stop_button, self.start_button, self.delete_button]),
                self.action,
                widgets.HBox([self.range, widgets.HTML(
                    f'<span style="color:{MUTED};font-size:90%;margin-left:8px">the executions, pictures and '
                    "results below follow this range (only its runs are read)</span>")]),
                widgets.HTML("<h4 style='margin:6px 0'>Executions (newest first)</h4>"),
                self.executions,
                widgets.HTML("<h4 style='margin:6px 0'>Plan versus actual</h4>"),
                self.picture_notes,
                self.plan_picture,
                self.plan_caption,
                widgets.HTML("<h4 style='margin:6px 0'>Results</h4>"),
                self.results_note,
                self.results_picture,
            ]
        )

    # -- attaching and refreshing ----------------------------------------------------------------------------
    def attach(self, name: str, live: bool = True):
        """Monitor the scheduler ``name``, read it now and (``live``) tick Auto-refresh; returns the refresh's
        future."""
        self.name, self._deleting = name, None
        self._confirm_delete = False
        self._drawn_plan = self._drawn_results = None
        self.delete_button.description = "Delete scheduler"
        self.header.value = f"<h3 style='margin:4px 0'>Scheduler <code>{html.escape(name)}</code></h3>"
        self.refresh_button.disabled = False
        self.auto.disabled = False
        future = self.refresh()
        if live:
            if self.auto.value:
                self.set_auto(True)  # restart the loop for the new scheduler
            else:
                self.auto.value = True
        return future

    def refresh(self, quiet: bool = False):
        """Read the scheduler again in a worker; returns the future of what will be shown.

        Refreshes are never doubled: asked while one is reading, that one reads once more before it shows, so what
        it shows is never older than the request (a click right after the clock moved shows the move).
        ``quiet=True`` (the auto-refresh) leaves the progress line alone.
        """
        if self.name is None:
            return None
        with self._refresh_lock:
            if self._reading and self._refreshing is not None and not self._refreshing.done():
                self._again = True
                return self._refreshing
            self._reading, self._again = True, False
            self._refreshing = self.tasks.run(f"Refreshing {self.name}", self._read_latest, self.name,
                                              on_done=self._show, quiet=quiet)
            return self._refreshing

    def _read_latest(self, name: str) -> Snapshot | None:
        try:
            while True:
                snap = self._read(name)
                with self._refresh_lock:
                    latest = self.name or name  # a refresh asked for meanwhile may be for another scheduler
                    if not self._again and latest == name:
                        self._reading = False
                        return snap
                    self._again, name = False, latest
        except ResourceNotFound:
            with self._refresh_lock:
                self._reading = False
                ours = name == self._deleting or self.name != name
            if ours:  # deleted here (or another scheduler chosen) while this read was on its way: nothing to say
                return None
            raise
        except BaseException:
            with self._refresh_lock:
                self._reading = False
            raise

    def _read(self, name: str) -> Snapshot:
        acted = self._acted
        label, span = self._range()
        info = self.services.describe(name)
        now = self.services.now()
        start = since(now, span)
        runs = self.services.executions(name, start=start)
        self.pace.add(now)
        notes: list[str] = []
        res, results_png = self._results(name, runs, notes)
        plan = _or_note(lambda: self._plan_png(info, runs, now, start), "The plan-versus-actual picture", notes)
        plan_png, caption = plan if plan is not None else (None, "")
        return Snapshot(info, runs, res, plan_png, results_png, tuple(notes), now, caption, label, start, acted)

    def _range(self) -> tuple[str, str | None]:
        span = self.range.value
        return next((label for label, value in RANGES if value == span), str(span)), span

    def _results(self, name: str, runs: pd.DataFrame, notes: list) -> tuple[pd.DataFrame, bytes | None]:
        """The results and their picture, read and drawn again only when a run succeeded since the last time."""
        done = runs[runs["status"] == "SUCCESS"] if len(runs) else runs
        if not len(done):
            return pd.DataFrame(), None
        keys = (name, *done["scheduled_start"].astype(str))
        if self._drawn_results is not None and self._drawn_results[0] == keys:
            return self._drawn_results[1:]
        res = self.results_cache.rows(name, runs)
        png = _or_note(lambda: self._results_png(res), "The results picture", notes)
        self._drawn_results = (keys, res, png)
        return res, png

    def _plan_png(self, info, runs: pd.DataFrame, now: pd.Timestamp, range_start=None) -> tuple[bytes, str] | None:
        """The plan from the first planned run (or ``range_start``, the range's start) to a little after ``now``, with
        the executions and the now line."""
        request = info.request
        freq = request.frequency
        if freq is None:
            return None
        what = (info.status, now, range_start, tuple(runs["status"]) if len(runs) else (), request)
        if self._drawn_plan is not None and self._drawn_plan[0] == what:
            return self._drawn_plan[1:]  # nothing moved (a manual clock): the same picture
        created = info.created_at
        if created is None or pd.isna(created):
            created = runs["scheduled_start"].min() - freq if len(runs) else now - freq
        end = max(now, created) + AHEAD * freq + request.delay
        start = max(created, end - PICTURE_RUNS * freq, created if range_start is None else range_start)
        plan = timing.plan_schedule(request, start=start, end=end)
        png, ax = drawn(lambda ax: plot.plot_schedule(plan, executions=runs, ax=ax, now=now))
        self._drawn_plan = (what, png, axis_caption(ax))
        return self._drawn_plan[1:]

    @staticmethod
    def _results_png(res: pd.DataFrame) -> bytes | None:
        if res is None or not len(res):
            return None
        return picture(lambda ax: plot.plot_results(res, ax=ax), figsize=RESULTS_FIGSIZE)

    def _show(self, snap: Snapshot | None) -> None:
        if snap is None:  # the scheduler was deleted while it was read
            return
        self.snapshot = snap
        info = snap.info
        self.status.value = (
            f"<div>Status <b class='lnb-status-{html.escape(info.status)}'>{html.escape(info.status)}</b>"
            f" &middot; latest result {html.escape(info.latest_result or 'none yet')}"
            f" &middot; {len(snap.executions)} execution(s) in {html.escape(snap.range_label or 'everything')}</div>"
            f"<div>ARN <code class='lnb-arn'>{html.escape(info.arn)}</code></div>"
        )
        self._action_shown(snap)
        self._lifecycle_buttons(info.status)
        if info.status in ("PENDING", "STOPPING"):
            self.status.value += notice(
                f"{info.status} settles shortly: " + ("the monitor refreshes by itself." if self.auto.value
                                                       else "click Refresh, or tick Auto-refresh."), "info")
        runs = snap.executions
        if len(runs):
            runs = runs.sort_values("scheduled_start", ascending=False)[
                [c for c in EXECUTION_COLUMNS if c in runs.columns]
            ]
        self.executions.value = table_html(runs, max_rows=EXECUTION_ROWS, max_height=EXECUTIONS_HEIGHT,
                                           empty="No execution yet: the first run wakes up after the next "
                                                 "boundary plus the delay.")
        self.picture_notes.value = "".join(notice(n, "warning") for n in snap.notes)
        _set_picture(self.plan_picture, snap.plan_png)
        self.plan_caption.value = (f'<div style="color:{MUTED};font-size:90%">{html.escape(snap.caption)}</div>'
                                   if snap.plan_png and snap.caption else "")
        if not self.interval_chosen:
            self._set_interval(self.pace.period(info.request.frequency))
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
        return self._act("Stopping", self.services.stop)

    def start(self):
        """Start the stopped scheduler (in a worker), then refresh: PENDING, then RUNNING."""
        return self._act("Starting", self.services.start)

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
        self._confirm_delete = False
        self.delete_button.description = "Delete scheduler"
        self.delete_button.button_style = ""
        self._deleting = self.name
        return self._act("Deleting", self.services.delete, then=self._deleted)

    def _act(self, verb: str, call, then=None):
        """Say ``verb`` at once (every lifecycle button off), call ``call(name)`` in a worker, then refresh (or
        ``then(name)``); the words stay until a refresh that began after the service answered shows the status."""
        name = self.name
        if name is None:
            return None
        self._action, self._action_seen_at = f"{verb} {name}", None
        self.action.value = notice(f"{verb} {name}… asked; the status above is from before until the service "
                                   "answers.", "info")
        self._lifecycle_buttons(None)

        def run():
            try:
                result = call(name)
            except BaseException:
                self._action = None
                self.action.value = ""
                self._lifecycle_buttons(self.snapshot.info.status if self.snapshot else None)
                raise
            with self._refresh_lock:
                self._acted += 1
                self._action_seen_at = self._acted
            return result

        return self.tasks.run(f"{verb} {name}", run, on_done=lambda _: (then or (lambda _n: self.refresh()))(name))

    def _action_shown(self, snap: Snapshot) -> None:
        """A refresh that read after the action was answered says it is done and the status then; that line goes
        once the status moves on (it would no longer be true)."""
        status = snap.info.status
        if self._action is not None and self._action_seen_at is not None and snap.acted >= self._action_seen_at:
            self.action.value = notice(f"{self._action}: done; the service says {status}.", "ok")
            self._action, self._action_status = None, status
        elif self._action is None and self._action_status not in (None, status):
            self.action.value, self._action_status = "", None

    def _lifecycle_buttons(self, status: str | None) -> None:
        """Stop while PENDING or RUNNING, Start and Delete while STOPPED; none while an action is asked."""
        if self._action is not None:
            status = None
        self.stop_button.disabled = status not in ("PENDING", "RUNNING")
        self.start_button.disabled = status != "STOPPED"
        self.delete_button.disabled = status != "STOPPED"

    def _deleted(self, name: str) -> None:
        self._action = None
        self.action.value = ""
        self.auto.value = False
        self.set_auto(False)
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
        if on and self.name is not None and not self._closed:
            stop = threading.Event()
            self._auto_stop = stop
            self._auto_thread = threading.Thread(target=self._auto_loop, args=(stop,), daemon=True,
                                                 name="lookout-nb-auto-refresh")
            self._auto_thread.start()

    @property
    def auto_refreshing(self) -> bool:
        """True while the auto-refresh thread runs."""
        return self._auto_thread is not None and self._auto_thread.is_alive()

    @property
    def auto_thread(self) -> threading.Thread | None:
        """The auto-refresh thread (None while auto-refresh is off), e.g. to ``join`` it after closing."""
        return self._auto_thread

    def _auto_loop(self, stop: threading.Event) -> None:
        while not stop.wait(max(MIN_PERIOD, int(self.interval.value or MAX_PERIOD))):
            try:
                future = self.refresh(quiet=True)
            except RuntimeError:  # the wizard's workers were shut down (the wizard is closed)
                return
            if future is None:
                return
            try:
                future.result()
            except Exception:  # noqa: BLE001 - shown in the error area by Tasks
                pass

    def _interval_edited(self, _change) -> None:
        if not self._setting_interval:
            self.interval_chosen = True  # the user's period stays; the pace no longer sets it

    def _set_interval(self, seconds: int) -> None:
        self._setting_interval = True
        try:
            self.interval.value = seconds
        finally:
            self._setting_interval = False

    def close(self, timeout: float = 10) -> None:
        """Stop auto-refresh for good (the thread ends; waits up to ``timeout`` s for it)."""
        self._closed = True
        thread = self._auto_thread
        self.set_auto(False)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)


def _or_note(draw, what: str, notes: list):
    """``draw()``, or None with a note: a picture that cannot be drawn must not hide the status and tables."""
    try:
        return draw()
    except Exception as exc:  # noqa: BLE001 - reported in the monitor
        notes.append(f"{what} could not be drawn: {describe_error(exc)}")
        return None


def _set_picture(image: widgets.Image, png: bytes | None) -> None:
    image.value = png or b""
    image.layout.display = "" if png else "none"
