"""Benchmark: the relations detector on real equipment data with labelled faults (SKAB), point by point, next to the
published baselines.

The data: SKAB, the Skoltech Anomaly Benchmark (Katser and Kozitsin, 2020; GPL-3.0; DOI 10.34740/KAGGLE/DSV/1693952):
a water-circulation testbed (pump, motor, valves) sampled about once a second, eight sensors (two vibration RMS,
motor current, pressure, engine temperature, fluid temperature, voltage, flow rate); 34 experiments, each with one
labelled fault (closed valves, rotor imbalance, cavitation, leaks, ...). No PyPI, npm or Debian package ships it,
so it is not downloaded by anything here: get it once, outside the repository, and pass its folder::

    git clone https://github.com/waico/SKAB /tmp/SKAB      # or the Kaggle download of the same files
    python benchmarks/bench_detector_real.py --skab /tmp/SKAB/data

(``$SKAB_DATA`` works too). Without the data the script says so and exits 0.

The published protocol (SKAB's "proposed leaderboard", outlier detection, as its notebooks compute it): every
file of ``valve1/``, ``valve2/`` and ``other/`` (not ``anomaly-free/``) is split in time; the first 400 rows train
the detector (they are fault-free) and the rest are scored; each scored row's prediction (0/1) is compared with
its ``anomaly`` label, the counts are pooled over all files, and ``F1 = TP / (TP + (FP + FN) / 2)``,
``FAR = FP / (FP + TN)`` (false alarms among normal rows), ``MAR = FN / (FN + TP)`` (missed rows among faulty
ones). Here the detector is fitted on the 400 rows at one row per second with its general settings (nothing is
tuned to SKAB) and scores the rest with the training rows as its history.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from lookout_nb.service.learning.detector import Detector, ZScoreBaseline

TRAIN_ROWS = 400
FOLDERS = ("valve1", "valve2", "other")
#: SKAB's published leaderboard (outlier detection; F1, FAR %, MAR %), from its README.
PUBLISHED = [("Conv-AE", 0.78, 13.55, 28.02), ("MSET", 0.78, 39.73, 14.13),
             ("T-squared+Q (PCA-based)", 0.76, 26.62, 24.92),
             ("LSTM-AE", 0.74, 29.96, 25.92), ("T-squared", 0.66, 19.21, 42.6), ("LSTM-VAE", 0.56, 9.13, 55.03),
             ("Vanilla LSTM", 0.54, 12.54, 59.53), ("MSCRED", 0.36, 49.94, 69.88), ("Vanilla AE", 0.39, 2.59, 75.15),
             ("Isolation forest", 0.29, 2.56, 82.89), ("Null detector", 0.0, 0.0, 100.0)]


def files(folder: Path) -> list[Path]:
    found = sorted((p for name in FOLDERS for p in (folder / name).glob("*.csv")),
                   key=lambda p: (p.parent.name, int(p.stem) if p.stem.isdigit() else p.stem))
    if not found:
        raise SystemExit(f"no SKAB files under {folder}: pass the data folder that holds {', '.join(FOLDERS)}")
    return found


def run(folder: Path, method) -> tuple[dict, float]:
    """Pooled confusion counts of ``method`` (a detector class) over every file, and the seconds it took."""
    counts = dict(tp=0, fp=0, tn=0, fn=0)
    took = 0.0
    for path in files(folder):
        table = pd.read_csv(path, sep=";", index_col="datetime", parse_dates=True)
        truth = table.pop("anomaly").to_numpy() == 1
        table = table.drop(columns="changepoint")
        values = table.to_numpy(dtype=float)
        train, test = values[:TRAIN_ROWS], values[TRAIN_ROWS:]
        step = float(np.median(np.diff(table.index.asi8[: TRAIN_ROWS + 1])) / 1e9) or 1.0
        start = time.perf_counter()
        detector = method.fit(train, list(table.columns), step=step)
        flagged = detector.scores(test, history=train).anomalous
        took += time.perf_counter() - start
        truth = truth[TRAIN_ROWS:]
        counts["tp"] += int((flagged & truth).sum())
        counts["fp"] += int((flagged & ~truth).sum())
        counts["tn"] += int((~flagged & ~truth).sum())
        counts["fn"] += int((~flagged & truth).sum())
    return counts, took


def rates(c: dict) -> tuple[float, float, float]:
    """F1, FAR % and MAR % as SKAB computes them."""
    f1 = c["tp"] / (c["tp"] + (c["fn"] + c["fp"]) / 2) if c["tp"] + c["fn"] + c["fp"] else 0.0
    return f1, 100 * c["fp"] / max(c["fp"] + c["tn"], 1), 100 * c["fn"] / max(c["fn"] + c["tp"], 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skab", type=Path, default=os.environ.get("SKAB_DATA"),
                        help="SKAB's data folder (holding valve1/, valve2/, other/); default $SKAB_DATA")
    args = parser.parse_args()
    if not args.skab or not Path(args.skab).is_dir():
        print("SKAB data not found: clone https://github.com/waico/SKAB (or download it from Kaggle) outside the "
              "repository and pass --skab <its data folder> or set SKAB_DATA; nothing is downloaded here.")
        sys.exit(0)
    print(f"SKAB, {len(files(args.skab))} files: the first {TRAIN_ROWS} rows of each train, the rest are scored "
          "point by point (pooled over the files)")
    print(f"   {'method':28s} {'F1':>5s} {'FAR %':>7s} {'MAR %':>7s}")
    for name, method in (("relations detector (ours)", Detector), ("z-score baseline (ours)", ZScoreBaseline)):
        counts, took = run(args.skab, method)
        f1, far, mar = rates(counts)
        print(f"   {name:28s} {f1:5.2f} {far:7.2f} {mar:7.2f}   ({took:.1f} s, {counts})")
    print("   published (SKAB leaderboard, outlier detection):")
    for name, f1, far, mar in PUBLISHED:
        print(f"   {name:28s} {f1:5.2f} {far:7.2f} {mar:7.2f}")


if __name__ == "__main__":
    main()
