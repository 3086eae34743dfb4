"""Figures of the request core: problems() latency, import time, detect_naming on 1,000,000 keys.

Run: ``python benchmarks/bench_core.py``. Every figure is printed with its ratio to a baseline measured in the same
process (or the same interpreter), never compared with a fixed time.
Goals: problems() <= 100 us per call; import lookout_nb <= 1.2x import pandas; detect_naming vectorised.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
import timeit

import numpy as np
import pandas as pd


def import_seconds(module: str, repeat: int = 5) -> float:
    """Median wall time of ``import module`` in a fresh interpreter, less the interpreter's start-up."""
    def run(code):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        return float(out)

    code = "import time; t = time.perf_counter(); {} ; print(time.perf_counter() - t)"
    return statistics.median(run(code.format(f"import {module}" if module else "pass")) for _ in range(repeat))


def bench_problems():
    from lookout_nb import SchedulerRequest
    from lookout_nb.contract.servicemodel import check_input

    req = SchedulerRequest(
        model_name="pump-model", scheduler_name="pump_5min", upload_frequency="PT5M", delay_offset_minutes=5,
        input_bucket="my-input", input_prefix="in/", timezone_offset="+05:30", timestamp_format="yyyyMMddHHmmss",
        delimiter="_", output_bucket="my-output", output_prefix="out/", role_arn="arn:aws:iam::123456789012:role/L4E",
        tags={"team": "reliability"},
    )
    req.problems()  # load the service model once
    n = 2000
    per_call = timeit.timeit(req.problems, number=n) / n
    kwargs = req.to_boto3()
    bare = timeit.timeit(lambda: check_input("CreateInferenceScheduler", kwargs), number=n) / n
    print(f"problems(): {per_call * 1e6:.1f} us per call (goal <= 100); "
          f"bare service-model check {bare * 1e6:.1f} us; ratio {per_call / bare:.2f}x")


def bench_import():
    pandas = import_seconds("pandas")
    ours = import_seconds("lookout_nb")
    print(f"import pandas {pandas * 1e3:.0f} ms, import lookout_nb {ours * 1e3:.0f} ms: "
          f"ratio {ours / pandas:.2f}x (goal <= 1.2)")


def bench_detect(n: int = 1_000_000):
    from lookout_nb import detect_naming
    from lookout_nb.contract.naming import Naming

    rng = np.random.default_rng(0)
    starts = pd.Timestamp("2025-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 365 * 288, n) * 5, unit="min")
    comps = np.array(["centrifugal-pump", "motor", "gearbox", "bearing"])[rng.integers(0, 4, n)]
    stamps = Naming().stamps(starts).to_series(index=range(n))
    keys = ("inference/input/" + pd.Series(comps) + "_" + stamps + ".csv").tolist()
    stamps = [k[-18:-4] for k in keys]

    t = time.perf_counter()
    best = detect_naming(keys)[0]
    detect = time.perf_counter() - t
    t = time.perf_counter()
    pd.to_datetime(pd.Series(stamps), format="%Y%m%d%H%M%S")
    floor = time.perf_counter() - t
    t = time.perf_counter()
    Naming().parse_many(keys)
    parse = time.perf_counter() - t
    print(f"detect_naming on {n:,} keys: {detect:.2f} s ({best.timestamp_format!r}, {best.delimiter!r}, "
          f"share {best.share:.2f}); parse_many {parse:.2f} s; floor pd.to_datetime of the stamps {floor:.2f} s; "
          f"ratios {detect / floor:.1f}x and {parse / floor:.1f}x")


if __name__ == "__main__":
    bench_problems()
    bench_import()
    bench_detect()
