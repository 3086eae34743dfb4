"""Shared pytest fixtures: an embedded endpoint and boto3 clients pointed at it.

Fixtures (all function-scoped, so every test gets its own clock and its own schedulers):

``endpoint``
    ``lookout_nb.service.start(port=0, clock="manual", demo=True)``, stopped after the test. Its manual clock starts
    at 2026-01-05T09:00:00Z (``lookout_nb.service.MANUAL_START``) and moves only with
    ``endpoint.clock.advance(pd.Timedelta(...))``, which returns once every run that became due has finished.
    The demo model ``pump-demo`` (``lookout_nb.service.demo.DEMO_MODEL``) is trained; the bucket ``lookout-demo``
    holds two hours of input files under ``inference/input/`` and the feeder adds each 5-minute file as the clock
    passes its end. ``lookout_nb.service.demo.scheduler_kwargs("name")`` gives create_inference_scheduler kwargs
    that read them. ``endpoint.add_model(name, {component: [sensors]}, "PT15M")`` adds another trained model.
``lookout``
    a boto3 ``lookoutequipment`` client for ``endpoint`` (region us-east-1, dummy credentials).
``s3``
    a boto3 ``s3`` client for ``endpoint`` (path-style addressing, same port).
``unique_bucket``
    a fresh, created bucket name: moto's S3 is process-wide, so tests that write their own input use this.

Example::

    def test_something(endpoint, lookout, s3):
        lookout.create_inference_scheduler(**demo.scheduler_kwargs("t"), ClientToken="t")
        endpoint.clock.advance(pd.Timedelta(minutes=5))
        assert lookout.list_inference_executions(InferenceSchedulerName="t")["InferenceExecutionSummaries"]

S3 objects live in one process-wide moto backend: never call ``/moto-api/reset`` from a test (it is off unless an
endpoint is started with ``admin=True``, and it empties every endpoint's buckets); use ``unique_bucket`` instead.
"""

from __future__ import annotations

import itertools
import os
import uuid

import pytest

_counter = itertools.count()


@pytest.fixture
def endpoint():
    """A running embedded endpoint with a manual clock and the demo machine; stopped after the test."""
    from lookout_nb.service import start

    ep = start(port=0, clock="manual", demo=True)
    try:
        yield ep
    finally:
        ep.stop()


@pytest.fixture
def lookout(endpoint):
    """A boto3 lookoutequipment client for ``endpoint`` (us-east-1, dummy credentials)."""
    return endpoint.lookout()


@pytest.fixture
def s3(endpoint):
    """A boto3 s3 client for ``endpoint`` (path-style addressing)."""
    return endpoint.s3()


@pytest.fixture
def unique_bucket(s3):
    """The name of a new, empty bucket on the endpoint, unique in this test run."""
    name = f"t-{os.getpid()}-{next(_counter)}-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)
    return name
