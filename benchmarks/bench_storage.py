"""Benchmark: the embedded S3's memory against the data it stores, and durable PutObject under 50 clients.

The endpoint runs as ``lookout-nb serve`` in a child process (its RSS is what is measured, from /proc: VmRSS now,
VmHWM the peak); this process uploads with boto3.

Figures printed:
- memory: RSS after storing ``--gib`` GiB of 1 MiB objects, then ``--big`` objects of 100 MiB (multipart,
  upload_fileobj), then during 4 concurrent GETs of 100 MiB objects (peak); then after storing ``--more`` GiB more,
  RSS printed at every GiB stored (the ratio of RSS at the end against RSS after the first GiB: storing more data
  should not grow memory), and the bytes on disk. ``--versioned``: the bucket keeps versions and the 1 MiB objects
  are written over ``--keys`` names, so most of the data is older versions; ``--unfinished N``: N MiB of 8 MiB
  parts are uploaded to a multipart upload that is never completed (in-progress uploads' parts on disk too);
- durable writes: PutObject of 1 MiB from 50 concurrent clients with ``--state-dir`` (every answer fsynced):
  p50 / p95 / max in ms; the same without a state directory (no fsync) as the baseline, and the ratio.

Run: ``python benchmarks/bench_storage.py --gib 1 --big 5 --more 2`` (the goal's scale: ``--gib 1 --big 5``,
``--more 9 --only memory`` for 10 GiB; about 12 GiB of disk, removed at the end).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024


class Served:
    """``lookout-nb serve`` in a child process: ``.url``, ``.rss()``, ``.peak()`` (MiB), ``.stop()``."""

    def __init__(self, state_dir=None):
        args = [sys.executable, "-m", "lookout_nb.service.cli", "serve", "--port", "0", "--clock", "manual"]
        args += ["--state-dir", str(state_dir)] if state_dir else []
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        first = self.process.stdout.readline()
        self.url = re.search(r"(http://127\.0\.0\.1:\d+)", first).group(1)
        threading.Thread(target=self.process.stdout.read, daemon=True).start()

    def _status(self, field: str) -> float:
        text = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(rf"{field}:\s+(\d+) kB", text).group(1)) / 1024

    def rss(self) -> float:
        return self._status("VmRSS")

    def peak(self) -> float:
        return self._status("VmHWM")

    def client(self):
        return boto3.client("s3", endpoint_url=self.url, region_name="us-east-1", aws_access_key_id="a",
                            aws_secret_access_key="b",
                            config=Config(s3={"addressing_style": "path"}, max_pool_connections=64,
                                          retries={"max_attempts": 1}, read_timeout=300))

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(60)


def store_small(s3, bucket: str, gib: float, start: int = 0, keys: int = 0) -> int:
    """Put ``gib`` GiB of 1 MiB objects (4 clients; over ``keys`` names when given); returns the next index."""
    count = int(gib * 1024)
    body = os.urandom(MIB)

    def put(i):
        s3.put_object(Bucket=bucket, Key=f"small/{i % keys if keys else i:06d}", Body=body[:-8] + i.to_bytes(8, "big"))

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(put, range(start, start + count)))
    return start + count


def unfinished(s3, bucket: str, mib: int) -> None:
    """Upload ``mib`` MiB of 8 MiB parts to a multipart upload that is left in progress."""
    upload = s3.create_multipart_upload(Bucket=bucket, Key="unfinished.bin")["UploadId"]
    body = os.urandom(8 * MIB)
    for number in range(1, mib // 8 + 1):
        s3.upload_part(Bucket=bucket, Key="unfinished.bin", UploadId=upload, PartNumber=number, Body=body)


def disk_gib(folder) -> float:
    """Bytes under ``folder``, in GiB."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file()) / 1024**3


def memory(args) -> None:
    with tempfile.TemporaryDirectory(dir=args.dir) as state:
        ep = Served(state)
        try:
            s3, bucket = ep.client(), "bench-storage"
            s3.create_bucket(Bucket=bucket)
            keys = args.keys if args.versioned else 0
            if args.versioned:
                s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
            print(f"memory: RSS at start {ep.rss():.0f} MiB" + (f" (versioned bucket, {keys} names)" if keys else ""))
            t0 = time.monotonic()
            n = store_small(s3, bucket, args.gib, keys=keys)
            after_first = ep.rss()
            print(f"  {args.gib:g} GiB of 1 MiB objects stored in {time.monotonic() - t0:.0f} s: RSS {after_first:.0f} "
                  f"MiB, peak {ep.peak():.0f} MiB")
            big = os.urandom(100 * MIB)
            config = TransferConfig(multipart_threshold=8 * MIB, multipart_chunksize=8 * MIB, max_concurrency=4)
            for i in range(args.big):
                s3.upload_fileobj(io.BytesIO(big[:-8] + i.to_bytes(8, "big")), bucket, f"big/{i}", Config=config)
            print(f"  + {args.big} x 100 MiB multipart: RSS {ep.rss():.0f} MiB, peak {ep.peak():.0f} MiB")
            if args.big:
                def get(i):
                    body = s3.get_object(Bucket=bucket, Key=f"big/{i % args.big}")["Body"]
                    size = 0
                    while chunk := body.read(MIB):
                        size += len(chunk)
                    return size

                with ThreadPoolExecutor(4) as pool:
                    sizes = list(pool.map(get, range(4)))
                assert sizes == [100 * MIB] * 4
                print(f"  4 concurrent 100 MiB GETs: RSS {ep.rss():.0f} MiB, peak {ep.peak():.0f} MiB "
                      f"(goal: peak <= 600 MiB)")
            if args.unfinished:
                unfinished(s3, bucket, args.unfinished)
                print(f"  + {args.unfinished} MiB of parts of an upload never completed: RSS {ep.rss():.0f} MiB")
            stored = args.gib + args.big * 100 / 1024 + args.unfinished / 1024
            left = args.more
            while left > 0:
                step = min(1.0, left)
                n, left, stored = store_small(s3, bucket, step, n, keys), left - step, stored + step
                print(f"  {stored:5.1f} GiB stored: RSS {ep.rss():.0f} MiB")
            if args.more:
                print(f"  + {args.more:g} GiB more ({stored:.1f} GiB stored, {disk_gib(state):.1f} GiB on disk): RSS "
                      f"{ep.rss():.0f} MiB, peak {ep.peak():.0f} MiB; RSS ratio to after the first {args.gib:g} GiB: "
                      f"{ep.rss() / after_first:.2f}")
        finally:
            ep.stop()


def latencies(ep, clients: int, puts: int) -> list[float]:
    s3, bucket = ep.client(), f"bench-puts-{os.getpid()}"
    s3.create_bucket(Bucket=bucket)
    body = os.urandom(MIB)
    times: list[float] = []
    lock = threading.Lock()

    def client(c):
        for i in range(puts):
            t = time.perf_counter()
            s3.put_object(Bucket=bucket, Key=f"c{c}/{i}", Body=body[:-8] + (c * 100000 + i).to_bytes(8, "big"))
            with lock:
                times.append((time.perf_counter() - t) * 1000)

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    return sorted(times)


def writes(args) -> None:
    figures = {}
    with tempfile.TemporaryDirectory(dir=args.dir) as state:
        for label, state_dir in (("no state dir (baseline)", None), ("--state-dir (fsynced)", state)):
            ep = Served(state_dir)
            try:
                figures[label] = latencies(ep, args.clients, args.puts)
            finally:
                ep.stop()
    print(f"durable writes: PutObject 1 MiB, {args.clients} clients x {args.puts} puts")
    for label, t in figures.items():
        print(f"  {label:26s} p50 {statistics.median(t):6.0f} ms  p95 {t[int(len(t) * 0.95)]:6.0f} ms  "
              f"max {t[-1]:6.0f} ms")
    base, durable = figures.values()
    print(f"  ratio durable / baseline: p50 {statistics.median(durable) / statistics.median(base):.2f}, p95 "
          f"{durable[int(len(durable) * 0.95)] / base[int(len(base) * 0.95)]:.2f} (goal: durable p95 <= 100 ms)")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--big", type=int, default=5)
    parser.add_argument("--more", type=float, default=1.0)
    parser.add_argument("--versioned", action="store_true", help="versioned bucket, objects over --keys names")
    parser.add_argument("--keys", type=int, default=256)
    parser.add_argument("--unfinished", type=int, default=0, help="MiB of parts of an upload left in progress")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--puts", type=int, default=10)
    parser.add_argument("--dir", default=None, help="where the state directories go (default: the temp folder)")
    parser.add_argument("--only", choices=("memory", "writes"), default=None)
    args = parser.parse_args(argv)
    if args.only in (None, "memory"):
        memory(args)
    if args.only in (None, "writes"):
        writes(args)


if __name__ == "__main__":
    main()
