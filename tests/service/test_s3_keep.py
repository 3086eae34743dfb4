"""Everything S3 acknowledged is on disk and out of memory: a versioned bucket's older versions and delete markers,
and multipart uploads still in progress, come back after a clean restart and after kill -9."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import pandas as pd
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from test_objects import full_disk  # noqa: F401 - the fixture: os.write fails with ENOSPC while it is set

from lookout_nb.service import start
from lookout_nb.service.storage.moto import motos3

ROOT = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024


def _bucket(tag: str) -> str:
    return f"keep-{tag}-{uuid.uuid4().hex[:10]}"


def _drop_from_memory(bucket: str) -> None:
    """Forget ``bucket`` in moto's memory (as a new process would not have it): only the state directory has it."""
    from moto.s3.models import s3_backends

    motos3.backend_of().buckets.pop(bucket, None)
    s3_backends.bucket_accounts.pop(bucket, None)


def _client(url: str):
    return boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="a",
                        aws_secret_access_key="b", config=Config(s3={"addressing_style": "path"},
                                                                 retries={"max_attempts": 1}))


class Served:
    """``lookout-nb serve --state-dir D`` in a child process: ``.s3``, ``.rss()`` (MiB), ``.kill()``."""

    def __init__(self, state_dir):
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen([sys.executable, "-m", "lookout_nb.service.cli", "serve", "--port", "0",
                                      "--clock", "manual", "--state-dir", str(state_dir)],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        self.s3 = _client(re.search(r"(http://127\.0\.0\.1:\d+)", self.proc.stdout.readline()).group(1))

    def rss(self) -> float:
        text = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+) kB", text).group(1)) / 1024

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


# -- versions ----------------------------------------------------------------------------------------------------
def _make_history(s3, bucket: str) -> None:
    """Versions of three keys: one with metadata, tags and an ACL per version, one deleted (a delete marker last),
    one whose middle version was deleted by id."""
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=bucket, Key="k", Body=b"one", Metadata={"n": "1"}, ContentType="text/plain",
                          Tagging="v=1")["VersionId"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"two" * 1000, Metadata={"n": "2"}, ACL="public-read")
    s3.put_object(Bucket=bucket, Key="k", Body=b"three", ChecksumAlgorithm="SHA256")
    # an older version changed in place, after newer ones were saved
    s3.put_object_tagging(Bucket=bucket, Key="k", VersionId=first, Tagging={"TagSet": [{"Key": "late", "Value": "1"}]})
    s3.put_object_acl(Bucket=bucket, Key="k", VersionId=first, ACL="authenticated-read")
    s3.put_object(Bucket=bucket, Key="k", Body=b"four")
    s3.put_object(Bucket=bucket, Key="gone", Body=b"was here")
    s3.delete_object(Bucket=bucket, Key="gone")
    ids = [s3.put_object(Bucket=bucket, Key="mid", Body=f"m{i}".encode())["VersionId"] for i in range(3)]
    s3.delete_object(Bucket=bucket, Key="mid", VersionId=ids[1])


def _answers(s3, bucket: str) -> dict:
    """What a client sees of every version: the listing, each version's body, metadata, tags and ACL."""
    listing = s3.list_object_versions(Bucket=bucket)
    seen = {"versions": [{k: v[k] for k in ("Key", "VersionId", "IsLatest", "LastModified", "ETag", "Size")}
                         for v in listing.get("Versions", [])],
            "markers": [{k: m[k] for k in ("Key", "VersionId", "IsLatest", "LastModified")}
                        for m in listing.get("DeleteMarkers", [])]}
    for v in listing.get("Versions", []):
        got = s3.get_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])
        acl = s3.get_object_acl(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])["Grants"]
        tags = s3.get_object_tagging(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])["TagSet"]
        seen[v["Key"], v["VersionId"]] = (got["Body"].read(), got["Metadata"], got["ContentType"],
                                          got["LastModified"], tags, sorted(str(g) for g in acl))
    for key in ("k", "gone", "mid"):
        try:
            seen[key] = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as err:
            seen[key] = err.response["Error"]["Code"]
    return seen


def test_every_version_and_delete_marker_comes_back_after_a_restart(tmp_path):
    bucket = _bucket("versions")
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        s3 = ep.s3()
        _make_history(s3, bucket)
        before = _answers(s3, bucket)
    assert len(before["versions"]) == 7 and len(before["markers"]) == 1 and before["gone"] == "NoSuchKey"
    _drop_from_memory(bucket)
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        s3 = ep.s3()
        assert _answers(s3, bucket) == before
        marker = before["markers"][0]["VersionId"]  # removing the marker brings the key back, as before
        s3.delete_object(Bucket=bucket, Key="gone", VersionId=marker)
        assert s3.get_object(Bucket=bucket, Key="gone")["Body"].read() == b"was here"


def _blob_files(state_dir: Path) -> set[str]:
    return {p.name for p in (state_dir / "objects" / "blobs").glob("*/*") if not p.name.endswith(".tmp")}


def test_deleting_a_version_frees_its_file_unless_another_version_or_key_has_the_same_bytes(tmp_path):
    import hashlib

    bucket = _bucket("free")
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        s3 = ep.s3()
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        old = s3.put_object(Bucket=bucket, Key="k", Body=b"old bytes")["VersionId"]
        shared = s3.put_object(Bucket=bucket, Key="k", Body=b"shared bytes")["VersionId"]
        s3.put_object(Bucket=bucket, Key="k", Body=b"newest")
        s3.put_object(Bucket=bucket, Key="other", Body=b"shared bytes")
        blob = {name: hashlib.sha256(name).hexdigest() for name in (b"old bytes", b"shared bytes")}
        assert set(blob.values()) <= _blob_files(tmp_path)  # older versions are files too
        s3.delete_object(Bucket=bucket, Key="k", VersionId=old)
        s3.delete_object(Bucket=bucket, Key="k", VersionId=shared)
        assert blob[b"old bytes"] not in _blob_files(tmp_path)
        assert blob[b"shared bytes"] in _blob_files(tmp_path)  # "other" still has these bytes
        s3.delete_object(Bucket=bucket, Key="other")  # a delete marker: the version is kept
        assert blob[b"shared bytes"] in _blob_files(tmp_path)
    _drop_from_memory(bucket)
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        versions = ep.s3().list_object_versions(Bucket=bucket)
        assert sorted((v["Key"], v["Size"]) for v in versions["Versions"]) == [("k", 6), ("other", 12)]


# -- multipart uploads in progress -------------------------------------------------------------------------------
def _start_upload(s3, bucket: str, parts: int, size: int = 5 * MIB) -> tuple[str, list[bytes], list[dict]]:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big.bin", Metadata={"plant": "north"},
                                        ContentType="application/x-test", ChecksumAlgorithm="CRC32")["UploadId"]
    bodies = [os.urandom(size) for _ in range(parts)]
    done = [{"PartNumber": n, "ETag": s3.upload_part(Bucket=bucket, Key="big.bin", UploadId=upload, PartNumber=n,
                                                     Body=body, ChecksumAlgorithm="CRC32")["ETag"]}
            for n, body in enumerate(bodies, 1)]
    return upload, bodies, done


def _parts(s3, bucket: str, upload: str) -> list:
    return [{k: p[k] for k in ("PartNumber", "ETag", "Size", "LastModified")}
            for p in s3.list_parts(Bucket=bucket, Key="big.bin", UploadId=upload)["Parts"]]


def _finish(s3, bucket: str, upload: str, bodies: list[bytes], done: list[dict]) -> None:
    """Upload one more part and complete with the same UploadId; the object is every part's bytes."""
    last = b"the end"
    etag = s3.upload_part(Bucket=bucket, Key="big.bin", UploadId=upload, PartNumber=len(done) + 1, Body=last,
                          ChecksumAlgorithm="CRC32")["ETag"]
    parts = [*done, {"PartNumber": len(done) + 1, "ETag": etag}]
    s3.complete_multipart_upload(Bucket=bucket, Key="big.bin", UploadId=upload, MultipartUpload={"Parts": parts})
    got = s3.get_object(Bucket=bucket, Key="big.bin", ChecksumMode="ENABLED")
    assert got["Body"].read() == b"".join(bodies) + last
    metadata = {k.lower(): v for k, v in got["Metadata"].items()}  # moto capitalizes a multipart upload's names
    assert metadata == {"plant": "north"} and got["ContentType"] == "application/x-test"
    assert got["ChecksumCRC32"].endswith(f"-{len(parts)}")


def _upload_files(state_dir: Path) -> list[Path]:
    return sorted(p for p in (state_dir / "objects" / "uploads").rglob("*") if p.is_file())


def test_an_upload_in_progress_continues_after_a_restart_and_an_abort_removes_its_files(tmp_path):
    bucket = _bucket("upload")
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        s3 = ep.s3()
        s3.create_bucket(Bucket=bucket)
        ep.clock.advance(pd.Timedelta(minutes=7))
        upload, bodies, done = _start_upload(s3, bucket, parts=2)
        ep.clock.advance(pd.Timedelta(minutes=1))
        dropped = s3.create_multipart_upload(Bucket=bucket, Key="dropped.bin")["UploadId"]
        s3.upload_part(Bucket=bucket, Key="dropped.bin", UploadId=dropped, PartNumber=1, Body=b"x" * 100)
        listed = _parts(s3, bucket, upload)
        uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
        started = ep.clock.now()
    assert len(_upload_files(tmp_path)) == 3
    assert [u["Initiated"] for u in uploads] == [started - pd.Timedelta(minutes=1), started]  # the service clock
    assert {p["LastModified"] for p in listed} == {started - pd.Timedelta(minutes=1)}
    _drop_from_memory(bucket)
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        s3 = ep.s3()
        assert _parts(s3, bucket, upload) == listed
        after = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
        assert [(u["Key"], u["UploadId"], u["Initiated"], u.get("ChecksumAlgorithm")) for u in after] == \
            [(u["Key"], u["UploadId"], u["Initiated"], u.get("ChecksumAlgorithm")) for u in uploads]
        s3.abort_multipart_upload(Bucket=bucket, Key="dropped.bin", UploadId=dropped)
        assert len(_upload_files(tmp_path)) == 2
        _finish(s3, bucket, upload, bodies, done)
        assert _upload_files(tmp_path) == []
        assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_versions_and_an_upload_in_progress_survive_kill_9(tmp_path):
    bucket = _bucket("kill")
    served = Served(tmp_path)
    try:
        _make_history(served.s3, bucket)
        before = _answers(served.s3, bucket)
        upload, bodies, done = _start_upload(served.s3, bucket, parts=2)
        listed = _parts(served.s3, bucket, upload)
    finally:
        served.kill()
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        s3 = ep.s3()
        assert _answers(s3, bucket) == before
        assert _parts(s3, bucket, upload) == listed
        _finish(s3, bucket, upload, bodies, done)


# -- memory ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("what", ["parts", "versions"])
def test_300_mib_of_parts_or_older_versions_grow_memory_by_less_than_100_mib(tmp_path, what):
    """Parts of 4 MiB (under moto's 5 MiB spooling size: kept in memory before) of an upload never completed, or
    300 versions of 1 MiB of one key, then the versions listed (moto copies every version to list them)."""
    bucket = _bucket("memory")
    served = Served(tmp_path)
    try:
        s3 = served.s3
        s3.create_bucket(Bucket=bucket)
        if what == "versions":
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        s3.put_object(Bucket=bucket, Key="warm-up", Body=os.urandom(MIB))
        start_rss = served.rss()
        if what == "parts":
            upload = s3.create_multipart_upload(Bucket=bucket, Key="never.bin")["UploadId"]
            for n in range(1, 76):
                s3.upload_part(Bucket=bucket, Key="never.bin", UploadId=upload, PartNumber=n,
                               Body=os.urandom(4 * MIB))
            assert len(s3.list_parts(Bucket=bucket, Key="never.bin", UploadId=upload)["Parts"]) == 75
        else:
            for _ in range(300):
                s3.put_object(Bucket=bucket, Key="k", Body=os.urandom(MIB))
            assert len(s3.list_object_versions(Bucket=bucket)["Versions"]) == 301
        grown = served.rss() - start_rss
    finally:
        served.stop()
    assert grown < 100, f"RSS grew by {grown:.0f} MiB for 300 MiB of {what}"


def test_a_missing_older_version_or_part_file_is_named_while_the_rest_serves(tmp_path):
    import hashlib

    bucket = _bucket("damaged")
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        s3 = ep.s3()
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        old = s3.put_object(Bucket=bucket, Key="k", Body=b"old version")["VersionId"]
        s3.put_object(Bucket=bucket, Key="k", Body=b"current")
        upload = s3.create_multipart_upload(Bucket=bucket, Key="big.bin")["UploadId"]
        s3.upload_part(Bucket=bucket, Key="big.bin", UploadId=upload, PartNumber=1, Body=b"part one")
    blob = hashlib.sha256(b"old version").hexdigest()
    (tmp_path / "objects" / "blobs" / blob[:2] / blob).unlink()
    [part] = _upload_files(tmp_path)
    part.unlink()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    fsck = subprocess.run([sys.executable, "-m", "lookout_nb.cli", "fsck", "--state-dir", str(tmp_path)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert fsck.returncode == 1
    assert f"s3://{bucket}/k version {old}" in fsck.stdout and f"upload {upload} part 1" in fsck.stdout
    _drop_from_memory(bucket)
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        s3 = ep.s3()
        assert any(blob in p for p in ep.problems) and any(part.name in p for p in ep.problems)
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"current"
        with pytest.raises(ClientError) as err:
            s3.get_object(Bucket=bucket, Key="k", VersionId=old)
        assert blob in err.value.response["Error"]["Message"]


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to tell which file a write goes to")
def test_a_part_the_disk_refuses_is_not_acknowledged_and_leaves_no_file(tmp_path, full_disk):  # noqa: F811
    bucket = _bucket("full")
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        s3 = ep.s3()
        s3.create_bucket(Bucket=bucket)
        upload = s3.create_multipart_upload(Bucket=bucket, Key="big.bin")["UploadId"]
        s3.upload_part(Bucket=bucket, Key="big.bin", UploadId=upload, PartNumber=1, Body=b"one" * 1000)
        full_disk.set()
        with pytest.raises(ClientError) as err:
            s3.upload_part(Bucket=bucket, Key="big.bin", UploadId=upload, PartNumber=2, Body=b"two" * 1000)
        full_disk.clear()
        assert "No space left on device" in err.value.response["Error"]["Message"]
        assert [p["PartNumber"] for p in s3.list_parts(Bucket=bucket, Key="big.bin", UploadId=upload)["Parts"]] == [1]
        assert len(_upload_files(tmp_path)) == 1
    _drop_from_memory(bucket)
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        parts = ep.s3().list_parts(Bucket=bucket, Key="big.bin", UploadId=upload)["Parts"]
        assert [p["PartNumber"] for p in parts] == [1]
