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

``--memory MIB`` measures memory instead (issue 20: ingestion held about 10x the file in RAM): a CSV of about MIB
MiB (8 sensors at 1-second rows, one component) is ingested from a folder in a child process, once as one file
and once cut into 10 files, and the child's peak RSS above what it held after its imports is printed against the
input's total and largest file, next to the frame the ingestion returns (the data kept, float64) and to the peak
of ``pd.read_csv`` of the same largest file in another child (the baseline); the one-file case is also run as
an ingestion job on an embedded endpoint with a state_dir (its peak counted from after the upload). Then the
dataset's data file of a frame of about MIB MiB is saved and read back in children, once with the whole file as
bytes in memory (what the service did before: the baseline) and once streamed (what it does now), and the peaks
above the frame are printed with their ratio.

Run: ``python benchmarks/bench_ingest.py`` (about a minute; ``--days 14`` for a quick look);
``python benchmarks/bench_ingest.py --memory 200``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
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


def write_big(folder: Path, mib: int, files: int) -> list[Path]:
    """About ``mib`` MiB of CSV for component ``big`` (8 sensors, 1-second rows), cut into ``files`` files."""
    rows = mib * 2**20 // 75  # about 75 bytes a row
    rng = np.random.default_rng(0)
    (folder / "big").mkdir(parents=True, exist_ok=True)
    paths, per = [], -(-rows // files)
    for i in range(files):
        n = min(per, rows - i * per)
        stamps = pd.date_range("2024-01-01", periods=n, freq="s") + pd.Timedelta(seconds=i * per)
        frame = pd.DataFrame(rng.normal(size=(n, 8)).round(3), columns=[f"S{j}" for j in range(8)],
                             index=stamps.strftime("%Y-%m-%dT%H:%M:%S"))
        path = folder / "big" / f"big_{i:03d}.csv"
        frame.to_csv(path, index_label="Timestamp")
        paths.append(path)
    return paths


def peak_child(what: str, target) -> dict:
    """Run ``--memory-child what target`` in a fresh interpreter: its RSS after imports and its peak, in bytes."""
    out = subprocess.run([sys.executable, __file__, "--memory-child", what, str(target)], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.splitlines()[-1])


def _status(field: str) -> int:
    """A figure of /proc/self/status in bytes (VmHWM: the peak RSS of this process image; ru_maxrss would also
    count the parent's RSS at fork time, which Linux carries over exec)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(field + ":"))


def _job_peak(folder: Path) -> dict:
    """Upload ``folder`` to an embedded endpoint with a state_dir, forget the peak so far, then run an ingestion
    job over HTTP (the files streamed from its S3, the data file written): the peak of the job alone."""
    from lookout_nb.service import start

    with tempfile.TemporaryDirectory() as state, start(port=0, clock="manual", demo=False, state_dir=state) as ep:
        lookout, s3 = ep.lookout(), ep.s3()
        s3.create_bucket(Bucket="bench-ingest")
        for p in sorted(folder.rglob("*.csv")):
            with open(p, "rb") as f:
                s3.put_object(Bucket="bench-ingest", Key="train/" + p.relative_to(folder).as_posix(), Body=f)
        before = _status("VmRSS")
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # VmHWM starts again from the RSS now (Linux 4.0+)
        lookout.create_dataset(DatasetName="bench", ClientToken="b")
        job = lookout.start_data_ingestion_job(
            DatasetName="bench", RoleArn="arn:aws:iam::123456789012:role/bench", ClientToken="j",
            IngestionInputConfiguration={"S3InputConfiguration": {"Bucket": "bench-ingest", "Prefix": "train/"}})
        while (d := lookout.describe_data_ingestion_job(JobId=job["JobId"]))["Status"] == "IN_PROGRESS":
            time.sleep(0.05)
        assert d["Status"] == "SUCCESS", d.get("FailedReason")
        frames = ep.backend.dataset_data("us-east-1", "bench").frames
        kept = sum(f.memory_usage(index=True).sum() for f in frames.values())
        return {"before": before, "peak": _status("VmHWM"), "kept": int(kept)}


def _data_file_peak(how: str, mib: int) -> dict:
    """The peak of saving (``save-*``) or reading back (``read-*``) the data file of a frame of about ``mib`` MiB
    (float64, 8 sensors), counted from when the frame is there: ``*-bytes`` the whole file in memory as bytes (what
    the service did before: ``encode`` then write; ``read_bytes`` then decode), ``*-stream`` streamed to and from
    a state store's files (:class:`~lookout_nb.service.state.files.DiskFiles`, what it does now)."""
    from lookout_nb.service.state.files import DiskFiles

    rows = mib * 2**20 // 72  # 8 float64 values and the int64 time of a row
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(rows, 8)).round(3), columns=[f"S{j}" for j in range(8)],
                         index=pd.date_range("2024-01-01", periods=rows, freq="s", tz="UTC", name="Timestamp"))
    schema, frames = ModelSchema.parse({"big": list(frame.columns)}), {"big": frame}
    with tempfile.TemporaryDirectory() as tmp:
        files, kept = DiskFiles(tmp), 0
        if how.startswith("read"):
            with files.create("data.npz") as out:
                datafiles.write(out, schema, frames)
            del frame, frames
        before = _status("VmRSS")
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        if how == "save-bytes":
            buffer = io.BytesIO()
            datafiles.write(buffer, schema, frames)
            with files.create("data.npz") as out:
                out.write(buffer.getvalue())
        elif how == "save-stream":
            with files.create("data.npz") as out:
                datafiles.write(out, schema, frames)
        else:
            if how == "read-bytes":
                _, got = datafiles.read(io.BytesIO((Path(tmp) / "data.npz").read_bytes()))
            else:
                with files.open("data.npz") as stream:
                    _, got = datafiles.read(stream)
            kept = int(sum(f.memory_usage(index=True).sum() for f in got.values()))
        size = (Path(tmp) / "data.npz").stat().st_size
        return {"before": before, "peak": _status("VmHWM"), "kept": kept, "size": size}


def memory_child(what: str, target: str) -> None:
    if what == "job":
        print(json.dumps(_job_peak(Path(target))))
        return
    if what.startswith(("save-", "read-")):
        print(json.dumps(_data_file_peak(what, int(target))))
        return
    before = _status("VmRSS")
    kept = 0
    if what == "ingest":
        result = ingest_folder(target)
        kept = sum(f.memory_usage(index=True).sum() for f in result.frames.values())
    else:
        pd.read_csv(target)
    print(json.dumps({"before": before, "peak": _status("VmHWM"), "kept": int(kept)}))


def memory(mib: int) -> None:
    print(f"Peak RSS of ingestion (child process, above its RSS after imports), about {mib} MiB of CSV:")
    for files in (1, 10):
        with tempfile.TemporaryDirectory() as tmp:
            paths = write_big(Path(tmp), mib, files)
            total, largest = sum(p.stat().st_size for p in paths), max(p.stat().st_size for p in paths)
            got = peak_child("ingest", Path(tmp))
            base = peak_child("read_csv", max(paths, key=lambda p: p.stat().st_size))
            job = peak_child("job", Path(tmp)) if files == 1 else None
        grew, base_grew = got["peak"] - got["before"], base["peak"] - base["before"]
        print(f"  {files:2d} file(s): total {total / 2**20:7.1f} MiB, largest {largest / 2**20:7.1f} MiB | ingest peak "
              f"+{grew / 2**20:7.1f} MiB = {grew / total:.2f}x total, {grew / largest:.2f}x largest | frame kept "
              f"{got['kept'] / 2**20:6.1f} MiB ({got['kept'] / total:.2f}x total), peak above it "
              f"+{(grew - got['kept']) / 2**20:6.1f} MiB | pd.read_csv(largest) peak +{base_grew / 2**20:6.1f} MiB "
              f"({base_grew / largest:.2f}x)")
        if job:
            job_grew = job["peak"] - job["before"]
            print(f"      the same as an ingestion job over HTTP (after the upload; data file written): peak "
                  f"+{job_grew / 2**20:7.1f} MiB = {job_grew / total:.2f}x total, above the data kept "
                  f"+{(job_grew - job['kept']) / 2**20:6.1f} MiB")


def data_file_memory(mib: int) -> None:
    print(f"Peak RSS of a dataset's data file of a {mib} MiB frame, above the frame (child processes):")
    for step in ("save", "read"):
        old, new = (peak_child(f"{step}-{how}", mib) for how in ("bytes", "stream"))
        grew = [(r["peak"] - r["before"] - r["kept"]) / 2**20 for r in (old, new)]
        print(f"  {step}: whole file as bytes (before) +{grew[0]:6.1f} MiB | streamed (now) +{grew[1]:6.1f} MiB "
              f"({grew[1] / max(grew[0], 0.1):.2f}x) | the file {new['size'] / 2**20:.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--file-days", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--memory", type=int, metavar="MIB", help="measure peak RSS on about MIB MiB of CSV")
    parser.add_argument("--memory-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        return memory_child(*args.memory_child)
    if args.memory:
        memory(args.memory)
        return data_file_memory(args.memory)
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
        saved, _ = best(lambda: datafiles.write(io.BytesIO(), result.schema, result.frames), args.repeat)
        http = job_over_http(folder, paths, machine.schema, args.repeat)
    print(f"pd.read_csv of every file:   {base * 1000:8.0f} ms   1.00x")
    print(f"ingest (read_input, checks): {own * 1000:8.0f} ms   {own / base:.2f}x")
    print(f"ingest + save (.npz blob):   {(own + saved) * 1000:8.0f} ms   {(own + saved) / base:.2f}x")
    print(f"job over HTTP (boto3 S3):    {http * 1000:8.0f} ms   {http / base:.2f}x")


if __name__ == "__main__":
    main()
