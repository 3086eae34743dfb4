"""Benchmark: plan one year of PT5M and match 1,000,000 keys against it.

The floor is ``pd.to_datetime`` on the same keys' timestamp texts (with their format), measured in the same run:
matching cannot be cheaper than reading every timestamp once. Each figure is the best of ``--repeat`` runs.
Goal: plan + match <= 2x the floor.

    python benchmarks/bench_timing.py [--keys 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from lookout_nb import SchedulerRequest
from lookout_nb.contract.filematch import match_files
from lookout_nb.contract.timing import plan_schedule
from timer import best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    req = SchedulerRequest(upload_frequency="PT5M", delay_offset_minutes=2, input_prefix="input/",
                           timezone_offset="+05:30")
    start, end = "2024-01-01", "2025-01-01"
    slots = len(pd.date_range(start, end, freq="5min", inclusive="left"))
    n_comp = max(1, -(-args.keys // slots))
    comps = [f"component-{i:02d}" for i in range(n_comp)]

    # A realistic listing: one file per component per slot, uploaded 30 s after its window ends, a few late or
    # misnamed files, shuffled as S3 would not, but as a merged multi-page listing might be.
    plan = plan_schedule(req, start=start, end=end, components=comps)
    keys = np.concatenate([plan[f"file:{c}"].to_numpy(dtype=object) for c in comps])[: args.keys]
    rng = np.random.default_rng(0)
    uploaded = np.tile(plan["data_end"].dt.tz_localize(None).to_numpy(), n_comp)[: args.keys] + np.timedelta64(30, "s")
    late = rng.random(len(keys)) < 0.001
    uploaded[late] += np.timedelta64(10, "m")
    bad = rng.random(len(keys)) < 0.0005
    keys[bad] = [k.replace(".csv", ".CSV.tmp") for k in keys[bad]]
    order = rng.permutation(len(keys))
    listing = pd.DataFrame({"Key": keys[order], "LastModified": pd.DatetimeIndex(uploaded[order]).tz_localize("UTC")})
    stamps = [k.rsplit("_", 1)[-1][:14] for k in listing["Key"].tolist()]

    t_floor, _ = best(lambda: pd.to_datetime(stamps, format="%Y%m%d%H%M%S", errors="coerce"), args.repeat)
    t_plan, plan = best(lambda: plan_schedule(req, start=start, end=end, components=comps), args.repeat)
    t_match, m = best(lambda: match_files(plan, listing), args.repeat)
    t_reads, _ = best(lambda: match_files(plan, listing).reads, 1)

    print(f"plan: {len(plan):,} runs x {n_comp} components; listing: {len(listing):,} keys")
    print(f"  {m.summary()}")
    print(f"  (the last component is listed only in part, to make exactly {args.keys:,} keys; ~0.1% of uploads are"
          f" 10 min late and ~0.05% misnamed)")
    print(f"floor  pd.to_datetime on {len(stamps):,} stamps : {t_floor:7.3f} s")
    print(f"plan_schedule (one year, PT5M)           : {t_plan:7.3f} s")
    print(f"match_files ({len(listing):,} keys)           : {t_match:7.3f} s")
    total = t_plan + t_match
    print(f"plan + match                             : {total:7.3f} s  = {total / t_floor:.2f}x floor (goal <= 2x)")
    print(f"match_files + building .reads ({len(m.reads):,} rows): {t_reads:7.3f} s  = {t_reads / t_floor:.2f}x floor")


if __name__ == "__main__":
    main()
