"""Benchmark: turning results.jsonl into the results table, and reading many runs' results from S3.

1. Parsing: ``_tables.results_frame`` on ``--runs`` synthetic results.jsonl texts (``--rows`` lines each,
   ``--sensors`` diagnostics per line), against the floor ``json.loads`` of every line (parsing cannot be
   cheaper) and a common baseline, ``pd.read_json(lines=True)`` plus ``apply(pd.Series)`` on the diagnostics.
2. Reading: ``scheduler.results`` on the embedded endpoint after ``--hours`` of PT5M runs, with one S3 reader
   against ``--workers`` readers.

Each figure is the best of ``--repeat`` runs; ratios are against baselines measured in the same process.

    python benchmarks/bench_scheduler.py [--runs 300] [--rows 60] [--sensors 20] [--hours 6] [--workers 8]
"""

from __future__ import annotations

import argparse
import io
import json
import logging

import numpy as np
import pandas as pd

from lookout_nb.calls import _tables, scheduler
from timer import best


def synthetic(runs: int, rows: int, sensors: int) -> list[tuple[pd.Timestamp, str]]:
    rng = np.random.default_rng(0)
    names = [f"pump\\Sensor{i}" for i in range(sensors)]
    start = pd.Timestamp("2026-01-05", tz="UTC")
    docs = []
    for r in range(runs):
        lines = []
        for i in range(rows):
            shares = rng.dirichlet(np.ones(sensors))
            t = start + pd.Timedelta(minutes=r * rows + i)
            lines.append(json.dumps({
                "timestamp": t.strftime("%Y-%m-%dT%H:%M:%S.%f"), "prediction": int(shares.max() > 0.3),
                "prediction_reason": "ANOMALY_DETECTED" if shares.max() > 0.3 else "NO_ANOMALY_DETECTED",
                "anomaly_score": float(shares.max()),
                "diagnostics": [{"name": n, "value": round(float(v), 5)} for n, v in zip(names, shares)],
            }))
        docs.append((start + pd.Timedelta(minutes=(r + 1) * rows), "\n".join(lines) + "\n"))
    return docs


def baseline(docs):
    frames = []
    for scheduled, text in docs:
        f = pd.read_json(io.StringIO(text), lines=True)
        diag = f.pop("diagnostics").apply(lambda d: pd.Series({x["name"]: x["value"] for x in d}))
        frames.append(pd.concat([f.assign(scheduled_start=scheduled), diag], axis=1))
    return pd.concat(frames, ignore_index=True)


def floor(docs):
    return [json.loads(line) for _, text in docs for line in text.splitlines() if line]


def bench_parsing(args):
    docs = synthetic(args.runs, args.rows, args.sensors)
    lines = args.runs * args.rows
    t_floor, _ = best(lambda: floor(docs), args.repeat)
    t_ours, table = best(lambda: _tables.results_frame(docs), args.repeat)
    t_base, _ = best(lambda: baseline(docs), args.repeat)
    assert len(table) == lines and table.shape[1] == 5 + args.sensors
    print(f"parse {lines:,} lines x {args.sensors} sensors: results_frame {t_ours:.3f} s "
          f"({lines / t_ours:,.0f} lines/s) | json.loads floor {t_floor:.3f} s ({t_ours / t_floor:.1f}x floor) | "
          f"read_json+apply baseline {t_base:.3f} s ({t_base / t_ours:.1f}x slower than ours)")


def bench_reading(args):
    from lookout_nb.service import start
    from lookout_nb.service.demo import demo

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with start(port=0, clock="manual", demo=True) as ep:
        client, s3 = ep.lookout(), ep.s3()
        req = scheduler.SchedulerRequest.from_boto3(demo.scheduler_kwargs("bench"))
        scheduler.submit(req, client=client, wait=False)
        ep.clock.advance(pd.Timedelta(hours=args.hours))
        runs = len(scheduler.executions("bench", client=client))
        t_one, one = best(lambda: scheduler.results("bench", client=client, s3=s3, max_workers=1), args.repeat)
        t_many, many = best(lambda: scheduler.results("bench", client=client, s3=s3, max_workers=args.workers),
                            args.repeat)
    pd.testing.assert_frame_equal(one, many)
    print(f"results() of {runs} runs ({len(one):,} rows) on the embedded endpoint: 1 reader {t_one:.3f} s | "
          f"{args.workers} readers {t_many:.3f} s ({t_one / t_many:.1f}x faster)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--rows", type=int, default=60)
    ap.add_argument("--sensors", type=int, default=20)
    ap.add_argument("--hours", type=int, default=6)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    bench_parsing(args)
    bench_reading(args)


if __name__ == "__main__":
    main()
