"""Retraining schedulers (the retraining service of :class:`~..backend.Backend`), on the service clock.

A scheduler retrains its model at ``RetrainingStartDate`` (truncated to the UTC day; default: the next UTC
midnight) and every ``RetrainingFrequency`` after it, on the last ``LookbackWindow`` of the model's dataset's data
(ending at the retraining time or at the data's end, whichever is first), through the executor like CreateModel.
Each retraining makes a version (SourceType RETRAINING). ``PromoteMode`` MANAGED activates it when
:func:`promotion` finds it at least as good as the active version; MANUAL leaves it for UpdateActiveModelVersion.
The choices are in ``docs/endpoint.md`` (Retraining schedulers).

>>> promotion({"labeled_event_metrics": {"num_labeled": 4, "num_identified": 3}},
...           {"labeled_event_metrics": {"num_labeled": 4, "num_identified": 4}})[0]
'MODEL_NOT_PROMOTED'
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time

import pandas as pd

from ...learning.training import TrainingFailed
from ..core import Core, page
from ..exceptions import ConflictException, ResourceNotFoundException, ServiceException, ValidationException
from ..labels import LabelFileError
from ..models import resolve_windows
from .records import ModelVersion, Retraining, check_frequency, next_retraining
from .versions import Versions, days

log = logging.getLogger(__name__)
CANCELLED = "The endpoint stopped while this retraining was in progress"
#: Seconds each retraining of this process waits before it trains (default 0): how a test catches a serve
#: process in the middle of a retraining to kill it; the retraining then trains as always.
HOLD_VARIABLE = "LOOKOUT_NB_RETRAINING_HOLD"


def hold(stopping, environ=os.environ) -> float:
    """Wait :data:`HOLD_VARIABLE` seconds (or until ``stopping()``); returns the seconds asked.

    >>> hold(lambda: False, {HOLD_VARIABLE: "0.01"}), hold(lambda: False, {HOLD_VARIABLE: "1s"})
    (0.01, 0.0)
    """
    try:
        seconds = float(environ.get(HOLD_VARIABLE) or 0)
    except ValueError:  # a test hook: a value that is not a number holds nothing, rather than fail the retraining
        seconds = 0.0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not stopping():
        time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
    return seconds


def _recall(metrics: dict | None) -> float:
    labelled = (metrics or {}).get("labeled_event_metrics") or {}
    return labelled["num_identified"] / labelled["num_labeled"] if labelled.get("num_labeled") else 1.0


def _false_alarms(metrics: dict | None) -> int:
    return ((metrics or {}).get("unknown_event_metrics") or {}).get("num_identified", 0)


def promotion(new: dict | None, active: dict | None) -> tuple[str, str]:
    """``(AutoPromotionResult, reason)`` of MANAGED mode: the new version is promoted when, on its own evaluation,
    it finds at least the share of labelled events the active version found on its evaluation (no labelled event
    in a window counts as all found) and raises no more unlabelled events than it.

    >>> result, why = promotion({"unknown_event_metrics": {"num_identified": 1}},
    ...                         {"unknown_event_metrics": {"num_identified": 2}})
    >>> result, why
    ('MODEL_PROMOTED', 'finds 100% of the labelled events (active version: 100%), raises 1 unlabelled (active: 2)')
    """
    recall, was = _recall(new), _recall(active)
    alarms, had = _false_alarms(new), _false_alarms(active)
    why = (f"finds {recall:.0%} of the labelled events (active version: {was:.0%}), raises {alarms} unlabelled "
           f"(active: {had})")
    return ("MODEL_PROMOTED" if recall >= was and alarms <= had else "MODEL_NOT_PROMOTED"), why


class Retrainings:
    """The retraining scheduler operations over the models and versions services."""

    def __init__(self, core: Core, models, versions: Versions, datasets):
        self.core, self.models, self.versions, self.datasets = core, models, versions, datasets
        self.schedulers: dict[str, Retraining] = {}  # model name -> its retraining scheduler
        self._threads: dict[str, threading.Thread] = {}

    def _get(self, name: str) -> Retraining:
        self.models.model(name)
        found = self.schedulers.get(name)
        if found is None:
            raise ResourceNotFoundException(f"Model {name} has no retraining scheduler")
        return found

    def _status(self, r: Retraining) -> str:
        return r.status(self.core.clock.now(), self.core.clock.settle)

    def _settings(self, params: dict, now: pd.Timestamp) -> dict:
        why = check_frequency(params["RetrainingFrequency"]) if params.get("RetrainingFrequency") else None
        if why:
            raise ValidationException(why)
        start = params.get("RetrainingStartDate")
        return {} if start is None else {"start_date": start.floor("D")}

    # -- the API -----------------------------------------------------------------------------------------------
    def create_retraining_scheduler(self, region: str, params: dict) -> dict:
        name, now = params["ModelName"], self.core.clock.now()
        settings = self._settings(params, now)
        with self.core.lock, self.core.change() as change:
            m = self.models.model(name)
            existing = self.schedulers.get(name)
            if existing is not None:
                if existing.client_token != params["ClientToken"]:
                    raise ConflictException(f"Model {name} already has a retraining scheduler; update it "
                                            "(UpdateRetrainingScheduler) or delete it first")
                return {"ModelName": name, "ModelArn": m.arn(region), "Status": self._status(existing)}
            if m.status != "SUCCESS":
                raise ValidationException(f"Model {name} is {m.status}; only a model whose training succeeded "
                                          "(SUCCESS) can be retrained")
            start = settings.get("start_date", (now + pd.Timedelta(days=1)).floor("D"))
            r = Retraining(name, region, start, params["RetrainingFrequency"], params["LookbackWindow"],
                           params.get("PromoteMode") or "MANAGED", now, now, params["ClientToken"], changed_at=now)
            r.next_run = next_retraining(r.start_date, r.frequency, now)
            change.entry("retraining", "", self.schedulers, name)
            self.schedulers[name] = r
            return {"ModelName": name, "ModelArn": m.arn(region), "Status": "PENDING"}

    def describe_retraining_scheduler(self, region: str, params: dict) -> dict:
        with self.core.lock:
            r = self._get(params["ModelName"])
            return r.describe(self._status(r))

    def list_retraining_schedulers(self, region: str, params: dict) -> dict:
        begins, status = params.get("ModelNameBeginsWith"), params.get("Status")
        with self.core.lock:
            items = [r.summary(self._status(r)) for name, r in sorted(self.schedulers.items())
                     if r.region == region and (not begins or name.startswith(begins))]
        items = [s for s in items if not status or s["Status"] == status]
        return page(items, params, "RetrainingSchedulerSummaries")

    def update_retraining_scheduler(self, region: str, params: dict) -> dict:
        now = self.core.clock.now()
        settings = self._settings(params, now)
        with self.core.lock, self.core.change() as change:
            r = self._get(params["ModelName"])
            change.entry("retraining", "", self.schedulers, r.model_name)
            r.start_date = settings.get("start_date", r.start_date)
            r.frequency = params.get("RetrainingFrequency") or r.frequency
            r.lookback = params.get("LookbackWindow") or r.lookback
            r.promote_mode = params.get("PromoteMode") or r.promote_mode
            r.updated_at = now
            if r.runs:
                r.next_run = next_retraining(r.start_date, r.frequency, now)
        return {}

    def start_retraining_scheduler(self, region: str, params: dict) -> dict:
        with self.core.lock, self.core.change() as change:
            r = self._get(params["ModelName"])
            if self._status(r) != "STOPPED":
                raise ConflictException(f"The retraining scheduler of model {r.model_name} is {r.state}; only a "
                                        "STOPPED one can be started")
            change.entry("retraining", "", self.schedulers, r.model_name)
            now = self.core.clock.now()
            r.state, r.changed_at, r.next_run = "PENDING", now, next_retraining(r.start_date, r.frequency, now)
            return self._brief(region, r)

    def stop_retraining_scheduler(self, region: str, params: dict) -> dict:
        with self.core.lock, self.core.change() as change:
            r = self._get(params["ModelName"])
            if self._status(r) not in ("PENDING", "RUNNING"):
                raise ConflictException(f"The retraining scheduler of model {r.model_name} is {r.state}; only a "
                                        "PENDING or RUNNING one can be stopped")
            change.entry("retraining", "", self.schedulers, r.model_name)
            r.state, r.changed_at, r.next_run = "STOPPING", self.core.clock.now(), None
            return self._brief(region, r)

    def delete_retraining_scheduler(self, region: str, params: dict) -> dict:
        with self.core.lock, self.core.change() as change:
            r = self._get(params["ModelName"])
            if self._status(r) != "STOPPED":
                raise ConflictException(f"The retraining scheduler of model {r.model_name} is {r.state}; stop it "
                                        "(StopRetrainingScheduler) before deleting it")
            change.entry("retraining", "", self.schedulers, r.model_name)
            del self.schedulers[r.model_name]
        return {}

    def _brief(self, region: str, r: Retraining) -> dict:
        return {"ModelName": r.model_name, "ModelArn": self.models.model(r.model_name).arn(region), "Status": r.state}

    # -- what DescribeModel reports and DeleteModel asks -----------------------------------------------------------
    def model_members(self, region: str, name: str) -> dict:
        r = self.schedulers.get(name)
        out: dict = {}
        if r is not None:
            out["RetrainingSchedulerStatus"] = self._status(r)
            out["NextScheduledRetrainingStartDate"] = r.next_run
        latest = [v for v in self.versions.of(name) if v.source_type == "RETRAINING"]
        if latest:
            v = latest[-1]
            out.update(LatestScheduledRetrainingStatus=v.status, LatestScheduledRetrainingModelVersion=v.version,
                       LatestScheduledRetrainingStartTime=v.started_at or v.created_at,
                       LatestScheduledRetrainingAvailableDataInDays=v.available_days,
                       LatestScheduledRetrainingFailedReason=v.failed_reason)
        return out

    def check_deletable(self, region: str, name: str) -> None:
        if name in self.schedulers:
            raise ConflictException(f"Model {name} has a retraining scheduler; stop and delete it "
                                    "(StopRetrainingScheduler, DeleteRetrainingScheduler) before deleting the model")

    # -- the clock's side --------------------------------------------------------------------------------------
    def next_due(self, until: pd.Timestamp) -> pd.Timestamp | None:
        with self.core.lock:
            due = min((r.next_run for r in self.schedulers.values() if r.runs and r.next_run is not None),
                      default=None)
        return due if due is not None and due <= until else None

    def claim_due(self, now: pd.Timestamp) -> list[tuple[str, int]]:
        """Start every retraining due by ``now`` (one per scheduler: a jump over several due times retrains once,
        on the latest data); returns ``[(model name, version)]``."""
        started = []
        with self.core.lock, self.core.change() as change:
            for name, r in sorted(self.schedulers.items()):
                self._status(r)
                if not (r.runs and r.next_run is not None and r.next_run <= now):
                    continue
                when = r.next_run
                change.entry("retraining", "", self.schedulers, name)
                r.next_run = next_retraining(r.start_date, r.frequency, now + pd.Timedelta(microseconds=1))
                v = self._new_version(change, r, when)
                r.latest_version = v.version
                started.append((name, v.version))
        for name, number in started:
            self._threads[name] = self.core.work.background(f"retrain-{name[:20]}", self._retrain, name, number)
        return started

    def _new_version(self, change, r: Retraining, when: pd.Timestamp) -> ModelVersion:
        """The IN_PROGRESS version of a retraining at ``when``, with its windows (the last LookbackWindow)."""
        m = self.models.model(r.model_name)
        self.versions.ensure(change, m.name)
        v = ModelVersion.of(m, self.versions.next_number(m.name), "RETRAINING", when)
        v.status, v.started_at, v.ended_at, v.trained, v.failed_reason = "IN_PROGRESS", when, None, None, None
        active = self.versions.versions.get(f"{m.name}/{(self.versions.lineage(m.name).active or 0):08d}")
        v.prior_metrics = active.metrics if active else m.metrics
        try:
            first, last = self._data_span(m)
            end = min(when, last)
            start = max(first, end - pd.Timedelta(days=int(r.lookback[1:-1])))
            windows = resolve_windows({"TrainingDataStartTime": start}, start, end, m.sampling_rate)
            v.training_start, v.training_end, v.evaluation_start, v.evaluation_end = windows
            v.available_days = days(start, end)
        except ServiceException as err:
            v.status, v.failed_reason, v.ended_at = "FAILED", str(err), when
            v.promotion_result, v.promotion_reason = "RETRAINING_CUSTOMER_ERROR", str(err)[:256]
        self.versions.put(change, v)
        return v

    def _data_span(self, m) -> tuple[pd.Timestamp, pd.Timestamp]:
        """The first and last time of model ``m``'s dataset's data, from its record (under the lock of every serve
        process: the data itself is read by the training, not here); ServiceException when it has none."""
        d = self.datasets.dataset(m.region, m.dataset_name)
        if d.has_data and d.data_start is not None and d.data_end is not None:
            return d.data_start, d.data_end
        data = self.datasets.dataset_data(m.region, m.dataset_name)  # ValidationException when nothing was ingested
        frames = [f for f in data.frames.values() if len(f)]
        return min(f.index[0] for f in frames), max(f.index[-1] for f in frames)

    def wait(self, name: str, timeout: float = 120.0) -> None:
        """Wait for the retraining of model ``name`` to end (in-process callers and tests)."""
        thread = self._threads.get(name)
        if thread is not None:
            thread.join(timeout)

    def resume(self, key: str) -> None:
        """Retrain again the version ``key`` (``<model>/<version, 8 digits>``, IN_PROGRESS): its retraining was taken
        over from a serve process that died (:mod:`...runner.takeover`); its end is recorded by this process."""
        name, _, number = key.rpartition("/")
        with self.core.lock:
            v = self.versions.versions.get(key)
            thread = self._threads.get(name)
            if v is None or v.status != "IN_PROGRESS" or not number.isdigit() or (thread and thread.is_alive()):
                return
            log.warning("lookout_nb.service: retraining %s (version %s), in progress in a serve process that stopped "
                        "beating, is trained again here", name, int(number))
            self._threads[name] = self.core.work.background(f"retrain-{name[:20]}", self._retrain, name, int(number))

    def _retrain(self, name: str, number: int) -> None:
        with self.core.lock:
            v = self.versions.versions.get(f"{name}/{number:08d}")
            m = self.models.find(name)
        if v is None or m is None or v.status != "IN_PROGRESS":
            return
        hold(self.core.work.stopping)
        record = dataclasses.replace(m, training_start=v.training_start, training_end=v.training_end,
                                     evaluation_start=v.evaluation_start, evaluation_end=v.evaluation_end,
                                     labels_config=v.labels_config)
        trained, reason, result = None, None, "RETRAINING_CUSTOMER_ERROR"
        try:
            trained = self.models.fit(record).to_dict()
        except (TrainingFailed, ServiceException, LabelFileError) as err:
            reason = getattr(err, "reason", None) or str(err)
        except Exception as err:
            log.exception("lookout_nb.service: retraining model %s failed", name)
            reason, result = f"Internal error of the embedded endpoint: {type(err).__name__}: {err}", \
                "RETRAINING_INTERNAL_ERROR"
        if self.core.work.stopping():
            trained, reason, result = None, CANCELLED, "RETRAINING_CANCELLED"
        try:
            self._end(name, number, trained, reason, result)
        except Exception:  # e.g. the store closed while the endpoint stops: the restart CANCELS it
            log.warning("lookout_nb.service: could not record the end of retraining %s", name, exc_info=True)

    def _end(self, name: str, number: int, trained: dict | None, reason: str | None, result: str) -> None:
        with self.core.lock, self.core.change() as change:
            key = f"{name}/{number:08d}"
            v, m = self.versions.versions.get(key), self.models.find(name)
            if v is None or m is None:
                return
            change.entry("modelversion", "", self.versions.versions, key)
            v.ended_at = self.core.clock.now()
            if trained is None:
                v.status = "CANCELED" if result == "RETRAINING_CANCELLED" else "FAILED"
                why = reason or "unknown"
                v.failed_reason, v.promotion_result, v.promotion_reason = why[:5000], result, why[:256]
                return
            v.status, v.trained = "SUCCESS", trained
            self.versions.diagnose(v)
            r = self.schedulers.get(name)
            mode = r.promote_mode if r is not None else "MANUAL"
            if mode == "MANUAL":
                v.promotion_result = "MODEL_NOT_PROMOTED"
                v.promotion_reason = "PromoteMode is MANUAL: activate it with UpdateActiveModelVersion"
                return
            v.promotion_result, v.promotion_reason = promotion(v.metrics, v.prior_metrics)
            if v.promotion_result == "MODEL_PROMOTED":
                change.entry("model", "", self.models.models, name)
                self.versions.lineage(name, change).activate(number, v.ended_at)
                v.onto(m)
