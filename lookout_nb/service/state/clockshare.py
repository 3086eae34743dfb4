"""One service time for every serve process of a shared store (``--db postgresql://...``).

- A real or sped-up clock: its *origin* is a ``meta`` row, ``{"service": <service time>, "wall": <epoch seconds>,
  "speed": <factor>}``, written by the first process to start (or by a process that starts when no other is alive,
  from the saved service time: a clock never goes back); every process computes ``now`` from it, so they agree
  (as far as the machines' wall clocks agree: NTP keeps that within milliseconds). A process started with another
  speed than the running service's is refused, naming both.
- The manual clock: its time is the ``meta`` row ``clock``; :class:`SharedManualClock` reads it in ``now()`` and
  moves from it, so ``advance`` through any process moves it for all (the process that advances runs what is due).

>>> clock = shared_clock("manual", None, store)      # doctest: +SKIP
"""

from __future__ import annotations

import json
import time

import pandas as pd

from ..clock import MANUAL_START, ManualClock, RealClock, make_clock
from .claims import LEASE
from .state import StateError


class SharedManualClock(ManualClock):
    """A manual clock whose time is the store's: moved by any process, seen by all."""

    def __init__(self, store, start=MANUAL_START):
        super().__init__(start)
        self.store = store

    def now(self) -> pd.Timestamp:
        saved = self.store.meta("clock")
        if saved is not None:
            self._now = max(self._now, pd.Timestamp(saved).tz_convert("UTC"))
        return self._now

    def advance(self, delta) -> pd.Timestamp:
        with self._lock:
            self.now()
            return super().advance(delta)

    def set(self, when) -> pd.Timestamp:
        with self._lock:
            self.now()
            return super().set(when)


def shared_clock(clock, speed, store):
    """The clock of ``start(clock=..., speed=...)`` on a shared store (see the module docstring)."""
    if isinstance(clock, (ManualClock, RealClock)):
        return clock
    made = make_clock(clock, speed=speed)
    if isinstance(made, ManualClock):
        return SharedManualClock(store, max(MANUAL_START, store.clock_mark or MANUAL_START))
    store.enter()  # the lock of every process: one of them decides the origin
    try:
        origin = _origin(store)
        if origin is None or not store.others_alive(LEASE):
            saved = store.clock_mark
            service = made.now() if saved is None or made.now() >= saved else saved
            origin = {"service": service.isoformat(), "wall": time.time(), "speed": made.speed}
            store.put_meta("origin", json.dumps(origin))
    finally:
        store.leave()
    if origin["speed"] != made.speed:
        raise StateError(f"the service of {store.path} runs at --speed {origin['speed']:g}; start this process with "
                         f"--speed {origin['speed']:g} too (it was given {made.speed:g}), or stop the others first")
    elapsed = (time.time() - origin["wall"]) * made.speed
    return RealClock(speed=made.speed, start=pd.Timestamp(origin["service"]) + pd.Timedelta(seconds=elapsed))


def _origin(store) -> dict | None:
    text = store.meta("origin")
    try:
        origin = json.loads(text) if text else None
        return origin if isinstance(origin, dict) and {"service", "wall", "speed"} <= set(origin) else None
    except ValueError:
        return None
