"""Loading ``state.db`` into the API's services, every field checked.

A record with any invalid value (a frequency of ``PTX``, a time that is no time, a field this version does not
know) is not restored: a scheduler becomes *broken* (its calls answer with the reason, DeleteInferenceScheduler
removes it, the other schedulers run), a model or a tag list is left out; each is one warning line in the log.
A run that was IN_PROGRESS when the process ended is FAILED with a reason. Executions stay in the store (read a
page at a time, :mod:`.executions`): only the runs in progress are read here. Runs missed while the endpoint was
down are made on the clock's first move, at most :data:`~lookout_nb.service.api.schedulers.CATCH_UP` per scheduler.

>>> problems = load(backend, Store(state_dir))     # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

import pandas as pd

from ...contract.request import SchedulerRequest, parse_duration
from ..clock import EARLIEST, LATEST
from ..state.postgres import PgStore
from ..state.state import RETIRED, StateError, decode
from ..state.store import Store
from .change import Change
from .datarecords import CHECKS as DATA_CHECKS
from .datarecords import KINDS as DATA_KINDS
from .datarecords import Dataset, IngestionJob, Label, LabelGroup
from .datasets import INTERRUPTED as INGESTION_INTERRUPTED
from .records import Execution, Model, Scheduler

log = logging.getLogger(__name__)
INTERRUPTED = "The endpoint stopped while this run was in progress"
TRAINING_INTERRUPTED = ("The endpoint stopped while this model was training; delete it (DeleteModel) and create it "
                        "again (CreateModel)")


def _ts(v) -> bool:
    return isinstance(v, pd.Timestamp) and v.tzinfo is not None and EARLIEST <= v <= LATEST


def _opt(check: Callable) -> Callable:
    return lambda v: v is None or check(v)


def _str(v) -> bool:
    return isinstance(v, str)


def _count(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 1


def _dict(v) -> bool:
    return isinstance(v, dict)


def _tags(v) -> bool:
    return isinstance(v, list) and all(
        isinstance(t, dict) and set(t) == {"Key", "Value"} and all(isinstance(x, str) for x in t.values()) for t in v
    )


def _duration(v) -> bool:
    try:
        return isinstance(v, str) and parse_duration(v) > pd.Timedelta(0)
    except Exception:  # noqa: BLE001 - a hand-edited field: whatever parsing it raises, it is not a duration
        return False


def _one_of(*values) -> Callable:
    return lambda v: isinstance(v, str) and v in values


def _components(v) -> bool:
    return isinstance(v, dict) and bool(v) and all(
        isinstance(c, str) and isinstance(s, list) and s and all(isinstance(x, str) for x in s) for c, s in v.items()
    )


def _trained(v) -> bool:
    """A TrainedModel's saved dict that reads back (the detector's arrays of the right shapes)."""
    from ..learning.training import TrainedModel

    try:
        TrainedModel.from_dict(v)
    except (KeyError, TypeError, ValueError, AttributeError):
        return False
    return True


def _anomalies(v) -> bool:
    return isinstance(v, list) and all(isinstance(a, list) and len(a) == 2 and _str(a[0]) and _dict(a[1]) for a in v)


#: What every saved field must be (the dataclass fields of each record).
CHECKS = {
    Model: dict(name=_str, components=_components, sampling_rate=_duration, dataset_name=_str, region=_str,
                role_arn=_str, created_at=_ts, status=_one_of("IN_PROGRESS", "SUCCESS", "FAILED"),
                training_start=_opt(_ts), training_end=_opt(_ts), evaluation_start=_opt(_ts),
                evaluation_end=_opt(_ts), labels_config=_opt(_dict), off_condition=_opt(_str), kms_key_id=_opt(_str),
                client_token=_str, fingerprint=_str, failed_reason=_opt(_str), started_at=_opt(_ts),
                ended_at=_opt(_ts), trained=_opt(_trained), diagnostics_config=_opt(_dict), version=_count),
    Scheduler: dict(region=_str, name=_str, uid=lambda v: _str(v) and v.isalnum(), model_name=_str, frequency=_duration,
                    delay_minutes=lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 60,
                    input_config=_dict, output_config=_dict, role_arn=_str, kms_key_id=_opt(_str), client_token=_str,
                    fingerprint=_str, created_at=_ts, updated_at=_ts,
                    state=_one_of("PENDING", "RUNNING", "STOPPING", "STOPPED"), changed_at=_ts,
                    next_boundary=_opt(_ts), tags=_tags,
                    made=lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0),
    Execution: dict(scheduled_start=_ts, data_start=_ts, data_end=_ts, input_config=_dict, output_config=_dict,
                    status=_one_of("IN_PROGRESS", "SUCCESS", "FAILED"), failed_reason=_opt(_str),
                    result_object=_opt(_dict), anomalies=_anomalies, model_version=_count),
    **DATA_CHECKS,
}
KIND = {Model: "model", Scheduler: "scheduler", Execution: "execution", **DATA_KINDS}


def build(cls, doc):
    """A record of ``cls`` from a saved document; ValueError naming the first bad field."""
    if isinstance(doc, Exception):
        raise ValueError(str(doc))
    if not isinstance(doc, dict):
        raise ValueError(f"it is a JSON {type(doc).__name__}, not an object")
    doc = {k: v for k, v in doc.items() if k not in RETIRED.get(KIND[cls], ())}
    checks = CHECKS[cls]
    unknown = sorted(set(doc) - set(checks))
    if unknown:
        raise ValueError(f"field {unknown[0]!r} is not a field of a saved {KIND[cls]}")
    required = {f.name for f in dataclasses.fields(cls)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    missing = sorted(required - set(doc))
    if missing:
        raise ValueError(f"field {missing[0]!r} is missing")
    fields = {}
    for name, value in doc.items():
        try:
            fields[name] = decode(value)
            valid = checks[name](fields[name])
        except (TypeError, ValueError, OverflowError, RecursionError):
            valid = False
        if not valid:
            raise ValueError(f"field {name!r} has an invalid value {str(value)[:80]!r}")
    return cls(**fields)


def _scheduler(region: str, name: str, doc, store, models: dict) -> Scheduler:
    s = build(Scheduler, doc)
    if (s.region, s.name) != (region, name):
        raise ValueError(f"its region and name ({s.region!r}, {s.name!r}) are not those of its row")
    last = store.last_seq(region, s.uid)  # a state saved before ``made`` counted: the executions it holds
    retired = doc.get("pruned") if isinstance(doc.get("pruned"), int) else 0  # how many a retention had removed
    s.made = max(s.made, retired, -1 if last is None else last + 1)
    model = models.get(s.model_name)
    request = {
        "ModelName": s.model_name, "InferenceSchedulerName": s.name, "DataUploadFrequency": s.frequency,
        "DataDelayOffsetInMinutes": s.delay_minutes, "DataInputConfiguration": s.input_config,
        "DataOutputConfiguration": s.output_config, "RoleArn": s.role_arn, "ClientToken": s.client_token,
    }
    rate = model.sampling_rate if model else None
    problems = SchedulerRequest.from_boto3(request).problems(target_sampling_rate=rate)
    if problems:
        raise ValueError("; ".join(str(p) for p in problems))
    return s


def load(backend, store: Store | PgStore) -> list[str]:
    """Put the records of ``store`` into ``backend`` (and connect it to the store); returns one line per
    record that could not be restored. Runs left IN_PROGRESS are FAILED (and saved so)."""
    problems = []
    models, schedulers = backend.models, backend.schedulers
    with backend.core.lock:
        for _, name, doc in store.rows("model"):
            try:
                models.models[name] = build(Model, doc)
            except ValueError as err:
                models.broken_models[name] = str(err)
                problems.append(f"model {name}: {err}; it is left out (DeleteModel removes it)")
        for _, name, doc in store.rows("tags"):
            if _tags(doc):
                models.model_tags[name] = doc
            else:
                problems.append(f"the tags of model {name}: not a list of {{'Key': ..., 'Value': ...}}")
        for region, name, doc in store.rows("scheduler"):
            try:
                s = _scheduler(region, name, doc, store, models.models)
                schedulers.schedulers.setdefault(region, {})[name] = s
            except ValueError as err:
                schedulers.broken[region, name] = str(err)
                if isinstance(doc, dict) and isinstance(doc.get("uid"), str):
                    schedulers.broken_uids[region, name] = doc["uid"]
                problems.append(f"inference scheduler {name} ({region}): {err}; it does not run")
        for region, token, owner in store.rows("token"):
            if isinstance(owner, str):  # the uid of the scheduler the client token created
                schedulers.tokens.setdefault(region, {})[token] = owner
        change = Change(store)
        # a shared store's runs and trainings in progress belong to live processes, or are taken over (claims)
        for region, uid, seq, doc in ([] if getattr(store, "shared", False) else store.in_progress()):
            try:
                ex = build(Execution, doc)
            except ValueError as err:
                problems.append(f"execution {seq} of the inference scheduler of uid {uid} ({region}): {err}")
                continue
            change.execution(region, uid, seq, ex)
            ex.status, ex.failed_reason = "FAILED", INTERRUPTED
        for name, model in models.models.items():
            if model.status == "IN_PROGRESS" and not getattr(store, "shared", False):  # its thread ended with it
                change.entry("model", "", models.models, name)
                model.status, model.failed_reason = "FAILED", TRAINING_INTERRUPTED
        change.commit()
        problems += load_data(backend.datasets, backend.labels, store)
        problems += backend.load(store)  # the versions room's records
        backend.core.use_store(store)
    for line in problems:
        log.warning("lookout_nb.service: not restored from %s: %s", store.path, line)
    return problems


_WHAT = {Dataset: "dataset", IngestionJob: "data ingestion job", LabelGroup: "label group", Label: "label"}


def _key(record) -> str:
    if isinstance(record, (Dataset, LabelGroup)):
        return record.name
    if isinstance(record, IngestionJob):
        return record.job_id
    return f"{record.group}/{record.label_id}"


def load_data(datasets, labels, store) -> list[str]:
    """Put the model-building records of ``store`` into the ``datasets`` and ``labels`` services (under the
    core's lock); returns the problems. Each record is checked field by field; one that cannot be restored is left
    out and named, the others load. An ingestion job that was IN_PROGRESS when the process ended is FAILED with a
    reason (saved so); a dataset whose data file is missing is named too (its DescribeDataset still answers;
    reading its data says to ingest again)."""
    problems = []
    tables = {Dataset: datasets.datasets, IngestionJob: datasets.ingestions, LabelGroup: labels.label_groups,
              Label: labels.labels}
    for cls, table in tables.items():
        for region, name, doc in store.rows(KIND[cls]):
            try:
                record = build(cls, doc)
                if (record.region, _key(record)) != (region, name):
                    raise ValueError(
                        f"its region and name ({record.region!r}, {_key(record)!r}) are not those of its row")
            except ValueError as err:
                problems.append(f"{_WHAT[cls]} {name} ({region}): {err}")
                continue
            table.setdefault(region, {})[name] = record
    for region, table in datasets.datasets.items():
        for d in table.values():
            if d.has_data and (not d.data_file or not store.files.exists(d.data_file)):
                problems.append(f"dataset {d.name} ({region}): its data file {store.files.where(d.data_file or '?')} "
                                "is missing; start a data ingestion job again")
    change = Change(store)
    for region, jobs in ({} if getattr(store, "shared", False) else datasets.ingestions).items():
        for job_id, job in jobs.items():
            if job.status == "IN_PROGRESS":
                change.entry("ingestion", region, jobs, job_id)
                job.status, job.failed_reason = "FAILED", INGESTION_INTERRUPTED
    change.commit()
    return problems


__all__ = ["StateError", "build", "load"]
