"""The endpoint's own S3, in-process: the part of a boto3 S3 client the runner uses, served from moto's backend.

A run lists two key ranges, reads its input files and writes one results object. Over HTTP each of those is a
signed request, a socket round trip and moto's XML on both sides, several times the cost of the run's own work;
:class:`InProcessS3` answers the same calls straight from moto's backend, with what an HTTP request would give:

- ``list_objects_v2``: keys in name order after ``StartAfter`` (or the page's ``ContinuationToken``), under
  ``Prefix``, at most ``MaxKeys``, from a sorted index (:func:`.moto.motos3.names_after`, not moto's walk of every key);
- ``get_object``: the bytes and ETag; ``put_object``: written as moto's PutObject handler writes (same ETag,
  Content-Type, ACL), stamped with the service clock's time as LastModified (:mod:`.s3clock`) and, with a state
  directory, on disk before the call returns (:func:`.writethrough.durable`);
- failures raise botocore's ``ClientError`` with S3's code (``NoSuchBucket``, ``NoSuchKey``,
  ``InvalidBucketName``; ``InternalError`` when the disk refuses), as the HTTP client would.

>>> s3 = InProcessS3(endpoint.clock, endpoint.objects)                           # doctest: +SKIP
>>> s3.put_object(Bucket="lookout-demo", Key="out/r.jsonl", Body=b"{}\\n")["ETag"]   # doctest: +SKIP
'"8a80554c91d9fca8acb82f023de02f11"'
"""

from __future__ import annotations

import contextlib
import datetime
import io
import threading

from botocore.exceptions import ClientError

from . import s3clock
from .moto import motos3
from .objects import PersistError
from .writethrough import durable

#: Held by a conditional write from its check to its write.
_CONDITIONAL = threading.Lock()


@contextlib.contextmanager
def _as_client_errors(operation: str):
    """moto's S3 errors (and a refused disk write) as the ClientError the HTTP client raises."""
    try:
        yield
    except motos3.service_exception() as err:
        code, message = err.code, err.message
        raise ClientError({"Error": {"Code": code, "Message": message}}, operation) from None
    except PersistError as err:
        raise ClientError({"Error": {"Code": "InternalError", "Message": str(err)}}, operation) from None


def _utc(naive: datetime.datetime) -> datetime.datetime:
    return naive.replace(tzinfo=datetime.timezone.utc)


class InProcessS3:
    """``list_objects_v2``, ``get_object`` and ``put_object`` of the endpoint's S3 without HTTP.

    ``clock`` stamps writes (LastModified); ``objects`` (an :class:`.objects.ObjectStore`, or None: memory only)
    receives each write before the call returns. Thread-safe, as moto's backend is.
    """

    def __init__(self, clock, objects=None, account: str = motos3.DEFAULT_ACCOUNT):
        s3clock.install()
        motos3.install_index()
        self.clock = clock
        self.objects = objects
        self.account = account
        self._local = threading.local()

    @contextlib.contextmanager
    def as_of(self, when):
        """Writes made in this block, in this thread, are stamped ``when`` (not after the clock's now), as the demo
        feeder's files are (see :class:`.s3clock.StampedWrites`, the same over HTTP)."""
        previous = getattr(self._local, "when", None)
        self._local.when = when
        try:
            yield
        finally:
            self._local.when = previous

    def _stamp(self):
        now, when = self.clock.now(), getattr(self._local, "when", None)
        return now if when is None else min(when, now)

    def _backend(self):
        return motos3.backend_of(self.account)

    def list_objects_v2(self, Bucket: str, Prefix: str = "", StartAfter: str = "", MaxKeys: int = 1000,
                        ContinuationToken: str | None = None) -> dict:
        """One page of a listing (``Contents`` with Key, ETag, Size, LastModified; ``NextContinuationToken``)."""
        with _as_client_errors("ListObjectsV2"):
            bucket = self._backend().get_bucket(Bucket)
        after = max(StartAfter or "", ContinuationToken or "")
        keys = motos3.names_after(bucket, Prefix or "", after, MaxKeys + 1) if MaxKeys > 0 else []
        contents = [
            {"Key": k.name, "ETag": k.etag, "Size": k.size, "LastModified": _utc(k.last_modified)}
            for k in keys[:MaxKeys]
        ]
        page = {"Name": Bucket, "Prefix": Prefix, "MaxKeys": MaxKeys, "KeyCount": len(contents), "Contents": contents,
                "IsTruncated": len(keys) > MaxKeys}
        if page["IsTruncated"]:
            page["NextContinuationToken"] = contents[-1]["Key"]
        return page

    def get_object(self, Bucket: str, Key: str) -> dict:
        """The object's ``Body`` (a readable stream), ``ETag``, ``ContentLength``, ``ContentType``, ``LastModified``."""
        for _ in range(3):  # an object overwritten or deleted while it is read: read what replaced it
            with _as_client_errors("GetObject"):
                key = self._backend().get_object(Bucket, Key)
            if key is None:
                break
            try:
                body = key.value
            except ValueError:  # moto disposed of this version (a concurrent PUT or DELETE of the key)
                continue
            return {"Body": io.BytesIO(body), "ETag": key.etag, "ContentLength": key.size,
                    "ContentType": key.metadata.get("content-type"), "LastModified": _utc(key.last_modified)}
        error = {"Code": "NoSuchKey", "Message": "The specified key does not exist."}
        raise ClientError({"Error": error}, "GetObject")

    def put_object(self, Bucket: str, Key: str, Body: bytes, ContentType: str | None = None,
                   IfNoneMatch: str | None = None) -> dict:
        """Write an object on the service clock, durably (with a state directory) before returning its ``ETag``.
        ``IfNoneMatch="*"``: only when the key has no object yet (else ClientError PreconditionFailed, 412, as S3's
        conditional write; atomic against the other conditional writes of this process)."""
        with _as_client_errors("PutObject"), _CONDITIONAL if IfNoneMatch else contextlib.nullcontext(), \
                s3clock.stamping(self._stamp()), durable(self.objects):
            if IfNoneMatch == "*" and self._backend().get_object(Bucket, Key) is not None:
                error = {"Code": "PreconditionFailed", "Condition": "If-None-Match",
                         "Message": "At least one of the pre-conditions you specified did not hold"}
                raise ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": 412}}, "PutObject")
            key = motos3.put_as_http(self._backend(), Bucket, Key, bytes(Body), ContentType)
        return {"ETag": key.etag}
