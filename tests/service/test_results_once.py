"""A run's results object is written once (runner/once.py): the same bytes a second time leave the object as it
is (one version in a versioned bucket), other bytes replace it; through the endpoint's S3 over HTTP (what Dask
workers use) and in-process (what the serve process's runner uses)."""

from __future__ import annotations

import pytest

from lookout_nb.service.runner.once import put_once
from lookout_nb.service.storage.inprocess import InProcessS3


@pytest.mark.parametrize("way", ["http", "in-process"])
def test_results_written_twice_with_the_same_bytes_make_one_version(endpoint, unique_bucket, way):
    http = endpoint.s3()
    http.put_bucket_versioning(Bucket=unique_bucket, VersioningConfiguration={"Status": "Enabled"})
    s3 = http if way == "http" else InProcessS3(endpoint.clock)
    key = "out/2026-01-05T09:05:00Z/results.jsonl"
    assert put_once(s3, unique_bucket, key, b'{"a": 1}\n') is True
    assert put_once(s3, unique_bucket, key, b'{"a": 1}\n') is False  # a run taken over: written already
    assert len(http.list_object_versions(Bucket=unique_bucket, Prefix=key)["Versions"]) == 1
    assert put_once(s3, unique_bucket, key, b'{"a": 2}\n') is True  # other bytes: replaced, as a PutObject does
    assert http.get_object(Bucket=unique_bucket, Key=key)["Body"].read() == b'{"a": 2}\n'
    assert len(http.list_object_versions(Bucket=unique_bucket, Prefix=key)["Versions"]) == 2
