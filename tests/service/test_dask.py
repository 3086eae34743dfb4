"""Runs and trainings as Dask tasks (``start(dask_scheduler=...)``): executed on the workers, and a worker that
dies mid-task has its run retried elsewhere or FAILED with the reason, never lost."""

from __future__ import annotations

import os

import dask
import pandas as pd
import pytest
from clusterkit import dask_cluster
from distributed import Client

import lookout_nb.service as local
from lookout_nb.service.demo import demo
from lookout_nb.service.runner import remote
from lookout_nb.service.runner.runner import Outcome
from lookout_nb.service.work.dask import DaskWork


@pytest.fixture(scope="module")
def cluster():
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), dask_cluster(2) as made:
        yield made


def test_runs_and_trainings_execute_on_the_workers(cluster):
    with Client(cluster.scheduler_address) as client:
        before = sum(client.run(remote.count).values())
        with local.start(port=0, clock="manual", demo=True, dask_scheduler=cluster.scheduler_address) as ep:
            model = ep.add_model("fan", {"fan": ["Speed"]}, "PT5M")  # trained by a Dask task
            assert model.status == "SUCCESS"
            ep.lookout().create_inference_scheduler(**demo.scheduler_kwargs("on-dask"), ClientToken="t")
            ep.advance(pd.Timedelta(minutes=15))
            executions = ep.lookout().list_inference_executions(InferenceSchedulerName="on-dask")
            statuses = [e["Status"] for e in executions["InferenceExecutionSummaries"]]
            assert statuses == ["SUCCESS"] * 3
            assert ep.backend.core.work.submitted == 3
        assert sum(client.run(remote.count).values()) - before == 3  # the workers executed them, not the endpoint


def _dies_once(marker):
    def task(run, model):
        if not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(1)  # the worker process dies mid-task
        return Outcome("SUCCESS", result_object={"Bucket": "b", "Key": run})

    return task


def test_a_worker_that_dies_mid_task_is_retried_on_another(cluster, tmp_path):
    work = DaskWork(cluster.scheduler_address, _dies_once(str(tmp_path / "died")), remote.failed)
    try:
        (outcome,) = work.run_all(None, ["run-1"])
        assert outcome.status == "SUCCESS" and outcome.result_object["Key"] == "run-1"
        assert (tmp_path / "died").exists()  # its first worker did die
    finally:
        work.stop()


def test_a_run_whose_workers_keep_dying_fails_with_the_reason(cluster):
    work = DaskWork(cluster.scheduler_address, lambda run, model: os._exit(1), remote.failed)
    try:
        (outcome,) = work.run_all(None, ["run-2"])
        assert outcome.status == "FAILED"
        assert "could not complete" in outcome.failed_reason and "KilledWorker" in outcome.failed_reason
        assert work.lost == 1
    finally:
        work.stop()


def test_an_unreachable_scheduler_is_named():
    with pytest.raises(RuntimeError, match=r"cannot reach the Dask scheduler tcp://127\.0\.0\.1:9"):
        DaskWork("tcp://127.0.0.1:9", remote.execute, remote.failed, timeout=2)
