"""A PUT body already on disk (:mod:`..putbody`): moto's ``put_object`` and ``upload_part`` take it as the key's
body, no copy, while moto's handler answers the request with an empty body (:func:`body_on_disk`).

>>> with body_on_disk("a DiskBody", "0cc175b9c0f1b6a831c399e269772661") as made:
...     _take_arriving(b"") is not None, _take_arriving(b"bytes sent the usual way")
(True, None)
"""

from __future__ import annotations

import contextlib
import contextvars
import functools

_arriving: contextvars.ContextVar = contextvars.ContextVar("lookout_nb_arriving_body", default=None)


@contextlib.contextmanager
def body_on_disk(disk, md5_hex: str):
    """Within the block (this request), the first PutObject or UploadPart that moto's handler makes with an empty
    body takes ``disk`` (a :class:`.diskbody.DiskBody`) as its body and ``md5_hex`` as its ETag; yields a list that
    holds the key once it is made (empty: moto refused the request before storing anything)."""
    made: list = []
    token = _arriving.set((disk, md5_hex, made))
    try:
        yield made
    finally:
        _arriving.reset(token)


def _take_arriving(value):
    pending = _arriving.get()
    if pending is None or pending[2] or value not in (b"", None):
        return None
    return pending


@functools.lru_cache(maxsize=1)
def install_put_on_disk() -> None:
    """Let moto's ``put_object`` and ``upload_part`` take the body of :func:`body_on_disk`, and a FakeKey take a
    DiskBody as its value (its buffer, no copy), so a key is born with its bytes on disk (once per process)."""
    from moto.s3.models import FakeKey, S3Backend

    from ..diskbody import DiskBody

    value, put, upload = vars(FakeKey)["value"], S3Backend.put_object, S3Backend.upload_part  # value: a property

    def set_value(self, new_value):
        if isinstance(new_value, DiskBody):
            old, self._value_buffer, self.contentsize = self._value_buffer, new_value, new_value.size
            old.close()
        else:
            value.fset(self, new_value)

    @functools.wraps(put)
    def put_object(self, bucket_name, key_name, value, *args, **kwargs):
        pending = _take_arriving(value) if not args else None
        if pending is None:
            return put(self, bucket_name, key_name, value, *args, **kwargs)
        key = put(self, bucket_name, key_name, pending[0], **{**kwargs, "etag": pending[1]})
        pending[2].append(key)
        return key

    @functools.wraps(upload)
    def upload_part(self, bucket_name, multipart_id, part_id, value):
        pending = _take_arriving(value)
        if pending is None:
            return upload(self, bucket_name, multipart_id, part_id, value)
        key = upload(self, bucket_name, multipart_id, part_id, pending[0])
        key._etag = pending[1]
        pending[2].append(key)
        return key

    # deliberate: moto's handler would hold the body in memory (this module alone touches moto's internals)
    FakeKey.value = property(value.fget, set_value)  # type: ignore[method-assign, assignment, unused-ignore]
    S3Backend.put_object = put_object  # type: ignore[method-assign]
    S3Backend.upload_part = upload_part  # type: ignore[method-assign]

