"""The detector's numpy kernels: trailing sums and means over a few rows, moments, ridge regressions from a Gram
matrix, chunking. Plain functions of arrays, no state.

>>> import numpy as np
>>> shifted_sum(np.array([1.0, 2.0, 3.0]), 2)
array([1., 3., 5.])
"""

from __future__ import annotations

import functools

import numpy as np

#: Ridge penalty per training row on standardised features.
RIDGE = 1e-3
#: Standard deviations below this are treated as this (a constant sensor must not divide by zero).
MIN_STD = 1e-6
#: Rows per chunk when fitting streams the normal equations and the evidence.
CHUNK_ROWS = 8_192


def shifted_sum(a: np.ndarray, w: int) -> np.ndarray:
    """Sum of the last ``w`` rows (fewer at the start), added oldest first: a row's sum depends only on its window."""
    n = len(a)
    if w <= 1 or n == 0:
        return a.astype(float, copy=True)
    padded = np.concatenate([np.zeros((w - 1,) + a.shape[1:]), a])  # adding the zeros first changes no sum
    total = padded[:n].copy()
    for k in range(1, w):
        total += padded[k : k + n]
    return total


@functools.lru_cache(maxsize=64)
def first_step_missing(p: int) -> bytes:
    """The first-row mask of ``[residuals, steps]``: the steps are missing in the first row."""
    return np.r_[np.zeros(p, bool), np.ones(p, bool)].tobytes()


@functools.lru_cache(maxsize=64)
def window_counts(n: int, w: int, first_missing: bytes) -> tuple:
    """Rows in each trailing window of ``w`` when only the first row may miss values (``first_missing``, a bool
    mask per column, as bytes): the counts, the counts of at least 1, and where none are (None if nowhere)."""
    missing = np.frombuffer(first_missing, dtype=bool)
    rows = np.arange(n)
    count = (np.minimum(rows + 1, w)[:, None] - missing[None, :] * (rows < w)[:, None]).astype(float)
    safe, empty = np.maximum(count, 1.0), count == 0
    for a in (count, safe, empty):
        a.flags.writeable = False
    return count, safe, empty if empty.any() else None


def trailing_mean(a: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the finite values among the last ``w`` rows of each column, and how many there were."""
    ok = np.isfinite(a)
    if len(a) and ok[1:].all():  # missing values in the first row at most (steps): counts from the row numbers
        counts = window_counts if a.size <= 65_536 else window_counts.__wrapped__  # cache small windows only
        count, safe, empty = counts(len(a), w, (~ok[0]).tobytes())
        if not ok[0].all():
            a = a.copy()
            a[0, ~ok[0]] = 0.0
        mean = shifted_sum(a, w)
        mean /= safe
        if empty is not None:
            mean[empty] = np.nan
        return mean, count
    both = shifted_sum(np.hstack([np.where(ok, a, 0.0), ok]), w)  # sums and counts in one pass
    total, count = both[:, : a.shape[1]], both[:, a.shape[1] :]
    return np.where(count > 0, total / np.maximum(count, 1), np.nan), count


def trailing(a: np.ndarray, w: int, how: str) -> np.ndarray:
    """Max or min of the last ``w`` values of a 1-d array (NaN skipped; NaN when all are missing)."""
    pick = np.fmax if how == "max" else np.fmin
    out = np.array(a, dtype=float)
    for k in range(1, min(w, len(a))):
        pick(out[k:], a[: len(a) - k], out=out[k:])
    return out


def column_quantile(block: np.ndarray, q):
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


def ridge(gram: np.ndarray, cross: np.ndarray, cols: list, n: int) -> np.ndarray:
    """Ridge coefficients on the features ``cols`` of a Gram matrix over ``n`` rows (``cols[0]``, the intercept,
    is not penalised)."""
    sub = gram[np.ix_(cols, cols)] + RIDGE * n * np.diag([0.0] + [1.0] * (len(cols) - 1))
    return np.linalg.solve(sub, cross[cols])


def filled(z: np.ndarray) -> np.ndarray:
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


def resting(off: np.ndarray | None, n: int, w: int) -> np.ndarray:
    """Rows that are off or within ``w`` rows after an off row (the machine settling after a start)."""
    if off is None:
        return np.zeros(n, bool)
    off = np.asarray(off, bool)
    if not off.any():
        return off
    return off | (trailing(off.astype(float), w + 1, "max") > 0)


def design(z: np.ndarray) -> np.ndarray:
    """``[1, z, z^2]``: the features every relation is a linear function of (own sensor's weights are zero)."""
    return np.hstack([np.ones((len(z), 1)), z, z * z])


def moments(values: np.ndarray, learn: np.ndarray, sensors: list) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each sensor's finite values on the ``learn`` rows, a chunk at a time.

    Raises ValueError naming the sensor when one has fewer than two distinct values there."""
    p = values.shape[1]
    count, total, low, high = np.zeros(p), np.zeros(p), np.full(p, np.inf), np.full(p, -np.inf)
    for a, b in chunks(len(values)):
        x = values[a:b][learn[a:b]]
        ok = np.isfinite(x)
        count += ok.sum(axis=0)
        total += np.where(ok, x, 0.0).sum(axis=0)
        low, high = np.fmin(low, np.where(ok, x, np.inf).min(axis=0, initial=np.inf)), np.fmax(
            high, np.where(ok, x, -np.inf).max(axis=0, initial=-np.inf))
    mean = total / np.maximum(count, 1)
    square = np.zeros(p)
    for a, b in chunks(len(values)):
        x = values[a:b][learn[a:b]] - mean
        square += np.where(np.isfinite(x), x * x, 0.0).sum(axis=0)
    for j, name in enumerate(sensors):
        if count[j] < 2 or not high[j] > low[j]:
            raise ValueError(f"sensor {name} is constant or empty on the rows to learn from")
    return mean, np.maximum(np.sqrt(square / np.maximum(count, 1)), MIN_STD)


def chunks(n: int, size: int | None = None):
    """``(start, end)`` row ranges of at most ``size`` rows covering ``range(n)``."""
    size = size or CHUNK_ROWS
    return [(a, min(a + size, n)) for a in range(0, n, size)]


def leave_own_out(gram: np.ndarray, n: int, own: np.ndarray) -> np.ndarray:
    """Ridge coefficients predicting each sensor's feature column from the other features of a Gram matrix over
    ``n`` rows, leaving out the sensor's own features: ``own[j]`` lists the columns sensor ``j`` may not use, the
    first being its target. Column 0 (the intercept) is not penalised. One inverse serves every sensor: a ridge
    regression of one column on the others is ``-M[:, t] / M[t, t]`` with ``M`` the inverse of the penalised Gram
    matrix, and leaving a further column ``k`` out is a rank-one downdate of ``M``.
    """
    size = len(gram)
    penalised = gram + RIDGE * n * np.diag(np.r_[0.0, np.ones(size - 1)])
    inverse = np.linalg.inv(penalised)
    target = own[:, 0]
    cols = inverse[:, target]  # size x sensors
    for k in own.T[1:]:  # leave each further own column out: M - M[:, k] M[k, :] / M[k, k], on the target columns
        cols = cols - inverse[:, k] * (cols[k, np.arange(len(k))] / inverse[k, k])
    coef = -(cols / cols[target, np.arange(len(target))]).T
    for k in own.T:
        coef[np.arange(len(k)), k] = 0.0
    return coef
