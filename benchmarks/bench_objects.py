"""Benchmark: S3 PutObject / GetObject per second through the endpoint, write-through on versus off.

Figures printed, both measured in this process, one after the other:
- memory only (``state_dir=None``, the baseline): PutObject/s and GetObject/s of 4 kB objects (the size of a
  demo input file), one client thread, then 8 threads;
- write-through (``state_dir`` set: every PutObject is on disk, fsynced, before its 200): the same;
- the ratio write-through / memory only for each (GetObject is served from memory either way, so its ratio
  shows the cost of the hook alone).

Run: ``python benchmarks/bench_objects.py [state-dir-parent]`` (default: a temporary folder; give a folder on
the disk you mean to use, since fsync costs what the disk costs).
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from lookout_nb.local import start

N = 400
BODY = b"x" * 4000


def rate(fn, items, threads: int) -> float:
    """Calls of ``fn`` per second over ``items``, with ``threads`` client threads."""
    started = time.perf_counter()
    if threads == 1:
        for item in items:
            fn(item)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(fn, items))
    return len(items) / (time.perf_counter() - started)


def measure(state_dir) -> dict:
    """``{(operation, threads): per second}`` on a fresh endpoint with ``state_dir``."""
    figures = {}
    with start(port=0, clock="manual", demo=False, state_dir=state_dir) as ep:
        s3 = ep.s3()
        bucket = f"bench-objects-{uuid.uuid4().hex[:8]}"
        s3.create_bucket(Bucket=bucket)
        for threads in (1, 8):
            keys = [f"t{threads}/{i:05d}.csv" for i in range(N)]
            figures["PutObject", threads] = rate(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=BODY), keys, threads)
            figures["GetObject", threads] = rate(lambda k: s3.get_object(Bucket=bucket, Key=k)["Body"].read(), keys, threads)
    return figures


def main() -> None:
    parent = sys.argv[1] if len(sys.argv) > 1 else None
    measure(None)  # warm up: imports, service models, moto's first requests
    memory = measure(None)
    with tempfile.TemporaryDirectory(dir=parent) as folder:
        durable = measure(folder)
    print(f"{N} objects of {len(BODY)} bytes per figure; state_dir under {parent or tempfile.gettempdir()}")
    print(f"{'operation':<10} {'threads':>7} {'memory only/s':>14} {'write-through/s':>16} {'ratio':>6}")
    for key in memory:
        print(f"{key[0]:<10} {key[1]:>7} {memory[key]:>14.0f} {durable[key]:>16.0f} {durable[key] / memory[key]:>6.2f}")


if __name__ == "__main__":
    main()
