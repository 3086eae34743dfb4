"""A run's results object written once, also when the run is executed again (taken over from a serve process that
died after it wrote its results but before its end was recorded, see :mod:`.takeover`).

:func:`put_once` writes with S3's conditional write (``If-None-Match: *``, answered by AWS S3, moto and the
endpoint's own S3): the first write of a key creates it; a second one is refused (412), and then the object there
is read: the same bytes are left as they are (no second version, no second event, LastModified unchanged), other
bytes (an earlier scheduler's results under the same prefix and time) are replaced as a plain PutObject would. An
S3 (or boto3) that does not know the condition writes as before.

>>> put_once(s3, "plant", "out/2026-01-05T09:05:00Z/results.jsonl", b"{}\\n")     # doctest: +SKIP
True
"""

from __future__ import annotations


def put_once(s3, bucket: str, key: str, body: bytes, content_type: str = "application/jsonlines") -> bool:
    """Write ``body`` at ``key`` unless the object there holds these bytes already; whether it wrote. S3 errors
    other than the refused condition propagate."""
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type, IfNoneMatch="*")
        return True
    except Exception as err:
        if not (_refused(err) or _unknown_condition(err)):
            raise
        if _refused(err) and _same(s3, bucket, key, body):
            return False
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
    return True


def _same(s3, bucket: str, key: str, body: bytes) -> bool:
    """Whether the object at ``key`` holds ``body`` (False when there is none: deleted meanwhile)."""
    try:
        found = s3.get_object(Bucket=bucket, Key=key)["Body"]
    except Exception as err:
        if _code(err)[0] in ("NoSuchKey", "404"):
            return False
        raise
    try:
        return found.read() == body
    finally:
        found.close()


def _code(err: Exception) -> tuple[str | None, int | None]:
    response = getattr(err, "response", None) or {}
    return (response.get("Error") or {}).get("Code"), (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")


def _unknown_condition(err: Exception) -> bool:
    """Whether the client does not know ``IfNoneMatch`` (botocore before S3's conditional writes: it refuses the
    parameter before sending anything); the write is then made as a plain PutObject."""
    return type(err).__name__ == "ParamValidationError" and "IfNoneMatch" in str(err)


def _refused(err: Exception) -> bool:
    """Whether ``err`` is S3's answer to a conditional write on a key that has an object (412 PreconditionFailed), or
    to one made while another conditional write of the key was in flight (409 ConditionalRequestConflict)."""
    code, status = _code(err)
    return code in ("PreconditionFailed", "ConditionalRequestConflict") or status == 412
