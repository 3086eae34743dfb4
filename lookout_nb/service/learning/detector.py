"""A detector that learns how sensors move together, and the per-sensor z-score baseline it is measured against.

:class:`Detector` is fitted on normal rows (one column per ``component\\sensor``, one row per sampling interval of
``step`` seconds) and scores rows with two kinds of evidence, both learned from the training rows only:

- **relations**: every sensor is predicted from the others (ridge regression on standardised values and their
  squares); the residual, averaged over a trailing window of :data:`WINDOW_SECONDS` (as rows at the sampling
  rate, within :data:`WINDOW_ROWS`), is divided by what is normal for it at the machine's current pace (training
  rows are put in bins by how fast the sensors change, so start-ups and load steps are judged against start-ups
  and load steps);
- **movement**: each sensor's roughness (mean absolute step over the same window, on a log scale) is predicted
  from the others' roughness; moving much less than the others say (a frozen sensor) counts.

The row's anomaly ``D`` is the sum of the squared standardised evidence. A row is anomalous when ``D`` has stayed
at or above the threshold for :data:`PERSISTENCE_SECONDS` (as rows, within :data:`PERSISTENCE_ROWS`), and
``anomaly_score = m / (m + threshold)`` with ``m`` the smallest ``D`` of those rows (so ``anomaly_score >= 0.5``
exactly when anomalous). An episode ends within one window of the fault ending: a row's evidence reads only the
window before it.

The threshold is set on rows the model has not learned from: a detector fitted without the last :data:`HOLDOUT`
of the training rows scores them, and the threshold is where the tail of their ``D`` puts about one row per
:data:`ALARM_PERIOD_SECONDS` of normal data (:func:`.calibration.tail_threshold`), never below
:data:`THRESHOLD_MARGIN` times the :data:`THRESHOLD_QUANTILE` of the final detector's ``D`` on its own rows.

Diagnostics are each sensor's share: how much of the relation evidence goes away when that sensor alone is
corrected (a reconstruction-based contribution), plus its own movement evidence, normalised to sum to 1. Memory:
fitting streams the normal equations and the evidence a chunk of :data:`CHUNK_ROWS` rows at a time and keeps at
most :data:`STAT_ROWS` rows of evidence for the scales; scoring and diagnostics are linear in the sensors.

Non-finite inputs (NaN, +-inf) are missing values: a missing value stands as what the other sensors predict for
it (their own missing values standing as their last known values), gives no evidence about its own sensor, and
averages use the rows that are there (judged against a scale widened for the fewer rows). Rows flagged ``off``,
and the window's rows after each (the machine settling after a start), are never anomalous (score 0, even
diagnostics), are not learned from and give no evidence to their neighbours.

>>> det = Detector.fit(train_values, names, step=60)                   # doctest: +SKIP
>>> scores = det.scores(window_values, history=previous_rows)          # doctest: +SKIP
>>> Detector.from_dict(json.loads(json.dumps(det.to_dict()))).scores(window_values).score  # doctest: +SKIP
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from .calibration import alarm_rate, rows_for, tail_threshold
from .kernels import (
    MIN_STD,
    chunks,
    column_quantile,
    design,
    filled,
    first_step_missing,
    leave_own_out,
    moments,
    resting,
    shifted_sum,
    trailing,
    trailing_mean,
    window_counts,
)

#: The span the relation and movement evidence is averaged over, and its bounds in rows.
WINDOW_SECONDS, WINDOW_ROWS = 600.0, (3, 60)
#: How long the anomaly must stay at or above the threshold before a row is anomalous, and its bounds in rows.
PERSISTENCE_SECONDS, PERSISTENCE_ROWS = 180.0, (2, 20)
#: The share of the rows to learn from (the last ones) held out to set the threshold, and the fewest such rows.
HOLDOUT, MIN_HOLDOUT_ROWS = 0.2, 50
#: Normal data like the held-out rows passes the threshold about once per this many seconds (one row per week).
ALARM_PERIOD_SECONDS = 7 * 86400.0
#: The threshold is at least THRESHOLD_MARGIN times this quantile of the anomaly over the training rows (a margin,
#: because rows a model learned from fit it better than new rows do).
THRESHOLD_QUANTILE, THRESHOLD_MARGIN = 0.9999, 1.5
#: The tail quantile of the training residuals that standardises them (read as this many standard deviations).
TAIL_QUANTILE, TAIL_Z = 0.999, 3.2905
#: Upper quantiles of the training pace (how fast the sensors change) that separate the pace bins.
PACE_BINS = (0.5, 0.9, 0.98, 0.995)
#: Standardised values are clipped to +-CLIP so that any finite input gives finite scores.
CLIP = 1e3
#: Rows per chunk while fitting, and the most rows of evidence kept for the scales (a sample when more).
STAT_ROWS = 50_000
#: The root-mean-square z-score at which :class:`ZScoreBaseline` calls a row anomalous.
ZSCORE_THRESHOLD = 3.0
FORMAT = "lookout-nb-detector/1"


class Scores(NamedTuple):
    """Per row: ``score`` in [0, 1), ``anomalous`` (bool), ``shares`` (rows x sensors, each row sums to 1)."""

    score: np.ndarray
    anomalous: np.ndarray
    shares: np.ndarray


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
    window: int = 10
    persistence: int = 3
    step: float = 60.0  # seconds per row the detector was fitted at
    FORMAT = FORMAT

    @property
    def lookback(self) -> int:
        """Rows before a window that make its first rows score exactly as in one long run."""
        return 2 * self.window + self.persistence

    @property
    def lookback_seconds(self) -> float:
        """The span of :attr:`lookback` rows in seconds (what a scheduled run reads before its window)."""
        return self.lookback * self.step

    # -- fitting ---------------------------------------------------------------------------------------------------
    @classmethod
    def fit(cls, values: np.ndarray, sensors, off: np.ndarray | None = None, use: np.ndarray | None = None,
            step: float = 60.0) -> Detector:
        """Learn from ``values`` (rows x sensors, in time order, one row per ``step`` seconds); ``use`` marks the
        rows that are normal and may be learned from (default all), ``off`` the rows where the machine is off (never
        learned from). The threshold comes from a detector fitted without the last :data:`HOLDOUT` of the rows to
        learn from, scoring them (see :mod:`.calibration`).

        Raises ValueError naming the sensor when one has fewer than two distinct values on the rows it learns from.
        """
        values = np.asarray(values, dtype=float)
        sensors = list(sensors)
        n = len(values)
        step = float(step)
        if not step > 0:
            raise ValueError(f"step must be a positive number of seconds per row, not {step!r}")
        window = rows_for(WINDOW_SECONDS, step, WINDOW_ROWS)
        persistence = rows_for(PERSISTENCE_SECONDS, step, PERSISTENCE_ROWS)
        learn = np.ones(n, bool) if use is None else np.asarray(use, bool).copy()
        off = resting(off, n, window)
        learn &= ~off
        active = ~off if use is None else learn  # rows left out (labels) tell their neighbours nothing
        settings = dict(window=window, persistence=persistence, step=step)
        final, inside = cls._learn(values, sensors, learn, active, n, settings)
        # Calibration: a detector that has not seen the held-out tail scores it.
        rows = np.flatnonzero(learn)
        cut = rows[int(len(rows) * (1 - HOLDOUT))] if len(rows) else n
        tail = learn & (np.arange(n) >= cut)
        held = None
        if tail.sum() >= MIN_HOLDOUT_ROWS:
            try:
                head = cls._learn(values, sensors, learn & (np.arange(n) < cut), active, cut, settings)[0]
            except ValueError:  # a sensor that only moves in the tail: calibrate in-sample
                head = None
            if head is not None:
                held = head._anomaly_of(values, active, tail)
        rate = alarm_rate(step, ALARM_PERIOD_SECONDS)
        levels = [THRESHOLD_MARGIN * np.quantile(inside, THRESHOLD_QUANTILE)] if len(inside) else []
        if held is not None and np.isfinite(held).any():
            levels.append(tail_threshold(held, rate))
        final.threshold = float(max(max(levels, default=1.0), 1e-9))
        return final

    @classmethod
    def _learn(cls, values: np.ndarray, sensors: list, learn: np.ndarray, active: np.ndarray, end: int,
               settings: dict) -> tuple[Detector, np.ndarray]:
        """A detector learned from the ``learn`` rows among the first ``end`` (threshold not set) and its anomaly
        on a sample of those rows; memory: the Gram matrices and at most :data:`STAT_ROWS` rows of evidence."""
        p = len(sensors)
        mean, std = moments(values[:end], learn[:end], sensors)
        # Relations: each sensor from the others, on rows where every sensor is present (streamed normal equations).
        gram, m = np.zeros((1 + 2 * p, 1 + 2 * p)), 0
        for a, b in chunks(end):
            z = np.clip((values[a:b] - mean) / std, -CLIP, CLIP)
            z = z[learn[a:b] & np.isfinite(z).all(axis=1)]
            features = design(z)
            gram += features.T @ features
            m += len(z)
        if not m:
            raise ValueError("no row to learn from has every sensor present")
        own = np.stack([1 + np.arange(p), 1 + p + np.arange(p)], axis=1)
        relation = leave_own_out(gram, m, own)
        det = cls(sensors, mean, std, relation, np.zeros(0), np.ones((1, p)), np.ones(p),
                  np.zeros((p, 1 + p)), np.zeros((1, p)), np.ones((1, p)), 1.0, **settings)
        # Evidence, a chunk at a time: the pace of every row, the rest for a sample of the rows learned from.
        rows = np.flatnonzero(learn[:end])
        keep = np.zeros(end, bool)
        keep[rows[:: max(1, -(-len(rows) // STAT_ROWS))]] = True
        pace = np.full(end, np.nan)
        ev = {k: np.empty((int(keep.sum()), p)) for k in ("resid", "count", "rough")}
        at = 0
        for a, b, chunk in det._evidence_chunks(values, active, 0, end):
            pace[a:b] = chunk["pace"]
            picked = keep[a:b]
            for k, out in ev.items():
                out[at : at + int(picked.sum())] = chunk[k][picked]
            at += int(picked.sum())
        learned_pace = pace[rows]
        edges = (np.nanquantile(learned_pace, PACE_BINS) if np.isfinite(learned_pace).any() else np.zeros(0))
        det.pace_edges = np.unique(edges)
        bins = det._bins(pace[keep])
        nb = len(det.pace_edges) + 1
        # Residual scale per pace bin, never smaller than a calmer bin's.
        scale = np.zeros((nb, p))
        for b in range(nb):
            tail = column_quantile(np.abs(ev["resid"][bins == b]), TAIL_QUANTILE)
            scale[b] = np.fmax(tail / TAIL_Z, scale[b - 1] if b else MIN_STD)
        det.relation_scale = np.where(np.isfinite(scale), scale, MIN_STD)
        # Movement: log-roughness of each sensor from the others'.
        rough = ev["rough"]
        eps = 0.1 * column_quantile(np.where(rough > 0, rough, np.nan), 0.5)
        det.rough_eps = np.where(np.isfinite(eps) & (eps > 0), eps, MIN_STD)
        logr = np.log(rough + det.rough_eps)
        whole = np.isfinite(logr).all(axis=1)
        if whole.sum() > 2 * p + 2:
            feats = np.hstack([np.ones((int(whole.sum()), 1)), logr[whole]])
            det.rough_coef = leave_own_out(feats.T @ feats, int(whole.sum()), (1 + np.arange(p))[:, None])
        mis = det._rough_residual(logr)
        med, low = np.zeros((nb, p)), np.ones((nb, p))
        for b in range(nb):
            mid, tail = column_quantile(mis[bins == b], [0.5, 1 - TAIL_QUANTILE])
            seen = np.isfinite(mid)
            med[b] = np.where(seen, mid, 0.0)
            spread = (med[b] - tail) / TAIL_Z
            low[b] = np.where(seen, np.fmax(spread, 1e-3), 1.0)
        det.rough_median, det.rough_scale = med, low
        d = det._anomaly(ev, bins, logr)[0]
        return det, d[np.isfinite(d)]

    def _evidence_chunks(self, values: np.ndarray, active: np.ndarray, start: int, end: int):
        """``(a, b, evidence of rows a..b)`` over ``start..end``, each chunk computed with the rows before it that
        its trailing windows reach (so the evidence is as in one pass, in bounded memory)."""
        reach = 2 * self.window
        for a, b in chunks(end - start):
            a, b = a + start, b + start
            lead = max(0, a - reach)
            with np.errstate(invalid="ignore", over="ignore"):
                z = np.clip((values[lead:b] - self.mean) / self.std, -CLIP, CLIP)
            ev = self._evidence(z, active[lead:b])
            clean = ev.pop("clean")
            yield a, b, {k: v[a - lead :] for k, v in ev.items()} | {"clean": clean}

    def _anomaly_of(self, values: np.ndarray, active: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """``D`` of the ``rows`` (a mask) of ``values``, a chunk at a time."""
        found = np.flatnonzero(rows)
        if not len(found):
            return np.zeros(0)
        out = []
        for a, b, ev in self._evidence_chunks(values, active, int(found[0]), int(found[-1]) + 1):
            bins = self._bins(ev["pace"])
            d = self._anomaly(ev, bins, np.log(ev["rough"] + self.rough_eps))[0]
            out.append(d[rows[a:b]])
        return np.concatenate(out)

    # -- scoring ---------------------------------------------------------------------------------------------------
    def _evidence(self, z: np.ndarray, active: np.ndarray) -> dict:
        """Trailing residual means (and their counts), pace and roughness per row; inactive rows give nothing."""
        p = z.shape[1]
        gaps = ~np.isfinite(z)
        zf = z
        if gaps.any():  # a missing value stands as what the others predict for it
            zf = filled(z)
            zf = np.where(gaps, self._predict(zf), zf)
        both = np.empty((len(z), 2 * p))  # residuals, then steps: their trailing means in one pass
        both[:, :p] = z - self._predict(zf)  # a missing value (NaN in z) leaves its own residual NaN
        moving = z
        clean = not gaps.any() and bool(active.all()) and len(z) > 1  # nothing missing: the usual scheduled window
        if not active.all():
            both[~active, :p] = np.nan
            moving = np.where(active[:, None], z, np.nan)
        steps = both[:, p:]
        np.abs(moving[1:] - moving[:-1], out=steps[1:])
        if clean:  # every value there: the counts follow from the row numbers (the first row has no step)
            steps[0] = 0.0
            sq = steps[1:] * steps[1:]
            pace_row = np.empty(len(z))
            pace_row[0], pace_row[1:] = np.nan, np.sqrt(sq.mean(axis=1))
            cached = window_counts if both.size <= 65_536 else window_counts.__wrapped__  # small ones cached
            counts, safe, empty = cached(len(z), self.window, first_step_missing(p))
            means = shifted_sum(both, self.window)  # the same sums and counts as trailing_mean's
            means /= safe
            if empty is not None:
                means[empty] = np.nan
        else:
            steps[0] = np.nan
            sq = steps * steps
            seen = np.isfinite(sq).sum(axis=1)
            pace_row = np.where(seen > 0, np.sqrt(np.nansum(sq, axis=1) / np.maximum(seen, 1)), np.nan)
            means, counts = trailing_mean(both, self.window)
        mean, count, rough = means[:, :p], counts[:, :p], means[:, p:]
        return {"z": zf, "resid": mean, "count": count, "rough": rough, "pace": trailing(pace_row, self.window, "max"),
                "clean": clean}

    @functools.cached_property
    def _weights(self) -> tuple[np.ndarray, np.ndarray]:
        """The relations' linear and squared coefficients, transposed for ``z @ W`` (contiguous)."""
        p = len(self.sensors)
        return (np.ascontiguousarray(self.relation[:, 1 : 1 + p].T), np.ascontiguousarray(self.relation[:, 1 + p :].T))

    def _predict(self, z: np.ndarray) -> np.ndarray:
        """Each sensor as its relation predicts it from the others (the same sums as ``design(z) @ relation.T``)."""
        linear, square = self._weights
        return self.relation[:, 0] + z @ linear + (z * z) @ square

    def _bins(self, pace: np.ndarray) -> np.ndarray:
        """Pace bin per row; rows of unknown pace go to the busiest bin (the widest scales)."""
        return np.searchsorted(self.pace_edges, pace, side="right")  # NaN sorts after every edge

    def _rough_residual(self, logr: np.ndarray) -> np.ndarray:
        known = np.where(np.isfinite(logr), logr, 0.0)
        return logr - (known @ self._rough_weights + self.rough_coef[:, 0])

    def _anomaly(self, ev: dict, bins: np.ndarray, logr: np.ndarray):
        """``D`` per row and the two kinds of standardised evidence (rows x sensors)."""
        scale, count = self.relation_scale[bins], ev["count"]
        if count.min(initial=self.window) < self.window:  # fewer rows averaged: a wider scale
            scale = scale * np.sqrt(self.window / np.maximum(count, 1))
        e = ev["resid"] / scale
        if ev.get("clean") and np.isfinite(logr[0]).all():  # nothing missing: no NaN to clear
            g = np.minimum(0.0, (logr - (logr @ self._rough_weights + self.rough_coef[:, 0]) - self.rough_median[bins])
                           / self.rough_scale[bins])
        else:
            g = np.minimum(0.0, (self._rough_residual(logr) - self.rough_median[bins]) / self.rough_scale[bins])
            e, g = np.where(e == e, e, 0.0), np.where(g == g, g, 0.0)  # no evidence where NaN
        return (e * e).sum(axis=1) + (g * g).sum(axis=1), e, g

    @functools.cached_property
    def _rough_weights(self) -> np.ndarray:
        return np.ascontiguousarray(self.rough_coef[:, 1:].T)

    @functools.cached_property
    def _jacobian_parts(self) -> tuple[np.ndarray, ...]:
        """``[F, Q]`` and ``[F*F, F*Q, Q*Q]``: with ``F = I - linear coefficients`` and ``Q`` the squared ones,
        d resid_k / d z_j = F[k, j] - 2 Q[k, j] z_j."""
        p = len(self.sensors)
        fixed, quad = np.eye(p) - self.relation[:, 1 : 1 + p], self.relation[:, 1 + p :]
        return np.hstack([fixed, quad]), np.hstack([fixed * fixed, fixed * quad, quad * quad])

    @functools.cached_property
    def _per_bin(self) -> tuple[np.ndarray, np.ndarray]:
        """Per pace bin: ``1 / relation scale`` and ``(1 / scale^2) @ [F*F, F*Q, Q*Q]`` (the diagnostics' rows
        differ in their bin only)."""
        inv = 1.0 / self.relation_scale
        return inv, (inv * inv) @ self._jacobian_parts[1]

    def _shares(self, z: np.ndarray, e: np.ndarray, g: np.ndarray, bins: np.ndarray) -> np.ndarray:
        """Each sensor's share: relation evidence removed by correcting it alone, plus its movement evidence.

        With ``a = e / scale`` and ``J[k, j] = F[k, j] - 2 Q[k, j] z_j`` the row's Jacobian, sensor ``j`` removes
        ``(a @ J)_j^2 / ((1/scale^2) @ J^2)_j``; both are sums over ``k`` that split into products with the fixed
        matrices, so no row needs a sensors x sensors matrix of its own."""
        linear = self._jacobian_parts[0]
        per_inv, per_b = self._per_bin
        p = len(self.sensors)
        a, b = (e * per_inv[bins]) @ linear, per_b[bins]
        num = a[:, :p] - 2.0 * z * a[:, p:]
        num *= num
        den = b[:, :p] - 4.0 * z * b[:, p : 2 * p] + 4.0 * z * z * b[:, 2 * p :]
        contrib = num / np.maximum(den, 1e-300) + g * g
        total = contrib.sum(axis=1, keepdims=True)
        if (total > 0).all():
            return contrib / total
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
        off = resting(off, len(values), self.window)
        with np.errstate(invalid="ignore", over="ignore"):
            finite = values if np.isfinite(values).all() else np.where(np.isfinite(values), values, np.nan)
            z = np.clip((finite - self.mean) / self.std, -CLIP, CLIP)
        ev = self._evidence(z, ~off)
        last = min(len(values), n + self.persistence - 1)  # the rows whose anomaly the scored rows' persistence reads
        clean = ev.pop("clean")
        ev = {k: v[-last:] for k, v in ev.items()} | {"clean": clean}
        off = off[-last:]
        bins = self._bins(ev["pace"])
        logr = np.log(ev["rough"] + self.rough_eps)
        d, e, g = self._anomaly(ev, bins, logr)
        any_off = off.any()
        if any_off:
            d = np.where(off, np.nan, d)
        held = trailing(d, self.persistence, "min")[-n:]
        if any_off:
            held = np.where(np.isfinite(held) & ~off[-n:], held, 0.0)
        score = held / (held + self.threshold)
        shares = self._shares(ev["z"][-n:], e[-n:], g[-n:], bins[-n:])
        if any_off:
            shares[off[-n:]] = 1.0 / len(self.sensors)
        return Scores(score, score >= 0.5, shares)

    # -- JSON ------------------------------------------------------------------------------------------------------
    _ARRAYS = ("mean", "std", "relation", "pace_edges", "relation_scale", "rough_eps", "rough_coef",
               "rough_median", "rough_scale")

    def to_dict(self) -> dict:
        """Plain JSON-ready data (lists of floats); :meth:`from_dict` gives a detector that scores identically."""
        out = {"format": FORMAT, "sensors": list(self.sensors), "threshold": self.threshold,
               "window": self.window, "persistence": self.persistence, "step": self.step}
        out.update({k: getattr(self, k).tolist() for k in self._ARRAYS})
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Detector:
        """The detector :meth:`to_dict` gave (one saved before ``step`` was kept was fitted at 60 s per row)."""
        if data.get("format") != FORMAT:
            raise ValueError(f"not a detector of format {FORMAT!r} (format: {data.get('format')!r})")
        arrays = {k: np.array(data[k], dtype=float) for k in cls._ARRAYS}
        p = len(data["sensors"])
        arrays["relation"] = arrays["relation"].reshape(p, 1 + 2 * p)
        arrays["rough_coef"] = arrays["rough_coef"].reshape(p, 1 + p)
        for k in ("relation_scale", "rough_median", "rough_scale"):
            arrays[k] = arrays[k].reshape(-1, p)
        return cls(list(data["sensors"]), threshold=float(data["threshold"]), window=int(data["window"]),
                   persistence=int(data["persistence"]), step=float(data.get("step", 60.0)), **arrays)


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
    def fit(cls, values, sensors, off=None, use=None, step=None) -> ZScoreBaseline:
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


def events(times, anomalous: np.ndarray, shares: np.ndarray, max_gap: int = 10) -> list[dict]:
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
