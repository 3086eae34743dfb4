"""The wizard: from a trained model to a running, monitored inference scheduler, in one widget.

The wizard only turns widget values into a :class:`~lookout_nb.contract.request.SchedulerRequest` and shows what the
toolkit's modules answer; validation is ``request.problems()``, the same rules as everywhere else.

>>> import lookout_nb as lnb
>>> wizard = lnb.Wizard()                                  # doctest: +SKIP
>>> wizard                                                 # doctest: +SKIP
>>> wizard.request.problems()                              # what the fields say now   # doctest: +SKIP
>>> lnb.Wizard(request=lnb.SchedulerRequest.from_json(text))   # pre-filled            # doctest: +SKIP
>>> lnb.Wizard.from_scheduler("pump-5min")                 # pre-filled and monitoring it  # doctest: +SKIP
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from .. import plot
from ..contract import timing
from ..contract.request import FIELDS, SchedulerRequest
from ..errors import LookoutNbError, Problem, SchedulerConflict
from .backend import Services
from .fields import button_layout, problems_by_field
from .render import notice, picture
from .state import dump_state, load_state
from .steps.access import AccessStep
from .steps.inputs import InputStep
from .steps.model import ModelStep
from .steps.monitor import Monitor
from .steps.output import OutputStep
from .steps.review import ReviewStep, save_exports
from .steps.schedule import ScheduleStep
from .steps.submit import SubmitStep
from .tasks import WORKER_PREFIX, ErrorArea, Shown, Status, Tasks

#: How many upcoming runs Review shows.
REVIEW_RUNS = 5
#: How long reading ``Wizard.request`` waits, at most, for the fields the service fills (the model list).
FILL_TIMEOUT = 30


class Wizard(widgets.VBox):
    """An ipywidgets wizard that builds, checks, submits and monitors one inference scheduler.

    ``client`` / ``s3`` / ``session`` are passed to every toolkit call (boto3's defaults otherwise, so
    ``AWS_ENDPOINT_URL`` selects the embedded endpoint). ``request`` pre-fills the fields. ``now`` (a time or a
    callable) is the clock used for previews and the timing pictures; default: the wall clock.

    Service calls run in worker threads; ``wizard.wait()`` blocks until all of them have finished (for scripts
    and tests). Errors are shown in the wizard's error area, never raised from a button.

    Example
    -------
    >>> wizard = Wizard(request=SchedulerRequest(model_name="pump-demo", scheduler_name="pump-5min"))  # doctest: +SKIP
    >>> wizard.request.scheduler_name                                                                  # doctest: +SKIP
    'pump-5min'
    """

    def __init__(self, client=None, s3=None, session=None, request: SchedulerRequest | None = None, *, now=None,
                 load: bool = True):
        self.services = Services(client, s3, session, now)
        self.status = Status()
        self.errors = ErrorArea()
        self.tasks = Tasks(self.status, self.errors)
        self.model_step = ModelStep()
        self.schedule_step = ScheduleStep()
        self.input_step = InputStep()
        self.output_step = OutputStep()
        self.access_step = AccessStep()
        self.review_step = ReviewStep()
        self.submit_step = SubmitStep()
        self.monitor = Monitor(self.services, self.tasks, on_deleted=self._scheduler_deleted)
        self.steps: list[Any] = [self.model_step, self.schedule_step, self.input_step, self.output_step,
                                 self.access_step, self.review_step, self.submit_step, self.monitor]
        self.fields = {f.name: f for step in self.steps for f in getattr(step, "fields", [])}
        self.fields = {name: self.fields[name] for name in FIELDS if name in self.fields}  # the API's order
        self.problems: list[Problem] = []
        self.last_submit = None
        self._client_token: str | None = None
        self._touched: set[str] = set()
        self._show_all = False
        self._validate_lock = threading.RLock()
        self._submit_lock = threading.Lock()
        self._submit_future = None
        self._filling: list = []  # futures of the reads that fill fields (models, the chosen model)
        self._filling_lock = threading.Lock()

        self.tabs = widgets.Tab(children=[s.box for s in self.steps], titles=[s.title for s in self.steps])
        self.tabs.add_class("lnb-wizard-tabs")
        self.back_button = widgets.Button(description="Back", tooltip="Go to the previous step", icon="arrow-left",
                                          layout=button_layout())
        self.next_button = widgets.Button(description="Next", tooltip="Go to the next step", icon="arrow-right",
                                          layout=button_layout())
        self.nav_note = widgets.HTML()
        self.nav_note.add_class("lnb-nav-note")
        super().__init__(
            [
                widgets.HTML("<h3 style='margin:4px 0'>Amazon Lookout for Equipment: new inference scheduler</h3>"),
                self.status.html,
                self.errors.box,
                self.tabs,
                widgets.HBox([self.back_button, self.next_button, self.nav_note]),
            ]
        )
        self.add_class("lnb-wizard")
        self._wire()
        self.tabs.selected_index = 0
        self._step_shown(0)
        if request is not None:
            self.fill(request)
        self.validate()
        if load:
            self.load_models()
            self.load_scheduler_names()

    # -- wiring ----------------------------------------------------------------------------------------------
    def _wire(self) -> None:
        for name, field in self.fields.items():
            field.observe(lambda _change, name=name: self._changed(name))
        self.model_step.field.observe(lambda change: self._model_chosen(change["new"]))
        self.model_step.reload.on_click(lambda _: self.load_models())
        self.input_step.fill_offset.on_click(lambda _: self.tasks.run(  # the service's time is a call: not here
            "Filling the offset", lambda: self.input_step.fill_from_zone(at=self.services.now())))
        self.input_step.preview_button.on_click(lambda _: self.preview())
        # After the step copies the detected naming into the fields, check the input again with them.
        self.input_step.use_detected.on_click(lambda _: self.preview())
        self.review_step.refresh.on_click(lambda _: self.update_review())
        self.review_step.save.on_click(lambda _: self.tasks.guard("Saving the files", self._save_exports))
        self.review_step.save_state.on_click(lambda _: self.tasks.guard("Saving the state", self._save_state))
        self.review_step.load_state.on_click(lambda _: self.tasks.guard("Loading the state", self._load_state))
        self.submit_step.button.on_click(lambda _: self.submit())
        self.submit_step.conflict.update_button.on_click(lambda _: self.update_existing())
        self.back_button.on_click(lambda _: self.go((self.tabs.selected_index or 0) - 1))
        self.next_button.on_click(lambda _: self.next())
        self.tabs.observe(lambda change: self._step_shown(change["new"]), names="selected_index")

    def go(self, step) -> None:
        """Show a step, by index (0-7) or title (``"6 Review"``, or just ``"Review"``)."""
        if isinstance(step, str):
            titles = [s.title for s in self.steps]
            found = [i for i, t in enumerate(titles) if t == step or t.split(" ", 1)[1] == step]
            if not found:
                raise ValueError(f"there is no step {step!r}: use one of {', '.join(map(repr, titles))} or 0-"
                                 f"{len(titles) - 1}")
            step = found[0]
        self.tabs.selected_index = max(0, min(len(self.steps) - 1, int(step)))

    def next(self) -> bool:
        """Go to the next step once this step's fields have no problem; else show them in red and stay.

        Returns whether it moved. The tabs still go anywhere (a user may look ahead); Next is the guided path.
        """
        index = self.tabs.selected_index or 0
        names = [f.name for f in getattr(self.steps[index], "fields", [])]
        self._touched.update(names)
        grouped = problems_by_field(self.validate(), self.fields)
        found = [p for name in names for p in grouped.get(name, [])]
        if found:
            self.nav_note.value = notice(
                f"Fix the {len(found)} problem(s) marked in red on this step first "
                f"({', '.join(dict.fromkeys(p.field for p in found))}).", "error")
            return False
        self.go(index + 1)
        return True

    def _step_shown(self, index) -> None:
        self.nav_note.value = ""
        self.back_button.disabled = not index
        self.next_button.disabled = index == len(self.steps) - 1
        if self.steps[index or 0] in (self.review_step, self.submit_step):
            self._show_all = True
            if self.steps[index or 0] is self.review_step:
                self.update_review()  # validates
            else:
                self.validate()

    # -- the request -----------------------------------------------------------------------------------------
    @property
    def request(self) -> SchedulerRequest:
        """The SchedulerRequest the fields build, once the fields that the service fills are filled.

        Right after the wizard is made, the models are still being listed (in a worker) and the dropdown is still
        empty: reading ``request`` then first waits (up to ``FILL_TIMEOUT`` s) for that listing and the chosen
        model's details, so a notebook's next cell (``print(wizard.request.to_python())``, in a Run All) prints
        the ModelName and frequency the dropdown shows, not the empty form of a moment before.
        """
        self._wait_filled()
        return self._request()

    def _request(self) -> SchedulerRequest:
        """The SchedulerRequest the fields build now (no waiting: what validation and the steps use)."""
        values = {name: field.value for name, field in self.fields.items()}
        return SchedulerRequest(**values, client_token=self._client_token)

    def _filled_by(self, future):
        """Remember ``future`` as a read that fills fields (``request`` waits for it); returns it."""
        with self._filling_lock:
            self._filling = [f for f in self._filling if not f.done()] + [future]
        return future

    def _wait_filled(self, timeout: float = FILL_TIMEOUT) -> None:
        if threading.current_thread().name.startswith(WORKER_PREFIX):
            return  # a worker fills the fields itself: waiting here could wait for itself
        deadline = time.monotonic() + timeout
        while True:
            with self._filling_lock:
                pending = [f for f in self._filling if not f.done()]
            if not pending or time.monotonic() >= deadline:
                return
            try:
                pending[0].result(timeout=max(0.0, deadline - time.monotonic()))
            except Exception:  # noqa: BLE001 - a failed read is in the error area; the fields stay as they are
                pass

    @property
    def target_sampling_rate(self) -> str | None:
        """The chosen model's TargetSamplingRate (None until the model is read)."""
        info = self.model_step.info
        return info.sampling_rate if info is not None and info.name == self.fields["model_name"].value else None

    def fill(self, request: SchedulerRequest) -> None:
        """Set every field from ``request`` (its client token is kept, so a retry stays idempotent).

        A value an input cannot show is kept as given and reported beside its field; if a field fails anyway,
        every field gets its previous value back before the error is raised (never half old, half new).
        """
        with self._validate_lock:
            before = {name: field.value for name, field in self.fields.items()}
            try:
                for name, field in self.fields.items():
                    field.value = getattr(request, name)
            except Exception:
                for name, field in self.fields.items():
                    try:
                        field.value = before[name]
                    except Exception:  # noqa: BLE001 - a field that cannot take its value back keeps what it has
                        pass
                self.validate()
                raise
            self._client_token = request.client_token
            self._touched.update(n for n in self.fields if getattr(request, n) is not None)
        self.validate()

    def _changed(self, name: str) -> None:
        self._touched.add(name)
        self.validate()

    def validate(self) -> list[Problem]:
        """Check the request (same ``problems()`` as the core) and show each problem beside its field."""
        with self._validate_lock:
            request = self._request()
            problems = [Problem(".".join(FIELDS["model_name"]), m) for m in self.model_step.problems()]
            problems += request.problems(self.target_sampling_rate)
            grouped = problems_by_field(problems, self.fields)
            for name, field in self.fields.items():
                visible = self._show_all or name in self._touched
                found = grouped.get(name, []) if visible else []
                field.show([p.message for p in found], found)
            self.problems = problems
            self.submit_step.set_problems(problems)
            self.submit_step.set_request(request)
            return problems

    # -- models and names ------------------------------------------------------------------------------------
    def load_models(self):
        """List the models (in a worker) and offer the trained ones."""
        return self._filled_by(self.tasks.run("Loading models", self.services.models, on_done=self._models_loaded))

    def _models_loaded(self, models) -> None:
        self.input_step.set_example_time(self.services.now())  # the service answers: its time dates the example
        self.model_step.set_models(models)
        self.validate()
        chosen = self.fields["model_name"].value
        if chosen is not None and (self.model_step.info is None or self.model_step.info.name != chosen):
            self._model_chosen(chosen)

    def _model_chosen(self, name) -> None:
        if name is None:
            self.model_step.set_info(None)
            self.schedule_step.set_sampling_rate(None)
            self.input_step.set_components(None)
            return
        if not any(m.name == name and m.trained for m in self.model_step.models):
            return
        self._filled_by(self.tasks.run(f"Reading model {name}", self.services.model, name, on_done=self._model_read))

    def _model_read(self, info) -> None:
        if info.name != self.fields["model_name"].value:
            return  # the user picked another model meanwhile
        self.model_step.set_info(info)
        self.schedule_step.set_sampling_rate(info.sampling_rate)
        self.input_step.set_components(list(info.components))
        self.validate()

    def load_scheduler_names(self):
        """Read the existing schedulers' names (in a worker), to warn about a name taken."""
        return self.tasks.run("Listing schedulers", self.services.scheduler_names,
                              on_done=self.schedule_step.set_existing, quiet=True)

    # -- input preview ---------------------------------------------------------------------------------------
    def preview(self):
        """Preview the input location (in a worker): keys, detected naming, samples, findings."""
        request = self._request()
        if not request.input_bucket:
            self.errors.show("Previewing the input", "type the input bucket first")
            return None
        info = self.model_step.info
        components = list(info.components) if info is not None and info.components else None
        self.input_step.preview_button.disabled = True

        def done(result):
            if result is not None:
                self.input_step.show_preview(result)

        def run():
            try:
                return self.services.preview(request, components=components,
                                            target_sampling_rate=self.target_sampling_rate)
            finally:
                self.input_step.preview_button.disabled = False

        return self.tasks.run("Previewing the input", run, on_done=done)

    # -- review ----------------------------------------------------------------------------------------------
    def update_review(self):
        """Show the summary and exports now, and draw the next runs in a worker."""
        problems = self.validate()
        request = self._request()
        self.review_step.show_request(request, problems)
        components = list(self.model_step.info.components) if self.model_step.info is not None else None
        self.review_step.show_existing(None, None)
        if request.scheduler_name:
            self.tasks.run(f"Looking for {request.scheduler_name}", self.services.existing, request, quiet=True,
                           on_done=lambda found: self._request() == request
                           and self.review_step.show_existing(request.scheduler_name, found))
        self.tasks.run("Checking the input files", self._review_files, request, components,
                       on_done=lambda shown: self._request() == request and self.review_step.show_files(*shown))
        return self.tasks.run("Planning the next runs", self._plan_review, request, components,
                              on_done=lambda shown: self.review_step.show_timing(*shown))

    #: The columns of Review's next-runs table, in this order (the wake-up first).
    REVIEW_COLUMNS = ("wake_time", "data_start", "data_end", "file_time_local")

    def _plan_review(self, request, components):
        now = self.services.now()
        note = "; ".join(self.services.time_notes) or None
        try:
            runs = timing.next_runs(request, now=now, n=REVIEW_RUNS, components=components)
        except LookoutNbError as exc:
            return None, None, str(exc), now, note  # shown by show_timing, in place of the table
        shown = runs[[c for c in self.REVIEW_COLUMNS if c in runs.columns]
                     + [c for c in runs.columns if c.startswith("file:")]]
        try:
            png = picture(lambda ax: plot.plot_schedule(runs, ax=ax, now=now))
        except Exception as exc:  # noqa: BLE001 - the table still shows; say why the picture does not
            self.errors.show("Drawing the next runs", exc)
            png = None
        return shown, png, None, now, note

    def _review_files(self, request, components):
        """``(match, png, reason)``: the input files the recent runs would read, drawn with their plan."""
        if not request.input_bucket or request.frequency is None:
            return None, None, "the input bucket and the upload frequency are needed first"
        preview = self.services.preview(request, components=components, target_sampling_rate=self.target_sampling_rate)
        if preview.match is None or preview.plan is None or not len(preview.plan):
            return None, None, "no file of the model's components found under the input prefix"
        png = picture(lambda ax: plot.plot_schedule(preview.plan, files=preview.match, ax=ax, now=preview.now))
        return preview.match, png, None

    def _save_exports(self) -> None:
        written = save_exports(self.request, self.review_step.folder.value or ".")
        self.review_step.saved.value = notice("Saved " + ", ".join(str(p) for p in written), "ok")

    def _save_state(self) -> None:
        path = Path(self.review_step.state_path.value or "scheduler_wizard.json").expanduser()
        path.write_text(self.to_json())
        self.review_step.saved.value = notice(f"Saved the wizard's state to {path}", "ok")

    def _load_state(self) -> None:
        path = Path(self.review_step.state_path.value or "scheduler_wizard.json").expanduser()
        request, ui = load_state(path.read_text())
        self._apply_state(request, ui)
        self.review_step.saved.value = notice(f"Loaded the wizard's state from {path}", "ok")

    # -- submit ----------------------------------------------------------------------------------------------
    def _scheduler_deleted(self, name: str) -> None:
        """The Monitor deleted ``name``: Submit may create it again, and the name lists forget it."""
        self.submit_step.forget(name)
        self.load_scheduler_names()

    def submit(self):
        """Submit the request once (a second click while submitting is ignored); then monitor the scheduler."""
        with self._submit_lock:
            if self.submit_step.submitting:
                return self._submit_future
            self._show_all = True
            if self.validate():
                self.errors.show("Submitting", "the request still has problems: see the fields marked in red")
                return None
            request = self._request()
            self.submit_step.set_submitting(True)
            self.submit_step.conflict.clear()
            self.submit_step.show_outcome(f"Submitting {request.scheduler_name}…", "info", request)
            self._submit_future = self.tasks.run(f"Submitting {request.scheduler_name}", self._submit, request)
            return self._submit_future

    def _submit(self, request):
        step = self.submit_step
        try:
            result = self.services.submit(request, target_sampling_rate=self.target_sampling_rate)
        except SchedulerConflict as exc:
            step.show_outcome("The service refused the request: a scheduler of that name exists (below).", "error",
                              request)
            step.conflict.show(exc, request.scheduler_name)
            raise Shown("refused: that scheduler exists with another configuration (see the Submit step).") from exc
        except BaseException:
            step.show_outcome("The service refused the request: see the error above.", "error", request)
            raise
        finally:
            step.set_submitting(False)
        self.last_submit = result
        step.set_applied(request, result.name)
        at = self.services.now()
        step.show_outcome(f"Submitted at service time {at:%Y-%m-%d %H:%M:%S} UTC: scheduler {result.name} was "
                          f"{result.status} then; the Monitor follows its status. ARN {result.arn}", "ok", request)
        self.load_scheduler_names()
        self.monitor.attach(result.name)
        self.go(self.steps.index(self.monitor))
        return result

    def update_existing(self):
        """Change the existing scheduler's updatable fields that differ to the requested values (in a worker),
        show the result, and monitor it: the Update action offered beside a conflict."""
        view = self.submit_step.conflict
        name, changes = view.name, dict(view.changes)
        if not name or not changes:
            return None
        view.set_updating(name)

        def run():
            try:
                info = self.services.update(name, **changes)
            except BaseException:
                view.show_failed()
                raise
            view.show_updated(info, changes, self.services.now())
            request = self._request()
            self.submit_step.show_outcome(f"Scheduler {name} was updated to this request.", "ok", request)
            self.submit_step.set_applied(request, name)
            self.monitor.attach(name)
            return info

        return self.tasks.run(f"Updating {name}", run)

    def wait(self, timeout: float | None = 60) -> Wizard:
        """Block until every operation started so far (and those they started) has finished; returns self."""
        self.tasks.wait(timeout)
        return self

    # -- state -----------------------------------------------------------------------------------------------
    def to_json(self) -> str:
        """The wizard's state as JSON: the request (API spelling) plus step, time zone and monitored scheduler."""
        ui = {"step": self.tabs.selected_index or 0, "time_zone": self.input_step.zone.value,
              "monitor": self.monitor.name}
        return dump_state(self.request, ui)

    @classmethod
    def from_json(cls, text: str, client=None, s3=None, session=None, **kwargs) -> Wizard:
        """A wizard filled from :meth:`to_json`'s text (or a bare request JSON)."""
        request, ui = load_state(text)
        wizard = cls(client=client, s3=s3, session=session, request=request, **kwargs)
        wizard._apply_state(None, ui)
        return wizard

    def _apply_state(self, request, ui) -> None:
        if request is not None:
            self.fill(request)
        self.input_step.zone.value = ui.get("time_zone") or ""
        if ui.get("monitor"):
            self.monitor.attach(ui["monitor"])
        self.go(ui.get("step", 0))

    @classmethod
    def from_scheduler(cls, name: str, client=None, s3=None, session=None, **kwargs) -> Wizard:
        """A wizard filled from the existing scheduler ``name`` and monitoring it (reads it synchronously)."""
        services = Services(client, s3, session)
        request = services.request_from_scheduler(name)
        wizard = cls(client=services.client, s3=s3, session=session, request=request, **kwargs)
        wizard.monitor.attach(name)
        wizard.go(wizard.steps.index(wizard.monitor))
        return wizard

    def close(self) -> None:
        """Stop auto-refresh and the workers, and close the widgets."""
        self.monitor.close()
        self.tasks.shutdown()
        super().close()
