"""The runner's in-process S3: what it writes and lists is what a client gets over HTTP."""

from __future__ import annotations

import pandas as pd
import pytest
from botocore.exceptions import ClientError

from lookout_nb.service.demo import demo
from lookout_nb.service.storage.inprocess import InProcessS3


def _described(s3, bucket, key) -> dict:
    head = s3.head_object(Bucket=bucket, Key=key)
    acl = s3.get_object_acl(Bucket=bucket, Key=key)
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=key)["Contents"][0]
    return {
        "ETag": head["ETag"], "ContentType": head["ContentType"], "ContentLength": head["ContentLength"],
        "Metadata": head["Metadata"], "Grants": acl["Grants"], "StorageClass": listed["StorageClass"],
        "Tags": s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"],
    }


def test_a_runs_results_object_reads_back_as_a_client_put_of_the_same_bytes(endpoint, s3, create, executions):
    name = create()
    endpoint.clock.set("2026-01-05T09:05Z")
    [run] = executions(name)
    written = run["CustomerResultObject"]
    body = s3.get_object(**written)["Body"].read()
    s3.put_object(Bucket=written["Bucket"], Key="client/results.jsonl", Body=body, ContentType="application/jsonlines")
    bucket = written["Bucket"]
    assert _described(s3, bucket, written["Key"]) == _described(s3, bucket, "client/results.jsonl")
    modified = s3.head_object(**written)["LastModified"]
    assert pd.Timestamp(modified) == pd.Timestamp("2026-01-05T09:05Z")  # the service clock at the run, not the wall's


def test_in_process_listings_match_the_http_listings_through_puts_and_deletes(endpoint, s3, unique_bucket):
    # versioned: a delete leaves a marker under the name
    s3.put_bucket_versioning(Bucket=unique_bucket, VersioningConfiguration={"Status": "Enabled"})
    for i in range(30):
        s3.put_object(Bucket=unique_bucket, Key=f"in/{'ab'[i % 2]}_{i:03d}.csv", Body=b"x" * i)
    listings = [("in/a_", "", 4), ("in/a_", "in/a_010", 4), ("in/b_", "in/b_007", 100), ("in/", "in/a_999", 5),
                ("", "", 1000)]
    inprocess = InProcessS3(endpoint.clock)

    def same():
        for prefix, after, most in listings:
            over_http = s3.list_objects_v2(Bucket=unique_bucket, Prefix=prefix, StartAfter=after, MaxKeys=most)
            here = inprocess.list_objects_v2(Bucket=unique_bucket, Prefix=prefix, StartAfter=after, MaxKeys=most)
            assert [(o["Key"], o["ETag"], o["Size"]) for o in here["Contents"]] == [
                (o["Key"], o["ETag"], o["Size"]) for o in over_http.get("Contents", [])
            ]
            assert here["IsTruncated"] == over_http["IsTruncated"]

    same()  # builds the sorted index of the bucket's names; later changes must follow it
    s3.delete_objects(Bucket=unique_bucket, Delete={"Objects": [{"Key": f"in/a_{i:03d}.csv"} for i in range(0, 12, 2)]})
    s3.put_object(Bucket=unique_bucket, Key="in/a_001.csv", Body=b"new")
    inprocess.put_object(Bucket=unique_bucket, Key="in/b_000.csv", Body=b"written here")
    same()


def test_in_process_errors_carry_the_codes_of_the_http_client(endpoint, s3, unique_bucket):
    inprocess = InProcessS3(endpoint.clock)
    calls = [
        ("list_objects_v2", {"Bucket": "no-such-bucket-here"}),
        ("get_object", {"Bucket": unique_bucket, "Key": "nope"}),
        ("put_object", {"Bucket": "no-such-bucket-here", "Key": "k", "Body": b""}),
    ]
    for call, kwargs in calls:
        with pytest.raises(ClientError) as over_http:
            getattr(s3, call)(**kwargs)
        with pytest.raises(ClientError) as here:
            getattr(inprocess, call)(**kwargs)
        assert here.value.response["Error"]["Code"] == over_http.value.response["Error"]["Code"]


def test_demo_files_fed_in_process_keep_their_slots_end_as_last_modified(endpoint, s3):
    endpoint.clock.advance(pd.Timedelta(minutes=12))  # two slots end: 09:05 and 09:10
    for end in ("09:05", "09:10"):
        start = pd.Timestamp(f"2026-01-05T{end}Z") - pd.Timedelta(minutes=5)
        key = demo.DEMO_NAMING.key("motor", start, demo.DEMO_INPUT_PREFIX)
        modified = s3.head_object(Bucket=demo.DEMO_BUCKET, Key=key)["LastModified"]
        assert pd.Timestamp(modified) == pd.Timestamp(f"2026-01-05T{end}Z")


def test_a_file_a_client_rewrites_between_two_runs_of_one_window_is_read_again(endpoint, s3, create, executions):
    """Runs of one window share the parsed files while their ETags stay the same, not after a rewrite."""
    on_time, delayed = create(), create(delay=1)  # both read (09:00, 09:05]: at 09:05 and at 09:06
    endpoint.clock.set("2026-01-05T09:05Z")
    key = demo.DEMO_NAMING.key("motor", pd.Timestamp("2026-01-05T09:00Z"), demo.DEMO_INPUT_PREFIX)
    s3.put_object(Bucket=demo.DEMO_BUCKET, Key=key, Body=b"Timestamp,Current,Vibration\n2026-01-05T09:01:00,1,2\n")
    endpoint.clock.set("2026-01-05T09:06Z")
    assert executions(on_time)[0]["Status"] == "SUCCESS"
    [rerun] = executions(delayed)
    assert rerun["Status"] == "FAILED" and "Temperature" in rerun["FailedReason"]


def test_replacing_an_object_again_and_again_does_not_grow_memory(endpoint, s3, unique_bucket):
    import gc
    import tracemalloc

    inprocess = InProcessS3(endpoint.clock, endpoint.objects)
    s3.put_object(Bucket=unique_bucket, Key="results.jsonl", Body=b"{}")  # a runner's results object, rewritten
    for _ in range(50):  # warm: caches, the bucket's index
        inprocess.put_object(Bucket=unique_bucket, Key="results.jsonl", Body=b'{"a": 1}')
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(2000):
            inprocess.put_object(Bucket=unique_bucket, Key="results.jsonl", Body=b'{"a": %d}' % i)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 1024 * 1024, f"{grown / 2000:.0f} bytes kept per replaced object (moto kept ~3.3 KiB each)"
