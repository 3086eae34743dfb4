"""Kill -9 a served endpoint mid-activity, restart it, and count what was acknowledged and then lost.

Used by tests/service/test_faults.py and benchmarks/bench_durability.py:

>>> table = crash_and_count(tmp_path, seconds=4)      # doctest: +SKIP
>>> table["create"]                                   # doctest: +SKIP
{'acknowledged': 23, 'lost': 0}
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
from botocore.config import Config

from lookout_nb.service.demo import demo

ROOT = Path(__file__).resolve().parents[2]


def serve(state_dir, *args: str):
    """Start ``lookout-nb serve --state-dir D --demo ARGS`` (no ``--state-dir`` when ``state_dir`` is None) in a
    subprocess; ``(process, url)`` once it serves."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = str(ROOT)
    where = ["--state-dir", str(state_dir)] if state_dir is not None else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "lookout_nb.service.cli", "serve", "--port", "0", "--demo", *where, *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    url = None
    for line in proc.stdout:
        if line.startswith("export AWS_ENDPOINT_URL="):
            url = line.strip().split("=", 1)[1]
        if line.startswith("export AWS_DEFAULT_REGION="):
            break
    if url is None:
        proc.kill()
        raise RuntimeError(f"lookout-nb serve did not start: {proc.stderr.read()}")
    for pipe in (proc.stdout, proc.stderr):  # keep the pipes drained (a long run logs)
        threading.Thread(target=pipe.read, daemon=True).start()
    return proc, url


def client(url: str):
    return boto3.client(
        "lookoutequipment", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
        aws_secret_access_key="testing", config=Config(retries={"max_attempts": 1}, read_timeout=30),
    )


class Activity:
    """Creates, updates and stops schedulers and lists their executions, remembering what was acknowledged."""

    def __init__(self, url: str):
        self.lookout = client(url)
        self.created: list[str] = []
        self.delay: dict[str, int] = {}  # the last acknowledged DataDelayOffsetInMinutes
        self.stopped: set[str] = set()
        self.seen: dict[tuple[str, float], str] = {}  # (scheduler, ScheduledStartTime) -> status reported
        self.errors: list[str] = []

    def run(self, stop: threading.Event, schedulers: int = 12) -> None:
        """Create up to ``schedulers`` (more would outrun the runner at 600x), then only list executions."""
        i = 0
        while not stop.is_set():
            try:
                self.step(i) if i < schedulers else self.poll()
            except Exception as err:  # noqa: BLE001 - the kill lands mid-call: that call was not acknowledged
                self.errors.append(f"{type(err).__name__}: {err}")
                return
            i += 1

    def step(self, i: int) -> None:
        name = f"crash-{i}"
        self.lookout.create_inference_scheduler(**demo.scheduler_kwargs(name), ClientToken=name)
        self.created.append(name)
        if i % 3 == 1:
            target = self.created[i - 1]
            self.lookout.update_inference_scheduler(InferenceSchedulerName=target, DataDelayOffsetInMinutes=i % 7)
            self.delay[target] = i % 7
        if i % 5 == 4:
            target = self.created[i - 2]
            if target not in self.stopped:
                self.lookout.stop_inference_scheduler(InferenceSchedulerName=target)
                self.stopped.add(target)
        self.poll()

    def poll(self) -> None:
        for name in self.created[-4:]:
            page = self.lookout.list_inference_executions(InferenceSchedulerName=name)
            for ex in page["InferenceExecutionSummaries"]:
                self.seen[name, ex["ScheduledStartTime"].timestamp()] = ex["Status"]


def count_losses(activity: Activity, url: str) -> dict:
    """``{kind: {"acknowledged": n, "lost": m}}`` comparing what ``activity`` was told with the endpoint at ``url``."""
    lookout = client(url)
    table = {kind: {"acknowledged": 0, "lost": 0} for kind in ("create", "update", "stop", "execution")}

    def tally(kind, kept):
        table[kind]["acknowledged"] += 1
        table[kind]["lost"] += 0 if kept else 1

    described = {}
    for name in activity.created:
        try:
            described[name] = lookout.describe_inference_scheduler(InferenceSchedulerName=name)
        except lookout.exceptions.ResourceNotFoundException:
            pass
        tally("create", name in described)
    for name, delay in activity.delay.items():
        tally("update", described.get(name, {}).get("DataDelayOffsetInMinutes") == delay)
    for name in activity.stopped:
        tally("stop", described.get(name, {}).get("Status") in ("STOPPING", "STOPPED"))
    now = {}
    for name in {n for n, _ in activity.seen}:
        token = {}
        while True:
            page = lookout.list_inference_executions(InferenceSchedulerName=name, **token)
            for ex in page["InferenceExecutionSummaries"]:
                now[name, ex["ScheduledStartTime"].timestamp()] = ex["Status"]
            if not page.get("NextToken"):
                break
            token = {"NextToken": page["NextToken"]}
    for key, status in activity.seen.items():
        # an IN_PROGRESS run may have ended since (or been FAILED by the kill); an ended one keeps its status
        tally("execution", key in now and (status == "IN_PROGRESS" or now[key] == status))
    return table


def crash_and_count(state_dir, seconds: float = 4.0, speed: int = 600) -> dict:
    """Serve a demo endpoint on a ``speed``x clock with ``state_dir``, create/update/stop schedulers and list
    their executions for ``seconds``, kill -9 it, restart it, and return the loss table (see count_losses)."""
    proc, url = serve(state_dir, "--clock", "real", "--speed", str(speed))
    activity, stop = Activity(url), threading.Event()
    worker = threading.Thread(target=activity.run, args=(stop,), daemon=True)
    try:
        worker.start()
        time.sleep(seconds)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        stop.set()
        worker.join(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    proc, url = serve(state_dir, "--clock", "real", "--speed", str(speed))
    try:
        return count_losses(activity, url)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def format_table(table: dict) -> str:
    """The loss table as text, one kind per line."""
    lines = [f"{'kind':<10} {'acknowledged':>12} {'lost':>5}"]
    lines += [f"{kind:<10} {row['acknowledged']:>12} {row['lost']:>5}" for kind, row in table.items()]
    total = sum(row["lost"] for row in table.values())
    return "\n".join(lines + [f"acknowledged writes lost: {total}"])
