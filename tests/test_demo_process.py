"""``lookout-nb demo`` as a process: any stop signal stops everything it started, with no JupyterLab prompt on the
terminal; ``--state-dir`` keeps a model trained in the demo across a restart.

Each demo runs on a pseudo-terminal (stdin, stdout and stderr, as in a user's shell) in a session of its own, with
a temporary HOME and Jupyter folders; the test kills whatever is left of it at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from browser_support import require
from lookout_nb._children import descendants, start_time

require("jupyterlab")

ROOT = Path(__file__).resolve().parent.parent
START_S = 180  # generous bounds for waiting (never asserted as durations), in seconds
STOP_S = 60
PROMPT = "Shut down this Jupyter server"


class DemoOnATerminal:
    """``lookout-nb demo --no-browser --port 0`` on a pseudo-terminal; ``.output`` is all it printed."""

    def __init__(self, base: Path, *options: str):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "JUPYTER", "IPYTHON"))}
        home = base / "home"
        env.update(HOME=str(home), JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "run"),
                   JUPYTER_DATA_DIR=str(home / "data"), IPYTHONDIR=str(home / "ipython"), PYTHONPATH=str(ROOT))
        (base / "work").mkdir(parents=True, exist_ok=True)
        master, terminal = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lookout_nb.cli", "demo", "--no-browser", "--port", "0", *options],
            cwd=base / "work", env=env, stdin=terminal, stdout=terminal, stderr=terminal, start_new_session=True)
        os.close(terminal)
        self.chunks: list[str] = []
        threading.Thread(target=self._read, args=(master,), daemon=True).start()
        self.lab_url = self.endpoint_url = ""
        deadline = time.monotonic() + START_S
        while not self.lab_url and time.monotonic() < deadline and self.process.poll() is None:
            time.sleep(0.5)
            if m := re.search(r"JupyterLab:\s+(http://\S+)", self.output):
                self.endpoint_url = re.search(r"Embedded endpoint:\s+(http://[^\s,;()]+)", self.output)[1]
                self.lab_url = m[1]
        self.started = descendants(self.process.pid)
        if not self.lab_url:
            self.kill()
            raise AssertionError(f"lookout-nb demo printed no JupyterLab URL within {START_S}s:\n{self.output}")

    def _read(self, master: int) -> None:
        with contextlib.suppress(OSError):
            while chunk := os.read(master, 65536):
                self.chunks.append(chunk.decode(errors="replace"))
        os.close(master)

    @property
    def output(self) -> str:
        return "".join(self.chunks)

    def start_kernel(self) -> None:
        """A kernel, as opening a notebook starts one; returns once it is among the demo's processes."""
        base, token = self.lab_url.split("/lab/", 1)[0], self.lab_url.split("token=", 1)[1]
        ask = urllib.request.Request(f"{base}/api/kernels?token={token}", data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(ask, timeout=60) as answer:
            assert json.load(answer)["id"]
        self.started = descendants(self.process.pid)

    def alive(self) -> list[int]:
        """The demo and the processes it had started that still run."""
        everyone = [(self.process.pid, None), *self.started]
        return [pid for pid, started in everyone if start_time(pid) is not None
                and ((started is None and self.process.poll() is None) or started == start_time(pid))]

    def kill(self) -> None:
        """The test's own cleanup: SIGKILL the demo's session and whatever it had started."""
        for pid in self.alive():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@contextlib.contextmanager
def demo(base: Path, *options: str):
    running = DemoOnATerminal(base, *options)
    try:
        yield running
    finally:
        running.kill()


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=5).close()
        return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@pytest.mark.parametrize("how", ["SIGTERM", "SIGHUP", "Ctrl-C"])
def test_a_stop_signal_stops_jupyterlab_its_kernels_and_the_endpoint(tmp_path, how):
    with demo(tmp_path) as running:
        running.start_kernel()
        kernels = [pid for pid, _ in running.started if "ipykernel" in Path(f"/proc/{pid}/cmdline").read_text()]
        assert kernels, "the kernel the test started is not among the demo's processes"
        if how == "Ctrl-C":  # the terminal sends SIGINT to its foreground process group
            os.killpg(running.process.pid, signal.SIGINT)
        else:
            running.process.send_signal(getattr(signal, how))
        running.process.wait(timeout=STOP_S)
        deadline = time.monotonic() + STOP_S
        while running.alive() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert running.alive() == [], f"still running after {how}:\n{running.output[-3000:]}"
        assert not answers(running.endpoint_url + "/")
        assert PROMPT not in running.output


def test_a_model_trained_in_the_demo_survives_a_restart_with_state_dir(tmp_path):
    import boto3

    state = tmp_path / "state"

    def lookout(url):
        return boto3.client("lookoutequipment", endpoint_url=url, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    with demo(tmp_path / "first", "--state-dir", str(state)) as running:
        client = lookout(running.endpoint_url)
        client.create_model(ModelName="my-model", DatasetName="demo-pump-dataset", ClientToken="my-model",
                            RoleArn="arn:aws:iam::123456789012:role/LookoutEquipmentAccess")
        deadline = time.monotonic() + START_S
        while client.describe_model(ModelName="my-model")["Status"] == "IN_PROGRESS" and time.monotonic() < deadline:
            time.sleep(1)
        assert client.describe_model(ModelName="my-model")["Status"] == "SUCCESS"
        running.process.send_signal(signal.SIGTERM)
        running.process.wait(timeout=STOP_S)
    with demo(tmp_path / "second", "--state-dir", str(state)) as running:
        assert f"state kept in {state}" in running.output
        described = lookout(running.endpoint_url).describe_model(ModelName="my-model")
        assert described["Status"] == "SUCCESS" and described["DatasetName"] == "demo-pump-dataset"
