"""Benchmark: runs per second of one service, by how it is deployed, and the takeover time after a SIGKILL.

``--schedulers`` PT5M schedulers (default 200) on a real clock at ``--speed`` (default 360: one service hour every
10 real seconds, 2,400 runs due per service hour, 240 runs/s due) against one S3 (a moto_server process) and one
PostgreSQL (a throwaway cluster), in three deployments measured in this one run:

1. one serve process, runs in-process (the baseline);
2. two serve processes on the same database (claims of 50 runs each, ``FOR UPDATE`` under the shared lock);
3. one serve process and a Dask cluster of two worker processes of 4 threads (``--dask-scheduler``; a run mostly
   waits for S3, like the in-process runner's 4 reader threads).

Each figure is the number of runs that ended during one service hour (``10 s`` real at 360x), once the schedulers
run, divided by its real duration; the ratios are against deployment 1. Then two serve processes again, one
SIGKILLed while it holds claims: the time until every claim it held is taken over by the other.

    python benchmarks/bench_scale.py [--schedulers 200] [--speed 360]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import uuid
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "service"))

from clusterkit import Serve, dask_cluster, wait_for
from pgkit import Cluster, missing
from s3server import CHAIN, UserS3
from test_external_s3 import put_training_data, train

from lookout_nb.service.demo import demo

ENDED = ("SELECT count(*) FILTER (WHERE status <> 'IN_PROGRESS'), count(*) FILTER (WHERE status = 'FAILED') "
         "FROM executions")


def schedule(lookout, name, bucket):
    kwargs = demo.scheduler_kwargs(name, ModelName="plant")
    kwargs["DataInputConfiguration"]["S3InputConfiguration"] = {"Bucket": bucket, "Prefix": "in/"}
    kwargs["DataOutputConfiguration"] = {"S3OutputConfiguration": {"Bucket": bucket, "Prefix": f"out/{name}/"}}
    lookout.create_inference_scheduler(**kwargs, ClientToken=name)


def deploy(pg, user, bucket, args, processes, schedulers, dask=None):
    """Start ``processes`` serve processes on a new database, train the model, create the schedulers."""
    import psycopg

    url = pg.database()
    extra = ["--dask-scheduler", dask] if dask else []
    serves = [Serve(["--clock", "real", "--speed", str(args.speed), "--db", url, "--s3-endpoint-url", user.url,
                     *extra]) for _ in range(processes)]
    train(serves[0].lookout(), bucket, "plant")
    for i in range(schedulers):
        schedule(serves[i % processes].lookout(), f"s-{i:05d}", bucket)
    db = psycopg.connect(url, autocommit=True)
    wait_for(lambda: db.execute(ENDED).fetchone()[0] > 0, 120, "the first runs")
    return serves, db


def throughput(pg, user, bucket, args, processes, dask=None) -> tuple[float, int]:
    """Runs/s ended during one service hour, and how many of them FAILED."""
    serves, db = deploy(pg, user, bucket, args, processes, args.schedulers, dask)
    try:
        hour = 3600 / args.speed
        ended0, failed0 = db.execute(ENDED).fetchone()
        t0 = time.perf_counter()
        time.sleep(hour)
        ended1, failed1 = db.execute(ENDED).fetchone()
        return (ended1 - ended0) / (time.perf_counter() - t0), failed1 - failed0
    finally:
        for serve in serves:
            serve.stop()
        db.close()


def takeover(pg, user, bucket, args) -> tuple[float, int]:
    """Seconds from the SIGKILL of a serve process holding claims until the other holds them all, and how many."""
    serves, db = deploy(pg, user, bucket, args, 2, args.schedulers)
    b = serves[1]
    try:
        def b_holds():
            row = db.execute("SELECT c.owner, count(*) FROM claims c JOIN owners o ON o.id = c.owner "
                             "WHERE o.url = %s GROUP BY c.owner", (b.url,)).fetchone()
            return row

        owner, held = wait_for(b_holds, 120, "b holding claims", every=0.01)
        b.kill()
        killed = time.perf_counter()
        wait_for(lambda: db.execute("SELECT count(*) FROM claims WHERE owner = %s", (owner,)).fetchone()[0] == 0,
                 120, "the takeover", every=0.05)
        return time.perf_counter() - killed, held
    finally:
        for serve in serves:
            serve.stop()
        db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schedulers", type=int, default=200)
    parser.add_argument("--speed", type=float, default=360.0)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    if missing():
        sys.exit(f"bench_scale: {missing()}")
    os.environ.update(CHAIN)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    due = args.schedulers * args.speed / 300
    print(f"{args.schedulers} PT5M schedulers at {args.speed:g}x: {args.schedulers * 12} runs per service hour, "
          f"{due:.0f} runs/s due (one service hour = {3600 / args.speed:g} s real)")
    with Cluster.start() as pg, UserS3() as user, dask_cluster(2, threads=4) as cluster:  # a run waits on S3
        bucket = f"plant-{uuid.uuid4().hex[:8]}"
        put_training_data(user.client(), bucket)
        now = pd.Timestamp.now(tz="UTC")
        demo.write_input_files(user.client(), bucket, "in/", demo.DEMO_COMPONENTS, now - pd.Timedelta("30min"),
                               now + pd.Timedelta("16h"), create_bucket=False)
        figures = {}
        for name, processes, dask in (("1 serve, in-process", 1, None), ("2 serve processes", 2, None),
                                      ("1 serve + 2 Dask workers", 1, cluster.scheduler_address)):
            figures[name] = throughput(pg, user, bucket, args, processes, dask)
            rate, failed = figures[name]
            base = figures["1 serve, in-process"][0]
            print(f"{name:26s} {rate:7.1f} runs/s  x{rate / base:4.2f}  ({failed} FAILED)", flush=True)
        seconds, held = takeover(pg, user, bucket, args)
        print(f"takeover after SIGKILL: {held} claimed runs taken over by the other process in {seconds:.1f} s "
              f"(bound: lease 10 s + beat 2 s)")


if __name__ == "__main__":
    main()
