"""Soak: a simulated day at 120x real time with 200 PT5M schedulers (about 12 minutes of real time).

The endpoint runs on a real clock sped up 120 times, with the demo feeder writing each 5-minute input file as its
slot ends; 200 schedulers of the demo model (each with its own output prefix) run every 5 service minutes, so
57,600 runs are due in the day (one every 12.5 ms of real time).

Figures printed:
- every due run exactly once: runs expected (each scheduler's boundaries after its creation up to the end) against
  executions made, duplicates (a boundary run twice) and missing ones, by status;
- lag: how long after its wake-up each run started, in service seconds (p50, p99, max); and the backlog sampled
  every real second (due runs waiting, max);
- RSS memory of the process at the start (schedulers created), the middle and the end, with the bytes of the
  results objects written meanwhile (moto keeps every S3 object in memory).

``--hours H`` shortens the day, ``--speed``, ``--schedulers`` change the load.

Run: ``python benchmarks/bench_soak.py`` (``--hours 2`` for a one-minute check)
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

import numpy as np
import pandas as pd

from bench_throughput import create_schedulers
from lookout_nb.service import start
from lookout_nb.service.api.schedulers import first_boundary_after
from lookout_nb.service.demo import demo

FREQ = pd.Timedelta(minutes=5)


def rss_mib() -> float:
    """Resident memory of this process in MiB (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def waiting(backend, now: pd.Timestamp) -> int:
    """Due runs not yet claimed, over every scheduler (PT5M, no delay)."""
    with backend.core.lock:
        tables = backend.schedulers.schedulers.values()
        nexts = [s.next_boundary for t in tables for s in t.values() if s.runs and s.next_boundary]
    return sum(max(0, (now - b) // FREQ + 1) for b in nexts)


class Recorder:
    """Wraps the endpoint's run execution: the lag of each run (service seconds after its wake-up)."""

    def __init__(self, ep):
        self.lags: list[float] = []
        execute = ep._execute

        def timed(run):
            self.lags.append((ep.clock.now() - run.wake).total_seconds())
            return execute(run)

        ep._execute = timed


def executions_of(lookout, name) -> list[dict]:
    runs, token = [], None
    while True:
        page = lookout.list_inference_executions(
            InferenceSchedulerName=name, MaxResults=500, **({"NextToken": token} if token else {})
        )
        runs += page["InferenceExecutionSummaries"]
        token = page.get("NextToken")
        if not token:
            return runs


def verify(ep, names, created: dict, end: pd.Timestamp) -> dict:
    """Expected runs, executions, duplicates and missing ones, statuses."""
    lookout = ep.lookout()
    expected = executed = duplicates = missing = 0
    statuses: Counter = Counter()
    for name in names:
        ends = Counter()
        for run in executions_of(lookout, name):
            ends[pd.Timestamp(run["DataEndTime"]).tz_convert("UTC")] += 1
            statuses[run["Status"]] += 1
        want = set(pd.date_range(first_boundary_after(created[name], FREQ), end, freq=FREQ))
        expected += len(want)
        executed += sum(ends.values())
        duplicates += sum(n - 1 for n in ends.values() if n > 1)
        missing += len(want - set(ends))
    return {"expected": expected, "executed": executed, "duplicates": duplicates, "missing": missing,
            "statuses": dict(statuses)}


def soak(hours: float, speed: float, schedulers: int) -> None:
    with start(port=0, clock=speed, demo=True) as ep:
        lookout = ep.lookout()
        names = create_schedulers(lookout, schedulers)
        created = {}
        for name in names:
            described = lookout.describe_inference_scheduler(InferenceSchedulerName=name)
            created[name] = pd.Timestamp(described["CreatedAt"]).tz_convert("UTC")
        recorder = Recorder(ep)
        memory = {"start": rss_mib()}
        backlog: list[int] = []
        t0, real = ep.clock.now(), hours * 3600 / speed
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) < real:
            backlog.append(waiting(ep.backend, ep.clock.now()))
            if "middle" not in memory and elapsed >= real / 2:
                memory["middle"] = rss_mib()
            time.sleep(1.0)
        ep.clock.stop()  # the clock's thread ends; whatever is due by now is run here, once
        end = ep.clock.now()
        ep.catch_up(end)
        ep.fire(end)
        memory["end"] = rss_mib()
        result = verify(ep, names, created, end.floor(FREQ))
        listing = ep.s3().get_paginator("list_objects_v2")
        pages = listing.paginate(Bucket=demo.DEMO_BUCKET, Prefix=demo.DEMO_OUTPUT_PREFIX)
        stored = sum(o["Size"] for page in pages for o in page.get("Contents", []))
    lags = np.array(recorder.lags)
    print(f"soak: {schedulers} PT5M schedulers, {speed:g}x, {(end - t0) / pd.Timedelta(hours=1):.2f} service hours "
          f"in {time.monotonic() - started:.0f} s real")
    print(f"  runs expected {result['expected']}, executed {result['executed']}, duplicates {result['duplicates']}, "
          f"missing {result['missing']}; statuses {result['statuses']}")
    print(f"  lag after wake-up (service s): p50 {np.percentile(lags, 50):.1f}, p99 {np.percentile(lags, 99):.1f}, "
          f"max {lags.max():.1f} (one period: 300 s; a real second is {speed:g} service s)")
    print(f"  backlog sampled each real second: max {max(backlog)} due runs waiting, mean {np.mean(backlog):.1f}")
    middle = memory.get("middle", float("nan"))
    print(f"  RSS MiB: start {memory['start']:.0f}, middle {middle:.0f}, end {memory['end']:.0f}; "
          f"results objects held in moto's memory: {stored / 2**20:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--speed", type=float, default=120.0)
    parser.add_argument("--schedulers", type=int, default=200)
    args = parser.parse_args()
    soak(args.hours, args.speed, args.schedulers)


if __name__ == "__main__":
    main()
