"""PutObject and UploadPart bodies go to disk once and are checked there (lookout_nb/service/storage/putbody.py).

A large signed PUT to an endpoint in its own process keeps that process's memory flat and reads back byte for
byte; a body whose Content-MD5, x-amz-checksum-* or x-amz-content-sha256 does not match is refused with S3's
error code and leaves nothing stored (no key, no file).
"""

from __future__ import annotations

import base64
import hashlib
import io
import socket
import uuid
import zlib

import boto3
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from httpkit import address, answer_of, raw, request, rss_mib, served, status_field

from lookout_nb.service import start

KEY, SECRET = "plant1", "5f2b-not-a-real-secret"
MIB = 1 << 20


class Generated(io.RawIOBase):
    """A seekable body of ``size`` bytes made on the fly, 1 MiB block by block (never held whole)."""

    def __init__(self, size: int):
        super().__init__()
        self.size, self.pos, self._cached = size, 0, (-1, b"")

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, pos: int, whence: int = 0) -> int:
        self.pos = pos if whence == 0 else self.pos + pos if whence == 1 else self.size + pos
        return self.pos

    def _block(self, index: int) -> bytes:
        if self._cached[0] != index:
            self._cached = (index, hashlib.sha256(index.to_bytes(8, "big")).digest() * (MIB // 32))
        return self._cached[1]

    def read(self, n: int = -1) -> bytes:
        n = self.size - self.pos if n is None or n < 0 else min(n, self.size - self.pos)
        out = bytearray()
        while len(out) < n:
            index, offset = divmod(self.pos, MIB)
            piece = self._block(index)[offset:offset + n - len(out)]
            out += piece
            self.pos += len(piece)
        return bytes(out)


def test_a_600_mib_signed_put_keeps_the_endpoints_memory_flat_and_reads_back_identical(tmp_path):
    size = 600 * MIB
    with served("--credentials", f"{KEY}:{SECRET}", "--state-dir", str(tmp_path)) as (url, pid):
        s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id=KEY,
                          aws_secret_access_key=SECRET,
                          config=Config(s3={"addressing_style": "path"}, read_timeout=300))
        s3.create_bucket(Bucket="large")
        before = rss_mib(pid)
        signing = AWSRequest("PUT", f"{url}/large/600mib.bin", data=Generated(size),
                             headers={"Content-Length": str(size)})
        S3SigV4Auth(Credentials(KEY, SECRET), "s3", "us-east-1").add_auth(signing)  # hashes the body: signed
        headers = dict(signing.headers.items())
        with socket.create_connection(address(url), timeout=300) as sock:
            sock.sendall(request(url, "PUT", "/large/600mib.bin", headers))
            body = Generated(size)
            while piece := body.read(4 * MIB):
                sock.sendall(piece)
            answer = answer_of(sock, "PUT")
        peak = status_field(pid, "VmHWM") / 1024
        assert answer.status == 200, answer.body
        assert peak - before < 200, f"the endpoint peaked {peak - before:.0f} MiB above its RSS before the PUT"
        stream = s3.get_object(Bucket="large", Key="600mib.bin")["Body"]
        digest, got = hashlib.sha256(), 0
        while chunk := stream.read(4 * MIB):
            digest.update(chunk)
            got += len(chunk)
        assert got == size
        assert digest.hexdigest() == headers["X-Amz-Content-SHA256"]


# -- digests that do not match: refused, nothing stored ------------------------------------------------------------

@pytest.fixture(scope="module")
def durable(tmp_path_factory):
    state = tmp_path_factory.mktemp("putbody")
    with start(port=0, clock="manual", demo=False, state_dir=state) as ep:
        ep.s3().create_bucket(Bucket="digests")
        yield ep, state


def _files(state) -> list[str]:
    """Every file under the object store's blobs (the received uploads, named or not)."""
    return sorted(str(p.relative_to(state)) for p in (state / "objects" / "blobs").rglob("*") if p.is_file())


def _b64(raw_digest: bytes) -> str:
    return base64.b64encode(raw_digest).decode()


BODY, OTHER = b"sensor,value\n" * 1000, b"sensor,VALUE\n" * 1000
WRONG = {
    "content-md5": ({"Content-MD5": _b64(hashlib.md5(OTHER).digest())}, "BadDigest"),
    "malformed-content-md5": ({"Content-MD5": "not-a-digest"}, "InvalidDigest"),
    "crc32": ({"x-amz-sdk-checksum-algorithm": "CRC32",
               "x-amz-checksum-crc32": _b64(zlib.crc32(OTHER).to_bytes(4, "big"))}, "BadDigest"),
    "sha256-checksum": ({"x-amz-checksum-sha256": _b64(hashlib.sha256(OTHER).digest())}, "BadDigest"),
    "sha1-checksum": ({"x-amz-checksum-sha1": _b64(hashlib.sha1(OTHER).digest())}, "BadDigest"),
    "content-sha256": ({"x-amz-content-sha256": hashlib.sha256(OTHER).hexdigest()}, "XAmzContentSHA256Mismatch"),
}


@pytest.mark.parametrize("case", list(WRONG))
def test_a_body_whose_digest_does_not_match_is_refused_and_nothing_is_stored(durable, case):
    ep, state = durable
    headers, code = WRONG[case]
    key = f"wrong/{case}-{uuid.uuid4().hex[:8]}"
    files = _files(state)
    answer = raw(ep.url, request(ep.url, "PUT", f"/digests/{key}", headers, BODY), method="PUT")
    assert answer.status == 400 and f"<Code>{code}</Code>".encode() in answer.body, answer.body
    with pytest.raises(ClientError) as missing:
        ep.s3().head_object(Bucket="digests", Key=key)
    assert missing.value.response["Error"]["Code"] == "404"
    assert _files(state) == files


def test_a_body_whose_digests_match_is_stored_with_its_etag_and_checksum(durable):
    ep, state = durable
    headers = {"Content-MD5": _b64(hashlib.md5(BODY).digest()), "x-amz-sdk-checksum-algorithm": "CRC32",
               "x-amz-checksum-crc32": _b64(zlib.crc32(BODY).to_bytes(4, "big")),
               "x-amz-content-sha256": hashlib.sha256(BODY).hexdigest()}
    answer = raw(ep.url, request(ep.url, "PUT", "/digests/right.csv", headers, BODY), method="PUT")
    assert answer.status == 200, answer.body
    assert answer.headers["etag"] == f'"{hashlib.md5(BODY).hexdigest()}"'
    got = ep.s3().get_object(Bucket="digests", Key="right.csv", ChecksumMode="ENABLED")
    assert got["Body"].read() == BODY and got["ChecksumCRC32"] == headers["x-amz-checksum-crc32"]
    blob = hashlib.sha256(BODY).hexdigest()
    assert f"objects/blobs/{blob[:2]}/{blob}" in _files(state)


def test_a_checksum_asked_without_a_value_is_computed_from_the_body(durable):
    ep, _ = durable
    answer = raw(ep.url, request(ep.url, "PUT", "/digests/asked.csv", {"x-amz-sdk-checksum-algorithm": "SHA256"},
                                 BODY), method="PUT")
    assert answer.status == 200, answer.body
    assert answer.headers["x-amz-checksum-sha256"] == _b64(hashlib.sha256(BODY).digest())


def test_an_upload_part_with_a_wrong_content_md5_is_refused_and_no_part_is_kept(durable):
    ep, _ = durable
    s3 = ep.s3()
    upload = s3.create_multipart_upload(Bucket="digests", Key="parts.bin")["UploadId"]
    path = f"/digests/parts.bin?partNumber=1&uploadId={upload}"
    headers = {"Content-MD5": _b64(hashlib.md5(OTHER).digest())}
    answer = raw(ep.url, request(ep.url, "PUT", path, headers, BODY), method="PUT")
    assert answer.status == 400 and b"<Code>BadDigest</Code>" in answer.body
    assert "Parts" not in s3.list_parts(Bucket="digests", Key="parts.bin", UploadId=upload)
    good = s3.upload_part(Bucket="digests", Key="parts.bin", UploadId=upload, PartNumber=1, Body=BODY)
    assert good["ETag"] == f'"{hashlib.md5(BODY).hexdigest()}"'
    s3.complete_multipart_upload(Bucket="digests", Key="parts.bin", UploadId=upload,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": good["ETag"]}]})
    assert s3.get_object(Bucket="digests", Key="parts.bin")["Body"].read() == BODY


def test_a_signed_put_whose_body_is_not_the_signed_one_is_refused(tmp_path):
    with start(port=0, clock="manual", demo=False, credentials=(KEY, SECRET), state_dir=tmp_path) as ep:
        ep.s3().create_bucket(Bucket="signed")
        signing = AWSRequest("PUT", f"{ep.url}/signed/k.csv", data=BODY)
        S3SigV4Auth(Credentials(KEY, SECRET), "s3", "us-east-1").add_auth(signing)
        answer = raw(ep.url, request(ep.url, "PUT", "/signed/k.csv", dict(signing.headers.items()), OTHER),
                     method="PUT")
        assert answer.status == 400 and b"XAmzContentSHA256Mismatch" in answer.body
        with pytest.raises(ClientError):
            ep.s3().head_object(Bucket="signed", Key="k.csv")
        assert _files(tmp_path) == []


@pytest.mark.parametrize("right", [True, False], ids=["right-trailer", "wrong-trailer"])
def test_a_streaming_upload_is_checked_against_its_trailing_checksum(durable, right):
    ep, state = durable
    data = BODY if right else OTHER
    trailer = _b64(zlib.crc32(data).to_bytes(4, "big"))
    framed = b"%x\r\n%s\r\n0\r\nx-amz-checksum-crc32:%s\r\n\r\n" % (len(BODY), BODY, trailer.encode())
    headers = {"x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "Content-Encoding": "aws-chunked",
               "x-amz-decoded-content-length": str(len(BODY)), "x-amz-trailer": "x-amz-checksum-crc32",
               "x-amz-sdk-checksum-algorithm": "CRC32"}
    key = f"streamed/{uuid.uuid4().hex[:8]}.csv"
    files = _files(state)
    answer = raw(ep.url, request(ep.url, "PUT", f"/digests/{key}", headers, framed), method="PUT")
    if right:
        assert answer.status == 200, answer.body
        got = ep.s3().get_object(Bucket="digests", Key=key, ChecksumMode="ENABLED")
        assert got["Body"].read() == BODY and got["ChecksumCRC32"] == trailer
    else:
        assert answer.status == 400 and b"<Code>BadDigest</Code>" in answer.body, answer.body
        with pytest.raises(ClientError):
            ep.s3().head_object(Bucket="digests", Key=key)
        assert _files(state) == files


def test_an_older_version_put_to_disk_still_reads_back_after_a_newer_one(durable):
    ep, _ = durable
    s3 = ep.s3()
    s3.create_bucket(Bucket="versions-on-disk")
    s3.put_bucket_versioning(Bucket="versions-on-disk", VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket="versions-on-disk", Key="k.csv", Body=BODY)["VersionId"]
    s3.put_object(Bucket="versions-on-disk", Key="k.csv", Body=OTHER)
    assert s3.get_object(Bucket="versions-on-disk", Key="k.csv")["Body"].read() == OTHER
    assert s3.get_object(Bucket="versions-on-disk", Key="k.csv", VersionId=first)["Body"].read() == BODY


def test_a_part_and_an_older_version_received_to_disk_are_linked_not_copied_again(durable, monkeypatch):
    """The file a body was received into becomes the upload's part file, and an older version's blob, by a hard
    link (no second write of the bytes); both read back."""
    from lookout_nb.service.storage import objects
    from lookout_nb.service.storage.keep import uploads

    ep, state = durable
    copies: list = []
    for module in (objects, uploads):
        monkeypatch.setattr(module, "spool", lambda *a, real=module.spool: copies.append(a[1]) or real(*a))
    s3 = ep.s3()
    upload = s3.create_multipart_upload(Bucket="digests", Key="linked.bin")["UploadId"]
    part = s3.upload_part(Bucket="digests", Key="linked.bin", UploadId=upload, PartNumber=1, Body=BODY)
    files = [p.name for p in (state / "objects" / "uploads").rglob("*") if p.is_file()]
    assert f"1-{hashlib.sha256(BODY).hexdigest()}" in files
    s3.put_bucket_versioning(Bucket="digests", VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket="digests", Key="linked.csv", Body=OTHER + b"first")["VersionId"]
    s3.put_object(Bucket="digests", Key="linked.csv", Body=OTHER + b"second")
    blob = hashlib.sha256(OTHER + b"first").hexdigest()
    assert f"objects/blobs/{blob[:2]}/{blob}" in _files(state)
    assert copies == []
    assert s3.get_object(Bucket="digests", Key="linked.csv", VersionId=first)["Body"].read() == OTHER + b"first"
    s3.complete_multipart_upload(Bucket="digests", Key="linked.bin", UploadId=upload,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert s3.get_object(Bucket="digests", Key="linked.bin")["Body"].read() == BODY
