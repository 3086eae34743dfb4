"""Benchmark: one simulated day of PT5M inference for every demo component on the manual clock.

Goal: the day (288 runs, each reading both demo components) in <= 10 s of wall time.

Figures printed:
- the day through the endpoint (``clock.advance(1 day)``): seconds, runs per second;
- the baseline measured in the same process: the bare S3 requests the same 288 runs need (one ranged listing
  and one new file per component, one results.jsonl upload), without parsing, scoring or bookkeeping;
- the ratio endpoint / baseline (how much the runner adds on top of the S3 round trips), in wall time and in CPU
  time of the process (client and server share it; CPU time is steadier on a busy machine).

Run: ``python benchmarks/bench_endpoint.py``
"""

from __future__ import annotations

import time

import pandas as pd

from lookout_nb.service import start
from lookout_nb.service.demo import demo

DAY = pd.Timedelta(days=1)
FREQ = pd.Timedelta(minutes=5)


def bare_s3_day(s3, t0: pd.Timestamp) -> tuple[float, float]:
    """Wall and CPU seconds for the S3 requests of a day of runs, issued plainly one after the other."""
    naming, prefix = demo.DEMO_NAMING, demo.DEMO_INPUT_PREFIX
    body = b"x" * 4000  # about the size of one run's results.jsonl
    started, cpu = time.perf_counter(), time.process_time()
    for boundary in pd.date_range(t0 + FREQ, t0 + DAY, freq=FREQ):
        start = boundary - FREQ
        for component in demo.DEMO_COMPONENTS:
            s3.list_objects_v2(
                Bucket=demo.DEMO_BUCKET,
                Prefix=f"{prefix}{component}{naming.delimiter}",
                StartAfter=naming.key(component, start - FREQ, prefix)[:-4],
                MaxKeys=4,
            )
            s3.get_object(Bucket=demo.DEMO_BUCKET, Key=naming.key(component, start, prefix))["Body"].read()
        s3.put_object(Bucket=demo.DEMO_BUCKET, Key=f"bench/{boundary:%Y-%m-%dT%H:%M:%SZ}/results.jsonl", Body=body)
    return time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    with start(port=0, clock="manual", demo=True, feed=False) as ep:
        t0 = ep.clock.now()
        s3, lookout = ep.s3(), ep.lookout()
        written = time.perf_counter()
        keys = demo.write_input_files(s3, demo.DEMO_BUCKET, demo.DEMO_INPUT_PREFIX, demo.DEMO_COMPONENTS,
                                      t0 - FREQ, t0 + DAY + FREQ)
        written = time.perf_counter() - written

        baseline, baseline_cpu = bare_s3_day(s3, t0)

        lookout.create_inference_scheduler(**demo.scheduler_kwargs("bench-day"), ClientToken="bench-day")
        started, cpu = time.perf_counter(), time.process_time()
        ep.clock.advance(DAY)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu

        runs, token = [], None
        while True:
            page = lookout.list_inference_executions(
                InferenceSchedulerName="bench-day", MaxResults=500, **({"NextToken": token} if token else {})
            )
            runs += page["InferenceExecutionSummaries"]
            token = page.get("NextToken")
            if not token:
                break
        ok = sum(r["Status"] == "SUCCESS" for r in runs)
        n = len(demo.DEMO_COMPONENTS)
        print(f"input files written: {len(keys)} in {written:.2f} s (setup, not timed)")
        print(f"baseline, bare S3 requests of the day ({288 * (2 * n + 1)} requests): {baseline:.2f} s "
              f"(CPU of this process, client and server: {baseline_cpu:.2f} s)")
        print(f"endpoint, one simulated day of PT5M x {n} components: {len(runs)} runs ({ok} SUCCESS) "
              f"in {elapsed:.2f} s "
              f"(CPU: {cpu:.2f} s)")
        verdict = "met" if elapsed <= 10 else "NOT met"
        print(f"runs per second: {len(runs) / elapsed:.1f}   goal: day in <= 10 s ({verdict})")
        print(f"ratio endpoint / bare S3 baseline: {elapsed / baseline:.2f}x wall, {cpu / baseline_cpu:.2f}x CPU")


if __name__ == "__main__":
    main()
