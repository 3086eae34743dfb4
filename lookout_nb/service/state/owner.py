"""One endpoint per state_dir: an exclusive OS lock (``fcntl.flock``) on the state directory itself.

The lock is held on an open descriptor of the directory for the endpoint's whole life, so no file can be removed
or replaced to get around it (deleting ``<state_dir>/lock`` changes nothing), and the OS releases it when the
process ends, also on kill -9, so a stale lock never blocks a restart. ``<state_dir>/lock`` only tells who holds
it (PID and URL): a second endpoint on the same directory (in this process or another) refuses to start with one
line naming the directory and the holder, whose PID comes from the OS (``/proc/locks``) when the file is gone.

>>> owner = Owner("/tmp/lookout-state")        # doctest: +SKIP
>>> owner.announce("http://127.0.0.1:4566"); owner.release()   # doctest: +SKIP
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
from pathlib import Path

from .state import StateError

#: The file naming the holder (informative only: the lock is on the directory).
FILE = "lock"


class Owner:
    """The lock of one state_dir, held until :meth:`release`; :class:`StateError` naming the holder if taken."""

    def __init__(self, state_dir):
        self.dir = Path(state_dir)
        self.path = self.dir / FILE
        self._fd = None
        try:
            fd = os.open(self.dir, os.O_RDONLY | os.O_DIRECTORY)  # not inherited by child processes (PEP 446)
        except OSError as err:
            raise StateError(f"cannot lock the state directory {self.dir}: {err.strerror}; choose a directory you "
                             "can read and write") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            holder = _holder(fd, self.path) if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN) else None
            os.close(fd)
            if holder is None:  # e.g. a file system without locks: say so rather than blame another endpoint
                raise StateError(f"cannot lock the state directory {self.dir}: {err.strerror}; choose a directory on a "
                                 "local file system") from None
            raise StateError(
                f"the state directory {self.dir} is in use by another lookout-nb endpoint ({holder}); stop that one "
                f"first, or choose another --state-dir"
            ) from None
        self._fd = fd
        self._write({"pid": os.getpid(), "url": None})

    def _write(self, info: dict) -> None:
        """Tell who holds the lock in ``<state_dir>/lock`` (a new file each time: a deleted one comes back)."""
        try:
            tmp = self.path.with_name(f".{FILE}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(info))
            os.replace(tmp, self.path)
        except OSError:  # e.g. a full disk: the lock holds all the same, only the refusal names less
            pass

    def announce(self, url: str) -> None:
        """Record the URL this endpoint serves (what a second endpoint's refusal names)."""
        self._write({"pid": os.getpid(), "url": url})

    def release(self) -> None:
        """Let another endpoint use the directory (safe to call twice)."""
        if self._fd is not None:
            try:
                self.path.unlink(missing_ok=True)
            except OSError:
                pass
            os.close(self._fd)  # closing the last descriptor of the directory releases the lock
            self._fd = None


def _holder(fd: int, info_path: Path) -> str:
    """``process <pid>, serving <url>``: the PID from the OS where it tells, the URL from the lock file."""
    try:
        info = json.loads(info_path.read_text() or "{}")
    except (OSError, ValueError):
        info = {}
    if not isinstance(info, dict):
        info = {}
    pid = locker(fd)
    if pid is not None and info.get("pid") != pid:
        info = {"pid": pid}  # the file is gone or stale: the OS knows the PID, not the URL
    if info.get("pid") is None:
        return "a process that is starting"
    return f"process {info['pid']}, serving {info.get('url') or '(starting, or its lock file was removed)'}"


def locker(fd: int) -> int | None:
    """The PID holding a ``flock`` on the file of ``fd``, from ``/proc/locks`` (Linux); None when not known.

    >>> locker(os.open(".", os.O_RDONLY)) is None      # nobody holds one on the current directory
    True
    """
    st = os.fstat(fd)
    ident = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    try:
        with open("/proc/locks") as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == ident:
                    return int(fields[4])
    except (OSError, ValueError):
        pass
    return None
