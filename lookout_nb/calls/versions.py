"""Model versions and retraining: set a model to retrain on a schedule, list its versions, activate one.

Every function takes ``client=`` (a ``lookoutequipment`` client) or ``session=``; otherwise boto3's defaults apply.

>>> import lookout_nb as lnb
>>> lnb.retrain("pump-demo", frequency="P30D", lookback="P180D", start="2026-01-06")     # doctest: +SKIP
>>> lnb.model_versions("pump-demo")[["version", "source", "status", "active"]]          # doctest: +SKIP
   version      source   status  active
0        1    TRAINING  SUCCESS   False
1        2  RETRAINING  SUCCESS    True

:func:`retrain` checks the frequency (P30D to P1Y, years/months/days), the lookback (P180D, P360D, P540D or
P720D) and the promote mode before the call, naming the argument at fault.
"""

from __future__ import annotations

import json
import re

import pandas as pd

from ..contract._aws import lookout_client
from ..errors import InvalidArgument, ResourceNotFound
from . import _tables
from ._service import call, pages, utc, wire_time

__all__ = ["activate_version", "active_spans", "model_versions", "retrain", "retraining", "stop_retraining"]

LOOKBACKS = ("P180D", "P360D", "P540D", "P720D")
_FREQUENCY = re.compile(r"^P(?:(\d)Y)?(?:(\d{1,2})M)?(?:(\d{1,3})D)?$")
RETRAINING_COLUMNS = {"model": _tables.TEXT, "status": _tables.TEXT, "start_date": _tables.TIME,
                      "frequency": _tables.TEXT, "lookback": _tables.TEXT, "promote_mode": _tables.TEXT,
                      "next_retraining": _tables.TIME, "latest_version": "Int64", "latest_status": _tables.TEXT}
VERSION_COLUMNS = {"version": "Int64", "source": _tables.TEXT, "status": _tables.TEXT, "created_at": _tables.TIME,
                   "trained_at": _tables.TIME, "training_start": _tables.TIME, "training_end": _tables.TIME,
                   "evaluation_start": _tables.TIME, "evaluation_end": _tables.TIME, "quality": _tables.TEXT,
                   "labelled": "Int64", "found": "Int64", "events": "Int64", "promotion": _tables.TEXT,
                   "promotion_reason": _tables.TEXT, "active": "boolean", "failed_reason": _tables.TEXT}


def check_frequency(frequency: str) -> None:
    """InvalidArgument unless ``frequency`` is a period of years, months and days from P30D to P1Y.

    >>> check_frequency("P2W")
    Traceback (most recent call last):
    ...
    lookout_nb.errors.InvalidArgument: frequency='P2W' is not a period of years, months and days from P30D to P1Y ...
    """
    m = _FREQUENCY.match(frequency or "")
    if m and any(m.groups()):
        years, months, days = (int(g or 0) for g in m.groups())
        span = years * 365 + months * 31 + days
        if span >= 30 and years * 12 + months + days / 31 <= 12:
            return
    raise InvalidArgument(f"frequency={frequency!r} is not a period of years, months and days from P30D to P1Y "
                          "(e.g. P30D, P1M, P3M15D)")


def retrain(model: str, frequency: str = "P30D", lookback: str = "P180D", start=None, promote: str = "MANAGED",
            client=None, session=None) -> pd.DataFrame:
    """Make ``model`` retrain every ``frequency`` from ``start`` (a day, UTC; default: the next UTC midnight) on the
    last ``lookback`` of its dataset's data; ``promote`` MANAGED activates a retrained version that is at least as
    good, MANUAL leaves it to :func:`activate_version`. A model with a retraining scheduler gets the new settings.
    Returns :func:`retraining`'s one-row table.

    Example
    -------
    >>> retrain("pump-demo", "P1M", start="2026-01-06")["next_retraining"][0]      # doctest: +SKIP
    Timestamp('2026-01-06 00:00:00+0000', tz='UTC')
    """
    check_frequency(frequency)
    if lookback not in LOOKBACKS:
        raise InvalidArgument(f"lookback={lookback!r} is not one of {', '.join(LOOKBACKS)}")
    if promote not in ("MANAGED", "MANUAL"):
        raise InvalidArgument(f"promote={promote!r}: pass MANAGED or MANUAL")
    client = lookout_client(client, session)
    params = {"ModelName": model, "RetrainingFrequency": frequency, "LookbackWindow": lookback,
              "PromoteMode": promote, "RetrainingStartDate": wire_time(start)}
    params = {k: v for k, v in params.items() if v is not None}
    try:
        call(client, "describe_retraining_scheduler", ModelName=model)
    except ResourceNotFound:
        call(client, "create_retraining_scheduler", **params)
    else:
        call(client, "update_retraining_scheduler", **params)
    return retraining(model, client=client)


def retraining(model: str | None = None, client=None, session=None) -> pd.DataFrame:
    """The retraining schedulers (of ``model`` only, when given), one row each, with the latest retraining
    DescribeModel reports."""
    client = lookout_client(client, session)
    rows = []
    for s in pages(client, "list_retraining_schedulers", "RetrainingSchedulerSummaries"):
        if model is not None and s["ModelName"] != model:
            continue
        d = call(client, "describe_retraining_scheduler", ModelName=s["ModelName"])
        m = call(client, "describe_model", ModelName=s["ModelName"])
        rows.append({"model": s["ModelName"], "status": d["Status"], "start_date": utc(d.get("RetrainingStartDate")),
                     "frequency": d["RetrainingFrequency"], "lookback": d["LookbackWindow"],
                     "promote_mode": d.get("PromoteMode"),
                     "next_retraining": utc(m.get("NextScheduledRetrainingStartDate")),
                     "latest_version": m.get("LatestScheduledRetrainingModelVersion"),
                     "latest_status": m.get("LatestScheduledRetrainingStatus")})
    return _tables.typed_frame(rows, RETRAINING_COLUMNS)


def stop_retraining(model: str, delete: bool = False, client=None, session=None) -> str:
    """Stop ``model``'s retraining scheduler (and delete it, with ``delete``, once STOPPED); its status, or
    ``"DELETED"``."""
    client = lookout_client(client, session)
    status = call(client, "describe_retraining_scheduler", ModelName=model)["Status"]
    if status in ("PENDING", "RUNNING"):
        status = call(client, "stop_retraining_scheduler", ModelName=model)["Status"]
    if delete:
        call(client, "delete_retraining_scheduler", ModelName=model)
        return "DELETED"
    return status


def activate_version(model: str, version: int, client=None, session=None) -> dict:
    """Make ``version`` the active version of ``model`` (rollback or a MANUAL promotion); UpdateActiveModelVersion's
    response (``CurrentActiveVersion``, ``PreviousActiveVersion``)."""
    return call(lookout_client(client, session), "update_active_model_version", ModelName=model, ModelVersion=version)


def model_versions(model: str, client=None, session=None) -> pd.DataFrame:
    """Every version of ``model``, oldest first: how it was made (``source``), its windows, its evaluation
    (``labelled`` ranges, how many were ``found``, predicted ``events``), how it was promoted and whether it is the
    ``active`` one. ``df.attrs["spans"]`` is :func:`active_spans` (which version was active when)."""
    client = lookout_client(client, session)
    described = call(client, "describe_model", ModelName=model)
    active = described.get("ActiveModelVersion")
    rows = []
    for s in pages(client, "list_model_versions", "ModelVersionSummaries", ModelName=model):
        v = call(client, "describe_model_version", ModelName=model, ModelVersion=s["ModelVersion"])
        rows.append(_version_row(v, active))
    table = _tables.typed_frame(rows, VERSION_COLUMNS).sort_values("version", ignore_index=True)
    table.attrs["spans"] = active_spans(table, described)
    return table


def _version_row(v: dict, active) -> dict:
    try:
        metrics = json.loads(v["ModelMetrics"]) if v.get("ModelMetrics") else {}
    except ValueError:
        metrics = {}
    labelled = metrics.get("labeled_event_metrics") or {}
    return {"version": v["ModelVersion"], "source": v.get("SourceType"), "status": v.get("Status"),
            "created_at": utc(v.get("CreatedAt")), "trained_at": utc(v.get("TrainingExecutionEndTime")),
            "training_start": utc(v.get("TrainingDataStartTime")), "training_end": utc(v.get("TrainingDataEndTime")),
            "evaluation_start": utc(v.get("EvaluationDataStartTime")),
            "evaluation_end": utc(v.get("EvaluationDataEndTime")), "quality": v.get("ModelQuality"),
            "labelled": labelled.get("num_labeled"), "found": labelled.get("num_identified"),
            "events": len(metrics["predicted_ranges"]) if "predicted_ranges" in metrics else None,
            "promotion": v.get("AutoPromotionResult"), "promotion_reason": v.get("AutoPromotionResultReason"),
            "active": v["ModelVersion"] == active, "failed_reason": v.get("FailedReason")}


def active_spans(versions: pd.DataFrame, described: dict) -> pd.DataFrame:
    """Which version was active from when (``version, since``), as far as the API tells: the first SUCCESS
    training, every MODEL_PROMOTED retraining at its end, and DescribeModel's previous and current activations
    (an activation by hand before the previous one leaves no trace).

    >>> t = pd.Timestamp("2026-01-05", tz="UTC")
    >>> v = pd.DataFrame({"version": [1, 2], "source": ["TRAINING", "RETRAINING"], "status": ["SUCCESS"] * 2,
    ...                   "trained_at": [t, t + pd.Timedelta(days=30)], "promotion": [None, "MODEL_PROMOTED"]})
    >>> active_spans(v, {"ActiveModelVersion": 1, "ModelVersionActivatedAt": t + pd.Timedelta(days=31)})
       version                     since
    0        1 2026-01-05 00:00:00+00:00
    1        2 2026-02-04 00:00:00+00:00
    2        1 2026-02-05 00:00:00+00:00
    """
    marks = []
    ok = versions[versions["status"] == "SUCCESS"]
    if len(ok):
        first = ok.iloc[0]
        marks.append((first["trained_at"], int(first["version"])))
    for _, row in ok[ok["promotion"] == "MODEL_PROMOTED"].iterrows():
        marks.append((row["trained_at"], int(row["version"])))
    for version, since in (("PreviousActiveModelVersion", "PreviousModelVersionActivatedAt"),
                           ("ActiveModelVersion", "ModelVersionActivatedAt")):
        if described.get(version) is not None and described.get(since) is not None:
            marks.append((utc(described[since]), int(described[version])))
    marks = sorted({(t, v) for t, v in marks if t is not None and not pd.isna(t)})
    spans = [m for i, m in enumerate(marks) if i == 0 or m[1] != marks[i - 1][1]]
    return pd.DataFrame({"version": pd.array([v for _, v in spans], dtype="Int64"),
                         "since": pd.to_datetime([t for t, _ in spans], utc=True)})
