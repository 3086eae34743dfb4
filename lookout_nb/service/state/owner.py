"""One endpoint per state_dir: an exclusive OS lock (``fcntl.flock``) on ``<state_dir>/lock``.

The lock file holds the owner's PID and URL, so a second endpoint on the same directory (in this process or
another) refuses to start with one line naming them. The OS releases the lock when the process ends, also on
kill -9, so a stale file never blocks a restart.

>>> owner = Owner("/tmp/lookout-state")        # doctest: +SKIP
>>> owner.announce("http://127.0.0.1:4566"); owner.release()   # doctest: +SKIP
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from .state import StateError

FILE = "lock"


class Owner:
    """The lock of one state_dir, held until :meth:`release`; :class:`StateError` naming the holder if taken."""

    def __init__(self, state_dir):
        self.path = Path(state_dir) / FILE
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise StateError(f"cannot lock the state directory {self.path.parent}: {err.strerror}; choose a directory "
                             "you can write") from None
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = self._holder()
            os.close(self._fd)
            self._fd = None
            raise StateError(
                f"the state directory {self.path.parent} is in use by another lookout-nb endpoint ({holder}); stop "
                f"that one first, or choose another --state-dir"
            ) from None
        self._write({"pid": os.getpid(), "url": None})

    def _holder(self) -> str:
        try:
            info = json.loads(os.pread(self._fd, 4096, 0) or b"{}")
            return f"process {info.get('pid', '?')}, serving {info.get('url') or '(starting)'}"
        except (OSError, ValueError, AttributeError):
            return "a process that is starting"

    def _write(self, info: dict) -> None:
        try:
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, json.dumps(info).encode(), 0)
        except OSError:  # e.g. a full disk: the lock holds all the same, only the refusal names less
            pass

    def announce(self, url: str) -> None:
        """Record the URL this endpoint serves (what a second endpoint's refusal names)."""
        self._write({"pid": os.getpid(), "url": url})

    def release(self) -> None:
        """Let another endpoint use the directory (safe to call twice)."""
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)
            except OSError:
                pass
            os.close(self._fd)
            self._fd = None
