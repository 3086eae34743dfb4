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

Times are best of ``--repeat`` runs; each ratio compares runs made back to back in the same process, so that a
shared machine's load changes both sides alike.

    python benchmarks/bench_detector.py [--seeds 0 1 2] [--repeat 3] [--windows 200]
"""

from __future__ import annotations

import argparse
import os
import tempfile

import pandas as pd

from lookout_nb.service.demo import synth
from lookout_nb.service.learning import training
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
    args = parser.parse_args()

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


if __name__ == "__main__":
    main()
