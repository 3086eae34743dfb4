"""Benchmark: what durability costs and what it keeps.

Figures printed:
- the cost of a write call (UpdateInferenceScheduler) without a state_dir, with state.db at synchronous=FULL (the
  endpoint's setting) and at NORMAL, against the baseline measured in the same process: a bare S3 GET of a small
  object through the same endpoint; milliseconds per call (best of 3 rounds of 100 calls) and ratios;
- a clock jump of one year with one PT5M scheduler (made: CATCH_UP runs, the rest skipped): seconds to answer;
- the loss table of a kill -9 mid-activity (tests/service/crashkit.py): acknowledged writes and how many were lost.

Run: ``python benchmarks/bench_durability.py``
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from lookout_nb.service import start
from lookout_nb.service.demo import demo
from timer import best

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "service"))
import crashkit

CALLS = 100


def per_call(fn) -> float:
    """Milliseconds per call of ``fn`` (best of 3 rounds of CALLS calls)."""
    seconds, _ = best(lambda: [fn(i) for i in range(CALLS)], 3)
    return seconds / CALLS * 1000


def write_costs() -> dict:
    figures = {}
    setups = (("memory", False, None), ("state.db FULL", True, "FULL"), ("state.db NORMAL", True, "NORMAL"))
    for label, state, sync in setups:
        with tempfile.TemporaryDirectory() as d, \
                start(port=0, clock="manual", demo=True, state_dir=d if state else None) as ep:
            if sync:
                ep.store._db.execute(f"PRAGMA synchronous={sync}")
            lookout, s3 = ep.lookout(), ep.s3()
            lookout.create_inference_scheduler(**demo.scheduler_kwargs("bench"), ClientToken="bench")
            figures[label] = per_call(
                lambda i: lookout.update_inference_scheduler(InferenceSchedulerName="bench",
                                                             DataDelayOffsetInMinutes=i % 10)
            )
            if label == "memory":
                s3.put_object(Bucket=demo.DEMO_BUCKET, Key="bench/small", Body=b"x" * 100)
                figures["bare S3 GET"] = per_call(
                    lambda i: s3.get_object(Bucket=demo.DEMO_BUCKET, Key="bench/small")["Body"].read())
    return figures


def jump_seconds() -> float:
    with tempfile.TemporaryDirectory() as d, start(port=0, clock="manual", demo=True, state_dir=d) as ep:
        ep.lookout().create_inference_scheduler(**demo.scheduler_kwargs("jump"), ClientToken="jump")
        t0 = time.perf_counter()
        ep.clock.advance(pd.Timedelta(days=365))
        return time.perf_counter() - t0


def main() -> None:
    costs = write_costs()
    base = costs["bare S3 GET"]
    print(f"{'call':<40} {'ms/call':>8} {'x bare GET':>10}")
    for label, ms in costs.items():
        name = ("UpdateInferenceScheduler, " + label) if label != "bare S3 GET" else label
        print(f"{name:<40} {ms:>8.2f} {ms / base:>10.2f}")
    print(f"transaction cost per write call (FULL - memory): {costs['state.db FULL'] - costs['memory']:.2f} ms")
    print(f"clock jump of 365 days, one PT5M scheduler: answered in {jump_seconds():.1f} s")
    with tempfile.TemporaryDirectory() as d:
        print(crashkit.format_table(crashkit.crash_and_count(d, seconds=6)))


if __name__ == "__main__":
    main()
