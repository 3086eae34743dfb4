"""Waiting for a job of the service (an ingestion, a training) to leave a status, with a timeout and a progress bar.

The bar is tqdm.auto's (a widget in notebooks, text elsewhere), shown only after half a second and removed when
the wait ends; it counts seconds and shows the last status seen.

>>> seen = iter(["IN_PROGRESS", "IN_PROGRESS", "SUCCESS"])
>>> wait_while(lambda: {"Status": next(seen)}, "IN_PROGRESS", what="job j1", timeout=10, poll=0, progress=False)
{'Status': 'SUCCESS'}
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import WaitTimeout


@dataclass(frozen=True)
class WaitClock:
    """How the waiting functions tell time and pause: ``monotonic()`` in seconds and ``sleep(seconds)``.

    The default is this process's (:func:`time.monotonic`, :func:`time.sleep`). On a manual clock (the embedded
    endpoint's in tests and notebooks) pass one whose ``sleep`` moves that clock instead of waiting.

    >>> slept = []
    >>> fake = WaitClock(monotonic=lambda: sum(slept), sleep=slept.append)
    >>> fake.sleep(5); fake.monotonic()
    5
    """

    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], object] = time.sleep


def wait_while(describe: Callable[[], dict], status: str, *, what: str, timeout: float, poll: float,
               progress: bool = True, hint: str = "", clock: WaitClock | None = None) -> dict:
    """Call ``describe()`` until its ``Status`` is no longer ``status``; return that last response.

    The first polls come quickly (0.25 s, doubling) so that a short job costs a short wait; then every ``poll``
    seconds of ``clock`` (this process's by default). Raises :class:`WaitTimeout` naming ``what`` after
    ``timeout`` seconds (``hint`` ends the message).
    """
    from tqdm.auto import tqdm

    clock = clock or WaitClock()
    deadline = clock.monotonic() + timeout
    with tqdm(desc=f"waiting for {what}", total=None, disable=not progress, delay=0.5, leave=False,
              bar_format="{desc} ({elapsed})") as bar:
        interval = min(poll, 0.25)
        while True:
            raw = describe()
            current = raw.get("Status")
            bar.set_description_str(f"waiting for {what}: {current}", refresh=False)
            bar.update(0)
            if current != status:
                return raw
            remaining = deadline - clock.monotonic()
            if remaining <= 0:
                raise WaitTimeout(f"{what} is still {current} after {timeout:g} s; wait longer (timeout=...) or "
                                  f"call again with wait=False and look later{hint}", last_status=current)
            clock.sleep(max(0.0, min(interval, remaining)))
            interval = min(poll, interval * 2)
