"""Child processes that must not outlive their parent: stop signals turned into one exception, and a child stopped
with everything it started (its process group, and processes in sessions of their own such as Jupyter's kernels).

>>> import subprocess, sys
>>> child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
>>> stop_tree(child, timeout=5)
>>> child.poll() is not None
True
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

#: The signals that ask a program to stop: Ctrl-C, a plain kill / supervisor / ``timeout``, a closed terminal.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class StopRequested(KeyboardInterrupt):
    """A stop signal arrived (a KeyboardInterrupt, so code that stops on Ctrl-C stops on any of them)."""


@contextlib.contextmanager
def stop_signals_raise():
    """Within the block, SIGINT, SIGTERM and SIGHUP raise :class:`StopRequested`; the old handlers come back after.

    >>> with stop_signals_raise():
    ...     signal.getsignal(signal.SIGTERM).__name__
    '_raise_stop'
    """
    old = {sig: signal.signal(sig, _raise_stop) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def _raise_stop(signum, frame):
    for sig in STOP_SIGNALS:  # a second signal must not interrupt the cleanup it started
        signal.signal(sig, signal.SIG_IGN)
    raise StopRequested(signal.Signals(signum).name)


def stop_tree(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM ``process`` (started with ``start_new_session=True``), wait ``timeout`` s, then SIGKILL its group and
    every process found below it at the start (each checked by its start time, so a reused PID is left alone)."""
    below = descendants(process.pid)
    if process.poll() is None:
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    _signal_group(process, getattr(signal, "SIGKILL", signal.SIGTERM))
    for pid, started in below:
        if start_time(pid) == started:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
    process.wait()


def _signal_group(process: subprocess.Popen, sig) -> None:
    """``sig`` to the process group ``process`` leads; to ``process`` alone where there are no groups (Windows)."""
    with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
        if hasattr(os, "killpg"):
            os.killpg(process.pid, sig)
        elif process.poll() is None:
            process.terminate() if sig == signal.SIGTERM else process.kill()


def descendants(root: int) -> list[tuple[int, str]]:
    """Every live process below ``root`` as (pid, start time), read from /proc; empty where there is no /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _stat_fields(stat.parent.name)
        if fields:
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop()
        if (started := start_time(pid)) is not None:
            found.append((pid, started))
        todo += children.get(pid, [])
    return found


def _stat_fields(pid) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state first), or None when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def start_time(pid: int) -> str | None:
    """A process's start time (clock ticks since boot): with the PID, it names one process; None once it is gone
    or a zombie."""
    fields = _stat_fields(pid)
    return fields[19] if fields and fields[0] != "Z" else None
