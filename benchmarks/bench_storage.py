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
- writes: PutObject of 1 MiB from 50 clients (boto3, in ``--client-processes`` processes of their own, so their
  CPU does not share the endpoint's GIL), with ``--state-dir`` (every answer fsynced) and without (the baseline):
  (a) saturation: a closed loop (each client puts again as soon as it is answered) for ``--seconds``: PUT/s and
  MiB/s (its latency is only ~50 / throughput, so it is not quoted as the latency); (b) latency: an open loop at
  ``--rate`` PUT/s offered (each client on a Poisson schedule of rate/50, latency counted from the scheduled time,
  so a queue shows): p50 / p95 / max in ms; the ratios durable / baseline.

Run: ``python benchmarks/bench_storage.py --gib 1 --big 5 --more 2`` (the goal's scale: ``--gib 1 --big 5``,
``--more 9 --only memory`` for 10 GiB; about 12 GiB of disk, removed at the end); ``--only writes --rate 20`` for
the PutObject figures alone.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
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
        return self.client_of(self.url)

    @staticmethod
    def client_of(url: str, connections: int = 64):
        return boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="a",
                            aws_secret_access_key="b",
                            config=Config(s3={"addressing_style": "path"}, max_pool_connections=connections,
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


def _put_loop(url: str, bucket: str, worker: int, threads: int, rate: float | None, start_at: float,
              seconds: float) -> list[tuple[float, float]]:
    """One client process: ``threads`` boto3 clients putting 1 MiB objects from ``start_at`` for ``seconds``.

    ``rate`` None: closed loop (each thread puts again as soon as answered); else open loop: each thread puts on a
    Poisson schedule of ``rate`` PUT/s, its latency counted from the scheduled time (a put that starts late because
    the previous one is not answered yet counts its wait). Returns (end time, latency in ms) of each put."""
    s3 = Served.client_of(url, threads)
    body = bytearray(os.urandom(MIB))
    done: list[tuple[float, float]] = []
    lock = threading.Lock()

    def client(t):
        rng = random.Random(worker * 1000 + t)
        n, planned = 0, start_at
        while True:
            planned = planned + rng.expovariate(rate) if rate else max(planned, time.time())
            if planned >= start_at + seconds:
                return
            time.sleep(max(0.0, planned - time.time()))
            if not rate:
                planned = time.time()
            data = bytes(body[:-8]) + (worker * 10**9 + t * 10**6 + n).to_bytes(8, "big")
            s3.put_object(Bucket=bucket, Key=f"w{worker}/t{t}/{n}", Body=data)
            end = time.time()
            with lock:
                done.append((end, (end - planned) * 1000))
            n += 1

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(client, range(threads)))
    return done


def run_clients(ep, clients: int, processes: int, rate: float | None, seconds: float) -> list[tuple[float, float]]:
    """``clients`` clients in ``processes`` processes of their own (their CPU is not the endpoint's), together."""
    bucket = f"bench-puts-{uuid.uuid4().hex[:8]}"
    ep.client().create_bucket(Bucket=bucket)
    per = clients // processes
    start_at = time.time() + 3.0  # every process has imported boto3 and made its client by then
    jobs = [(ep.url, bucket, w, per, rate / clients if rate else None, start_at, seconds) for w in range(processes)]
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        results = pool.starmap(_put_loop, jobs)
    return [item for result in results for item in result]


def _percentiles(ms: list[float]) -> tuple[float, float, float]:
    ms = sorted(ms)
    return statistics.median(ms), ms[min(len(ms) - 1, int(len(ms) * 0.95))], ms[-1]


def writes(args) -> None:
    figures = {}
    with tempfile.TemporaryDirectory(dir=args.dir) as state:
        for label, state_dir in (("no state dir (baseline)", None), ("--state-dir (fsynced)", state)):
            ep = Served(state_dir)
            try:
                closed = run_clients(ep, args.clients, args.client_processes, None, args.seconds)
                opened = run_clients(ep, args.clients, args.client_processes, args.rate, args.seconds)
            finally:
                ep.stop()
            figures[label] = (len(closed) / args.seconds, _percentiles([ms for _, ms in closed]),
                              _percentiles([ms for _, ms in opened]), len(opened))
    print(f"writes: PutObject of 1 MiB, {args.clients} boto3 clients in {args.client_processes} processes of their "
          f"own, {args.seconds:g} s each (the endpoint: lookout-nb serve in another process; {os.cpu_count()} cores "
          "shared by clients and endpoint)")
    print("  (a) saturation, closed loop (each client puts again as soon as answered; latency there is only "
          f"~{args.clients} / throughput):")
    for label, (throughput, closed, _, _) in figures.items():
        print(f"    {label:26s} {throughput:6.1f} PUT/s = {throughput:6.1f} MiB/s   (closed-loop p50 "
              f"{closed[0]:5.0f} ms)")
    print(f"  (b) latency, open loop at {args.rate:g} PUT/s offered ({args.clients} clients, each on a Poisson "
          f"schedule of {args.rate / args.clients:g}/s; latency from the scheduled time):")
    for label, (_, _, opened, count) in figures.items():
        print(f"    {label:26s} p50 {opened[0]:6.0f} ms  p95 {opened[1]:6.0f} ms  max {opened[2]:6.0f} ms  "
              f"({count} puts)")
    (base_rate, _, base, _), (durable_rate, _, durable, _) = figures.values()
    print(f"  ratio durable / baseline: saturation {durable_rate / base_rate:.2f}, open-loop p50 "
          f"{durable[0] / base[0]:.2f}, p95 {durable[1] / base[1]:.2f} (goal: durable p95 <= 100 ms at 50 clients)")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--big", type=int, default=5)
    parser.add_argument("--more", type=float, default=1.0)
    parser.add_argument("--versioned", action="store_true", help="versioned bucket, objects over --keys names")
    parser.add_argument("--keys", type=int, default=256)
    parser.add_argument("--unfinished", type=int, default=0, help="MiB of parts of an upload left in progress")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--client-processes", type=int, default=5, help="processes the clients run in")
    parser.add_argument("--rate", type=float, default=20.0, help="PUT/s offered in total in the open loop")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each closed and open loop")
    parser.add_argument("--dir", default=None, help="where the state directories go (default: the temp folder)")
    parser.add_argument("--only", choices=("memory", "writes"), default=None)
    args = parser.parse_args(argv)
    if args.only in (None, "memory"):
        memory(args)
    if args.only in (None, "writes"):
        writes(args)


if __name__ == "__main__":
    main()
