"""Benchmark dataset ingestion against pandas ``read_csv`` of the same files, in the same run.

The data: :func:`lookout_nb.service.demo.synth.generate` for ``--days`` (60) days at 1-minute rows, 8 sensors in two
components, written as one CSV per component per ``--file-days`` (1: 120 files of 1,440 rows) under
``<tmp>/<component>/`` (the default KeyPattern ``{prefix}/{component_name}/*``). Timings are the best of
``--repeat`` runs (benchmarks/timer.py):

- baseline: ``pd.read_csv`` of every file (no timestamp parsing, the cheapest read pandas offers);
- ``ingest`` from the folder (:func:`lookout_nb.service.learning.ingest.ingest` with a :class:`~.ingest.FolderReader`):
  every file through :func:`lookout_nb.contract.inputfiles.read_input` (timestamps parsed, values checked), frames
  assembled, duplicates and quality counted (:func:`lookout_nb.service.learning.ingest.ingest_folder`, which the
  training benchmark can call too);
- ``+ save``: the same plus encoding the durable ``.npz`` blob a job writes before it reports SUCCESS;
- ``job over HTTP``: CreateDataset + StartDataIngestionJob on an embedded endpoint (files uploaded to its S3
  first, not timed), polled until SUCCESS: S3 reads through boto3 as the job does them.

Issue 14's goal: ingest plus train <= 5x read_csv; this prints the ingest part as a ratio.

Run: ``python benchmarks/bench_ingest.py`` (about a minute; ``--days 14`` for a quick look).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lookout_nb.contract.schema import ModelSchema
from lookout_nb.service.demo import synth
from lookout_nb.service.learning.ingest import ingest_folder
from lookout_nb.service.storage import datafiles
from timer import best


def write_files(folder: Path, machine, file_days: int) -> list[Path]:
    paths = []
    for component, frame in machine.frames.items():
        (folder / component).mkdir(parents=True, exist_ok=True)
        for day, chunk in frame.groupby(frame.index.floor(f"{file_days}D")):
            out = chunk.copy()
            out.index = out.index.strftime("%Y-%m-%dT%H:%M:%S.%f")
            path = folder / component / f"{component}_{day:%Y%m%d}.csv"
            out.to_csv(path, index_label="Timestamp")
            paths.append(path)
    return paths


def job_over_http(folder: Path, paths: list[Path], schema: dict, repeat: int) -> float:
    from lookout_nb.service import start

    with start(port=0, clock="manual", demo=False) as ep:
        lookout, s3 = ep.lookout(), ep.s3()
        s3.create_bucket(Bucket="bench-ingest")
        for p in paths:
            s3.put_object(Bucket="bench-ingest", Key="train/" + p.relative_to(folder).as_posix(), Body=p.read_bytes())
        runs = iter(range(repeat))

        def one():
            n = next(runs)
            lookout.create_dataset(DatasetName=f"bench-{n}", ClientToken=f"b{n}",
                                   DatasetSchema={"InlineDataSchema": ModelSchema.parse(schema).to_json()})
            job = lookout.start_data_ingestion_job(
                DatasetName=f"bench-{n}", RoleArn="arn:aws:iam::123456789012:role/bench", ClientToken=f"j{n}",
                IngestionInputConfiguration={"S3InputConfiguration": {"Bucket": "bench-ingest", "Prefix": "train/"}})
            while (d := lookout.describe_data_ingestion_job(JobId=job["JobId"]))["Status"] == "IN_PROGRESS":
                time.sleep(0.01)
            assert d["Status"] == "SUCCESS", d.get("FailedReason")

        return best(one, repeat)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--file-days", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    machine = synth.generate(days=args.days, seed=7)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = write_files(folder, machine, args.file_days)
        size = sum(p.stat().st_size for p in paths)
        rows = sum(len(f) for f in machine.frames.values())
        print(f"{args.days} days x 8 sensors at 1-minute rows: {len(paths)} files, {rows:,} rows, "
              f"{size / 2**20:.1f} MiB")
        base, _ = best(lambda: [pd.read_csv(p) for p in paths], args.repeat)
        own, result = best(lambda: ingest_folder(folder, machine.schema), args.repeat)
        assert all(len(result.frames[c]) == len(f) for c, f in machine.frames.items())
        saved, _ = best(lambda: datafiles.encode(result.schema, result.frames), args.repeat)
        http = job_over_http(folder, paths, machine.schema, args.repeat)
    print(f"pd.read_csv of every file:   {base * 1000:8.0f} ms   1.00x")
    print(f"ingest (read_input, checks): {own * 1000:8.0f} ms   {own / base:.2f}x")
    print(f"ingest + save (.npz blob):   {(own + saved) * 1000:8.0f} ms   {(own + saved) / base:.2f}x")
    print(f"job over HTTP (boto3 S3):    {http * 1000:8.0f} ms   {http / base:.2f}x")


if __name__ == "__main__":
    main()
