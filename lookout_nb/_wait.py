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

from .errors import WaitTimeout

# Time functions, replaceable in tests; never used for assertions.
_sleep = time.sleep
_monotonic = time.monotonic


def wait_while(describe: Callable[[], dict], status: str, *, what: str, timeout: float, poll: float,
               progress: bool = True, hint: str = "") -> dict:
    """Call ``describe()`` until its ``Status`` is no longer ``status``; return that last response.

    The first polls come quickly (0.25 s, doubling) so that a short job costs a short wait; then every ``poll``
    seconds. Raises :class:`WaitTimeout` naming ``what`` after ``timeout`` seconds (``hint`` ends the message).
    """
    from tqdm.auto import tqdm

    start = _monotonic()
    deadline = start + timeout
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
            remaining = deadline - _monotonic()
            if remaining <= 0:
                raise WaitTimeout(f"{what} is still {current} after {timeout:g} s; wait longer (timeout=...) or "
                                  f"call again with wait=False and look later{hint}", last_status=current)
            _sleep(max(0.0, min(interval, remaining)))
            interval = min(poll, interval * 2)
