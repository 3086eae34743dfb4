"""Benchmark: plot_schedule of 10,000 runs (with executions and a file match) to PNG.

Goal: <= 1 s once matplotlib is imported. Baseline in the same run: an empty figure of the same size saved to PNG
(the fixed cost of Agg and PNG encoding). Each figure is the best of ``--repeat`` runs.

    python benchmarks/bench_plot.py [--runs 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import time

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from lookout_nb import SchedulerRequest
from lookout_nb.contract.filematch import match_files
from lookout_nb.contract.timing import expected_files, plan_schedule
from lookout_nb.plot import plot_schedule


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        plt.close("all")
    return min(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    req = SchedulerRequest(upload_frequency="PT5M", delay_offset_minutes=2, timezone_offset="+01:00")
    plan = plan_schedule(req, start="2024-05-01", periods=args.runs, components=["pump", "fan", "valve"])
    rng = np.random.default_rng(0)
    status = np.where(rng.random(len(plan)) < 0.03, "FAILED", "SUCCESS").astype(object)
    status[-2:] = "IN_PROGRESS"
    executions = pd.DataFrame({"scheduled_start": plan["wake_time"], "data_start": plan["data_start"],
                               "data_end": plan["data_end"], "status": status})
    files = expected_files(plan)
    arrived = files["wake_time"] - pd.Timedelta(minutes=1) + pd.to_timedelta((rng.random(len(files)) < 0.01) * 4, "min")
    match = match_files(plan, pd.DataFrame({"Key": files["key"], "LastModified": arrived}).sample(frac=0.999,
                                                                                                  random_state=0))

    def empty():
        fig, _ = plt.subplots(figsize=(12, 3.6), layout="constrained")
        fig.savefig(io.BytesIO(), format="png")

    def full():
        ax = plot_schedule(plan, executions=executions, files=match, now="2024-05-20")
        ax.figure.savefig(io.BytesIO(), format="png")

    def small():
        ax = plot_schedule(plan.iloc[:3], executions=executions.iloc[:3], now="2024-05-01 00:20")
        ax.figure.savefig(io.BytesIO(), format="png")

    t_empty, t_full, t_small = best(empty, args.repeat), best(full, args.repeat), best(small, args.repeat)
    print(f"baseline: empty figure to PNG            : {t_empty:6.3f} s")
    print(f"plot_schedule, 3 runs, to PNG            : {t_small:6.3f} s  = {t_small / t_empty:.1f}x baseline")
    print(f"plot_schedule, {len(plan):,} runs + {len(files):,} files + executions, to PNG: {t_full:6.3f} s"
          f"  = {t_full / t_empty:.1f}x baseline (goal <= 1 s)")


if __name__ == "__main__":
    main()
