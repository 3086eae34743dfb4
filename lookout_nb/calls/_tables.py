"""Tables of the scheduler's listings and results: pure functions from API items or JSON text to DataFrames.

Every table has fixed columns and dtypes, also when empty; timestamps are tz-aware UTC (``datetime64[ns, UTC]``)
and text is pandas' nullable ``string``. ``results.jsonl`` is read with :func:`json.loads` only.

>>> frame = results_frame([(pd.Timestamp("2024-01-01 00:05", tz="UTC"),
...     '{"timestamp": "2024-01-01T00:01:00.000000", "prediction": 0, "prediction_reason": "NO_ANOMALY_DETECTED",'
...     ' "anomaly_score": 0.1, "diagnostics": [{"name": "pump\\\\\\\\Flow", "value": 1.0}]}\\n')])
>>> list(frame.columns)
['timestamp', 'prediction', 'prediction_reason', 'anomaly_score', 'scheduled_start', 'pump\\\\Flow']
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from ..errors import LookoutNbError

TIME = "datetime64[ns, UTC]"
TEXT = "string"

SCHEDULER_COLUMNS = {
    "name": TEXT,
    "model_name": TEXT,
    "status": TEXT,
    "upload_frequency": TEXT,
    "delay_offset_minutes": "Int64",
    "latest_result": TEXT,
    "arn": TEXT,
    "model_arn": TEXT,
}
MODEL_COLUMNS = {
    "name": TEXT,
    "status": TEXT,
    "quality": TEXT,
    "dataset": TEXT,
    "created_at": TIME,
    "arn": TEXT,
}
EXECUTION_COLUMNS = {
    "scheduled_start": TIME,
    "data_start": TIME,
    "data_end": TIME,
    "status": TEXT,
    "failed_reason": TEXT,
    "result_bucket": TEXT,
    "result_key": TEXT,
}
RESULT_COLUMNS = {
    "timestamp": TIME,
    "prediction": "Int64",
    "prediction_reason": TEXT,
    "anomaly_score": "float64",
    "scheduled_start": TIME,
}
EVENT_COLUMNS = {
    "event_start": TIME,
    "event_end": TIME,
    "duration_seconds": "Int64",
    "diagnostics": "object",
}


def typed_frame(rows: list[dict], columns: Mapping[str, str]) -> pd.DataFrame:
    """A DataFrame with exactly ``columns`` (in order) and their dtypes; extra row keys are dropped."""
    frame = pd.DataFrame.from_records(rows, columns=list(columns)) if rows else pd.DataFrame(columns=list(columns))
    for name, dtype in columns.items():
        frame[name] = _as_time(frame[name]) if dtype == TIME else frame[name].astype(dtype)
    return frame


def _as_time(series: pd.Series) -> pd.Series:
    """A column of datetimes / ISO strings as UTC (naive values are UTC)."""
    return pd.to_datetime(series, utc=True, format="ISO8601").astype(TIME)


def schedulers_frame(summaries: Iterable[Mapping]) -> pd.DataFrame:
    """ListInferenceSchedulers summaries as a table, one row per scheduler, sorted by name."""
    rows = [
        {
            "name": s.get("InferenceSchedulerName"),
            "model_name": s.get("ModelName"),
            "status": s.get("Status"),
            "upload_frequency": s.get("DataUploadFrequency"),
            "delay_offset_minutes": s.get("DataDelayOffsetInMinutes"),
            "latest_result": s.get("LatestInferenceResult"),
            "arn": s.get("InferenceSchedulerArn"),
            "model_arn": s.get("ModelArn"),
        }
        for s in summaries
    ]
    return typed_frame(rows, SCHEDULER_COLUMNS).sort_values("name", ignore_index=True)


def models_frame(summaries: Iterable[Mapping]) -> pd.DataFrame:
    """ListModels summaries as a table, one row per model, sorted by name."""
    rows = [
        {
            "name": m.get("ModelName"),
            "status": m.get("Status"),
            "quality": m.get("ModelQuality"),
            "dataset": m.get("DatasetName"),
            "created_at": m.get("CreatedAt"),
            "arn": m.get("ModelArn"),
        }
        for m in summaries
    ]
    return typed_frame(rows, MODEL_COLUMNS).sort_values("name", ignore_index=True)


def executions_frame(summaries: Iterable[Mapping]) -> pd.DataFrame:
    """ListInferenceExecutions summaries as a table, one row per run, oldest scheduled start first."""
    rows = []
    for s in summaries:
        result = s.get("CustomerResultObject") or {}
        rows.append(
            {
                "scheduled_start": s.get("ScheduledStartTime"),
                "data_start": s.get("DataStartTime"),
                "data_end": s.get("DataEndTime"),
                "status": s.get("Status"),
                "failed_reason": s.get("FailedReason"),
                "result_bucket": result.get("Bucket"),
                "result_key": result.get("Key"),
            }
        )
    return typed_frame(rows, EXECUTION_COLUMNS).sort_values("scheduled_start", ignore_index=True, kind="stable")


def parse_results(text: str, source: str = "results.jsonl") -> list[dict]:
    """The objects of a JSON Lines text (blank lines, such as the empty last line, skipped).

    >>> parse_results('{"prediction": 1}\\n\\n')
    [{'prediction': 1}]
    """
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LookoutNbError(f"{source} line {number} is not JSON: {exc.msg} (column {exc.colno})") from exc
        if not isinstance(obj, dict):
            raise LookoutNbError(f"{source} line {number} is not a JSON object")
        out.append(obj)
    return out


def diagnostics_map(diagnostics) -> dict[str, Any]:
    """``[{"name": "pump\\\\Flow", "value": 0.4}, ...]`` as ``{"pump\\\\Flow": 0.4}`` (anything else: ``{}``)."""
    if not isinstance(diagnostics, list):
        return {}
    return {d["name"]: d.get("value") for d in diagnostics if isinstance(d, Mapping) and "name" in d}


def results_frame(documents: Iterable[tuple], sources: Iterable[str] | None = None) -> pd.DataFrame:
    """Rows of results.jsonl texts, each given with its run's scheduled start, as one table.

    Columns: ``timestamp, prediction, prediction_reason, anomaly_score, scheduled_start``, then one float column
    per sensor (``component\\sensor``) holding its diagnostic share (NaN when a row has no diagnostics).
    """
    documents = list(documents)
    sources = list(sources) if sources is not None else ["results.jsonl"] * len(documents)
    rows, diags = [], []
    for (scheduled_start, text), source in zip(documents, sources):
        for obj in parse_results(text, source):
            rows.append({**{k: obj.get(k) for k in RESULT_COLUMNS}, "scheduled_start": scheduled_start})
            diags.append(diagnostics_map(obj.get("diagnostics")))
    frame = typed_frame(rows, RESULT_COLUMNS)
    sensors = _sensor_columns(diags, len(frame))
    frame = pd.concat([frame, sensors], axis=1) if len(sensors.columns) else frame
    return frame.sort_values(["timestamp", "scheduled_start"], ignore_index=True, kind="stable")


def _sensor_columns(diags: list[dict], n: int) -> pd.DataFrame:
    """One float column per sensor name, in order of first appearance."""
    names = list(dict.fromkeys(name for d in diags for name in d))
    data = {name: pd.array([d.get(name) for d in diags], dtype="float64") for name in names}
    return pd.DataFrame(data, index=pd.RangeIndex(n))


def events_frame(summaries: Iterable[Mapping]) -> pd.DataFrame:
    """ListInferenceEvents summaries as a table; ``diagnostics`` JSON-decoded and expanded per sensor."""
    rows, diags = [], []
    for s in summaries:
        decoded = json.loads(s["Diagnostics"]) if s.get("Diagnostics") else None
        rows.append(
            {
                "event_start": s.get("EventStartTime"),
                "event_end": s.get("EventEndTime"),
                "duration_seconds": s.get("EventDurationInSeconds"),
                "diagnostics": decoded,
            }
        )
        diags.append(diagnostics_map(decoded))
    frame = typed_frame(rows, EVENT_COLUMNS)
    sensors = _sensor_columns(diags, len(frame))
    frame = pd.concat([frame, sensors], axis=1) if len(sensors.columns) else frame
    return frame.sort_values("event_start", ignore_index=True, kind="stable")
