"""How often the monitor refreshes: about a fifth of the upload frequency in service time, in real seconds.

The service's clock may run faster than the wall clock (the embedded demo endpoint at 60x), at real time (AWS),
or not move by itself at all (a manual clock, moved by hand). :class:`Pace` learns how fast it moves from the
service times that the refreshes read, against the real monotonic clock, and turns an upload frequency into a
refresh period, clamped to 1-30 s.

>>> pace = Pace()
>>> pace.period(pd.Timedelta("5min"))            # speed unknown yet: soon, to learn it
2
>>> pace.add(pd.Timestamp("2026-01-05 09:00Z"), real=0.0)
>>> pace.add(pd.Timestamp("2026-01-05 09:03Z"), real=3.0)   # 180 s of service time in 3 real seconds
>>> pace.speed, pace.period(pd.Timedelta("5min"))           # a run every 5 real seconds: refresh every second
(60.0, 1)
"""

from __future__ import annotations

import threading
import time
from collections import deque

import pandas as pd

#: The refresh period's bounds, real seconds.
MIN_PERIOD, MAX_PERIOD = 1, 30
#: The period before the speed is known: short, so that the second refresh measures it.
FIRST_PERIOD = 2
#: The period when the service clock does not move by itself (a manual clock): check every few seconds.
STILL_PERIOD = 5
#: Real seconds between two samples before their speed is trusted (the HTTP Date header has whole seconds).
MIN_BASELINE = 1.5
#: Real seconds of samples kept: the speed is measured over the last minute or so.
WINDOW = 60.0
#: The refresh period is this share of the upload frequency (in service time).
SHARE = 1 / 5


class Pace:
    """The speed of the service clock (service seconds per real second), from ``(service time, real time)`` samples.

    Service times that move backwards are ignored (a clock never goes back). ``real`` is the real clock, in
    seconds (``time.monotonic``; tests pass their own).
    """

    def __init__(self, real=time.monotonic):
        self._real = real
        self._samples: deque[tuple[float, pd.Timestamp]] = deque()
        self._lock = threading.Lock()

    def add(self, service_now: pd.Timestamp, real: float | None = None) -> None:
        """Record that the service said ``service_now`` at the real time ``real`` (default: the real clock's now)."""
        real = self._real() if real is None else float(real)
        with self._lock:
            if self._samples and service_now < self._samples[-1][1]:
                return
            self._samples.append((real, service_now))
            while len(self._samples) > 2 and real - self._samples[1][0] >= WINDOW:
                self._samples.popleft()

    @property
    def speed(self) -> float | None:
        """Service seconds per real second over the samples kept; None until they span ``MIN_BASELINE`` s."""
        with self._lock:
            if len(self._samples) < 2:
                return None
            (r0, s0), (r1, s1) = self._samples[0], self._samples[-1]
        if r1 - r0 < MIN_BASELINE:
            return None
        return max(0.0, (s1 - s0).total_seconds() / (r1 - r0))

    def period(self, frequency: pd.Timedelta | None) -> int:
        """Real seconds between refreshes for a scheduler of upload ``frequency``, from 1 to 30.

        >>> pace = Pace()
        >>> pace.add(pd.Timestamp("2026-01-05 09:00Z"), 0); pace.add(pd.Timestamp("2026-01-05 09:00:02Z"), 2)
        >>> pace.period(pd.Timedelta("5min"))   # real time: 60 s, clamped to 30
        30
        """
        speed = self.speed
        if speed is None:
            return FIRST_PERIOD
        if speed < 1e-3:
            return STILL_PERIOD
        if frequency is None:
            return MAX_PERIOD
        seconds = pd.Timedelta(frequency).total_seconds() * SHARE / speed
        return int(min(MAX_PERIOD, max(MIN_PERIOD, round(seconds))))
