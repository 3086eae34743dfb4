"""A run executed away from the serve process: the task a Dask worker runs (see :mod:`..work.dask`).

The worker reaches S3 itself, with a boto3 client of the S3 the service uses (the user's own S3 with
``--s3-endpoint-url``, or the serve process's own endpoint over HTTP), and keeps one :class:`.Runner` per S3 in
the worker process, so its caches of parsed files and windows serve the runs that follow.

>>> task = functools.partial(execute, S3Spec("http://127.0.0.1:4566", "testing", "testing"))   # doctest: +SKIP
>>> task(run).status                                                                          # doctest: +SKIP
'SUCCESS'
"""

from __future__ import annotations

import threading
from typing import NamedTuple

from .runner import Outcome, Runner

_runners: dict = {}
_lock = threading.Lock()
#: How many runs this process executed as a remote task (what a test asks the workers).
executed = 0


class S3Spec(NamedTuple):
    """Where the worker's S3 client points, and its credentials."""

    endpoint_url: str | None  # None: AWS S3 itself
    access_key: str | None  # None: the worker's own credential chain
    secret_key: str | None
    region: str = "us-east-1"


def runner_for(spec: S3Spec) -> Runner:
    """This worker's runner of ``spec`` (made once)."""
    with _lock:
        if spec not in _runners:
            import boto3
            from botocore.config import Config

            keys = {"aws_access_key_id": spec.access_key, "aws_secret_access_key": spec.secret_key} if spec.access_key \
                else {}
            s3 = boto3.session.Session().client(
                "s3", endpoint_url=spec.endpoint_url, region_name=spec.region, **keys,
                config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3, "mode": "standard"}))
            _runners[spec] = Runner(s3, workers=4)  # remote S3: listings and reads in parallel
        return _runners[spec]


def execute(spec: S3Spec, run, model=None) -> Outcome:
    """Execute ``run`` with the S3 of ``spec``: read its window, score it, write results.jsonl. ``model``: the run's
    model, when it was sent apart from the run (once for a batch of runs)."""
    global executed
    if model is not None:
        run.model = model
    outcome = runner_for(spec).execute(run)
    with _lock:
        executed += 1
    return outcome


def failed(reason: str) -> Outcome:
    """The outcome of a run whose task could not complete."""
    return Outcome("FAILED", failed_reason=reason)


def count() -> int:
    """How many runs this worker process executed (``client.run(count)`` asks every worker)."""
    return executed
