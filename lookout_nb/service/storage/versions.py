"""The older versions and delete markers of a key, kept on disk like its current version.

In a versioned bucket moto holds each key as a list, oldest first: FakeKeys and delete markers. The object index
keeps the current version (the last entry, when it is a FakeKey) in ``objects``, as for any key; this module keeps
the rest in ``versions``: one row per entry, with its position, version id, LastModified and, for a FakeKey, its
blob (shared by SHA-256 with every other version and key of the same bytes), size, ETag, metadata, tags and attrs
(ACL, checksums, lock). A delete marker is a row without a blob. Every change of a key rewrites its rows in the
same transaction as its ``objects`` row, from one snapshot of moto's list, so a restart (clean or kill -9) gives
back the same versions, version ids and order; the older versions read their blob when asked, as current ones do.

A blob is removed once no row of ``objects`` or ``versions`` names it (:func:`names`).

>>> import sqlite3; db = sqlite3.connect(":memory:"); _ = db.executescript(SCHEMA)
>>> write(db, "b", "k", [(0, None, "v1", "2026-01-05T09:00:00")], set())  # a delete marker
>>> saved(db)
{('b', 'k'): [('v1', '2026-01-05T09:00:00', None, None)]}
>>> dropped = set(); write(db, "b", "k", [], dropped); saved(db), dropped
({}, set())
"""

from __future__ import annotations

import json

from . import motos3
from .diskbody import DiskBody

SCHEMA = """
CREATE TABLE IF NOT EXISTS versions (
    bucket TEXT NOT NULL, key TEXT NOT NULL, position INTEGER NOT NULL, version_id TEXT NOT NULL,
    last_modified TEXT, blob TEXT, size INTEGER, etag TEXT, metadata TEXT, tags TEXT, attrs TEXT,
    PRIMARY KEY (bucket, key, position)
);
CREATE INDEX IF NOT EXISTS versions_by_blob ON versions (blob);
"""


def snapshot(backend, bucket: str, key: str) -> tuple:
    """``(current FakeKey or None, older entries)`` from one reading of moto's list of the key's versions."""
    entries = motos3.versions_of(backend, bucket, key)
    if entries and motos3.is_live(entries[-1]):
        return entries[-1], entries[:-1]
    return None, entries


def rows(store, backend, bucket: str, older: list, written: list) -> list | None:
    """The rows of ``older`` (FakeKeys' bodies written as blobs when not yet); None when one of them was disposed
    of meanwhile (a later write replaced it: read the list again). A row is ``(position, entry, version id,
    (ObjectRecord, blob))``, or for a delete marker ``(position, entry, version id, LastModified)``."""
    out: list = []
    for position, entry in enumerate(older):
        if motos3.is_marker(entry):
            version_id, modified = motos3.marker_state(entry)
            out.append((position, entry, version_id, modified))
            continue
        ready = store._blob_of(entry, written) if motos3.is_live(entry) else None
        if ready is None:
            return None
        record = motos3.describe(backend, bucket, entry)
        out.append((position, entry, record.attrs.get("version_id", "null"), (record, ready[1])))
    return out


def write(db, bucket: str, key: str, history: list, dropped: set) -> None:
    """Replace the saved older versions of a key by ``history`` (inside the caller's transaction); the blobs the
    old rows named go to ``dropped`` (removed later if nothing names them)."""
    old = db.execute("DELETE FROM versions WHERE bucket = ? AND key = ? RETURNING blob", (bucket, key)).fetchall()
    dropped.update(blob for (blob,) in old if blob)
    for position, _, version_id, saved_as in history:
        if not isinstance(saved_as, tuple):  # a delete marker: its LastModified
            db.execute("INSERT INTO versions (bucket, key, position, version_id, last_modified) VALUES (?, ?, ?, ?, ?)",
                       (bucket, key, position, version_id, saved_as))
            continue
        record, blob = saved_as
        db.execute("INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (bucket, key, position, version_id, record.last_modified, blob, record.size, record.etag,
                    json.dumps(record.metadata), json.dumps(record.tags), json.dumps(record.attrs)))


def drop_bucket(db, bucket: str, dropped: set) -> None:
    """Forget every older version of ``bucket`` (its blobs go to ``dropped``)."""
    old = db.execute("DELETE FROM versions WHERE bucket = ? RETURNING blob", (bucket,)).fetchall()
    dropped.update(blob for (blob,) in old if blob)


def names(db, blob: str) -> bool:
    """True when a saved older version names ``blob``."""
    return db.execute("SELECT 1 FROM versions WHERE blob = ? LIMIT 1", (blob,)).fetchone() is not None


def blobs(db) -> set[str]:
    """Every blob an older version names."""
    return {row[0] for row in db.execute("SELECT DISTINCT blob FROM versions WHERE blob IS NOT NULL")}


def saved(db, bucket: str | None = None, key: str | None = None) -> dict:
    """``{(bucket, key): [(version id, LastModified, blob, ObjectRecord or None), ...]}``, oldest first."""
    sql = "SELECT bucket, key, version_id, last_modified, blob, size, etag, metadata, tags, attrs FROM versions"
    args: tuple = ()
    if bucket is not None:
        sql, args = sql + " WHERE bucket = ? AND key = ?", (bucket, key)
    out: dict = {}
    for b, k, version_id, modified, blob, size, etag, metadata, tags, attrs in db.execute(
            sql + " ORDER BY bucket, key, position", args):
        record = None if blob is None else motos3.ObjectRecord(
            b, k, size, etag, modified, json.loads(metadata), json.loads(tags), json.loads(attrs))
        out.setdefault((b, k), []).append((version_id, modified, blob, record))
    return out


def rebuilt(backend, key: str, saved_versions: list, blob_path, damaged: list) -> list:
    """moto's entries of saved older versions, oldest first, each FakeKey reading its blob when asked; a missing blob
    is added to ``damaged`` (that version answers an error naming its file)."""
    entries: list = []
    for version_id, modified, blob, record in saved_versions:
        if record is None:
            entries.append(motos3.marker(entries[-1] if entries else None, key, version_id, modified))
            continue
        path = blob_path(blob)
        if not path.is_file():
            damaged.append(f"s3://{record.bucket}/{key} version {version_id}: the object file {path} is missing")
        entries.append(motos3.rebuilt(backend, record, DiskBody(path, record.size, blob)))
    return entries


def to_disk(history: list, blob_path) -> None:
    """After the commit: every older FakeKey of ``history`` reads its bytes from its blob (its buffer freed)."""
    for _, entry, _, saved_as in history:
        if isinstance(saved_as, tuple):
            record, blob = saved_as
            disk = motos3.disk_body(entry)
            if disk is None or disk.path != blob_path(blob):
                motos3.to_disk(entry, DiskBody(blob_path(blob), record.size, blob))

