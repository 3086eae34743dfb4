"""Benchmark: the relations detector against the per-sensor z-score baseline, for quality and for speed.

1. Quality: for each seed, the synthetic pump (:mod:`lookout_nb.service.demo.synth`) runs 54 days with one 12-hour fault
   of each of the five in-range kinds spread over the last 14; both detectors are trained through
   :func:`lookout_nb.service.learning.training.train` on the first 40 days (OffCondition ``hx-pump\\Speed < 100``) and
   evaluated on the last 14. Printed: faults found (a predicted range overlaps the label; goal >= 4 of 5) and false
   predicted ranges per 14 days (ranges overlapping no label; goal <= 2).
2. Training speed: 60 days x 8 sensors at 1-minute rows written as one CSV per component; ``pd.read_csv`` of the
   files (the baseline) against reading them as ingestion would (read_csv plus timestamp parsing) followed by
   ``train`` (46 days of training, 14 of evaluation; goal: ingest + train <= 5x read_csv).
3. Scoring speed: one 5-minute window of a scheduled run, ``training.score`` with the trained detector (and its
   history rows) against the z-score baseline the endpoint scored with before (``training.score`` of a model trained
   with ``method="zscore"``: the same z-scores and results records as the old ``inference.score``; goal <= 2x).

4. Windows in time: the same pump trained at PT1M and at PT5M (14 days; 3 days of evaluation with a one-hour fault
   of each kind), scored by a scheduler every 5 minutes with the detector's lookback before each window (as the
   runner reads it): the window, persistence and lookback in rows and minutes, faults found, and the share of
   normal rows flagged from 15 to 60 minutes after a fault ends (goal at PT5M: <= 5%; before windows were in time,
   every window was 10 rows, 50 minutes at PT5M).
5. Size: 300 sensors x 1 year of 1-minute rows (525,600 rows, correlated factors with squares and noise) fitted in a
   fresh process (time and peak RSS from ``resource.getrusage``; goals <= 300 s and <= 4 GiB), against the z-score
   baseline fitted on the same rows in that process; then 10,000 rows of the 300 sensors scored with diagnostics
   (goal <= 30 s), against the z-score baseline.

Times are best of ``--repeat`` runs; each ratio compares runs made back to back in the same process, so that a
shared machine's load changes both sides alike.

    python benchmarks/bench_detector.py [--seeds 0 1 2] [--repeat 3] [--windows 200] [--rows 525600] [--sensors 300]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd

from lookout_nb.service.demo import synth
from lookout_nb.service.learning import training
from lookout_nb.service.learning.detector import Detector, ZScoreBaseline
from timer import best

DAY = pd.Timedelta(days=1)


def quality(seed: int) -> dict:
    """Faults found and false ranges of both detectors on one seed's machine."""
    start = synth.DEFAULT_START
    evaluation = (start + 40 * DAY, start + 54 * DAY)
    machine = synth.generate(days=54, seed=seed, faults=synth.spread_faults(synth.FAULT_KINDS, *evaluation, "12h"))
    out = {}
    for method in ("relations", "zscore"):
        model = training.train(machine.frames, machine.schema, "PT1M", (start, evaluation[0]), evaluation,
                               labels=machine.labels, off_condition=machine.off_condition, method=method)
        found = model.metrics["labeled_event_metrics"]["num_identified"]
        out[method] = (found, model.metrics["unknown_event_metrics"]["num_identified"])
    return out


def time_windows(rate: str, seed: int = 3) -> dict:
    """Windows in rows and minutes, faults found and late flags of a 5-minute scheduler at ``rate``."""
    start = synth.DEFAULT_START
    train_end, end = start + 14 * DAY, start + 17 * DAY
    machine = synth.generate(days=17, seed=seed, faults=synth.spread_faults(synth.FAULT_KINDS, train_end, end, "1h"))
    model = training.train(machine.frames, machine.schema, rate, (start, train_end), (train_end, end),
                           labels=machine.labels, off_condition=machine.off_condition)
    det, wide, every = model.detector, machine.wide(), pd.Timedelta(minutes=5)
    span = pd.Timedelta(seconds=det.lookback_seconds)
    rows = []
    for stop in pd.date_range(train_end + every, end, freq=every):
        window = wide[(wide.index > stop - every) & (wide.index <= stop)]
        history = wide[(wide.index > stop - every - span) & (wide.index <= stop - every)]
        rows += training.score(model, window, history=history)
    flags = pd.Series([r["prediction"] for r in rows], pd.DatetimeIndex([r["timestamp"] for r in rows], tz="UTC"))
    late = np.zeros(len(flags), bool)
    for lb in machine.labels:
        late |= (flags.index > lb.end + pd.Timedelta(minutes=15)) & (flags.index <= lb.end + pd.Timedelta(hours=1))
    minutes = det.step / 60
    return {"window": (det.window, det.window * minutes), "persistence": (det.persistence, det.persistence * minutes),
            "lookback": (det.lookback, det.lookback * minutes), "found": model.metrics["labeled_event_metrics"][
                "num_identified"], "late": float(flags[late].mean()), "false": model.metrics["unknown_event_metrics"][
                "num_identified"]}


def factors(rows: int, sensors: int, seed: int = 0, k: int = 12, chunk: int = 65_536) -> np.ndarray:
    """``rows`` x ``sensors`` readings driven by ``k`` slow hidden factors (linear and squared) plus noise."""
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(k, sensors)) / np.sqrt(k)
    square = rng.normal(size=(k, sensors)) * (rng.random(sensors) < 0.3) / k
    out, state, keep = np.empty((rows, sensors)), np.zeros(k), 0.995
    for a in range(0, rows, chunk):
        m = min(chunk, rows - a)
        shocks = rng.normal(size=(m, k)) * np.sqrt(1 - keep * keep)
        f = np.empty((m, k))
        for i in range(m):
            state = keep * state + shocks[i]
            f[i] = state
        out[a : a + m] = f @ mix + (f * f) @ square + 0.1 * rng.normal(size=(m, sensors))
    return out


def fit_in_this_process(rows: int, sensors: int) -> dict:
    """Fit both detectors on generated rows; seconds and peak RSS (what ``--fit-child`` prints)."""
    values = factors(rows, sensors)
    names = [f"asset\\s{j}" for j in range(sensors)]
    data_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    t0 = time.perf_counter()
    ZScoreBaseline.fit(values, names)
    t1 = time.perf_counter()
    det = Detector.fit(values, names, step=60)
    t2 = time.perf_counter()
    return {"zscore_s": t1 - t0, "fit_s": t2 - t1, "data_bytes": values.nbytes, "rss_after_data": data_rss,
            "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "threshold": det.threshold}


def read_plain(paths):
    return [pd.read_csv(p) for p in paths]


def ingest(paths) -> dict:
    """What ingestion does before training: read each component's CSV and index it by its parsed timestamps."""
    frames = {}
    for path in paths:
        table = pd.read_csv(path)
        table.index = pd.to_datetime(table.pop("Timestamp"), format="ISO8601", utc=True)
        frames[os.path.basename(path)[:-4]] = table
    return frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--windows", type=int, default=200, help="5-minute windows scored per timing")
    parser.add_argument("--rows", type=int, default=525_600, help="rows of the size case (1 year of minutes)")
    parser.add_argument("--sensors", type=int, default=300, help="sensors of the size case")
    parser.add_argument("--fit-child", type=int, nargs=2, metavar=("ROWS", "SENSORS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fit_child:
        print(json.dumps(fit_in_this_process(*args.fit_child)))
        return

    print("1. Quality: 5 in-range faults, 40 days of training, 14 of evaluation (found of 5 / false ranges per 14 d)")
    totals = {"relations": [0, 0], "zscore": [0, 0]}
    for seed in args.seeds:
        result = quality(seed)
        for method, (found, false) in result.items():
            totals[method][0] += found
            totals[method][1] += false
        print(f"   seed {seed}: relations {result['relations'][0]}/5 found, {result['relations'][1]} false;  "
              f"z-score {result['zscore'][0]}/5 found, {result['zscore'][1]} false")
    n = len(args.seeds)
    for method, (found, false) in totals.items():
        print(f"   {method:9s}: {found / n:.1f} of 5 found, {false / n:.1f} false ranges per 14 days "
              f"(mean of {n} seeds)")

    print("2. Training speed: 60 days x 8 sensors at PT1M (each repeat times the baseline and the candidate back "
          "to back; the ratio is the median of the repeats' ratios)")
    start = synth.DEFAULT_START
    machine = synth.generate(days=60, seed=args.seeds[0])
    windows = ((start, start + 46 * DAY), (start + 46 * DAY, start + 60 * DAY))
    fit = lambda frames: training.train(frames, machine.schema, "PT1M", *windows,  # noqa: E731
                                        off_condition=machine.off_condition)
    reads, ingests, trains = [], [], []
    with tempfile.TemporaryDirectory() as folder:
        paths = machine.write_csv(folder, labels_file=None)
        size = sum(os.path.getsize(p) for p in paths)
        for _ in range(args.repeat):
            reads.append(best(lambda: read_plain(paths), 1)[0])
            t_ingest, frames = best(lambda: ingest(paths), 1)
            ingests.append(t_ingest)
            t_train, model = best(lambda: fit(frames), 1)
            trains.append(t_train)
    ratios = sorted((i + t) / r for r, i, t in zip(reads, ingests, trains))
    plain = sorted((r + t) / r for r, t in zip(reads, trains))
    print(f"   read_csv of {len(paths)} files ({size / 1e6:.1f} MB, {len(machine.wide())} rows): "
          f"best {min(reads):.3f} s")
    print(f"   ingest (read_csv + timestamps) best {min(ingests):.3f} s, train and evaluate best {min(trains):.3f} s")
    print(f"   ingest + train = {ratios[len(ratios) // 2]:.2f}x read_csv; read_csv + train = "
          f"{plain[len(plain) // 2]:.2f}x read_csv (goal <= 5x)")

    print(f"3. Scoring one 5-minute window ({args.windows} windows, baseline and detector alternating per window)")
    wide = machine.wide()
    k = model.detector.lookback
    eval_rows = wide[wide.index >= windows[1][0]]
    jobs = [(eval_rows.iloc[s : s + 5], eval_rows.iloc[s - k : s]) for s in (k + 7 * i for i in range(args.windows))]
    baseline = training.train(machine.frames, machine.schema, "PT1M", *windows, method="zscore")
    totals = [0.0, 0.0]
    for _ in range(args.repeat):
        for window, history in jobs:
            totals[0] += best(lambda: training.score(baseline, window), 1)[0]
            totals[1] += best(lambda: training.score(model, window, history=history), 1)[0]
    per = [t / (len(jobs) * args.repeat) * 1e6 for t in totals]
    print(f"   z-score baseline {per[0]:.0f} us per window; relations detector {per[1]:.0f} us = "
          f"{totals[1] / totals[0]:.2f}x (goal <= 2x)")

    print("4. Windows in time: a 5-minute scheduler after one-hour faults (window / persistence / lookback in rows "
          "and minutes; late = normal rows flagged 15-60 min after a fault ends, goal at PT5M <= 5%)")
    for rate in ("PT1M", "PT5M"):
        r = time_windows(rate)
        print(f"   {rate}: window {r['window'][0]} rows = {r['window'][1]:.0f} min, persistence {r['persistence'][0]} "
              f"= {r['persistence'][1]:.0f} min, lookback {r['lookback'][0]} = {r['lookback'][1]:.0f} min; found "
              f"{r['found']}/5, false ranges {r['false']}, late flags {100 * r['late']:.1f}%")

    print(f"5. Size: {args.sensors} sensors x {args.rows} rows fitted in a fresh process (goals <= 300 s, peak RSS "
          "<= 4 GiB at 300 x 525,600)")
    child = subprocess.run([sys.executable, __file__, "--fit-child", str(args.rows), str(args.sensors)],
                           capture_output=True, text=True, check=True)
    r = json.loads(child.stdout.strip().splitlines()[-1])
    gib = 2**30
    print(f"   data {r['data_bytes'] / gib:.2f} GiB (process {r['rss_after_data'] / gib:.2f} GiB after making it); "
          f"fit {r['fit_s']:.1f} s = {r['fit_s'] / r['zscore_s']:.0f}x the z-score baseline's {r['zscore_s']:.1f} s; "
          f"peak RSS {r['peak_rss'] / gib:.2f} GiB = {r['peak_rss'] / r['rss_after_data']:.2f}x the data's")
    values = factors(10_000 + 200, args.sensors, seed=1)
    names = [f"asset\\s{j}" for j in range(args.sensors)]
    fitted = Detector.fit(factors(20_000, args.sensors), names, step=60)
    base = ZScoreBaseline.fit(values[:200], names)
    k = fitted.lookback
    t_base = best(lambda: base.scores(values[200:]), args.repeat)[0]
    t_det = best(lambda: fitted.scores(values[200:], history=values[200 - k : 200]), args.repeat)[0]
    print(f"   scoring 10,000 rows x {args.sensors} sensors with diagnostics: {t_det:.2f} s = {t_det / t_base:.0f}x "
          "the "
          f"z-score baseline's {t_base:.3f} s (goal <= 30 s)")


if __name__ == "__main__":
    main()
