"""Eight threads creating, describing and listing at once: nothing lost, nothing duplicated."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import boto3
import pandas as pd

from lookout_nb.service.demo import demo

THREADS, EACH = 8, 6


_SESSION = boto3.session.Session()
_LOCK = threading.Lock()


def client(endpoint):
    """A client of its own for a thread (created under a lock: client creation is not thread-safe)."""
    with _LOCK:
        return _SESSION.client(
            "lookoutequipment", endpoint_url=endpoint.url, region_name="us-east-1",
            aws_access_key_id="x", aws_secret_access_key="x",
        )


def test_parallel_create_describe_list(endpoint, lookout):
    clients = [client(endpoint) for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS)

    def work(i):
        c = clients[i]
        barrier.wait()
        seen = []
        for j in range(EACH):
            name = f"par-{i}-{j}"
            c.create_inference_scheduler(**demo.scheduler_kwargs(name), ClientToken=name)
            assert c.describe_inference_scheduler(InferenceSchedulerName=name)["InferenceSchedulerName"] == name
            listed = c.list_inference_schedulers(InferenceSchedulerNameBeginsWith="par-", MaxResults=500)
            seen.append(len(listed["InferenceSchedulerSummaries"]))
        return seen

    with ThreadPoolExecutor(THREADS) as pool:
        counts = list(pool.map(work, range(THREADS)))
    assert all(c >= j + 1 for seen in counts for j, c in enumerate(seen))  # each thread sees its own so far
    listed = lookout.list_inference_schedulers(MaxResults=500)["InferenceSchedulerSummaries"]
    names = [s["InferenceSchedulerName"] for s in listed]
    assert sorted(names) == sorted(f"par-{i}-{j}" for i in range(THREADS) for j in range(EACH))


def test_parallel_retries_of_one_token_create_one_scheduler(endpoint, lookout):
    clients = [client(endpoint) for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS)

    def work(c):
        barrier.wait()
        created = c.create_inference_scheduler(**demo.scheduler_kwargs("once"), ClientToken="same")
        return created["InferenceSchedulerArn"]

    with ThreadPoolExecutor(THREADS) as pool:
        arns = set(pool.map(work, clients))
    assert len(arns) == 1
    assert len(lookout.list_inference_schedulers()["InferenceSchedulerSummaries"]) == 1


def test_calls_during_runs_see_consistent_executions(endpoint, lookout):
    lookout.create_inference_scheduler(**demo.scheduler_kwargs("busy"), ClientToken="busy")
    stop = threading.Event()
    errors = []

    def poll():
        c = client(endpoint)
        while not stop.is_set():
            runs = c.list_inference_executions(InferenceSchedulerName="busy",
                                               MaxResults=500)["InferenceExecutionSummaries"]
            starts = [r["ScheduledStartTime"] for r in runs]
            if len(set(starts)) != len(starts):
                errors.append(starts)

    pollers = [threading.Thread(target=poll) for _ in range(3)]
    for t in pollers:
        t.start()
    try:
        endpoint.clock.advance(pd.Timedelta(minutes=30))
    finally:
        stop.set()
        for t in pollers:
            t.join()
    assert errors == []
    runs = lookout.list_inference_executions(InferenceSchedulerName="busy")["InferenceExecutionSummaries"]
    assert len(runs) == 6 and {r["Status"] for r in runs} == {"SUCCESS"}
