"""Durable S3: what the endpoint acknowledged is on disk, survives kill -9 and comes back exactly; names S3
refuses are refused at the request; a full disk is an S3 error that leaves nothing half-written behind."""

from __future__ import annotations

import errno
import hashlib
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pandas as pd
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lookout_nb.errors import LookoutNbError
from lookout_nb.service import start
from lookout_nb.service.demo import demo
from lookout_nb.service.storage.bucketnames import bucket_name_problem
from lookout_nb.service.storage.objects import ObjectStore

REPO = Path(__file__).resolve().parents[2]


def _bucket(tag: str) -> str:
    return f"obj-{tag}-{uuid.uuid4().hex[:10]}"


def _forget(bucket: str) -> None:
    """Empty ``bucket`` in moto's memory behind the state's back (a memory-only endpoint of the same process)."""
    with start(port=0, clock="manual", demo=False) as ep:
        s3 = ep.s3()
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
        for i in range(0, len(keys), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[i : i + 1000]]})
        assert not s3.list_objects_v2(Bucket=bucket).get("Contents")


def _leftovers(state_dir: Path) -> list[str]:
    """Temporary files, and blob files the index does not name."""
    store = ObjectStore(state_dir).open()
    try:
        named = {blob for _, blob in store.object_records()}
    finally:
        store.close()
    return sorted(p.name for p in (state_dir / "objects" / "blobs").glob("*/*")
                  if p.name.endswith(".tmp") or p.name not in named)


# -- kill -9 of a serving process ----------------------------------------------------------------------------
class Served:
    """``lookout-nb serve --state-dir D --demo ...`` in a subprocess; ``.url``, ``.s3``, ``.kill()``."""

    def __init__(self, state_dir, *extra):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "lookout_nb.cli", "serve", "--port", "0", "--state-dir", str(state_dir), "--demo",
             *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        first = self.proc.stdout.readline()
        assert first.startswith("Lookout for Equipment + S3 endpoint: "), first + self.proc.stderr.read()
        self.url = first.split(": ", 1)[1].split()[0]
        self.s3 = boto3.client(
            "s3", endpoint_url=self.url, region_name="us-east-1", aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, max_pool_connections=16),
        )

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self.proc.stdout.close()
        self.proc.stderr.close()


def _body(i: int) -> bytes:
    return hashlib.sha256(str(i).encode()).digest() * (1 + i % 50)


def test_kill_9_right_after_a_burst_and_mid_write_loses_no_acknowledged_object(tmp_path):
    bucket = _bucket("kill")
    served = Served(tmp_path)
    try:
        s3 = served.s3
        s3.create_bucket(Bucket=bucket)
        # a burst of acknowledged uploads (8 at a time), some overwritten, some deleted, one batch delete
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: s3.put_object(Bucket=bucket, Key=f"burst/{i:04d}", Body=_body(i),
                                                  ContentType="text/csv"), range(200)))
        for i in range(0, 20):
            s3.put_object(Bucket=bucket, Key=f"burst/{i:04d}", Body=_body(i + 1000), ContentType="text/csv")
        for i in range(20, 30):
            s3.delete_object(Bucket=bucket, Key=f"burst/{i:04d}")
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": f"burst/{i:04d}"} for i in range(30, 40)]})
        s3.copy_object(Bucket=bucket, Key="copied", CopySource={"Bucket": bucket, "Key": "burst/0100"})
        expected = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page["Contents"]:
                expected[obj["Key"]] = (obj["ETag"], obj["LastModified"])
        assert len(expected) == 200 - 20 + 1
        # then uploads still in flight when the process is killed
        acknowledged, stop = {}, threading.Event()

        def upload(worker):
            n = 0
            while not stop.is_set():
                key, body = f"flight/{worker}/{n}", _body(worker * 100_000 + n)
                try:
                    etag = s3.put_object(Bucket=bucket, Key=key, Body=body)["ETag"]
                except Exception:  # noqa: BLE001 - the kill lands mid-upload: that one was not acknowledged
                    return
                acknowledged[key] = (body, etag)
                n += 1

        workers = [threading.Thread(target=upload, args=(w,)) for w in range(6)]
        for w in workers:
            w.start()
        while len(acknowledged) < 60:
            threading.Event().wait(0.01)
        served.kill()
        stop.set()
        for w in workers:
            w.join(timeout=30)
    finally:
        served.stop()

    assert _leftovers(tmp_path) == []
    again = Served(tmp_path)
    try:
        s3 = again.s3
        listed = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            listed.update((o["Key"], (o["ETag"], o["LastModified"])) for o in page["Contents"])
        burst = {k: v for k, v in listed.items() if not k.startswith("flight/")}
        assert burst == expected  # same keys, ETags and LastModified; deleted keys stay deleted
        for i in (0, 19, 50, 199):
            got = s3.get_object(Bucket=bucket, Key=f"burst/{i:04d}")
            assert got["Body"].read() == _body(i + 1000 if i < 20 else i) and got["ContentType"] == "text/csv"
        assert s3.get_object(Bucket=bucket, Key="copied")["Body"].read() == _body(100)
        lost = [k for k in acknowledged if k not in listed]
        assert lost == []
        for key, (body, etag) in acknowledged.items():
            got = s3.get_object(Bucket=bucket, Key=key)
            assert (got["Body"].read(), got["ETag"]) == (body, etag)
        for key in set(listed) - set(acknowledged) - set(expected):  # in flight at the kill: whole or absent
            worker, n = (int(p) for p in key.split("/")[1:])
            assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == _body(worker * 100_000 + n)
    finally:
        again.stop()


def test_a_run_recorded_success_has_its_results_object_after_kill_9(tmp_path):
    served = Served(tmp_path, "--clock", "manual")
    try:
        lookout = boto3.client(
            "lookoutequipment", endpoint_url=served.url, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )
        lookout.create_inference_scheduler(**demo.scheduler_kwargs("durable"), ClientToken="durable")
        from lookout_nb.service import RemoteClock

        RemoteClock(served.url).advance("PT30M")  # answers once the runs are recorded (committed) and listed
        runs = lookout.list_inference_executions(InferenceSchedulerName="durable")["InferenceExecutionSummaries"]
        assert len([r for r in runs if r["Status"] == "SUCCESS"]) >= 6
        served.kill()
    finally:
        served.stop()
    again = Served(tmp_path, "--clock", "manual")
    try:
        lookout = boto3.client(
            "lookoutequipment", endpoint_url=again.url, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )
        runs = lookout.list_inference_executions(InferenceSchedulerName="durable")["InferenceExecutionSummaries"]
        successes = [r for r in runs if r["Status"] == "SUCCESS"]
        assert len(successes) >= 6
        for run in successes:
            result = run["CustomerResultObject"]
            lines = again.s3.get_object(Bucket=result["Bucket"], Key=result["Key"])["Body"].read().decode().splitlines()
            assert lines and all(json.loads(line)["timestamp"] for line in lines)
    finally:
        again.stop()


# -- names -----------------------------------------------------------------------------------------------------
ODD_KEYS = {
    "in/": b"",
    "in/a.csv": b"a",
    "a": b"file",
    "a/b": b"below",
    "A": b"upper",  # differs from "a" only in case
    "..": b"dots",
    ".": b"dot",
    "../../escape": b"up",
    "sp ace/%41?.csv": b"odd",
    "plus+and&amp=;": b"punct",
    "unicodé/日本語/🙂.csv": b"unicode",
    "tab\there": b"tab",
    "l/" + "x" * 1000: b"long",  # 1002 bytes, S3's key limit is 1024
    "/leading-slash": b"slash",
}


def test_keys_of_any_shape_round_trip_with_their_metadata(tmp_path):
    bucket = _bucket("odd.names")
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        s3 = ep.s3()
        s3.create_bucket(Bucket=bucket)
        for key, body in ODD_KEYS.items():
            s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="text/x-odd", Metadata={"line": "north 2"})
        s3.put_object_tagging(Bucket=bucket, Key="a", Tagging={"TagSet": [{"Key": "plant", "Value": "north"}]})
        before = {k: s3.head_object(Bucket=bucket, Key=k) for k in ODD_KEYS}
    _forget(bucket)
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        s3 = ep.s3()
        assert {k: s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in ODD_KEYS} == ODD_KEYS
        for key, head in before.items():
            after = s3.head_object(Bucket=bucket, Key=key)
            fields = ("ETag", "LastModified", "ContentType", "Metadata", "ContentLength")
            assert {f: after[f] for f in fields} == {f: head[f] for f in fields}
        assert s3.get_object_tagging(Bucket=bucket, Key="a")["TagSet"] == [{"Key": "plant", "Value": "north"}]


def test_multipart_copy_and_bucket_deletes_are_durable(tmp_path):
    bucket, gone = _bucket("multi"), _bucket("gone")
    part = b"p" * (5 * 1024 * 1024)
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        s3 = ep.s3()
        s3.create_bucket(Bucket=bucket)
        upload = s3.create_multipart_upload(Bucket=bucket, Key="big.bin")["UploadId"]
        etags = [s3.upload_part(Bucket=bucket, Key="big.bin", UploadId=upload, PartNumber=n,
                                Body=part + bytes([n]))["ETag"] for n in (1, 2)]
        done = s3.complete_multipart_upload(
            Bucket=bucket, Key="big.bin", UploadId=upload,
            MultipartUpload={"Parts": [{"ETag": e, "PartNumber": n} for n, e in zip((1, 2), etags)]},
        )
        s3.copy_object(Bucket=bucket, Key="copy.bin", CopySource={"Bucket": bucket, "Key": "big.bin"},
                       MetadataDirective="REPLACE", ContentType="application/x-copy")
        s3.create_bucket(Bucket=gone)
        s3.put_object(Bucket=gone, Key="k", Body=b"x")
        s3.delete_object(Bucket=gone, Key="k")
        s3.delete_bucket(Bucket=gone)
    _forget(bucket)
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        s3 = ep.s3()
        got = s3.get_object(Bucket=bucket, Key="big.bin")
        assert got["ETag"] == done["ETag"] and got["ETag"].endswith('-2"')
        assert got["Body"].read() == part + b"\x01" + part + b"\x02"
        copy = s3.head_object(Bucket=bucket, Key="copy.bin")
        assert copy["ContentType"] == "application/x-copy" and copy["ContentLength"] == 2 * len(part) + 2
        assert gone not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert _leftovers(tmp_path) == []


def test_virtual_host_addressing_and_in_process_writes_are_durable_too(tmp_path):
    from lookout_nb.service.storage.moto import motos3
    from lookout_nb.service.storage.writethrough import durable

    bucket = _bucket("vhost")
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        ep.s3().create_bucket(Bucket=bucket)
        conn = http.client.HTTPConnection(urllib.parse.urlsplit(ep.url).netloc, timeout=30)
        conn.request("PUT", "/by-host.csv", body=b"host", headers={"Host": f"{bucket}.localhost:{ep.server.port}"})
        assert conn.getresponse().status == 200
        conn.close()
        with durable(ep.objects):  # straight into moto's backend, as an in-process runner would write
            motos3.backend_of().put_object(bucket, "in-process.jsonl", b"{}\n")
    _forget(bucket)
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        s3 = ep.s3()
        assert s3.get_object(Bucket=bucket, Key="by-host.csv")["Body"].read() == b"host"
        assert s3.get_object(Bucket=bucket, Key="in-process.jsonl")["Body"].read() == b"{}\n"


def test_objects_written_into_a_bucket_created_by_another_endpoint_come_back(tmp_path):
    bucket = _bucket("elsewhere")
    with start(port=0, clock="manual", demo=False) as other:  # moto's S3 is shared by the process
        other.s3().create_bucket(Bucket=bucket)
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        ep.s3().put_object(Bucket=bucket, Key="k", Body=b"mine")
    _forget(bucket)
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        assert ep.s3().get_object(Bucket=bucket, Key="k")["Body"].read() == b"mine"


INVALID_BUCKETS = [
    "..", "%2e%2e", "...", "UPPER-case", "ab", "a" * 64, "192.168.5.4", "xn--plant", "sthree-plant",
    "amzn-s3-demo-plant", "plant-s3alias", "plant--ol-s3", "plant.mrap", "plant--x-s3", "under_score",
    "-leading", "trailing-", "two..dots", "sp%20ace",
]


def _raw(url, method, path):
    conn = http.client.HTTPConnection(urllib.parse.urlsplit(url).netloc, timeout=30)
    try:
        conn.request(method, path, body=b"x" if "/" in path.strip("/") else b"")
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


@pytest.mark.parametrize("name", INVALID_BUCKETS)
def test_a_bucket_name_s3_refuses_is_refused_at_the_request(tmp_path, name):
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        status, body = _raw(ep.url, "PUT", f"/{name}")  # unsigned, as in the report
        assert status == 400 and "<Code>InvalidBucketName</Code>" in body, body
        status, body = _raw(ep.url, "PUT", f"/{name}/key.csv")
        assert status == 400 and "<Code>InvalidBucketName</Code>" in body, body
        ep.s3().create_bucket(Bucket="kept-next-to-a-bad-name")
        ep.s3().put_object(Bucket="kept-next-to-a-bad-name", Key="k", Body=b"kept")
        names = [b["Name"] for b in ep.s3().list_buckets()["Buckets"]]
        assert urllib.parse.unquote(name) not in names
    _forget("kept-next-to-a-bad-name")
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:  # saving never fails over it
        assert ep.s3().get_object(Bucket="kept-next-to-a-bad-name", Key="k")["Body"].read() == b"kept"


def test_the_refusal_names_the_rule_through_boto3(endpoint):
    with pytest.raises(ClientError) as err:
        endpoint.s3().create_bucket(Bucket="Plant-Data")
    assert err.value.response["Error"]["Code"] == "InvalidBucketName"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "lowercase" in err.value.response["Error"]["Message"]


@pytest.mark.parametrize("name", ["abc", "lookout-demo", "a.b.c", "1plant", "a" * 63, "192.168.5.4x", "plant-xn--a"])
def test_names_s3_accepts_are_accepted(name):
    assert bucket_name_problem(name) is None


# -- faults ----------------------------------------------------------------------------------------------------
@pytest.fixture
def full_disk(monkeypatch, tmp_path):
    """``os.write`` to a file under ``tmp_path`` writes half its bytes, then fails with ENOSPC while switched on."""
    real_write, on = os.write, threading.Event()

    def write(fd, data):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            target = ""
        if on.is_set() and target.startswith(str(tmp_path)):
            real_write(fd, bytes(data[: max(1, len(data) // 2)]))
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    return on


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to tell which file a write goes to")
def test_a_full_disk_during_a_put_is_an_s3_error_and_leaves_nothing_behind(tmp_path, full_disk):
    bucket = _bucket("full")
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        s3 = ep.s3()
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="k.csv", Body=b"version 1")
        full_disk.set()
        with pytest.raises(ClientError) as err:
            s3.put_object(Bucket=bucket, Key="k.csv", Body=b"version 2" * 1000)
        with pytest.raises(ClientError):
            s3.put_object(Bucket=bucket, Key="new.csv", Body=b"never stored")
        full_disk.clear()
        error = err.value.response["Error"]
        assert (err.value.response["ResponseMetadata"]["HTTPStatusCode"], error["Code"]) == (500, "InternalError")
        assert "No space left on device" in error["Message"]
        assert s3.get_object(Bucket=bucket, Key="k.csv")["Body"].read() == b"version 1"  # the service did not change
        assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="new")
        assert _leftovers(tmp_path) == []
        s3.put_object(Bucket=bucket, Key="new.csv", Body=b"stored once there is room")
    _forget(bucket)
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        s3 = ep.s3()
        assert s3.get_object(Bucket=bucket, Key="k.csv")["Body"].read() == b"version 1"
        assert s3.get_object(Bucket=bucket, Key="new.csv")["Body"].read() == b"stored once there is room"


def test_a_really_full_disk_answers_an_s3_error_naming_it(tiny_disk):
    bucket = _bucket("tmpfs")
    with start(port=0, clock="manual", demo=False, state_dir=tiny_disk) as ep:
        s3 = ep.s3()
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="small", Body=b"fits")
        with pytest.raises(ClientError) as err:
            s3.put_object(Bucket=bucket, Key="big", Body=os.urandom(3 * 1024 * 1024))
        assert err.value.response["Error"]["Code"] == "InternalError"
        assert "No space left on device" in err.value.response["Error"]["Message"]
        assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="big")
    assert _leftovers(tiny_disk) == []


def test_a_corrupt_index_is_a_clear_error_at_start(tmp_path):
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        ep.s3().create_bucket(Bucket=_bucket("corrupt"))
    index = tmp_path / "objects" / "index.sqlite"
    index.write_bytes(b"this is not a database" * 100)
    with pytest.raises(LookoutNbError, match=r"index\.sqlite.*(backup|move)") as err:
        start(port=0, clock="manual", demo=False, state_dir=tmp_path)
    assert "Traceback" not in str(err.value)
    assert index.read_bytes() == b"this is not a database" * 100  # left as it was


def test_reading_a_store_that_is_not_open_is_a_clear_error(tmp_path):
    store = ObjectStore(tmp_path)
    for read in (store.bucket_records, store.object_records, store.load):
        with pytest.raises(LookoutNbError, match=r"index\.sqlite is not open: open\(\) the store first"):
            read()
    store.open().close()  # closed again after use: the same
    with pytest.raises(LookoutNbError, match="is not open"):
        store.object_records("some-bucket")


def test_a_corrupt_index_makes_serve_exit_with_one_line(tmp_path):
    (tmp_path / "objects").mkdir()
    (tmp_path / "objects" / "index.sqlite").write_bytes(b"\x00garbage" * 512)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "lookout_nb.cli", "serve", "--port", "0", "--clock", "manual", "--state-dir",
         str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "index.sqlite" in lines[0] and "Traceback" not in done.stderr


def test_the_demo_runs_of_a_state_dir_keep_their_results(tmp_path):
    with start(port=0, clock="manual", demo=True, state_dir=tmp_path) as ep:
        ep.lookout().create_inference_scheduler(**demo.scheduler_kwargs("kept-results"), ClientToken="kept-results")
        ep.clock.advance(pd.Timedelta(minutes=10))
        runs = ep.lookout().list_inference_executions(
            InferenceSchedulerName="kept-results")["InferenceExecutionSummaries"]
    saved = {(r.bucket, r.key) for r, _ in ObjectStore(tmp_path).open().object_records()}
    assert [r["Status"] for r in runs] == ["SUCCESS", "SUCCESS"]
    assert all((r["CustomerResultObject"]["Bucket"], r["CustomerResultObject"]["Key"]) in saved for r in runs)
