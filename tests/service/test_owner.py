"""The owner lock of a state_dir: an OS lock on the directory that deleting a file cannot get around, and that
the OS drops when its holder is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import crashkit
import pytest

from lookout_nb.errors import LookoutNbError
from lookout_nb.service import start
from lookout_nb.service.state.owner import FILE, Owner


def _second_serve(state_dir) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(crashkit.ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "lookout_nb.service.cli", "serve", "--port", "0", "--state-dir", str(state_dir)],
        capture_output=True, text=True, timeout=120, env=env,
    )


def test_deleting_the_lock_file_does_not_let_a_second_endpoint_in(tmp_path):
    first, url = crashkit.serve(tmp_path, "--clock", "manual")
    try:
        (tmp_path / FILE).unlink()
        second = _second_serve(tmp_path)
        assert second.returncode == 2, second.stderr
        assert str(tmp_path) in second.stderr and f"process {first.pid}" in second.stderr
        buckets = crashkit.client(url).list_models()["ModelSummaries"]  # the first one still serves, its data kept
        assert buckets and first.poll() is None
    finally:
        first.terminate()
        first.wait(timeout=60)


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    first, _ = crashkit.serve(tmp_path, "--clock", "manual")
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=60)
    assert (tmp_path / FILE).exists()  # the file stays behind; the lock does not
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        assert ep.lookout().list_models()["ModelSummaries"]  # the demo model of the killed one, restored


def test_a_refusal_in_the_same_process_names_the_directory_and_pid_without_the_file(tmp_path):
    holder = Owner(tmp_path)
    try:
        (tmp_path / FILE).unlink()
        with pytest.raises(LookoutNbError, match=rf"{tmp_path} is in use .*process {os.getpid()}"):
            Owner(tmp_path)
    finally:
        holder.release()
    Owner(tmp_path).release()  # free again


def test_an_unreadable_directory_is_named(tmp_path):
    with pytest.raises(LookoutNbError, match=rf"cannot lock the state directory {tmp_path / 'nope'}"):
        Owner(tmp_path / "nope")


def test_a_file_system_without_locks_is_said_so_not_blamed_on_another_endpoint(tmp_path, monkeypatch):
    import errno
    import fcntl

    def no_locks(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    with pytest.raises(LookoutNbError, match=rf"cannot lock the state directory {tmp_path}: No locks available; "
                                             "choose a directory on a local file system"):
        Owner(tmp_path)
