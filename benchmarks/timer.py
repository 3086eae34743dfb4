"""The one timing helper the benchmark scripts share (run them from the repository root or benchmarks/)."""

from __future__ import annotations

import time


def best(fn, repeat: int):
    """``(fastest wall time in seconds, fn's last result)`` over ``repeat`` calls of ``fn``."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out
