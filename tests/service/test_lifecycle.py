"""Scheduler lifecycle: statuses, idempotency, conflicts, updates, deletes, lists and paging."""

from __future__ import annotations

import socket
import urllib.parse

import pandas as pd
import pytest

from lookout_nb.service.demo import demo


def status(lookout, name):
    return lookout.describe_inference_scheduler(InferenceSchedulerName=name)["Status"]


def test_create_is_pending_until_the_clock_moves_then_running(endpoint, lookout, create):
    name = create()
    assert status(lookout, name) == "PENDING"
    endpoint.clock.advance(pd.Timedelta(seconds=1))
    assert status(lookout, name) == "RUNNING"


def test_stop_is_stopping_until_the_clock_moves_then_stopped(endpoint, lookout, create):
    name = create()
    endpoint.clock.advance(pd.Timedelta(seconds=1))
    assert lookout.stop_inference_scheduler(InferenceSchedulerName=name)["Status"] == "STOPPING"
    assert status(lookout, name) == "STOPPING"
    endpoint.clock.advance(pd.Timedelta(seconds=1))
    assert status(lookout, name) == "STOPPED"


def test_start_only_from_stopped(endpoint, lookout, create):
    name = create()
    with pytest.raises(lookout.exceptions.ConflictException, match="PENDING"):
        lookout.start_inference_scheduler(InferenceSchedulerName=name)
    lookout.stop_inference_scheduler(InferenceSchedulerName=name)
    with pytest.raises(lookout.exceptions.ConflictException, match="STOPPING"):
        lookout.start_inference_scheduler(InferenceSchedulerName=name)
    endpoint.clock.advance(pd.Timedelta(seconds=1))
    started = lookout.start_inference_scheduler(InferenceSchedulerName=name)
    assert started["Status"] == "PENDING" and started["ModelName"] == demo.DEMO_MODEL
    endpoint.clock.advance(pd.Timedelta(seconds=1))
    assert status(lookout, name) == "RUNNING"


def test_stop_of_a_stopped_scheduler_is_a_conflict(endpoint, lookout, create):
    name = create()
    lookout.stop_inference_scheduler(InferenceSchedulerName=name)
    endpoint.clock.advance(pd.Timedelta(seconds=1))
    with pytest.raises(lookout.exceptions.ConflictException, match="STOPPED"):
        lookout.stop_inference_scheduler(InferenceSchedulerName=name)


def test_delete_only_when_stopped(endpoint, lookout, create):
    name = create()
    endpoint.clock.advance(pd.Timedelta(seconds=1))
    with pytest.raises(lookout.exceptions.ConflictException, match="RUNNING"):
        lookout.delete_inference_scheduler(InferenceSchedulerName=name)
    lookout.stop_inference_scheduler(InferenceSchedulerName=name)
    with pytest.raises(lookout.exceptions.ConflictException, match="STOPPING"):
        lookout.delete_inference_scheduler(InferenceSchedulerName=name)
    endpoint.clock.advance(pd.Timedelta(seconds=1))
    lookout.delete_inference_scheduler(InferenceSchedulerName=name)
    with pytest.raises(lookout.exceptions.ResourceNotFoundException):
        lookout.describe_inference_scheduler(InferenceSchedulerName=name)


def test_same_client_token_and_request_returns_the_same_scheduler(lookout):
    kwargs = demo.scheduler_kwargs("idem")
    first = lookout.create_inference_scheduler(**kwargs, ClientToken="tok-1")
    again = lookout.create_inference_scheduler(**kwargs, ClientToken="tok-1")
    assert again["InferenceSchedulerArn"] == first["InferenceSchedulerArn"]
    assert len(lookout.list_inference_schedulers()["InferenceSchedulerSummaries"]) == 1


def test_same_name_with_another_token_is_a_conflict(lookout):
    lookout.create_inference_scheduler(**demo.scheduler_kwargs("taken"), ClientToken="a")
    with pytest.raises(lookout.exceptions.ConflictException, match="taken already exists"):
        lookout.create_inference_scheduler(**demo.scheduler_kwargs("taken"), ClientToken="b")


def test_same_token_with_a_different_request_is_a_conflict(lookout):
    lookout.create_inference_scheduler(**demo.scheduler_kwargs("one"), ClientToken="shared")
    with pytest.raises(lookout.exceptions.ConflictException, match="different request"):
        lookout.create_inference_scheduler(**demo.scheduler_kwargs("one", delay=5), ClientToken="shared")
    with pytest.raises(lookout.exceptions.ConflictException, match="ClientToken"):
        lookout.create_inference_scheduler(**demo.scheduler_kwargs("two"), ClientToken="shared")


def test_a_deleted_name_can_be_created_again(endpoint, lookout, create):
    name = create(token="first")
    lookout.stop_inference_scheduler(InferenceSchedulerName=name)
    endpoint.clock.advance(pd.Timedelta(seconds=1))
    lookout.delete_inference_scheduler(InferenceSchedulerName=name)
    again = lookout.create_inference_scheduler(**demo.scheduler_kwargs(name), ClientToken="second")
    assert again["Status"] == "PENDING"


def test_describe_echoes_the_configuration(lookout):
    kwargs = demo.scheduler_kwargs("echo", frequency="PT15M", delay=5)
    lookout.create_inference_scheduler(**kwargs, ClientToken="e", ServerSideKmsKeyId="1234abcd-12ab")
    d = lookout.describe_inference_scheduler(InferenceSchedulerName="echo")
    for member in ("ModelName", "DataUploadFrequency", "DataDelayOffsetInMinutes", "DataInputConfiguration",
                   "DataOutputConfiguration", "RoleArn"):
        assert d[member] == kwargs[member]
    assert d["ServerSideKmsKeyId"] == "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab"
    assert d["ModelArn"].startswith("arn:aws:lookoutequipment:us-east-1:123456789012:model/pump-demo/")
    assert "LatestInferenceResult" not in d  # nothing ran yet


def test_update_changes_the_configuration(endpoint, lookout, create):
    name = create()
    endpoint.clock.advance(pd.Timedelta(minutes=1))
    lookout.update_inference_scheduler(InferenceSchedulerName=name, DataUploadFrequency="PT10M",
                                       DataDelayOffsetInMinutes=2)
    d = lookout.describe_inference_scheduler(InferenceSchedulerName=name)
    assert (d["DataUploadFrequency"], d["DataDelayOffsetInMinutes"]) == ("PT10M", 2)
    assert d["UpdatedAt"] > d["CreatedAt"]
    with pytest.raises(lookout.exceptions.ValidationException, match="DataUploadFrequency"):
        lookout.update_inference_scheduler(InferenceSchedulerName=name, DataUploadFrequency="PT7M")


def test_list_filters(endpoint, lookout, create):
    create("alpha-1")
    create("alpha-2")
    create("beta-1")
    lookout.stop_inference_scheduler(InferenceSchedulerName="alpha-2")
    endpoint.clock.advance(pd.Timedelta(seconds=1))
    def names(**kw):
        listed = lookout.list_inference_schedulers(**kw)["InferenceSchedulerSummaries"]
        return [s["InferenceSchedulerName"] for s in listed]

    assert names() == ["alpha-1", "alpha-2", "beta-1"]
    assert names(InferenceSchedulerNameBeginsWith="alpha") == ["alpha-1", "alpha-2"]
    assert names(Status="STOPPED") == ["alpha-2"]
    assert names(Status="RUNNING", InferenceSchedulerNameBeginsWith="alpha") == ["alpha-1"]
    assert names(ModelName="other-model") == []
    betas = lookout.list_inference_schedulers(InferenceSchedulerNameBeginsWith="beta")["InferenceSchedulerSummaries"]
    summary = betas[0]
    assert set(summary) >= {"ModelName", "ModelArn", "InferenceSchedulerArn", "Status", "DataUploadFrequency",
                            "DataDelayOffsetInMinutes"}


def test_paging_returns_every_scheduler_once(lookout, create):
    made = {create(f"page-{i:02d}") for i in range(7)}
    seen, token, pages = [], None, 0
    while True:
        page = lookout.list_inference_schedulers(MaxResults=3, **({"NextToken": token} if token else {}))
        assert len(page["InferenceSchedulerSummaries"]) <= 3
        seen += [s["InferenceSchedulerName"] for s in page["InferenceSchedulerSummaries"]]
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert pages == 3 and sorted(seen) == sorted(made)


def test_a_forged_next_token_is_a_validation_error(lookout):
    with pytest.raises(lookout.exceptions.ValidationException, match="NextToken"):
        lookout.list_inference_schedulers(NextToken="not-a-token")


def refused(url: str) -> bool:
    """Whether a connection to ``url``'s port is refused (nothing listens there)."""
    host, port = urllib.parse.urlsplit(url).hostname, urllib.parse.urlsplit(url).port
    try:
        socket.create_connection((host, port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def test_an_endpoint_never_started_releases_its_port_on_stop():
    from lookout_nb.service import Endpoint

    ep = Endpoint(port=0, demo=False)
    ep.stop()
    assert refused(ep.url)  # the listening socket is closed
    ep.stop()  # twice is harmless


def test_with_endpoint_starts_and_stops_it():
    from lookout_nb.service import Endpoint

    with Endpoint(port=0, demo=False) as ep:
        assert ep.lookout().list_models()["ModelSummaries"] == []
    assert refused(ep.url)


def test_a_request_during_the_start_waits_until_the_demo_is_seeded():
    import threading

    import boto3

    from lookout_nb.service import Endpoint

    ep = Endpoint(port=0, clock="manual", demo=True)
    outsider = boto3.client(
        "lookoutequipment", endpoint_url=ep.url, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )
    answers = []
    early = threading.Thread(target=lambda: answers.append(outsider.list_models()["ModelSummaries"]))
    early.start()  # connects while nothing is loaded yet
    try:
        ep.start()
        early.join(timeout=120)
        assert [m["ModelName"] for m in answers[0]] == ["pump-demo"]
    finally:
        ep.stop()
