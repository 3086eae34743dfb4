"""Benchmark preview_input on a prefix of 10,000 input files of 1 MiB, against two baselines in the same run.

What is measured, on moto's S3 server over HTTP on 127.0.0.1 (one process, one bucket):

- the prefix holds ``--keys`` (10,000) objects of ``--size-mib`` (1 MiB) each: 10 components x 1,000 PT5M slots.
  moto keeps objects in ``SpooledTemporaryFile``s; the key buffer is set to 64 KiB here so that the 10 GiB
  spill to (unlinked) temporary files on disk instead of memory. The newest file of each component holds rows of
  its own window (what the preview samples); every older file holds the same 1 MiB body, whose rows are not read
  by either measurement except for parsing time.
- baseline 1, "bare listing": a boto3 ListObjectsV2 paginator over the prefix (MaxKeys 1000), collecting keys.
- baseline 2, "read every file with pandas": ``pd.read_csv(get_object(...)["Body"])`` per key. Timed on
  ``--read-files`` keys drawn at random (default 200) and scaled linearly to all keys, unless ``--read-all``.
- preview_input with a request, the schema's components given, progress off: ListObjectsV2 calls, bytes read by
  the ranged GETs, wall time.

Each timing is the median of ``--repeat`` runs, after one untimed listing (moto computes each object's ETag
from its bytes on the first listing, which would otherwise land on whichever measurement runs first). Goals:
preview wall time <= 1.5x the bare listing; at most ``sample_bytes`` read per sampled file.

Run: ``python benchmarks/bench_preview.py`` (about 1-2 minutes; ``--keys 1000`` for a quick look).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

os.environ.setdefault("MOTO_S3_DEFAULT_KEY_BUFFER_SIZE", str(64 * 1024))  # spill objects to disk, not RAM

import boto3
import pandas as pd
from botocore.config import Config

from lookout_nb import SchedulerRequest
from lookout_nb.preview import preview_input

BUCKET = "bench-preview"
PREFIX = "input/"
T0 = pd.Timestamp("2024-01-01 00:00", tz="UTC")
FREQ = pd.Timedelta(minutes=5)
COMPONENTS = tuple(f"component-{i:02d}" for i in range(10))


def body(window_start: pd.Timestamp, size: int) -> bytes:
    """A CSV of about ``size`` bytes: Timestamp and 3 sensors, rows spread over (start, start + 5 min]."""
    row = len("2024-01-01T00:00:00.000000,0.1234,0.5678,0.9012\n")
    n = size // row
    step = FREQ / n
    times = pd.DatetimeIndex([window_start + step * (i + 1) for i in range(n)]).strftime("%Y-%m-%dT%H:%M:%S.%f")
    lines = [f"{t},0.1234,0.5678,0.9012" for t in times]
    text = "Timestamp,Sensor0,Sensor1,Sensor2\n" + "\n".join(lines) + "\n"
    return text.encode()


def populate(n_keys: int, size: int, request: SchedulerRequest) -> list[str]:
    """Write the objects straight into moto's backend (the server in this process serves the same backend)."""
    from moto.s3.models import s3_backends

    backend = s3_backends["123456789012"]["aws"]
    backend.create_bucket(BUCKET, "us-east-1")
    slots = n_keys // len(COMPONENTS)
    naming = request.naming
    old = body(T0, size)
    keys = []
    for i in range(slots):
        start = T0 + i * FREQ
        data = body(start, size) if i == slots - 1 else old
        for comp in COMPONENTS:
            key = naming.key(comp, start, PREFIX)
            backend.put_object(BUCKET, key, data)
            keys.append(key)
    return keys


def timed(fn):
    """(wall seconds, CPU seconds of this process (client and in-process server), result) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def paired(first, second, repeat: int):
    """Interleaved runs of two functions: per-run (wall, cpu) lists for each, and the last results."""
    runs = {"a": [], "b": []}
    results = {}
    for _ in range(repeat):
        for name, fn in (("a", first), ("b", second)):
            wall, cpu, results[name] = timed(fn)
            runs[name].append((wall, cpu))
    return runs["a"], runs["b"], results["a"], results["b"]


def median_ratio(num, den, i: int) -> float:
    """The median over runs of num/den for wall (i=0) or CPU (i=1) time."""
    return statistics.median(n[i] / d[i] for n, d in zip(num, den))


def bare_listing(s3):
    calls, keys = 0, []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=PREFIX,
                                                             PaginationConfig={"PageSize": 1000}):
        calls += 1
        keys += [o["Key"] for o in page.get("Contents", [])]
    return calls, keys


def read_with_pandas(s3, keys):
    total = 0
    for key in keys:
        obj = s3.get_object(Bucket=BUCKET, Key=key)
        total += obj["ContentLength"]
        pd.read_csv(obj["Body"])
    return total


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--keys", type=int, default=10_000)
    ap.add_argument("--size-mib", type=float, default=1.0)
    ap.add_argument("--sample-bytes", type=int, default=65536)
    ap.add_argument("--read-files", type=int, default=200, help="files read with pandas, scaled to all keys")
    ap.add_argument("--read-all", action="store_true", help="read every file with pandas (slow)")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)

    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        s3 = boto3.client("s3", endpoint_url=f"http://{host}:{port}", region_name="us-east-1",
                          aws_access_key_id="bench", aws_secret_access_key="bench",
                          config=Config(s3={"addressing_style": "path"}, max_pool_connections=16))
        request = SchedulerRequest(upload_frequency="PT5M", delay_offset_minutes=0, input_bucket=BUCKET,
                                   input_prefix=PREFIX, timezone_offset="+00:00")
        size = int(args.size_mib * 1024 * 1024)
        t = time.perf_counter()
        keys = populate(args.keys, size, request)
        print(f"populated {len(keys):,} keys of {size:,} bytes ({len(keys) * size / 2**30:.1f} GiB, objects spilled "
              f"to disk) in {time.perf_counter() - t:.1f} s")

        t = time.perf_counter()
        bare_listing(s3)  # warm-up: moto computes and caches each object's ETag on its first listing
        print(f"warm-up listing (moto computes ETags) in {time.perf_counter() - t:.1f} s")
        bare, pvs, (bare_calls, listed), pv = paired(
            lambda: bare_listing(s3),
            lambda: preview_input(request, s3=s3, components=COMPONENTS, sample_bytes=args.sample_bytes,
                                  progress=False),
            args.repeat)
        assert len(listed) == len(keys)
        read_keys = keys if args.read_all else random.Random(0).sample(keys, min(args.read_files, len(keys)))
        read_t, read_cpu, read_bytes = timed(lambda: read_with_pandas(s3, read_keys))
        scale = len(keys) / len(read_keys)
        read_all = (read_t * scale, read_cpu * scale, read_bytes * scale)
        report(args, keys, bare, bare_calls, pvs, pv, read_all, len(read_keys))
        ok_time = median_ratio(pvs, bare, 0) <= 1.5
        return 0 if ok_time and max(pv.sample_reads.values(), default=0) <= args.sample_bytes else 1
    finally:
        server.stop()


def report(args, keys, bare, bare_calls, pvs, pv, read_all, n_read) -> None:
    per_file = max(pv.sample_reads.values(), default=0)  # the largest ranged read of one file
    wall = lambda runs: statistics.median(r[0] for r in runs)  # noqa: E731
    cpu = lambda runs: statistics.median(r[1] for r in runs)  # noqa: E731
    how = ("measured on every file" if n_read == len(keys)
           else f"measured on {n_read} random files, scaled x{len(keys) / n_read:.0f}")
    print(f"\nmachine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; {args.repeat} interleaved runs, "
          "medians; ratio = median of per-run ratios")
    print(f"preview findings: {sorted(pv.codes) or 'none'}")
    print(f"{'':30}{'bare listing':>14}{'preview':>14}  ratio")
    print(f"{'keys listed':30}{len(keys):>14,}{len(pv.keys):>14,}")
    print(f"{'ListObjectsV2 calls':30}{bare_calls:>14}{pv.list_calls:>14}  {pv.list_calls / bare_calls:.2f}x")
    print(f"{'wall time, s':30}{wall(bare):>14.3f}{wall(pvs):>14.3f}  {median_ratio(pvs, bare, 0):.2f}x")
    print(f"{'CPU time (client+server), s':30}{cpu(bare):>14.3f}{cpu(pvs):>14.3f}  {median_ratio(pvs, bare, 1):.2f}x")
    print(f"{'bytes read':30}{0:>14}{pv.bytes_read:>14,}  {len(pv.sample_reads)} files sampled, at most "
          f"{per_file:,} B each (limit {args.sample_bytes:,})")
    all_t, all_cpu, all_bytes = read_all
    print(f"\nreading every file with pandas ({how}):")
    print(f"  wall {all_t:,.1f} s, CPU {all_cpu:,.1f} s, bytes {all_bytes:,.0f}")
    print(f"  preview / read-all: wall {wall(pvs) / all_t:.4f}x, bytes {pv.bytes_read / all_bytes:.6f}x")
    goal_t = "met" if median_ratio(pvs, bare, 0) <= 1.5 else "MISSED"
    goal_b = "met" if per_file <= args.sample_bytes else "MISSED"
    print(f"\ngoals: wall time <= 1.5x bare listing: {goal_t}; <= sample_bytes per sampled file: {goal_b}")


if __name__ == "__main__":
    sys.exit(main())
