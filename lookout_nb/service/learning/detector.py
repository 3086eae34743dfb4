"""A detector that learns how sensors move together, and the per-sensor z-score baseline it is measured against.

:class:`Detector` is fitted on normal rows (one column per ``component\\sensor``, one row per sampling interval)
and scores rows with two kinds of evidence, both learned from the training rows only:

- **relations**: every sensor is predicted from the others (ridge regression on standardised values and their
  squares); the residual, averaged over the last :data:`WINDOW` rows, is divided by what is normal for it at the
  machine's current pace (training rows are put in bins by how fast the sensors change, so start-ups and load
  steps are judged against start-ups and load steps);
- **movement**: each sensor's roughness (mean absolute step over the last :data:`WINDOW` rows, on a log scale)
  is predicted from the others' roughness; moving much less than the others say (a frozen sensor) counts.

The row's anomaly ``D`` is the sum of the squared standardised evidence. The threshold is
:data:`THRESHOLD_MARGIN` times the :data:`THRESHOLD_QUANTILE` of ``D`` over the training rows; a row is anomalous
when ``D`` has stayed at or above it for :data:`PERSISTENCE` rows, and ``anomaly_score = m / (m + threshold)``
with ``m`` the smallest ``D`` of those rows (so ``anomaly_score >= 0.5`` exactly when anomalous). Diagnostics
are each sensor's share: how much of the relation evidence goes away when that sensor alone is corrected (a
reconstruction-based contribution), plus its own movement evidence, normalised to sum to 1.

Non-finite inputs (NaN, +-inf) are missing values: a missing value stands as what the other sensors predict for
it (their own missing values standing as their last known values), gives no evidence about its own sensor, and
averages use the rows that are there (judged against a scale widened for the fewer rows). Rows flagged ``off``,
and the :data:`WINDOW` rows after each (the machine settling after a start), are never anomalous (score 0, even
diagnostics), are not learned from and give no evidence to their neighbours.

>>> det = Detector.fit(train_values, names)                             # doctest: +SKIP
>>> scores = det.scores(window_values, history=previous_rows)          # doctest: +SKIP
>>> Detector.from_dict(json.loads(json.dumps(det.to_dict()))).scores(window_values).score  # doctest: +SKIP
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

#: Rows averaged for the relation and movement evidence.
WINDOW = 10
#: Rows in a row that must reach the threshold before a row is anomalous.
PERSISTENCE = 3
#: The threshold is THRESHOLD_MARGIN times this quantile of the anomaly over the training rows (a margin, because
#: rows a model learned from fit it better than new rows do).
THRESHOLD_QUANTILE, THRESHOLD_MARGIN = 0.9999, 1.5
#: The tail quantile of the training residuals that standardises them (read as this many standard deviations).
TAIL_QUANTILE, TAIL_Z = 0.999, 3.2905
#: Upper quantiles of the training pace (how fast the sensors change) that separate the pace bins.
PACE_BINS = (0.5, 0.9, 0.98, 0.995)
#: Ridge penalty per training row on standardised features.
RIDGE = 1e-3
#: Standardised values are clipped to +-CLIP so that any finite input gives finite scores.
CLIP = 1e3
#: Standard deviations below this are treated as this (a constant sensor must not divide by zero).
MIN_STD = 1e-6
#: The root-mean-square z-score at which :class:`ZScoreBaseline` calls a row anomalous.
ZSCORE_THRESHOLD = 3.0
FORMAT = "lookout-nb-detector/1"


class Scores(NamedTuple):
    """Per row: ``score`` in [0, 1), ``anomalous`` (bool), ``shares`` (rows x sensors, each row sums to 1)."""

    score: np.ndarray
    anomalous: np.ndarray
    shares: np.ndarray


# -- small numeric helpers ---------------------------------------------------------------------------------------
def _shifted_sum(a: np.ndarray, w: int) -> np.ndarray:
    """Sum of the last ``w`` rows (fewer at the start), added oldest first: a row's sum depends only on its window."""
    total = np.zeros_like(a)
    for k in range(min(w, len(a)) - 1, -1, -1):
        total[k:] += a[: len(a) - k] if k else a
    return total


def _trailing_mean(a: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the finite values among the last ``w`` rows of each column, and how many there were."""
    ok = np.isfinite(a)
    if ok[1:].all():  # missing values in the first row at most (steps): counts from the row numbers, same sums
        rows = np.arange(len(a))
        count = np.minimum(rows + 1, w)[:, None] - (~ok[0])[None, :] * (rows < w)[:, None]
        total = _shifted_sum(np.where(ok, a, 0.0) if not ok[0].all() else a, w)
        return np.where(count > 0, total / np.maximum(count, 1), np.nan), count.astype(float)
    both = _shifted_sum(np.hstack([np.where(ok, a, 0.0), ok]), w)  # sums and counts in one pass
    total, count = both[:, : a.shape[1]], both[:, a.shape[1] :]
    return np.where(count > 0, total / np.maximum(count, 1), np.nan), count


def _trailing(a: np.ndarray, w: int, how: str) -> np.ndarray:
    """Max or min of the last ``w`` values of a 1-d array (NaN skipped; NaN when all are missing)."""
    fill = -np.inf if how == "max" else np.inf
    padded = np.concatenate([np.full(w - 1, fill), np.where(np.isnan(a), fill, a)])
    step = padded.strides[0]
    view = np.lib.stride_tricks.as_strided(padded, (len(a), w), (step, step), writeable=False)
    out = view.max(axis=1) if how == "max" else view.min(axis=1)
    return np.where(out == fill, np.nan, out)


def _column_quantile(block: np.ndarray, q):
    """The ``q`` quantile(s) of each column's finite values (NaN for a column without any): shape ``(p,)`` for one
    ``q``, ``(len(q), p)`` for several (one partition per column)."""
    qs = np.atleast_1d(np.asarray(q, float))
    out = np.full((len(qs), block.shape[1]), np.nan)
    for j in range(block.shape[1]):
        col = block[:, j]
        col = col[np.isfinite(col)]
        if len(col):
            out[:, j] = np.quantile(col, qs)
    return out if np.ndim(q) else out[0]


def _ridge(gram: np.ndarray, cross: np.ndarray, cols: list, n: int) -> np.ndarray:
    """Ridge coefficients on the features ``cols`` of a Gram matrix over ``n`` rows (``cols[0]``, the intercept,
    is not penalised)."""
    sub = gram[np.ix_(cols, cols)] + RIDGE * n * np.diag([0.0] + [1.0] * (len(cols) - 1))
    return np.linalg.solve(sub, cross[cols])


def _filled(z: np.ndarray) -> np.ndarray:
    """Missing values replaced by the sensor's previous value, else its next, else 0 (its training mean)."""
    if np.isfinite(z).all():
        return z
    out = z.copy()
    for j in range(z.shape[1]):
        col = out[:, j]
        ok = np.isfinite(col)
        if ok.all() or not ok.any():
            out[:, j] = col if ok.all() else 0.0
            continue
        last = np.maximum.accumulate(np.where(ok, np.arange(len(col)), -1))
        first = np.flatnonzero(ok)[0]
        out[:, j] = np.where(last >= 0, col[np.maximum(last, 0)], col[first])
    return out


def _resting(off: np.ndarray | None, n: int, w: int = WINDOW) -> np.ndarray:
    """Rows that are off or within ``w`` rows after an off row (the machine settling after a start)."""
    if off is None:
        return np.zeros(n, bool)
    off = np.asarray(off, bool)
    if not off.any():
        return off
    return off | (_trailing(off.astype(float), w + 1, "max") > 0)


def _design(z: np.ndarray) -> np.ndarray:
    """``[1, z, z^2]``: the features every relation is a linear function of (own sensor's weights are zero)."""
    return np.hstack([np.ones((len(z), 1)), z, z * z])


@dataclass
class Detector:
    """A fitted detector (see the module docstring); plain arrays, so it round-trips through JSON exactly."""

    sensors: list
    mean: np.ndarray
    std: np.ndarray
    relation: np.ndarray  # sensors x (1 + 2 sensors): coefficients on [1, z, z^2]
    pace_edges: np.ndarray  # pace bin boundaries
    relation_scale: np.ndarray  # bins x sensors
    rough_eps: np.ndarray  # sensors
    rough_coef: np.ndarray  # sensors x (1 + sensors): log-roughness on [1, others' log-roughness]
    rough_median: np.ndarray  # bins x sensors
    rough_scale: np.ndarray  # bins x sensors
    threshold: float
    window: int = WINDOW
    persistence: int = PERSISTENCE
    FORMAT = FORMAT

    @property
    def lookback(self) -> int:
        """Rows before a window that make its first rows score exactly as in one long run."""
        return 2 * self.window + self.persistence

    # -- fitting ---------------------------------------------------------------------------------------------------
    @classmethod
    def fit(cls, values: np.ndarray, sensors, off: np.ndarray | None = None, use: np.ndarray | None = None):
        """Learn from ``values`` (rows x sensors, in time order); ``use`` marks the rows that are normal and may be
        learned from (default all), ``off`` the rows where the machine is off (never learned from).

        Raises ValueError naming the sensor when one has fewer than two distinct values on the rows it learns from.
        """
        values = np.asarray(values, dtype=float)
        sensors = list(sensors)
        n, p = values.shape
        learn = np.ones(n, bool) if use is None else np.asarray(use, bool).copy()
        off = _resting(off, n)
        learn &= ~off
        x = np.where(np.isfinite(values), values, np.nan)
        mean, std = np.zeros(p), np.ones(p)
        for j, name in enumerate(sensors):
            col = x[learn, j]
            col = col[np.isfinite(col)]
            if len(col) < 2 or np.ptp(col) <= 0:
                raise ValueError(f"sensor {name} is constant or empty on the rows to learn from")
            mean[j], std[j] = col.mean(), max(col.std(), MIN_STD)
        z = np.clip((x - mean) / std, -CLIP, CLIP)
        # Relations: each sensor from the others, on rows where every sensor is present.
        complete = learn & np.isfinite(z).all(axis=1)
        design = _design(z[complete])
        gram, cross, m = design.T @ design, design.T @ z[complete], int(complete.sum())
        relation = np.zeros((p, 1 + 2 * p))
        for j in range(p):
            cols = [0] + [1 + k for k in range(p) if k != j] + [1 + p + k for k in range(p) if k != j]
            relation[j, cols] = _ridge(gram, cross[:, j], cols, m)
        det = cls(sensors, mean, std, relation, np.zeros(0), np.ones((1, p)), np.ones(p),
                  np.zeros((p, 1 + p)), np.zeros((1, p)), np.ones((1, p)), 1.0)
        ev = det._evidence(z, ~off if use is None else learn)  # rows left out (labels) tell their neighbours nothing
        edges = np.nanquantile(ev["pace"][learn], PACE_BINS) if np.isfinite(ev["pace"][learn]).any() else np.zeros(0)
        det.pace_edges = np.unique(edges)
        bins = det._bins(ev["pace"])
        nb = len(det.pace_edges) + 1
        # Residual scale per pace bin, never smaller than a calmer bin's.
        scale = np.zeros((nb, p))
        learned_bins = np.where(learn, bins, -1)
        for b in range(nb):
            tail = _column_quantile(np.abs(ev["resid"][learned_bins == b]), TAIL_QUANTILE)
            scale[b] = np.fmax(tail / TAIL_Z, scale[b - 1] if b else MIN_STD)
        det.relation_scale = np.where(np.isfinite(scale), scale, MIN_STD)
        # Movement: log-roughness of each sensor from the others'.
        rough = ev["rough"]
        eps = 0.1 * _column_quantile(np.where(rough[learn] > 0, rough[learn], np.nan), 0.5)
        det.rough_eps = np.where(np.isfinite(eps) & (eps > 0), eps, MIN_STD)
        logr = np.log(rough + det.rough_eps)
        coef = np.zeros((p, 1 + p))
        rows = learn & np.isfinite(logr).all(axis=1)
        if rows.sum() > 2 * p + 2:
            feats = np.hstack([np.ones((int(rows.sum()), 1)), logr[rows]])
            gram, cross = feats.T @ feats, feats.T @ logr[rows]
            for j in range(p):
                coef[j, [0] + [1 + k for k in range(p) if k != j]] = _ridge(
                    gram, cross[:, j], [0] + [1 + k for k in range(p) if k != j], int(rows.sum()))
        det.rough_coef = coef
        mis = det._rough_residual(logr)
        med, low = np.zeros((nb, p)), np.ones((nb, p))
        for b in range(nb):
            mid, tail = _column_quantile(mis[learned_bins == b], [0.5, 1 - TAIL_QUANTILE])
            seen = np.isfinite(mid)
            med[b] = np.where(seen, mid, 0.0)
            spread = (med[b] - tail) / TAIL_Z
            low[b] = np.where(seen, np.fmax(spread, 1e-3), 1.0)
        det.rough_median, det.rough_scale = med, low
        # Threshold: a high quantile of the training anomaly.
        d = det._anomaly(ev, bins, logr)[0][learn]
        d = d[np.isfinite(d)]
        det.threshold = float(THRESHOLD_MARGIN * max(np.quantile(d, THRESHOLD_QUANTILE), 1e-9)) if len(d) else 1.0
        return det

    # -- scoring ---------------------------------------------------------------------------------------------------
    def _evidence(self, z: np.ndarray, active: np.ndarray) -> dict:
        """Trailing residual means (and their counts), pace and roughness per row; inactive rows give nothing."""
        zf = _filled(z)
        gaps = ~np.isfinite(z)
        if gaps.any():  # a missing value stands as what the others predict for it
            zf = np.where(gaps, self._predict(zf), zf)
        resid = z - self._predict(zf)  # a missing value (NaN in z) leaves its own residual NaN
        resid[~active] = np.nan
        moving = z if active.all() else np.where(active[:, None], z, np.nan)
        steps = np.empty_like(moving)
        steps[0], steps[1:] = np.nan, np.abs(moving[1:] - moving[:-1])
        p = z.shape[1]
        both, counts = _trailing_mean(np.hstack([resid, steps]), self.window)  # one pass for both
        mean, count, rough = both[:, :p], counts[:, :p], both[:, p:]
        sq = steps * steps
        seen = np.isfinite(sq).sum(axis=1)
        pace_row = np.where(seen > 0, np.sqrt(np.nansum(sq, axis=1) / np.maximum(seen, 1)), np.nan)
        return {"z": zf, "resid": mean, "count": count, "rough": rough, "pace": _trailing(pace_row, self.window, "max")}

    def _predict(self, z: np.ndarray) -> np.ndarray:
        """Each sensor as its relation predicts it from the others (the same sums as ``_design(z) @ relation.T``)."""
        p = len(self.sensors)
        return self.relation[:, 0] + z @ self.relation[:, 1 : 1 + p].T + (z * z) @ self.relation[:, 1 + p :].T

    def _bins(self, pace: np.ndarray) -> np.ndarray:
        """Pace bin per row; rows of unknown pace go to the busiest bin (the widest scales)."""
        return np.searchsorted(self.pace_edges, np.where(np.isfinite(pace), pace, np.inf), side="right")

    def _rough_residual(self, logr: np.ndarray) -> np.ndarray:
        known = np.where(np.isfinite(logr), logr, 0.0)
        return logr - (known @ self.rough_coef[:, 1:].T + self.rough_coef[:, 0])

    def _anomaly(self, ev: dict, bins: np.ndarray, logr: np.ndarray):
        """``D`` per row and the two kinds of standardised evidence (rows x sensors)."""
        widen = np.sqrt(self.window / np.maximum(ev["count"], 1))  # fewer rows averaged: a wider scale
        e = ev["resid"] / (self.relation_scale[bins] * widen)
        g = np.minimum(0.0, (self._rough_residual(logr) - self.rough_median[bins]) / self.rough_scale[bins])
        e, g = np.where(e == e, e, 0.0), np.where(g == g, g, 0.0)  # no evidence where NaN
        return (e * e).sum(axis=1) + (g * g).sum(axis=1), e, g

    @functools.cached_property
    def _fixed_jacobian(self) -> np.ndarray:
        """The part of d resid_k / d z_j that does not depend on the row: ``I - linear coefficients``."""
        p = len(self.sensors)
        return np.eye(p) - self.relation[:, 1 : 1 + p]

    def _shares(self, z: np.ndarray, e: np.ndarray, g: np.ndarray, bins: np.ndarray) -> np.ndarray:
        """Each sensor's share: relation evidence removed by correcting it alone, plus its movement evidence."""
        p = len(self.sensors)
        inv = 1.0 / (self.relation_scale[bins])
        jac = self._fixed_jacobian[None] - 2.0 * self.relation[None, :, 1 + p :] * z[:, None, :]  # d resid_k / d z_j
        num = np.matmul((e * inv)[:, None, :], jac)[:, 0, :] ** 2
        den = np.matmul((inv * inv)[:, None, :], jac * jac)[:, 0, :]
        contrib = num / np.maximum(den, 1e-300) + g * g
        total = contrib.sum(axis=1, keepdims=True)
        return np.where(total > 0, contrib / np.where(total > 0, total, 1.0), 1.0 / p)

    def scores(self, values: np.ndarray, off: np.ndarray | None = None, history: np.ndarray | None = None,
               history_off: np.ndarray | None = None) -> Scores:
        """Score the rows of ``values`` (rows x sensors in :attr:`sensors` order); ``history`` rows precede them
        (pass :attr:`lookback` rows for the first rows to score as they would inside a longer run)."""
        values = np.asarray(values, dtype=float)
        n = len(values)
        if not n:
            return Scores(np.zeros(0), np.zeros(0, bool), np.zeros((0, len(self.sensors))))
        off = np.zeros(n, bool) if off is None else np.asarray(off, bool)
        if history is not None and len(history):
            history = np.asarray(history, dtype=float)
            h_off = np.zeros(len(history), bool) if history_off is None else np.asarray(history_off, bool)
            values, off = np.vstack([history, values]), np.concatenate([h_off, off])
        off = _resting(off, len(values), self.window)
        with np.errstate(invalid="ignore", over="ignore"):
            finite = values if np.isfinite(values).all() else np.where(np.isfinite(values), values, np.nan)
            z = np.clip((finite - self.mean) / self.std, -CLIP, CLIP)
        ev = self._evidence(z, ~off)
        bins = self._bins(ev["pace"])
        logr = np.log(ev["rough"] + self.rough_eps)
        d, e, g = self._anomaly(ev, bins, logr)
        d = np.where(off, np.nan, d)
        held = _trailing(d, self.persistence, "min")
        held = np.where(np.isfinite(held) & ~off, held, 0.0)
        score = held[-n:] / (held[-n:] + self.threshold)
        shares = self._shares(ev["z"][-n:], e[-n:], g[-n:], bins[-n:])
        shares[off[-n:]] = 1.0 / len(self.sensors)
        return Scores(score, score >= 0.5, shares)

    # -- JSON ------------------------------------------------------------------------------------------------------
    _ARRAYS = ("mean", "std", "relation", "pace_edges", "relation_scale", "rough_eps", "rough_coef",
               "rough_median", "rough_scale")

    def to_dict(self) -> dict:
        """Plain JSON-ready data (lists of floats); :meth:`from_dict` gives a detector that scores identically."""
        out = {"format": FORMAT, "sensors": list(self.sensors), "threshold": self.threshold,
               "window": self.window, "persistence": self.persistence}
        out.update({k: getattr(self, k).tolist() for k in self._ARRAYS})
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Detector:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a detector of format {FORMAT!r} (format: {data.get('format')!r})")
        arrays = {k: np.array(data[k], dtype=float) for k in cls._ARRAYS}
        p = len(data["sensors"])
        arrays["relation"] = arrays["relation"].reshape(p, 1 + 2 * p)
        arrays["rough_coef"] = arrays["rough_coef"].reshape(p, 1 + p)
        for k in ("relation_scale", "rough_median", "rough_scale"):
            arrays[k] = arrays[k].reshape(-1, p)
        return cls(list(data["sensors"]), threshold=float(data["threshold"]), window=int(data["window"]),
                   persistence=int(data["persistence"]), **arrays)


class ZScoreBaseline:
    """Per-sensor z-scores against the training mean and standard deviation (what the endpoint scored with before
    the relations detector), behind the same interface as :class:`Detector`, for comparison.

    A row's ``anomaly_score = d / (d + ZSCORE_THRESHOLD**2)`` with ``d`` its mean squared z-score (0.5 when the
    root-mean-square z-score is 3); diagnostics are each sensor's share of the squared deviation.

    >>> base = ZScoreBaseline.fit(np.array([[9.0], [10.0], [11.0]]), ["pump\\\\Flow"])
    >>> base.scores(np.array([[10.0], [30.0]])).anomalous.tolist()
    [False, True]
    """

    FORMAT = "lookout-nb-zscore/1"
    lookback = 0

    def __init__(self, baseline: dict, sensors):
        self.baseline, self.sensors = baseline, list(sensors)

    def to_dict(self) -> dict:
        return {"format": self.FORMAT, "sensors": self.sensors, "baseline": self.baseline}

    @classmethod
    def from_dict(cls, data: dict) -> ZScoreBaseline:
        return cls(data["baseline"], data["sensors"])

    @classmethod
    def fit(cls, values, sensors, off=None, use=None) -> ZScoreBaseline:
        values = np.asarray(values, dtype=float)
        learn = np.ones(len(values), bool) if use is None else np.asarray(use, bool).copy()
        if off is not None:
            learn &= ~np.asarray(off, bool)
        rows = values[learn]
        baseline = {name: {"mean": float(np.nanmean(rows[:, j])), "std": float(max(np.nanstd(rows[:, j]), MIN_STD))}
                    for j, name in enumerate(sensors)}
        return cls(baseline, sensors)

    def scores(self, values, off=None, history=None, history_off=None) -> Scores:
        values = np.asarray(values, dtype=float)
        mean = np.array([self.baseline[n]["mean"] for n in self.sensors])
        std = np.array([self.baseline[n]["std"] for n in self.sensors])
        z2 = np.nan_to_num((values - mean) / std, posinf=CLIP, neginf=-CLIP) ** 2
        d = z2.mean(axis=1) if self.sensors else np.zeros(len(values))
        score = d / (d + ZSCORE_THRESHOLD**2)
        total = z2.sum(axis=1, keepdims=True)
        shares = np.where(total > 0, z2 / np.where(total > 0, total, 1.0), 1.0 / max(len(self.sensors), 1))
        anomalous = score >= 0.5
        if off is not None:
            off = np.asarray(off, bool)
            score, anomalous = np.where(off, 0.0, score), anomalous & ~off
            shares[off] = 1.0 / max(len(self.sensors), 1)
        return Scores(score, anomalous, shares)


def events(times, anomalous: np.ndarray, shares: np.ndarray, max_gap: int = WINDOW) -> list[dict]:
    """Anomalous rows grouped into events: rows at most ``max_gap`` rows apart join one event. Each event has
    ``start``/``end`` (its first and last anomalous row's time) and ``shares``: the mean share of each sensor over
    its anomalous rows (summing to 1).

    >>> t = pd.date_range("2026-01-01", periods=6, freq="min", tz="UTC")
    >>> found = events(t, np.array([0, 1, 1, 0, 0, 0], bool), np.ones((6, 1)), max_gap=1)
    >>> [(e["start"].minute, e["end"].minute) for e in found]
    [(1, 2)]
    """
    rows = np.flatnonzero(np.asarray(anomalous, bool))
    if not len(rows):
        return []
    breaks = np.flatnonzero(np.diff(rows) > max_gap)
    firsts, lasts = np.r_[0, breaks + 1], np.r_[breaks, len(rows) - 1]
    times = pd.DatetimeIndex(times)
    out = []
    for a, b in zip(firsts, lasts):
        picked = rows[a : b + 1]
        mean = np.asarray(shares)[picked].mean(axis=0)
        out.append({"start": times[rows[a]], "end": times[rows[b]], "shares": mean / mean.sum()})
    return out
