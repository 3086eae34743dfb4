"""Serve processes and a Dask cluster for the scale tests and benchmarks: ``lookout-nb serve`` in child processes
(stopped by their PID: SIGTERM, or SIGKILL to play a crash), and a LocalCluster of worker processes.

>>> with Serve(["--db", url, "--clock", "real", "--speed", "60"]) as a:     # doctest: +SKIP
...     a.lookout().list_models()
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time

import boto3


class Serve:
    """One ``lookout-nb serve`` child process: ``.url``, ``.lookout()``, ``.kill()`` (SIGKILL), ``.stop()``."""

    def __init__(self, args: list[str], env: dict | None = None):
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - a file, not a pipe that could fill up
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lookout_nb.service.cli", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=self.log, env={**os.environ, **(env or {})}, text=True)
        line = self.process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+", line)
        if not found:
            raise RuntimeError(f"serve did not start: {line}{self.stop()[-3000:]}")
        self.url = found.group(0)

    def lookout(self):
        return boto3.client("lookoutequipment", endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id="any", aws_secret_access_key="any")

    def kill(self) -> str:
        """SIGKILL: the process ends at once, in the middle of whatever it does."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> str:
        """SIGTERM, and wait; returns what it wrote to stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(30)
        self.log.seek(0)
        return self.log.read()

    def __enter__(self) -> Serve:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def dask_cluster(workers: int = 2, threads: int = 1):
    """A LocalCluster of ``workers`` worker processes (``threads`` each) on 127.0.0.1."""
    from distributed import LocalCluster

    return LocalCluster(n_workers=workers, threads_per_worker=threads, processes=True, host="127.0.0.1",
                        dashboard_address=":0")


def wait_for(condition, timeout: float, what: str, every: float = 0.2):
    """Poll ``condition()`` until it is truthy (returns it); AssertionError naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(every)
