"""The detector's settings in time, and its threshold set for an expected false-alarm rate on unseen normal data.

- :func:`rows_for` turns a span of time into rows at a sampling interval, inside bounds (so a machine sampled
  every second and one sampled every hour both average over a sensible number of rows);
- :func:`tail_threshold` reads the anomaly of normal rows the model did not learn from (the held-out tail of the
  training window) and returns the level they would pass with probability ``rate`` per row: the exceedances
  over their 90th percentile are modelled as exponential (peaks over threshold, a generalised Pareto tail of
  shape 0, its scale read robustly from the median excess), which extrapolates beyond the few rows a short
  window holds.

>>> rows_for(600, 60, (3, 60)), rows_for(600, 300, (3, 60)), rows_for(600, 1, (3, 60))
(10, 3, 60)
>>> d = np.random.default_rng(2).exponential(1.0, 5_000)
>>> round(tail_threshold(d, 1e-4), 1)  # the exponential's 0.9999 quantile is ln(10_000) = 9.2, beyond the data
9.2
"""

from __future__ import annotations

import math

import numpy as np

#: The quantile of the held-out anomaly above which its tail is modelled.
TAIL_START = 0.9
#: Fewest held-out rows above :data:`TAIL_START` for the tail model; with fewer, the held-out maximum is used.
MIN_EXCEEDANCES = 5


def rows_for(seconds: float, step: float, bounds: tuple[int, int]) -> int:
    """The rows that span ``seconds`` at one row per ``step`` seconds (rounded), kept within ``bounds``."""
    low, high = bounds
    return int(min(max(round(seconds / step), low), high))


def alarm_rate(step: float, period: float, bounds: tuple[float, float] = (1e-7, 1e-2)) -> float:
    """The share of normal rows allowed above the threshold so that it is passed about once per ``period``
    seconds of normal data (one row per period), within ``bounds``."""
    return float(min(max(step / period, bounds[0]), bounds[1]))


def tail_threshold(d: np.ndarray, rate: float) -> float:
    """The level that normal rows like ``d`` (finite values) pass with probability ``rate`` per row: their 90th
    percentile ``u`` plus the exponential tail's scale times ``ln(0.1 / rate)``. The scale is read from the median
    excess over ``u`` (``median / ln 2``), so the few extreme rows a held-out stretch can hold (a start-up, an
    unlabelled fault) do not set the threshold."""
    d = np.asarray(d, float)
    d = d[np.isfinite(d)]
    if not len(d):
        raise ValueError("no held-out anomaly values to calibrate the threshold on")
    u = float(np.quantile(d, TAIL_START))
    over = d[d > u] - u
    if len(over) < MIN_EXCEEDANCES or rate >= 1 - TAIL_START:
        return float(d.max())
    scale = float(np.median(over)) / math.log(2.0)
    return u + scale * math.log((1 - TAIL_START) / rate)
