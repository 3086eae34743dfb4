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
>>> marker = ("v1", "2026-01-05T09:00:00", None, None, None, None, None, None)
>>> write(db, "b", "k", [(0, None, marker, None)], set())  # a delete marker
>>> saved(db)
{('b', 'k'): [('v1', '2026-01-05T09:00:00', None, None)]}
>>> dropped = set(); write(db, "b", "k", [], dropped); saved(db), dropped
({}, set())
"""

from __future__ import annotations

import json
import weakref

from ..diskbody import DiskBody
from ..moto import keyversions, motos3

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
    entries = keyversions.versions_of(backend, bucket, key)
    if entries and keyversions.is_live(entries[-1]):
        return entries[-1], entries[:-1]
    return None, entries


def rows(store, backend, bucket: str, older: list, written: list) -> list | None:
    """The rows of ``older`` (FakeKeys' bodies written as blobs when not yet); None when one of them was disposed
    of meanwhile (a later write replaced it: read the list again). A row is ``(position, entry, values, state)``:
    ``values`` are the table's columns from ``version_id`` on, ``state`` what can change on a stored version. A
    version saved before whose state is unchanged reuses its values (a PUT on a key of 1,000 versions describes
    none of them again)."""
    memo = _memo.setdefault(store, weakref.WeakKeyDictionary())
    out: list = []
    for position, entry in enumerate(older):
        if keyversions.is_marker(entry):
            out.append((position, entry, (*keyversions.marker_state(entry), None, None, None, None, None, None), None))
            continue
        if not keyversions.is_live(entry):
            return None
        state = keyversions.version_state(backend, entry)
        cached = memo.get(entry)
        if cached is not None and cached[0] == state:
            out.append((position, entry, cached[1], state))
            continue
        ready = store._blob_of(entry, written)
        if ready is None:
            return None
        r = motos3.describe(backend, bucket, entry)
        values = (r.attrs.get("version_id", "null"), r.last_modified, ready[1], r.size, r.etag,
                  json.dumps(r.metadata), json.dumps(r.tags), json.dumps(r.attrs))
        out.append((position, entry, values, state))
    return out


def write(db, bucket: str, key: str, history: list, dropped: set) -> None:
    """Make the saved older versions of a key ``history`` (inside the caller's transaction), writing only the rows
    that changed; the blobs no longer named by its rows go to ``dropped`` (removed later if nothing names them)."""
    saved = {row[0]: row[1:] for row in db.execute(
        "SELECT position, version_id, last_modified, blob, size, etag, metadata, tags, attrs FROM versions "
        "WHERE bucket = ? AND key = ?", (bucket, key))}
    for position, _, values, _ in history:
        if saved.get(position) != values:
            db.execute("INSERT OR REPLACE INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (bucket, key, position, *values))
    if len(saved) > len(history):
        db.execute("DELETE FROM versions WHERE bucket = ? AND key = ? AND position >= ?", (bucket, key, len(history)))
    kept = {values[2] for _, _, values, _ in history}
    dropped.update(row[2] for row in saved.values() if row[2] and row[2] not in kept)


def drop_bucket(db, bucket: str, dropped: set) -> None:
    """Forget every older version of ``bucket`` (its blobs go to ``dropped``)."""
    old = db.execute("SELECT blob FROM versions WHERE bucket = ?", (bucket,)).fetchall()
    db.execute("DELETE FROM versions WHERE bucket = ?", (bucket,))  # no RETURNING: SQLite before 3.35 lacks it
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
            entries.append(keyversions.marker(entries[-1] if entries else None, key, version_id, modified))
            continue
        path = blob_path(blob)
        if not path.is_file():
            damaged.append(f"s3://{record.bucket}/{key} version {version_id}: the object file {path} is missing")
        entries.append(motos3.rebuilt(backend, record, DiskBody(path, record.size, blob)))
    return entries


def to_disk(store, history: list) -> None:
    """After the commit: every older FakeKey of ``history`` reads its bytes from its blob (its buffer freed), and
    its row is remembered for the next save of the key."""
    memo = _memo.setdefault(store, weakref.WeakKeyDictionary())
    for _, entry, values, state in history:
        blob = values[2]
        if blob is None:
            continue
        disk = motos3.disk_body(entry)
        if disk is None or disk.sha256 != blob or disk.path != store._blob_path(blob):
            motos3.to_disk(entry, DiskBody(store._blob_path(blob), values[3], blob))
        memo[entry] = (state, values)


#: Per store (forgotten with it: a later store never takes another's rows): each saved older FakeKey -> (its state,
#: its row's values) when it was saved.
_memo: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
