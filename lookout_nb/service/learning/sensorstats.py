"""Per-sensor statistics of an ingestion, as ListSensorStatistics reports them.

For each sensor of a component: the share of missing and invalid values (of the component's rows), the
component's duplicate timestamps and unreadable timestamps (InvalidDateEntries), and four potential issues:
categorical values (at most :data:`CATEGORIES` distinct values over at least 10 times as many rows),
monotonic values (never decreasing or never increasing over the whole span, or one value: STATIC), large
timestamp gaps (a gap between valid values over :data:`LARGE_GAP`) and multiple operating modes (the values
fall in two or more clusters: a gap between sorted values wider than :data:`MODE_GAP` times their spread).

>>> t = pd.date_range("2026-01-01", periods=6, freq="h", tz="UTC")
>>> frame = pd.DataFrame({"Flow": [1.0, 2, 3, 4, 5, float("nan")]}, index=t)
>>> s = sensor_statistics("pump", frame, np.zeros((6, 1), bool), duplicates=0, unsupported=0)[0]
>>> s["MissingValues"], s["MonotonicValues"]
({'Count': 1, 'Percentage': 16.67}, {'Status': 'POTENTIAL_ISSUE_DETECTED', 'Monotonicity': 'INCREASING'})
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CATEGORIES = 5
LARGE_GAP = pd.Timedelta(days=1)
MODE_GAP = 0.25
ISSUE, NO_ISSUE = "POTENTIAL_ISSUE_DETECTED", "NO_ISSUE_DETECTED"


def _share(count: int, total: int) -> dict:
    return {"Count": int(count), "Percentage": round(100.0 * count / total, 2) if total else 0.0}


def _monotonic(values: np.ndarray) -> dict:
    if len(values) < 2:
        return {"Status": NO_ISSUE}
    steps = np.diff(values)
    if (steps == 0).all():
        return {"Status": ISSUE, "Monotonicity": "STATIC"}
    if (steps >= 0).all():
        return {"Status": ISSUE, "Monotonicity": "INCREASING"}
    if (steps <= 0).all():
        return {"Status": ISSUE, "Monotonicity": "DECREASING"}
    return {"Status": NO_ISSUE}


def _gaps(times: pd.DatetimeIndex) -> dict:
    if len(times) < 2:
        return {"Status": NO_ISSUE}
    gaps = times.to_series().diff().dropna()
    large = gaps[gaps > LARGE_GAP]
    if not len(large):
        return {"Status": NO_ISSUE}
    return {"Status": ISSUE, "NumberOfLargeTimestampGaps": len(large),
            "MaxTimestampGapInDays": int(large.max() / pd.Timedelta(days=1))}


def _modes(values: np.ndarray) -> dict:
    if len(values) < 20:
        return {"Status": NO_ISSUE}
    ordered = np.sort(values)
    spread = ordered[-1] - ordered[0]
    widest = np.diff(ordered).max() if spread > 0 else 0.0
    return {"Status": ISSUE if spread > 0 and widest > MODE_GAP * spread else NO_ISSUE}


def sensor_statistics(component: str, frame: pd.DataFrame, invalid: np.ndarray, duplicates: int,
                      unsupported: int) -> list[dict]:
    """SensorStatisticsSummary members of each sensor of ``component``'s ingested ``frame`` (``invalid`` marks the
    cells that were not numbers; they are missing in ``frame``)."""
    rows = len(frame)
    out = []
    for i, name in enumerate(frame.columns):
        column = frame[name].to_numpy(dtype="float64")
        valid = ~np.isnan(column)
        values, times = column[valid], frame.index[valid]
        distinct = len(np.unique(values))
        categorical = 0 < distinct <= CATEGORIES and len(values) >= 10 * distinct and distinct > 1
        out.append({
            "ComponentName": component, "SensorName": str(name), "DataExists": bool(valid.any()),
            "MissingValues": _share(int((~valid & ~invalid[:, i]).sum()), rows),
            "InvalidValues": _share(int(invalid[:, i].sum()), rows),
            "InvalidDateEntries": _share(unsupported, rows + unsupported),
            "DuplicateTimestamps": _share(duplicates, rows + duplicates),
            "CategoricalValues": {"Status": ISSUE, "NumberOfCategory": distinct} if categorical else
                                 {"Status": NO_ISSUE},
            "MultipleOperatingModes": _modes(values),
            "LargeTimestampGaps": _gaps(times),
            "MonotonicValues": _monotonic(values),
            "DataStartTime": times[0] if len(times) else None,
            "DataEndTime": times[-1] if len(times) else None,
        })
    return out
