"""Benchmark: run throughput of the embedded endpoint against a bare GET through it, measured in the same run.

200 PT5M schedulers of the demo model (each with its own output prefix) on the manual clock; the clock advances
one service hour, so 2,400 runs happen (12 boundaries x 200), each listing and reading both demo components,
scoring the window and writing its results.jsonl.

Figures printed:
- runs per second of ``clock.advance(1 hour)`` (the call returns once every run is recorded);
- the baseline, measured in the same process around it: bare boto3 ``GetObject`` calls per second of a small
  object through the same endpoint (the mean of a round before and a round after the hour);
- the ratio runs/s / GETs/s. Goal: >= 1 (a scheduled run costs no more than one bare GET);
- what HTTP keep-alive gives: the same GETs from a client that asks the server to close each connection (as every
  connection was closed before keep-alive), in the same run.

``--state-dir`` runs the endpoint with a state directory (SQLite state, S3 written through to disk), as
``lookout-nb serve --state-dir`` does; ``--schedulers N`` and ``--hours H`` change the load.

Run: ``python benchmarks/bench_throughput.py [--state-dir]``
"""

from __future__ import annotations

import argparse
import tempfile
import time

import pandas as pd

from lookout_nb.service import start
from lookout_nb.service.demo import demo

GETS = 400


def gets_per_second(s3, n: int = GETS) -> float:
    """Bare GETs per second of a small object (one warm-up call first)."""
    s3.get_object(Bucket=demo.DEMO_BUCKET, Key="bench/small")["Body"].read()
    started = time.perf_counter()
    for _ in range(n):
        s3.get_object(Bucket=demo.DEMO_BUCKET, Key="bench/small")["Body"].read()
    return n / (time.perf_counter() - started)


def closing_client(ep):
    """An S3 client of ``ep`` whose requests carry ``Connection: close`` (a new connection for each request)."""
    from lookout_nb.service.endpoint import _config, _session

    client = _session().client("s3", endpoint_url=ep.url, config=_config("s3"), **ep._client_credentials())
    def close(request, **kwargs):
        request.headers["Connection"] = "close"

    client.meta.events.register("before-send.s3", close)
    return client


def create_schedulers(lookout, n: int) -> list[str]:
    """``n`` PT5M schedulers of the demo model, each writing under its own output prefix."""
    names = []
    for i in range(n):
        name = f"bench-{i:03d}"
        output = {"S3OutputConfiguration": {"Bucket": demo.DEMO_BUCKET, "Prefix": f"{demo.DEMO_OUTPUT_PREFIX}{name}/"}}
        kwargs = demo.scheduler_kwargs(name, DataOutputConfiguration=output)
        lookout.create_inference_scheduler(**kwargs, ClientToken=name)
        names.append(name)
    return names


def count_runs(lookout, names) -> dict:
    """``{status: count}`` over every execution of ``names``."""
    counts: dict = {}
    for name in names:
        token = None
        while True:
            page = lookout.list_inference_executions(
                InferenceSchedulerName=name, MaxResults=500, **({"NextToken": token} if token else {})
            )
            for run in page["InferenceExecutionSummaries"]:
                counts[run["Status"]] = counts.get(run["Status"], 0) + 1
            token = page.get("NextToken")
            if not token:
                break
    return counts


def measure(state_dir, schedulers: int, hours: float) -> None:
    with start(port=0, clock="manual", demo=True, state_dir=state_dir) as ep:
        s3, lookout = ep.s3(), ep.lookout()
        s3.put_object(Bucket=demo.DEMO_BUCKET, Key="bench/small", Body=b"x" * 100)
        names = create_schedulers(lookout, schedulers)
        before = gets_per_second(s3)
        started, cpu = time.perf_counter(), time.process_time()
        ep.clock.advance(pd.Timedelta(hours=hours))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        after = gets_per_second(s3)
        closing = gets_per_second(closing_client(ep))
        counts = count_runs(lookout, names)
    runs = sum(counts.values())
    gets = (before + after) / 2
    print(f"{'state_dir' if state_dir else 'in memory'}: {schedulers} PT5M schedulers, {hours:g} service hour(s)")
    print(f"  runs: {runs} ({counts}) in {elapsed:.2f} s (CPU of the process: {cpu:.2f} s): "
          f"{runs / elapsed:.1f} runs/s")
    print(f"  bare GETs: {before:.0f}/s before, {after:.0f}/s after: {gets:.0f}/s")
    met = "met" if runs / elapsed >= gets else "NOT met"
    print(f"  ratio runs/s / GETs/s: {runs / elapsed / gets:.2f}   goal >= 1 ({met})")
    print(f"  keep-alive: {after:.0f} GETs/s on kept connections, {closing:.0f}/s with a connection each "
          f"({after / closing:.2f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", action="store_true", help="with a state directory (durable state and S3)")
    parser.add_argument("--schedulers", type=int, default=200)
    parser.add_argument("--hours", type=float, default=1.0)
    args = parser.parse_args()
    if args.state_dir:
        with tempfile.TemporaryDirectory() as d:
            measure(d, args.schedulers, args.hours)
    else:
        measure(None, args.schedulers, args.hours)


if __name__ == "__main__":
    main()
