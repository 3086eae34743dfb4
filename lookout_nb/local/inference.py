"""Deterministic baseline scoring: how the embedded endpoint turns sensor rows into results.jsonl lines.

A model's baseline is the mean and standard deviation of each sensor over its training data. A row is scored by
the z-score of each sensor against that baseline:

- ``anomaly_score = d / (d + THRESHOLD**2)`` with ``d`` the mean squared z-score, so the score is in [0, 1) and
  equals 0.5 when the root-mean-square z-score is :data:`THRESHOLD` (3 standard deviations);
- ``prediction = 1`` (``ANOMALY_DETECTED``) when the score is at least 0.5, else 0 (``NO_ANOMALY_DETECTED``);
- ``diagnostics``: each sensor's share of the squared deviation (shares sum to 1; an even split when the row
  sits exactly on the baseline), named ``component\\sensor`` like the service's.

>>> base = fit_baseline(pd.DataFrame({"pump\\\\Flow": [9.0, 10.0, 11.0], "pump\\\\Temp": [50.0, 50.0, 50.0]}))
>>> frame = pd.DataFrame({"pump\\\\Flow": [10.0, 30.0], "pump\\\\Temp": [50.0, 50.0]},
...                      index=pd.to_datetime(["2026-01-05T09:01Z", "2026-01-05T09:02Z"]))
>>> [(r["prediction"], r["prediction_reason"]) for r in score(frame, base)]
[(0, 'NO_ANOMALY_DETECTED'), (1, 'ANOMALY_DETECTED')]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: The root-mean-square z-score at which a row counts as anomalous.
THRESHOLD = 3.0
#: Standard deviations below this are treated as this (a constant sensor must not divide by zero).
MIN_STD = 1e-6


def fit_baseline(training: pd.DataFrame) -> dict[str, dict]:
    """Mean and standard deviation of each column (``component\\sensor``) of the training data."""
    return {
        name: {"mean": float(col.mean()), "std": float(max(col.std(ddof=0), MIN_STD))}
        for name, col in training.items()
    }


def score(frame: pd.DataFrame, baseline: dict[str, dict]) -> list[dict]:
    """One results.jsonl record per row of ``frame`` (index: UTC timestamps; columns: ``component\\sensor``).

    Missing values are read as the baseline mean (no deviation).
    """
    names = list(frame.columns)
    mean = np.array([baseline.get(n, {}).get("mean", 0.0) for n in names])
    std = np.array([max(baseline.get(n, {}).get("std", 1.0), MIN_STD) for n in names])
    values = frame.to_numpy(dtype=float)
    z2 = np.nan_to_num((values - mean) / std) ** 2
    d = z2.mean(axis=1) if names else np.zeros(len(frame))
    scores = d / (d + THRESHOLD**2)
    total = z2.sum(axis=1, keepdims=True)
    even = np.full_like(z2, 1.0 / max(len(names), 1))
    shares = np.where(total > 0, z2 / np.where(total > 0, total, 1.0), even)
    stamps = pd.DatetimeIndex(frame.index).tz_convert("UTC").tz_localize(None).strftime("%Y-%m-%dT%H:%M:%S.%f")
    records = []
    for i, stamp in enumerate(stamps):
        anomalous = bool(scores[i] >= 0.5)
        records.append(
            {
                "timestamp": stamp,
                "prediction": int(anomalous),
                "prediction_reason": "ANOMALY_DETECTED" if anomalous else "NO_ANOMALY_DETECTED",
                "anomaly_score": round(float(scores[i]), 5),
                "diagnostics": [{"name": n, "value": round(float(v), 5)} for n, v in zip(names, shares[i])],
            }
        )
    return records
