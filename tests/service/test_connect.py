"""connect(): a notebook finds the endpoint named by AWS_ENDPOINT_URL, or starts its own."""

import boto3
import pandas as pd

from lookout_nb.service.connect import RemoteEndpoint, connect


def test_finds_the_endpoint_named_by_the_environment_and_reads_its_clock(endpoint, monkeypatch):
    for name, value in endpoint.env().items():
        monkeypatch.setenv(name, value)
    found = connect()
    assert isinstance(found, RemoteEndpoint) and found.url == endpoint.url
    assert found.clock.now() == endpoint.clock.now()
    found.clock.advance(pd.Timedelta("5min"))
    assert endpoint.clock.now() == found.clock.now()


def test_starts_its_own_when_none_answers(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)  # connect() sets them; monkeypatch restores them afterwards
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    started = connect()
    try:
        assert started.url != "http://127.0.0.1:9"
        assert started.clock.speed == 60
        models = boto3.client("lookoutequipment").list_models()["ModelSummaries"]
        assert [m["ModelName"] for m in models] == ["pump-demo"]
    finally:
        started.stop()
