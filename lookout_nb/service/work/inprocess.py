"""The in-process executor: background jobs in daemon threads, due runs on the caller's thread.

>>> import threading
>>> work, done = InProcess(), threading.Event()
>>> work.background("demo", done.set).join(5)
>>> done.is_set(), work.stopping()
(True, False)
>>> work.stop(); work.stopping()
True
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable


class InProcess:
    """Runs the service's work in this process (see :mod:`lookout_nb.service.work`)."""

    def __init__(self) -> None:
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def background(self, name: str, fn: Callable, *args) -> threading.Thread:
        """Start ``fn(*args)`` in a daemon thread named ``lookout-nb-<name>``; returns the thread (``join`` waits
        for it)."""
        thread = threading.Thread(target=fn, args=args, daemon=True, name=f"lookout-nb-{name}")
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return thread

    def run_all(self, execute: Callable, runs: Iterable) -> list:
        """``[execute(run) for run in runs]``, one after the other on this thread: the runner works in-process,
        where threads would only take turns at the GIL (a day of 200 PT5M schedulers ran 1.6-1.8x faster than on
        4 threads, also with fsyncs of a state_dir)."""
        return [execute(run) for run in runs]

    def call(self, fn: Callable, *args, **kwargs):
        """``fn(*args, **kwargs)`` here (a model training; another executor runs it elsewhere)."""
        return fn(*args, **kwargs)

    def stopping(self) -> bool:
        """Whether :meth:`stop` was called: a job that ends now records that the endpoint stopped."""
        return self._stopping.is_set()

    def wait_for_stop(self, timeout: float) -> bool:
        """Wait until :meth:`stop` is called (at most ``timeout`` seconds); whether it was."""
        return self._stopping.wait(timeout)

    def request_stop(self) -> None:
        """Tell the running jobs to stop (they see :meth:`stopping`), without waiting for them."""
        self._stopping.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the background jobs to stop and wait up to ``timeout`` seconds for each thread."""
        self.request_stop()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)
