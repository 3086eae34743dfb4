"""Helpers of the endpoint tests (the shared fixtures are in tests/conftest.py)."""

from __future__ import annotations

import itertools
import os
import subprocess
from typing import ClassVar

import pytest

from lookout_nb.service.demo import demo

_names = itertools.count()


@pytest.fixture
def create(lookout):
    """``create(name=None, **changes)``: create a scheduler on the demo data; returns its name."""

    def _create(name=None, token=None, **changes):
        name = name or f"sched-{next(_names)}"
        lookout.create_inference_scheduler(**demo.scheduler_kwargs(name, **changes), ClientToken=token or name)
        return name

    return _create


@pytest.fixture
def executions(lookout):
    """``executions(name)``: every execution of a scheduler, oldest first (follows NextToken)."""

    def _executions(name, **filters):
        found, token = [], None
        while True:
            page = lookout.list_inference_executions(
                InferenceSchedulerName=name, **filters, **({"NextToken": token} if token else {})
            )
            found += page["InferenceExecutionSummaries"]
            token = page.get("NextToken")
            if not token:
                return sorted(found, key=lambda e: e["ScheduledStartTime"])

    return _executions



@pytest.fixture
def machine(endpoint, lookout, unique_bucket):
    """A small two-component machine reading from its own bucket: ``machine.schedule(name, **changes)``."""
    class Machine:
        model = "tiny-machine"
        components: ClassVar[dict[str, list[str]]] = {"press": ["P1", "P2"], "fan": ["Speed"]}
        bucket = unique_bucket
        prefix = "in/"
        out_prefix = "out/"

        def schedule(self, name, offset="+00:00", fmt="yyyyMMddHHmmss", delimiter="_", **changes):
            kwargs = demo.scheduler_kwargs(name, ModelName=self.model, **changes)
            kwargs["DataInputConfiguration"] = {
                "S3InputConfiguration": {"Bucket": self.bucket, "Prefix": self.prefix},
                "InputTimeZoneOffset": offset,
                "InferenceInputNameConfiguration": {"TimestampFormat": fmt, "ComponentTimestampDelimiter": delimiter},
            }
            kwargs["DataOutputConfiguration"] = {
                "S3OutputConfiguration": {"Bucket": self.bucket, "Prefix": self.out_prefix}}
            lookout.create_inference_scheduler(**kwargs, ClientToken=name)
            return name

    endpoint.add_model(Machine.model, Machine.components, "PT1M")
    return Machine()


@pytest.fixture
def tiny_disk(tmp_path):
    """A 2 MB tmpfs (needs root and mount; skipped elsewhere), unmounted after the test."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture(scope="session")
def pg_cluster():
    """A throwaway PostgreSQL server for the session (tests/service/pgkit.py); skipped, saying why, only when
    PostgreSQL cannot be found here (CI installs it: scripts/test.sh; there a missing server fails)."""
    from pgkit import Cluster, missing

    why = missing()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL tests: {why}")
        pytest.skip(why)
    with Cluster.start() as cluster:
        yield cluster


@pytest.fixture
def pg_url(pg_cluster):
    """The URL of a new, empty PostgreSQL database."""
    return pg_cluster.database()
