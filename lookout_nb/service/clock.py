"""Clocks of the embedded endpoint: manual (tests, notebooks), real time, or real time sped up.

Every clock answers ``now()`` with a tz-aware UTC :class:`pandas.Timestamp`. The endpoint attaches a *driver*
to the clock: something that knows the next moment a run is due and executes the runs due at a moment.

- :class:`ManualClock` starts at :data:`MANUAL_START` (2026-01-05T09:00:00Z, a Monday) and moves only when told.
  ``advance(delta)`` walks through every due moment in order, runs what is due there, and returns when all of
  it has finished, so a test can assert on the executions right after it.
- :class:`RealClock` follows the wall clock, ``speed`` times faster (``speed=60``: one simulated hour per real
  minute), starting from the current time (or, restarted on a state_dir, from the saved service time if that is
  later: a clock never goes back). A background thread runs what becomes due.
- Every move first lets the driver *catch up*: at most ``CATCH_UP`` runs per scheduler per move (see
  :mod:`.api.schedulers`), so a jump of years answers in seconds. Times stay within [:data:`EARLIEST`, :data:`LATEST`].

>>> clock = ManualClock()
>>> clock.now()
Timestamp('2026-01-05 09:00:00+0000', tz='UTC')
>>> clock.advance(pd.Timedelta(minutes=5))
Timestamp('2026-01-05 09:05:00+0000', tz='UTC')
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Protocol

import pandas as pd

from ..contract.naming import to_utc
from ..errors import InvalidArgument, LookoutNbError

#: Where every manual clock starts: a round, documented time so tests are deterministic.
MANUAL_START = pd.Timestamp("2026-01-05T09:00:00Z")
#: The range of clock times (pandas' nanosecond range, with a margin for a run's window and delay).
EARLIEST, LATEST = pd.Timestamp("1970-01-01T00:00:00Z"), pd.Timestamp("2262-01-01T00:00:00Z")


def wall_seconds() -> float:
    """The machine's wall clock in epoch seconds: what SigV4 signatures are dated by (:mod:`.http.auth` checks their
    skew against it, never against a service clock that may be manual or sped up)."""
    return time.time()


def in_range(when: pd.Timestamp, name: str, value) -> pd.Timestamp:
    """``when`` if it lies within [EARLIEST, LATEST]; ValueError naming ``name`` and ``value`` otherwise."""
    if not EARLIEST <= when <= LATEST:
        raise ValueError(
            f"{name}={value!r} takes the clock to {when}, outside the range it supports "
            f"({EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d}); pass a nearer time"
        )
    return when


class Driver(Protocol):
    """What a clock drives: the next due moment, and the work due at a moment."""

    def next_due(self, until: pd.Timestamp) -> pd.Timestamp | None:
        """The earliest moment <= ``until`` at which something is due, or None."""

    def fire(self, now: pd.Timestamp) -> None:
        """Do everything due at or before ``now`` (runs, feeder files)."""

    def catch_up(self, until: pd.Timestamp) -> None:
        """Before a move to ``until``: drop what is due beyond the catch-up limit."""

    def moved(self, mark: pd.Timestamp) -> None:
        """The clock has reached (a real clock: will not be behind) ``mark``: save it."""


def to_delta(value, name: str = "delta") -> pd.Timedelta:
    """A Timedelta from a timedelta or pandas text (``"5min"``); :class:`InvalidArgument` naming ``name`` when
    ``value`` is missing (None, NaT) or not a duration.

    >>> to_delta("5min")
    Timedelta('0 days 00:05:00')
    """
    try:
        delta = pd.Timedelta(value)
    except (TypeError, ValueError) as err:
        raise InvalidArgument(f"{name}={value!r} is not a duration: pass a timedelta or text such as '10min'") from err
    if delta is pd.NaT:
        raise InvalidArgument(f"{name} is missing ({value!r}): pass a duration such as pd.Timedelta(minutes=10)")
    return delta


class _NoDriver:
    def next_due(self, until):
        return None

    def fire(self, now):
        pass

    def catch_up(self, until):
        pass

    def moved(self, mark):
        pass


class ManualClock:
    """A clock that moves only when told (``advance`` / ``set``); runs happen inside those calls."""

    kind = "manual"
    #: How long a status change (PENDING -> RUNNING, STOPPING -> STOPPED) takes in clock time: any move settles it.
    settle = pd.Timedelta(0)

    def __init__(self, start=MANUAL_START):
        self._now = to_utc(start, "start")
        self._lock = threading.RLock()
        self._driver: Driver = _NoDriver()

    def attach(self, driver: Driver) -> None:
        """Let ``driver`` execute what becomes due while the clock moves."""
        self._driver = driver

    def now(self) -> pd.Timestamp:
        """The current simulated time (tz-aware UTC)."""
        return self._now

    def advance(self, delta) -> pd.Timestamp:
        """Move forward by ``delta`` (a timedelta or ``"5min"``), running every due run on the way.

        Returns the new time once every run that became due has finished.
        """
        original, delta = delta, to_delta(delta, "delta")
        if delta < pd.Timedelta(0):
            raise ValueError(f"a clock cannot go back (advance by {delta})")
        with self._lock:
            if delta > LATEST - self._now:
                raise ValueError(
                    f"advance={original!r} takes the clock beyond {LATEST:%Y-%m-%d}, the latest time it supports; "
                    f"advance by less"
                )
            return self._move_to(self._now + delta)

    def set(self, when) -> pd.Timestamp:
        """Move forward to ``when`` (running what becomes due); moving backwards raises ValueError."""
        when = in_range(to_utc(when, "when"), "when", when)
        with self._lock:
            if when < self._now:
                raise ValueError(f"a clock cannot go back (from {self._now} to {when})")
            return self._move_to(when)

    def _move_to(self, target: pd.Timestamp) -> pd.Timestamp:
        self._driver.catch_up(target)
        while True:
            due = self._driver.next_due(target)
            if due is None:
                break
            self._now = max(self._now, due)
            self._driver.fire(self._now)
        self._now = target
        self._driver.fire(target)
        self._driver.moved(target)
        return target

    def start(self) -> None:
        """Nothing to start: the manual clock has no thread."""

    def stop(self) -> None:
        """Nothing to stop."""

    def __repr__(self) -> str:
        return f"ManualClock(now={self._now.isoformat()})"


class RealClock:
    """Wall-clock time, optionally sped up; a daemon thread runs what becomes due.

    >>> clock = RealClock(speed=60)   # one simulated minute per real second
    """

    kind = "real"

    def __init__(self, speed: float = 1.0, start=None, poll: float = 0.2):
        if not isinstance(speed, (int, float)) or not math.isfinite(speed) or speed <= 0:
            raise ValueError(f"speed must be a finite number above 0 (got {speed!r})")
        self.speed = float(speed)
        self._origin = (in_range(to_utc(start, "start"), "start", start) if start is not None
                        else pd.Timestamp.now(tz="UTC"))
        self._t0 = time.monotonic()
        self._poll = poll
        self._driver: Driver = _NoDriver()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: Status changes take about two real seconds, like the service's own short PENDING phase.
        self.settle = pd.Timedelta(seconds=2 * self.speed)
        #: The saved service time runs this far ahead (one real second), so a restart never resumes behind
        #: a time already reported.
        self.lease = pd.Timedelta(seconds=self.speed)
        self._mark: pd.Timestamp | None = None

    def attach(self, driver: Driver) -> None:
        self._driver = driver

    def now(self) -> pd.Timestamp:
        elapsed = (time.monotonic() - self._t0) * self.speed
        return self._origin + pd.Timedelta(seconds=elapsed)

    def advance(self, delta):
        raise TypeError("a real clock cannot be advanced by hand; start the endpoint with clock='manual'")

    def set(self, when):
        raise TypeError("a real clock cannot be set; start the endpoint with clock='manual'")

    def start(self) -> None:
        """Start the background thread that runs what becomes due."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="lookout-nb-clock", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            now = self.now()
            try:
                if self._mark is None or now + self.lease / 2 > self._mark:
                    self._driver.moved(now + self.lease)
                    self._mark = now + self.lease
                self._driver.catch_up(now)
                self._driver.fire(now)
            except LookoutNbError as err:  # e.g. the disk is full: one line, and it tries again next time
                logging.getLogger(__name__).warning("lookout_nb.service: the clock could not move on: %s", err)
            except Exception:  # keep the clock alive
                logging.getLogger(__name__).exception("lookout_nb.service: a scheduled run failed")
            due = self._driver.next_due(now + pd.Timedelta(seconds=self._poll * self.speed))
            wait = self._poll if due is None else max(0.0, (due - self.now()).total_seconds() / self.speed)
            self._stop.wait(min(wait, self._poll))

    def __repr__(self) -> str:
        return f"RealClock(speed={self.speed:g}, now={self.now().isoformat()})"


def make_clock(clock="manual", speed: float | None = None, start=None):
    """A clock from the ``start()`` arguments: ``"manual"``, ``"real"``, or a speed factor (``60.0``)."""
    if isinstance(clock, (ManualClock, RealClock)):
        return clock
    if isinstance(clock, (int, float)) and not isinstance(clock, bool):
        return RealClock(speed=float(clock), start=start)
    if clock == "manual":
        if speed not in (None, 1, 1.0):
            raise ValueError("speed applies to real clocks only (clock='real', speed=60)")
        return ManualClock(start if start is not None else MANUAL_START)
    if clock == "real":
        return RealClock(speed=float(speed or 1.0), start=start)
    raise ValueError(f"clock must be 'manual', 'real' or a speed factor (got {clock!r})")

