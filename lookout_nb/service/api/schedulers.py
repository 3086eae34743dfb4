"""Inference schedulers per region and their executions: the scheduler operations, and the runner's side
(due runs claimed, their ends recorded). Thread-safe under the core's lock.

Every operation takes the caller's region and the request members (already checked against the service model by
:mod:`..http.protocol`), applies the service's semantic rules, and returns the response members. The runner's S3
I/O happens outside the lock (:meth:`Schedulers.claim_due` / :meth:`Schedulers.finish`). A scheduler's model is
asked of the models service (:meth:`.models.Models.model`), never read from its tables.

>>> from lookout_nb.service.api.models import Models
>>> from lookout_nb.service.clock import ManualClock
>>> core = Core(ManualClock())
>>> Schedulers(core, Models(core, None, None)).list_schedulers("us-east-1", {})["InferenceSchedulerSummaries"]
[]
"""

from __future__ import annotations

import functools
import json
import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from ...contract.naming import Naming
from ...contract.request import SchedulerRequest, parse_duration
from . import executions as history
from .change import Change
from .core import Core, page
from .exceptions import ConflictException, InternalServerException, ResourceNotFoundException, ValidationException
from .records import Execution, Model, Scheduler

if TYPE_CHECKING:
    from .models import Models

#: At most this many runs per scheduler per move of the clock (a jump, a restart after downtime): the latest
#: ones (288: a day of PT5M runs, so ``advance(1 day)`` makes every run of a 5-minute scheduler); the earlier
#: due boundaries of that move are skipped and counted in :attr:`Backend.skipped_runs`.
CATCH_UP = 288
log = logging.getLogger(__name__)


def first_boundary_after(t: pd.Timestamp, frequency: pd.Timedelta) -> pd.Timestamp:
    """The first frequency boundary strictly after ``t``; boundaries are aligned to the top of the UTC hour.

    >>> first_boundary_after(pd.Timestamp("2026-01-05T09:02Z"), pd.Timedelta("10min"))
    Timestamp('2026-01-05 09:10:00+0000', tz='UTC')
    """
    ns, step = t.value, frequency.value  # integer nanoseconds: the clock's catch-up calls this for every run
    hour = ns - ns % 3_600_000_000_000
    return pd.Timestamp(hour + ((ns - hour) // step + 1) * step, tz=t.tz)


@functools.lru_cache(maxsize=256)
def _duration(text: str) -> pd.Timedelta:
    """``parse_duration``, kept: the clock's loop asks it for every due run."""
    return parse_duration(text)


@functools.lru_cache(maxsize=256)
def _minutes(n: int) -> pd.Timedelta:
    return pd.Timedelta(minutes=n)


@dataclass
class Run:
    """A run claimed by the runner: everything it needs, copied so the scheduler may change meanwhile."""

    scheduler_name: str
    model: Model | None  # None: the scheduler's model was deleted (the run FAILS saying so)
    boundary: pd.Timestamp
    wake: pd.Timestamp
    frequency: pd.Timedelta
    input_config: dict
    output_config: dict
    execution: Execution
    region: str = "us-east-1"
    uid: str = ""
    seq: int = 0  # the execution's sequence number in its scheduler (its row in the store)

    @property
    def window(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """The data window (start, end] in UTC."""
        return self.boundary - self.frequency, self.boundary


class Schedulers:
    """The inference scheduler operations; ``models`` is the models service (a scheduler runs a model)."""

    def __init__(self, core: Core, models: Models):
        self.core = core
        self.models = models
        self.schedulers: dict[str, dict[str, Scheduler]] = {}  # region -> name -> scheduler
        self.tokens: dict[str, dict[str, str]] = {}  # region -> client token -> scheduler uid
        self.broken: dict[tuple[str, str], str] = {}  # (region, name) -> why the saved scheduler was not restored
        self.broken_uids: dict[tuple[str, str], str] = {}  # (region, name) -> its uid, when it could be read
        self.skipped_runs = 0  # due runs skipped by the catch-up limit (CATCH_UP)

    # -- schedulers --------------------------------------------------------------------------------------------
    def _schedulers(self, region: str) -> dict[str, Scheduler]:
        return self.schedulers.setdefault(region, {})

    def _get(self, region: str, name: str) -> Scheduler:
        found = self._schedulers(region).get(name)
        if found is None and (region, name) in self.broken:
            raise InternalServerException(
                f"Inference scheduler {name} could not be restored from the saved state: {self.broken[region, name]}. "
                f"Delete it (DeleteInferenceScheduler) and create it again"
            )
        if found is None:
            raise ResourceNotFoundException(f"Inference scheduler {name} does not exist")
        return found

    def _status(self, s: Scheduler) -> str:
        return s.status(self.core.clock.now(), self.core.clock.settle)

    def _model_arn(self, s: Scheduler) -> str:
        model = self.models.find(s.model_name)
        return model.arn(s.region) if model else Model(s.model_name, {}).arn(s.region)

    def _check_request(self, params: dict, model: Model) -> None:
        """Rules the service model cannot express (the same ones the toolkit checks before submitting)."""
        problems = SchedulerRequest.from_boto3(params).problems(target_sampling_rate=model.sampling_rate)
        if problems:  # includes a missing S3InputConfiguration (its Bucket is required)
            raise ValidationException(format_problems(problems))

    def create_scheduler(self, region: str, params: dict) -> dict:
        name, token = params["InferenceSchedulerName"], params["ClientToken"]
        fingerprint = json.dumps({k: v for k, v in params.items() if k != "ClientToken"}, sort_keys=True, default=str)
        with self.core.lock, self.core.change() as change:
            model = self.models.model(params["ModelName"])
            if model.status != "SUCCESS":
                raise ValidationException(f"Model {model.name} is {model.status}; only a model whose training "
                                          "succeeded (SUCCESS) can run inference")
            self._check_request(params, model)
            now = self.core.clock.now()
            known = self.tokens.setdefault(region, {}).get(token)
            existing = self._schedulers(region).get(name)
            if existing is not None:
                if known != existing.uid:
                    raise ConflictException(f"Inference scheduler {name} already exists")
                if existing.fingerprint != fingerprint:
                    raise ConflictException(
                        f"ClientToken {token!r} was already used for inference scheduler {name} with a different "
                        "request"
                    )
                return self._created(existing)  # an idempotent retry
            if (region, name) in self.broken:
                raise ConflictException(
                    f"Inference scheduler {name} exists but could not be restored from the saved state "
                    f"({self.broken[region, name]}); delete it first"
                )
            other = next((s for s in self._schedulers(region).values() if s.uid == known), None)
            if other is not None:
                raise ConflictException(
                    f"ClientToken {token!r} was already used to create inference scheduler {other.name}")
            freq = parse_duration(params["DataUploadFrequency"])
            s = Scheduler(
                region=region,
                name=name,
                uid=uuid.uuid4().hex[:32],
                model_name=model.name,
                frequency=params["DataUploadFrequency"],
                delay_minutes=int(params.get("DataDelayOffsetInMinutes") or 0),
                input_config=params["DataInputConfiguration"],
                output_config=params["DataOutputConfiguration"],
                role_arn=params["RoleArn"],
                kms_key_id=params.get("ServerSideKmsKeyId"),
                client_token=token,
                fingerprint=fingerprint,
                created_at=now,
                updated_at=now,
                state="PENDING",
                changed_at=now,
                next_boundary=first_boundary_after(now, freq),
                tags=list(params.get("Tags") or []),
            )
            change.scheduler(region, self._schedulers(region), name)
            change.entry("token", region, self.tokens[region], token)
            self._schedulers(region)[name] = s
            self.tokens[region][token] = s.uid
            return self._created(s)

    def _created(self, s: Scheduler) -> dict:
        return {
            "InferenceSchedulerArn": s.arn,
            "InferenceSchedulerName": s.name,
            "Status": self._status(s),
            "ModelQuality": model.quality if (model := self.models.find(s.model_name)) else "CANNOT_DETERMINE_QUALITY",
        }

    def describe_scheduler(self, region: str, params: dict) -> dict:
        with self.core.lock:
            s = self._get(region, params["InferenceSchedulerName"])
            return s.describe(self._status(s), self._model_arn(s), history.latest_result(self.core, s))

    def list_schedulers(self, region: str, params: dict) -> dict:
        begins, model, status = (params.get(k) for k in ("InferenceSchedulerNameBeginsWith", "ModelName", "Status"))
        with self.core.lock:
            items = []
            for s in sorted(self._schedulers(region).values(), key=lambda s: s.name):
                current = self._status(s)
                if (begins and not s.name.startswith(begins)) or (model and s.model_name != model):
                    continue
                if status and current != status:
                    continue
                items.append((s, current))
            found = page(items, params, "InferenceSchedulerSummaries")  # the latest results of one page are read
            found["InferenceSchedulerSummaries"] = [
                s.summary(current, self._model_arn(s), history.latest_result(self.core, s))
                for s, current in found["InferenceSchedulerSummaries"]]
        return found

    def update_scheduler(self, region: str, params: dict) -> dict:
        with self.core.lock, self.core.change() as change:
            s = self._get(region, params["InferenceSchedulerName"])
            change.scheduler(region, self._schedulers(region), s.name)
            merged = {
                "ModelName": s.model_name,
                "InferenceSchedulerName": s.name,
                "DataUploadFrequency": params.get("DataUploadFrequency", s.frequency),
                "DataDelayOffsetInMinutes": params.get("DataDelayOffsetInMinutes", s.delay_minutes),
                "DataInputConfiguration": params.get("DataInputConfiguration", s.input_config),
                "DataOutputConfiguration": params.get("DataOutputConfiguration", s.output_config),
                "RoleArn": params.get("RoleArn", s.role_arn),
                "ClientToken": s.client_token,
            }
            self._check_request(merged, self.models.model(s.model_name))
            now = self.core.clock.now()
            s.frequency = merged["DataUploadFrequency"]
            s.delay_minutes = int(merged["DataDelayOffsetInMinutes"] or 0)
            s.input_config = merged["DataInputConfiguration"]
            s.output_config = merged["DataOutputConfiguration"]
            s.role_arn = merged["RoleArn"]
            s.updated_at = now
            if s.runs and (s.next_boundary is None or s.next_boundary > now):
                # a boundary that has passed but whose delayed wake-up has not still runs; later ones realign
                s.next_boundary = first_boundary_after(now, parse_duration(s.frequency))
            return {}

    def start_scheduler(self, region: str, params: dict) -> dict:
        with self.core.lock, self.core.change() as change:
            s = self._get(region, params["InferenceSchedulerName"])
            change.scheduler(region, self._schedulers(region), s.name)
            status = self._status(s)
            if status != "STOPPED":
                raise ConflictException(f"Inference scheduler {s.name} is {status}; only a STOPPED scheduler can start")
            now = self.core.clock.now()
            s.state, s.changed_at = "PENDING", now
            s.next_boundary = first_boundary_after(now, parse_duration(s.frequency))
            return s.brief(s.state, self._model_arn(s))

    def stop_scheduler(self, region: str, params: dict) -> dict:
        with self.core.lock, self.core.change() as change:
            s = self._get(region, params["InferenceSchedulerName"])
            change.scheduler(region, self._schedulers(region), s.name)
            status = self._status(s)
            if status not in ("PENDING", "RUNNING"):
                raise ConflictException(f"Inference scheduler {s.name} is {status}; it is not running")
            s.state, s.changed_at, s.next_boundary = "STOPPING", self.core.clock.now(), None
            return s.brief(s.state, self._model_arn(s))

    def delete_scheduler(self, region: str, params: dict) -> dict:
        with self.core.lock, self.core.change() as change:
            name = params["InferenceSchedulerName"]
            if (region, name) in self.broken and name not in self._schedulers(region):
                return self._delete_broken(region, name, change)
            s = self._get(region, name)
            status = self._status(s)
            if status != "STOPPED":
                raise ConflictException(
                    f"Inference scheduler {s.name} is {status}; stop it and wait for STOPPED before deleting it"
                )
            tokens = self.tokens.setdefault(region, {})
            change.scheduler(region, self._schedulers(region), s.name)
            change.entry("token", region, tokens, s.client_token)
            change.drop_executions(region, s.uid)
            del self._schedulers(region)[s.name]
            tokens.pop(s.client_token, None)
            return {}

    def _delete_broken(self, region: str, name: str, change: Change) -> dict:
        """Delete the saved rows of a scheduler that could not be restored (the way to get rid of it)."""
        uid = self.broken_uids.get((region, name))
        change.entry("scheduler", region, {}, name)  # absent in memory: its row is deleted
        if uid:
            change.drop_executions(region, uid)
        change.commit()
        del self.broken[region, name]  # only once its rows are gone from the store
        return {}

    # -- executions and events ---------------------------------------------------------------------------------
    def list_executions(self, region: str, params: dict) -> dict:
        with self.core.lock:
            s = self._get(region, params["InferenceSchedulerName"])
            return history.list_page(self.core, s, self._model_arn(s), params)

    def list_events(self, region: str, params: dict) -> dict:
        start, end = params["IntervalStartTime"], params["IntervalEndTime"]
        with self.core.lock:
            s = self._get(region, params["InferenceSchedulerName"])
            model = self.models.find(s.model_name)
            rate = (parse_duration(model.sampling_rate) if model else None) or pd.Timedelta(minutes=1)
            rows = history.event_rows(self.core, s, start, end, rate)
            name, sched_arn = s.name, s.arn
        events = [e for e in group_events(rows, rate) if e["EventEndTime"] >= start and e["EventStartTime"] <= end]
        for e in events:
            e.update(InferenceSchedulerArn=sched_arn, InferenceSchedulerName=name)
        return page(events, params, "InferenceEventSummaries")

    def tags_of(self, region: str, resource_arn: str, change: Change | None = None) -> list | None:
        """The tag list of the scheduler of ``resource_arn`` (touched in ``change`` when the caller changes it),
        or None when no scheduler has that ARN."""
        for s in self._schedulers(region).values():
            if s.arn == resource_arn:
                if change is not None:
                    change.scheduler(region, self._schedulers(region), s.name)
                return s.tags
        return None

    # -- the runner's side -------------------------------------------------------------------------------------
    def _running(self):
        """Every (region, scheduler) that still makes runs."""
        return [(r, s) for r, table in self.schedulers.items() for s in table.values()
                if s.runs and s.next_boundary is not None]

    def next_due(self, until: pd.Timestamp) -> pd.Timestamp | None:
        """The earliest wake-up time <= ``until`` of any running scheduler, or None."""
        with self.core.lock:
            wakes = [s.next_boundary + _minutes(s.delay_minutes) for _, s in self._running()]
        due = min(wakes, default=None)
        return due if due is not None and due <= until else None

    def catch_up(self, until: pd.Timestamp, limit: int | None = None) -> int:
        """Before the clock moves to ``until``: skip the due boundaries of each scheduler beyond the latest
        ``limit`` (a jump of the clock or downtime), so one move makes at most ``limit`` runs per scheduler.

        Returns how many runs were skipped (also added to :attr:`skipped_runs` and logged).
        """
        skipped, limit = 0, CATCH_UP if limit is None else limit
        with self.core.lock, self.core.change() as change:
            for region, s in self._running():
                delay, freq = _minutes(s.delay_minutes), _duration(s.frequency)
                if s.next_boundary + delay > until:
                    continue
                due = (until - delay - s.next_boundary) // freq + 1
                if due > limit:
                    change.scheduler(region, self.schedulers[region], s.name)
                    s.next_boundary += (due - limit) * freq  # still on the frequency's grid
                    skipped += due - limit
                    log.warning(
                        "lookout_nb.service: scheduler %s had %d due runs up to %s; made the latest %d, skipped %d "
                        "(at most %d runs per scheduler per move of the clock)",
                        s.name, due, until.isoformat(), limit, due - limit, limit,
                    )
            self.skipped_runs += skipped
        return skipped

    def claim_due(self, now: pd.Timestamp, limit: int | None = None) -> list[Run]:
        """Every run whose wake-up time is <= ``now`` (at most ``limit``: the rest stay due for the next claim, by
        this process or another), each with a new IN_PROGRESS execution, oldest first.

        The new executions are committed to the store before the runs are handed out.
        """
        runs: list[Run] = []
        with self.core.lock, self.core.change() as change:
            for region, schedulers in self.schedulers.items():
                for s in schedulers.values():
                    self._status(s)
                    touched = False
                    while s.runs and s.next_boundary is not None and (limit is None or len(runs) < limit):
                        delay = _minutes(s.delay_minutes)
                        if s.next_boundary + delay > now:
                            break
                        if not touched:
                            change.scheduler(region, schedulers, s.name)
                            touched = True
                        freq = _duration(s.frequency)
                        b = s.next_boundary
                        ex = Execution(b + delay, b - freq, b, dict(s.input_config), dict(s.output_config))
                        seq, s.made = s.made, s.made + 1
                        change.execution(region, s.uid, seq, ex)
                        s.next_boundary = first_boundary_after(b, freq)  # realigns after a frequency change
                        model = self.models.find(s.model_name)
                        ex.model_version = model.version if model is not None else 1
                        runs.append(
                            Run(s.name, model, b, b + delay, freq, s.input_config, s.output_config, ex, region, s.uid,
                                seq)
                        )
        runs.sort(key=lambda r: (r.wake, r.scheduler_name))
        return runs

    def finish(self, run: Run, status: str, *, failed_reason=None, result_object=None, anomalies=()) -> None:
        """Record how a claimed run ended (committed to the store before this returns)."""
        ended = dict(status=status, failed_reason=failed_reason, result_object=result_object, anomalies=anomalies)
        self.finish_all([(run, ended)])

    def finish_all(self, ended) -> None:
        """Record how several claimed runs ended, ``[(run, {"status": ..., "failed_reason": ..., ...})]``, in
        one transaction. Call it only after each SUCCESS run's results object is written."""
        with self.core.lock, self.core.change() as change:
            for run, how in ended:
                ex = run.execution
                owner = self._schedulers(run.region).get(run.scheduler_name)
                if owner is not None and owner.uid == run.uid:  # not deleted meanwhile
                    change.execution(run.region, run.uid, run.seq, ex)
                ex.status, ex.failed_reason = how["status"], how.get("failed_reason")
                ex.result_object = how.get("result_object")
                ex.anomalies = list(how.get("anomalies") or ())
            if self.core.retention is not None:
                self.prune(change)

    def prune(self, change: Change) -> None:
        """Remove, in ``change``, every ended execution whose data ended longer ago than the core's retention: one
        DELETE by data end on its index (the reads already leave them out, see :mod:`.executions`)."""
        change.prune(self.core.clock.now() - self.core.retention)


def format_problems(problems) -> str:
    """A ValidationException message naming every field: ``2 validation errors detected: A: ...; B: ...``."""
    n = len(problems)
    return f"{n} validation error{'s' if n != 1 else ''} detected: " + "; ".join(str(p) for p in problems)


def group_events(rows, rate: pd.Timedelta) -> list[dict]:
    """Aggregate anomalous rows ``[(timestamp, {sensor: share})]`` into events of consecutive rows.

    Rows at most one sampling interval apart belong to the same event; an event's Diagnostics is the mean share
    of each sensor over its rows, as a JSON string like the service's.

    >>> t = pd.Timestamp("2026-01-05T09:01Z")
    >>> rows = [(t, {"a\\\\x": 1.0}), (t + pd.Timedelta("1min"), {"a\\\\x": 1.0})]
    >>> [e["EventDurationInSeconds"] for e in group_events(rows, pd.Timedelta("1min"))]
    [60]
    """
    rows = sorted(rows, key=lambda r: r[0])
    groups: list[list] = []
    for t, diag in rows:
        if groups and t - groups[-1][-1][0] <= rate:
            if t != groups[-1][-1][0]:
                groups[-1].append((t, diag))
        else:
            groups.append([(t, diag)])
    events = []
    for g in groups:
        names = list(dict.fromkeys(k for _, d in g for k in d))
        means = {k: round(sum(d.get(k, 0.0) for _, d in g) / len(g), 5) for k in names}
        events.append(
            {
                "EventStartTime": g[0][0],
                "EventEndTime": g[-1][0],
                "Diagnostics": json.dumps([{"name": k, "value": v} for k, v in means.items()]),
                "EventDurationInSeconds": int((g[-1][0] - g[0][0]).total_seconds()),
            }
        )
    return events


def naming_of(input_config: dict) -> Naming:
    """The Naming of a scheduler's DataInputConfiguration (unset members take the defaults)."""
    return SchedulerRequest.from_boto3({"DataInputConfiguration": input_config}).naming

