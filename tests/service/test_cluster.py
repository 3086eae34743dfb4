"""Issue 22's done-when: two ``lookout-nb serve`` processes on one PostgreSQL, one S3 (a moto_server process) and
a Dask cluster of two worker processes are one service; one serve process SIGKILLed halfway loses no run and
makes none twice, and every run is executed as a Dask task."""

from __future__ import annotations

import time
import uuid

import pandas as pd
import psycopg
import pytest
from clusterkit import Serve, dask_cluster, wait_for
from s3server import CHAIN, UserS3
from test_external_s3 import fit, ingest, put_training_data

from lookout_nb.service.demo import demo
from lookout_nb.service.runner import remote

SCHEDULERS = 20
SPEED = 60  # a PT5M boundary every 5 real seconds


def _executions(lookout, name):
    found, token = [], None
    while True:
        page = lookout.list_inference_executions(InferenceSchedulerName=name, **({"NextToken": token} if token else {}))
        found += page["InferenceExecutionSummaries"]
        token = page.get("NextToken")
        if not token:
            return found


def _schedule(lookout, name, bucket):
    kwargs = demo.scheduler_kwargs(name, ModelName="plant")
    kwargs["DataInputConfiguration"]["S3InputConfiguration"] = {"Bucket": bucket, "Prefix": "in/"}
    kwargs["DataOutputConfiguration"] = {"S3OutputConfiguration": {"Bucket": bucket, "Prefix": f"out/{name}/"}}
    lookout.create_inference_scheduler(**kwargs, ClientToken=name)


@pytest.fixture
def chain(monkeypatch):
    """The user's S3 credential chain for this process, the serve processes and the Dask workers."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name, value in CHAIN.items():
        monkeypatch.setenv(name, value)


def test_two_serve_processes_one_killed_every_run_once_on_dask(pg_url, chain):
    with UserS3() as user, dask_cluster(2) as cluster:
        from distributed import Client

        bucket = f"plant-{uuid.uuid4().hex[:8]}"
        put_training_data(user.client(), bucket)
        args = ["--clock", "real", "--speed", str(SPEED), "--db", pg_url, "--s3-endpoint-url", user.url,
                "--dask-scheduler", cluster.scheduler_address]
        with Serve(args) as a, Serve(args) as b:
            la = a.lookout()
            ingest(b.lookout(), bucket, "plant")  # b keeps the data in the database: a trains on it
            fit(la, bucket, "plant")  # the training is a Dask task too
            now = pd.Timestamp(la.list_models()["ModelSummaries"][0]["CreatedAt"]).tz_convert("UTC")
            demo.write_input_files(user.client(), bucket, "in/", demo.DEMO_COMPONENTS, now - pd.Timedelta("30min"),
                                   now + pd.Timedelta("3h"), create_bucket=False)
            names = [f"line-{i:02d}" for i in range(SCHEDULERS)]
            for name in names[: SCHEDULERS // 2]:
                _schedule(la, name, bucket)
            for name in names[SCHEDULERS // 2 :]:
                _schedule(b.lookout(), name, bucket)  # either process creates; both run them
            time.sleep(25)  # half an hour of service time: about 6 runs each
            with psycopg.connect(pg_url, autocommit=True) as db:  # killed while it holds claimed runs
                held = wait_for(lambda: db.execute(
                    "SELECT count(*) FROM claims c JOIN owners o ON o.id = c.owner WHERE o.url = %s",
                    (b.url,)).fetchone()[0], 30, "b holding claims", every=0.01)
                b.kill()
            time.sleep(30)
            for name in names:
                la.stop_inference_scheduler(InferenceSchedulerName=name)

            def settled():
                found = {n: _executions(la, n) for n in names}
                return found if all(e["Status"] != "IN_PROGRESS" for ex in found.values() for e in ex) else None

            found = wait_for(settled, 60, "every run ended")  # the runs b held were taken over (<= 12 s)
            a_log = a.stop()
        with Client(cluster.scheduler_address) as client:
            on_workers = sum(client.run(remote.count).values())
    total = 0
    for name, executions in found.items():
        starts = sorted(pd.Timestamp(e["DataStartTime"]) for e in executions)
        assert len(starts) >= 8, f"{name}: only {len(starts)} runs"
        assert len(set(starts)) == len(starts), f"{name}: a DataStartTime twice"
        assert starts == list(pd.date_range(starts[0], starts[-1], freq="5min")), f"{name}: a run is missing"
        failed = [(e["DataStartTime"], e.get("FailedReason")) for e in executions if e["Status"] != "SUCCESS"]
        assert not failed, f"{name}: {failed[:3]}"
        total += len(starts)
    assert on_workers >= total  # every run a Dask task (a run taken over from b may have run twice there)
    print(f"{total} runs, all SUCCESS, once each; {on_workers} Dask tasks; b held {held} when killed; "
          f"{[line for line in a_log.splitlines() if 'took over' in line]}")
