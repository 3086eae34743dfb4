"""A key's versions as moto holds them (a versioned bucket's list per key, oldest first: FakeKeys and delete markers),
read by :mod:`..keep.versions` to save the older ones, and a delete marker made again at restart (:func:`marker`).

>>> deleted = marker(None, "in/a.csv", "v1", "2026-01-05T09:00:00")
>>> is_marker(deleted), is_live(deleted), marker_state(deleted)
(True, False, ('v1', '2026-01-05T09:00:00'))
"""

from __future__ import annotations

import datetime


def versions_of(backend, bucket_name: str, key_name: str) -> list:
    """A key's versions as moto holds them now, oldest first: FakeKeys and delete markers ([] when none)."""
    bucket = backend.buckets.get(bucket_name)
    return list(bucket.keys.getlist(key_name, None) or ()) if bucket is not None else []


def is_marker(entry) -> bool:  # a delete marker (moto's FakeDeleteMarker), not a FakeKey
    return type(entry).__name__ == "FakeDeleteMarker"


def is_live(entry) -> bool:  # a FakeKey whose body can still be read (not disposed of by a later write)
    return type(entry).__name__ == "FakeKey" and not entry.disposed


def marker_state(entry) -> tuple[str, str]:
    return entry.version_id, entry.last_modified.isoformat()  # a delete marker's (version id, LastModified)


def version_state(backend, key) -> tuple:  # what can change on a stored version: ACL, lock, storage class, tags
    tags = backend.tagger.get_tag_dict_for_resource(key.arn)
    return key.acl, key.lock_mode, key.lock_until, key.lock_legal_status, key.storage_class, tags


def marker(before, key_name: str, version_id: str, last_modified: str):
    """A delete marker of ``key_name`` as saved (``before``: the version it was put on, or None)."""
    from types import SimpleNamespace

    from moto.s3.models import FakeDeleteMarker

    made = FakeDeleteMarker(key=before if before is not None else SimpleNamespace(name=key_name))  # type: ignore[arg-type]
    made._version_id, made.last_modified = version_id, datetime.datetime.fromisoformat(last_modified)
    return made

