"""moto's multipart uploads: CompleteMultipartUpload writing the object to a file part by part (not in memory,
:func:`install_multipart_on_disk`), and an in-progress upload and its parts read for saving (:func:`upload_of`,
:func:`upload_state`, :func:`part_state`) and put back at restart (:func:`restore_upload`), see :mod:`..keep.uploads`.

>>> import types
>>> part_state(types.SimpleNamespace(size=5, etag='"ab"', last_modified=datetime.datetime(2026, 1, 5, 9)))
(5, '"ab"', '2026-01-05T09:00:00')
"""

from __future__ import annotations

import datetime
import functools
import pickle

from .motos3 import to_disk


def _complete_to_file(multipart, body):
    """moto's FakeMultipart.complete, writing the object to a temporary file part by part instead of building it in
    memory: ``(path, size, etag, checksum_details)``, or None when the upload names no part."""
    import codecs
    import os
    import tempfile

    from moto.s3 import models

    checksum = models.MultipartChecksumBuilder(multipart.metadata.get("x-amz-checksum-algorithm"),
                                               multipart.metadata.get("x-amz-checksum-type"))
    md5s, last, count, size = bytearray(), None, 0, 0
    fd, path = tempfile.mkstemp(prefix="lookout-nb-multipart-")
    try:
        for number, etag in body:
            part = multipart.parts.get(number)
            part_etag = part.etag.replace('"', "") if part is not None else None
            if part is None or part_etag != etag.replace('"', ""):
                raise models.InvalidPart()
            if last is not None and last.contentsize < models.S3_UPLOAD_PART_MIN_SIZE:
                raise models.EntityTooSmall()
            md5s.extend(codecs.decode(part_etag, "hex"))
            value = part.value
            checksum.addPart(value)
            view = memoryview(value)
            while view:
                view = view[os.write(fd, view):]
            size, last, count = size + len(value), part, count + 1
        if count == 0:
            raise models.MalformedXML()
    except BaseException:
        os.close(fd)
        os.unlink(path)
        raise
    os.close(fd)
    full = models.md5_hash()
    full.update(bytes(md5s))
    return path, size, f"{full.hexdigest()}-{count}", checksum.build()


def complete_multipart_on_disk(self, bucket_name: str, multipart_id: str, body):
    """``S3Backend.complete_multipart_upload`` as moto's, but the object goes to a file, not memory (a 100 MiB
    upload costs a part, not 300 MiB); the key reads it from there (:class:`.diskbody.DiskBody`) until it is saved."""
    from moto.s3 import models

    from ..diskbody import DiskBody

    bucket = self.get_bucket(bucket_name)
    multipart = bucket.multiparts[multipart_id]
    path, size, etag, checksum_details = _complete_to_file(multipart, body)
    del bucket.multiparts[multipart_id]
    key = self.put_object(bucket_name, multipart.key_name, b"", storage=multipart.storage, etag=etag,
                          multipart=multipart, encryption=multipart.sse_encryption, kms_key_id=multipart.kms_key_id)
    to_disk(key, DiskBody(path, size, owned=True))
    key.set_metadata(multipart.metadata)
    if checksum_details:
        key.checksum_algorithm = multipart.metadata.get("x-amz-checksum-algorithm")
        key.checksum_type, key.checksum_value, key.checksum_parts = checksum_details
    self.put_object_tagging(key, multipart.tags)
    self.put_object_acl(bucket_name=bucket_name, key_name=key.name, acl=multipart.acl, disable_notification=True)
    models.notifications.send_event(
        self.account_id, models.notifications.S3NotificationEvent.OBJECT_CREATED_COMPLETE_MULTIPART_UPLOAD_EVENT,
        bucket, bucket.keys.get(multipart.key_name))
    return key


@functools.lru_cache(maxsize=1)
def install_multipart_on_disk() -> None:
    """Replace moto's ``S3Backend.complete_multipart_upload`` by :func:`complete_multipart_on_disk` (once)."""
    from moto.s3.models import S3Backend

    # deliberate: moto's completion would join the parts in memory (this module alone touches moto's internals)
    S3Backend.complete_multipart_upload = complete_multipart_on_disk  # type: ignore[method-assign]



def upload_of(backend, bucket_name: str, upload_id: str, number: int | None = None):
    """moto's in-progress multipart upload (FakeMultipart), or its part ``number`` (a FakeKey), or None."""
    bucket = backend.buckets.get(bucket_name)
    upload = bucket.multiparts.get(upload_id) if bucket is not None else None
    return upload if number is None or upload is None else upload.parts.get(number)


def upload_state(multipart) -> tuple[str, bytes]:
    """``(key name, state)``: an upload without its parts (metadata, storage class, tags, ACL...) as bytes."""
    values = {name: value for name, value in vars(multipart).items() if name not in ("parts", "partlist")}
    return multipart.key_name, pickle.dumps(values, protocol=4)


def part_state(part) -> tuple[int, str, str]:
    return part.size, part.etag, part.last_modified.isoformat()  # an uploaded part's (size, ETag, LastModified)


def restore_upload(backend, bucket_name: str, state: bytes, parts) -> None:
    """Put a saved upload back (``parts``: ``(number, size, ETag, LastModified, DiskBody)``), with its id."""
    from moto.s3.models import FakeMultipart

    multipart = object.__new__(FakeMultipart)
    multipart.__dict__.update(pickle.loads(state))  # this store wrote it (the user's own state_dir)
    multipart.parts, multipart.partlist = {}, []
    for number, _, etag, modified, disk in parts:
        part = multipart.set_part(number, b"")
        to_disk(part, disk)
        part._etag, part.last_modified = etag.strip('"'), datetime.datetime.fromisoformat(modified)
    backend.get_bucket(bucket_name).multiparts[multipart.id] = multipart

