"""Benchmark: what idle connections cost the embedded endpoint, against the same calls with none, in one run.

Figures printed:
- the baseline: median and worst latency of a bare S3 ``ListObjectsV2`` over 100 calls, no other connection open;
- the same with ``--idle`` connections open (default 400; a quarter of them kept alive after one request, as a
  client's pool leaves them, the rest connected and silent), and the ratio to the baseline. Goal: the median
  within 1.5x, every call answered;
- the threads of the process in both states (client and server share the process: 400 idle connections must not
  add a thread each).

Uses only the public API, so it runs against any version: ``python benchmarks/bench_idle.py [--idle 400]``.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import time
from urllib.parse import urlsplit

from lookout_nb.service import start

CALLS = 100


def threads() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("Threads:"))


def latencies(s3, bucket: str, n: int = CALLS) -> list[float]:
    s3.list_objects_v2(Bucket=bucket)  # warm-up
    out = []
    for _ in range(n):
        started = time.perf_counter()
        s3.list_objects_v2(Bucket=bucket)
        out.append(time.perf_counter() - started)
    return out


def open_idle(url: str, n: int) -> list[socket.socket]:
    host, port = urlsplit(url).hostname, urlsplit(url).port
    held = []
    for i in range(n):
        sock = socket.create_connection((host, port), timeout=60)
        if i % 4 == 0:  # one request, then kept alive and idle
            sock.sendall(f"GET /bench-idle HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
            sock.recv(65536)
        held.append(sock)
    return held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=int, default=400)
    args = parser.parse_args()
    with start(port=0, clock="manual", demo=False) as ep:
        s3 = ep.s3()
        s3.create_bucket(Bucket="bench-idle")
        base = latencies(s3, "bench-idle")
        base_threads = threads()
        held = open_idle(ep.url, args.idle)
        try:
            time.sleep(0.5)
            loaded_threads = threads()
            loaded = latencies(s3, "bench-idle")
        finally:
            for sock in held:
                sock.close()
    ms = 1000
    print(f"no idle connection: median {statistics.median(base) * ms:.2f} ms, worst {max(base) * ms:.2f} ms; "
          f"threads {base_threads}")
    print(f"{args.idle} idle connections: median {statistics.median(loaded) * ms:.2f} ms, worst "
          f"{max(loaded) * ms:.2f} ms; threads {loaded_threads}")
    ratio = statistics.median(loaded) / statistics.median(base)
    print(f"ratio of medians: {ratio:.2f}x   goal <= 1.5x ({'met' if ratio <= 1.5 else 'NOT met'}); "
          f"threads added: {loaded_threads - base_threads}")


if __name__ == "__main__":
    main()
