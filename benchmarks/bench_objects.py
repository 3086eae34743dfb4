"""Benchmark: S3 PutObject / GetObject per second through the endpoint, write-through on versus off.

Figures printed, both measured in this process, one after the other:
- memory only (``state_dir=None``, the baseline): PutObject/s and GetObject/s of 4 kB objects (the size of a
  demo input file), one client thread, then 8 threads;
- write-through (``state_dir`` set: every PutObject is on disk, fsynced, before its 200): the same;
- the ratio write-through / memory only for each (GetObject is served from memory either way, so its ratio
  shows the cost of the hook alone);
- the write-through alone: milliseconds per object of ``ObjectStore.sync`` (blob fsynced and renamed, folder
  fsynced, SQLite commit with synchronous=FULL), without HTTP, steadier than the rates on a busy machine.

Every body is distinct (a content-addressed store writes a repeated body once).

Run: ``python benchmarks/bench_objects.py [state-dir-parent]`` (default: a temporary folder; give a folder on
the disk you mean to use, since fsync costs what the disk costs).
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from lookout_nb.service import start
from lookout_nb.service.storage.moto import motos3

N = 400
SIZE = 4000


def body(key: str) -> bytes:
    """A distinct 4 kB body per key."""
    return key.encode().ljust(SIZE, b"x")


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
            put = lambda k: s3.put_object(Bucket=bucket, Key=k, Body=body(k))  # noqa: E731 - named for the line
            get = lambda k: s3.get_object(Bucket=bucket, Key=k)["Body"].read()  # noqa: E731
            figures["PutObject", threads] = rate(put, keys, threads)
            figures["GetObject", threads] = rate(get, keys, threads)
        if ep.objects is not None:
            figures["sync ms"] = sync_ms(ep.objects, bucket)
    return figures


def sync_ms(store, bucket: str) -> float:
    """Milliseconds per object of the write-through alone, for objects put into moto directly."""
    backend = motos3.backend_of()
    keys = [f"direct/{i:05d}.csv" for i in range(N)]
    for key in keys:
        backend.put_object(bucket, key, body(key))
    started = time.perf_counter()
    for key in keys:
        store.sync(keys=[(backend, bucket, key)])
    return (time.perf_counter() - started) / N * 1000


def main() -> None:
    parent = sys.argv[1] if len(sys.argv) > 1 else None
    measure(None)  # warm up: imports, service models, moto's first requests
    memory = measure(None)
    with tempfile.TemporaryDirectory(dir=parent) as folder:
        durable = measure(folder)
    print(f"{N} objects of {SIZE} bytes per figure; state_dir under {parent or tempfile.gettempdir()}")
    print(f"{'operation':<10} {'threads':>7} {'memory only/s':>14} {'write-through/s':>16} {'ratio':>6}")
    for key in memory:
        print(f"{key[0]:<10} {key[1]:>7} {memory[key]:>14.0f} {durable[key]:>16.0f} {durable[key] / memory[key]:>6.2f}")
    put = 1000 / durable["PutObject", 1]
    print(f"write-through alone: {durable['sync ms']:.2f} ms per object, "
          f"{durable['sync ms'] / put:.0%} of a single-thread PutObject's {put:.1f} ms")


if __name__ == "__main__":
    main()
