"""Benchmark: what the execution history costs, in memory and in ListInferenceExecutions latency.

Runs whose input prefix holds no file (they FAIL at once, one execution each, no results object) make history
fast, so only the history grows:

1. RSS against executions kept: 200 PT5M schedulers on the manual clock, an endpoint without state_dir in this
   process; RSS after 4,000 runs (warmed up) and then every 10,000, with the growth per 1,000 executions.
   Goal: flat (executions are rows of the store, not objects in memory).
2. ListInferenceExecutions latency with ``--executions`` (100,000) executions of one scheduler in state.db
   (``state_dir``; its history is made by claiming and ending its runs through the backend, 5,000 per
   transaction, without reading S3, as the runner records them): the median of a page of 50 (the first page, a
   page 20 pages deep reached by NextToken, the first page with Status=FAILED), against the baseline measured in
   the same process: the same call on a scheduler with 100 executions. Goal: ratio about 1 (a page costs the same
   whatever the history's length). Also the same page called in-process (no HTTP), the size of state.db per
   execution and DescribeInferenceScheduler (its LatestInferenceResult reads the newest success).

Run the same script against another checkout to compare: ``PYTHONPATH=/path/to/other python
benchmarks/bench_history.py``.

Run: ``python benchmarks/bench_history.py [--executions 100000] [--rss-runs 42000]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from lookout_nb.service import start
from lookout_nb.service.demo import demo


def rss_mib() -> float:
    """Resident memory of this process in MiB (Linux)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS:"))


def failing_kwargs(name: str) -> dict:
    """A demo-model scheduler whose runs FAIL at once (no input file under its prefix)."""
    kwargs = demo.scheduler_kwargs(name)
    kwargs["DataInputConfiguration"]["S3InputConfiguration"]["Prefix"] = "nothing-here/"
    return kwargs


def rss_against_history(total: int, schedulers: int = 200) -> None:
    print(f"1. RSS against executions kept ({schedulers} PT5M schedulers, no state_dir)")
    with start(port=0, clock="manual", demo=True, feed=False) as ep:
        lookout = ep.lookout()
        for i in range(schedulers):
            lookout.create_inference_scheduler(**failing_kwargs(f"rss-{i:03d}"), ClientToken=f"rss-{i}")
        made, marks = 0, [4_000, *range(10_000, total + 1, 10_000), total]
        first = None
        started = time.perf_counter()
        for mark in sorted(set(marks)):
            while made < mark:
                ep.advance("PT5M")
                made += schedulers
            rss = rss_mib()
            first = first or (made, rss)
            growth = (rss - first[1]) * 1024 / max(1, (made - first[0]) / 1000)
            print(f"   {made:>7,} executions kept: RSS {rss:7.1f} MiB   (+{rss - first[1]:5.1f} MiB since "
                  f"{first[0]:,}: {growth:6.1f} KiB per 1,000)")
        print(f"   runs/s while it grew: {made / (time.perf_counter() - started):,.0f}")


def median_ms(call, n: int = 40) -> float:
    for _ in range(5):  # warm-up
        call()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        call()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def fill(ep, total: int, chunk: int = 5_000) -> int:
    """Claim and end (FAILED) the due runs of every scheduler of ``ep`` until ``total`` are recorded, ``chunk``
    boundaries of the PT5M schedulers at a time (the runner's claim and finish, without its S3 reads)."""
    schedulers, made, until = ep.backend.schedulers, 0, ep.clock.now()
    while made < total:
        until += pd.Timedelta(minutes=5) * chunk
        runs = schedulers.claim_due(until)
        schedulers.finish_all([(run, {"status": "FAILED", "failed_reason": "no input (bench_history)"})
                               for run in runs])
        made += len(runs)
    return made


def latency_against_history(total: int, state_dir: Path) -> None:
    print(f"2. ListInferenceExecutions, a page of 50, one scheduler with {total:,} executions (state_dir)")
    with start(port=0, clock="manual", demo=True, feed=False, state_dir=state_dir) as ep:
        lookout = ep.lookout()
        lookout.create_inference_scheduler(**failing_kwargs("big"), ClientToken="big")
        started = time.perf_counter()
        made = fill(ep, total)
        print(f"   recorded {made:,} executions in {time.perf_counter() - started:.1f} s")
        lookout.create_inference_scheduler(**failing_kwargs("small"), ClientToken="small")
        ep.backend.schedulers.schedulers["us-east-1"]["big"].next_boundary = None  # only "small" runs now
        made += fill(ep, 100, chunk=100)

        def first(name, **extra):
            return lambda: lookout.list_inference_executions(InferenceSchedulerName=name, MaxResults=50, **extra)

        token = None
        for _ in range(20):
            token = lookout.list_inference_executions(InferenceSchedulerName="big", MaxResults=50,
                                                      **({"NextToken": token} if token else {}))["NextToken"]
        baseline = median_ms(first("small"))
        print(f"   baseline: a page of 50 of a scheduler with 100 executions: {baseline:7.2f} ms")
        for label, call in [("first page", first("big")), ("page 21 (NextToken)", first("big", NextToken=token)),
                            ("first page, Status=FAILED", first("big", Status="FAILED")),
                            ("DescribeInferenceScheduler", lambda: lookout.describe_inference_scheduler(
                                InferenceSchedulerName="big"))]:
            ms = median_ms(call)
            print(f"   {label:<28} {ms:7.2f} ms   ratio to the baseline x{ms / baseline:.2f}")
        backend = ep.backend  # the same page without HTTP and boto3's parsing: the query and the summaries

        def direct(name):
            return lambda: backend.list_executions("us-east-1", {"InferenceSchedulerName": name, "MaxResults": 50})

        inside = median_ms(direct("small"))
        ms = median_ms(direct("big"))
        print(f"   in-process, no HTTP: 100 executions {inside:6.2f} ms, {made - 100:,}: {ms:6.2f} ms "
              f"(x{ms / inside:.2f})")
        size = sum(f.stat().st_size for f in state_dir.glob("state.db*"))
        print(f"   state.db: {size / 2**20:.1f} MiB, {size / made:,.0f} bytes per execution")
        print(f"   RSS of this process: {rss_mib():.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=100_000, help="executions of the scheduler in part 2")
    parser.add_argument("--rss-runs", type=int, default=42_000, help="executions kept at the end of part 1")
    args = parser.parse_args()
    import lookout_nb

    print(f"lookout_nb from {os.path.dirname(lookout_nb.__file__)}")
    rss_against_history(args.rss_runs)
    with tempfile.TemporaryDirectory() as folder:
        latency_against_history(args.executions, Path(folder))


if __name__ == "__main__":
    main()
