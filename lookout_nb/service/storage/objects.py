"""Durable S3 objects of the embedded endpoint: every acknowledged change is on disk before its response goes out.

moto keeps the S3 protocol; this store keeps the objects under ``state_dir/objects/``:

- ``blobs/<2 hex>/<sha256>``: each distinct body once, named by its SHA-256 (spooled to a temporary file in 1 MiB
  pieces while hashed, fsynced, renamed into place, the folder fsynced before the index names it; a PUT's body
  arrives already checked in a file of :attr:`ObjectStore.incoming`, :mod:`.putbody`, and is hard-linked into
  place); once saved, the key reads its bytes from there (:class:`.diskbody.DiskBody`), so memory does not grow
  with the data;
- ``index.sqlite`` (WAL, ``synchronous=FULL``): ``buckets`` (name, account, partition, region, creation date,
  settings) and ``objects`` (bucket, key -> blob, size, ETag, LastModified, metadata, tags, attrs), written by
  group commit: the changes of every request waiting at that moment go in one transaction;
- ``reserve``: 256 KiB released when the disk is full, so that a removal can still be committed.

A crash leaves at worst a blob nobody names or a temporary file; both are swept at the next :meth:`open`.
:mod:`.writethrough` calls :meth:`ObjectStore.sync` after each mutating request, before the response. At start
:meth:`open` checks the index, and :meth:`load` puts every object back into moto directly, reading no body (a
missing blob is listed in :attr:`ObjectStore.damaged`). A versioned bucket's older versions and delete markers are
kept too (:mod:`.keep.versions`), and so are in-progress multipart uploads (:mod:`.keep.uploads`).

>>> store = ObjectStore("/tmp/lookout-state").open()   # doctest: +SKIP
>>> store.load()                                       # doctest: +SKIP
412
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import tempfile
import threading
from pathlib import Path

from ...contract.s3keys import s3_uri
from ...errors import LookoutNbError
from .diskbody import DiskBody, fsync_dir, link, spool
from .keep import uploads, versions
from .moto import motos3
from .moto.motos3 import BucketRecord, ObjectRecord

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3  # 2: buckets.settings (versioning, policy, ACL, ...); 3: older versions, uploads and parts
_SCHEMA = """
CREATE TABLE IF NOT EXISTS buckets (
    name TEXT PRIMARY KEY, account TEXT NOT NULL, partition TEXT NOT NULL, region TEXT NOT NULL, created TEXT,
    settings BLOB
);
CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL, key TEXT NOT NULL, blob TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
    last_modified TEXT NOT NULL, metadata TEXT NOT NULL, tags TEXT NOT NULL, attrs TEXT NOT NULL,
    PRIMARY KEY (bucket, key)
);
CREATE INDEX IF NOT EXISTS objects_by_blob ON objects (blob);
""" + versions.SCHEMA + uploads.SCHEMA


class ObjectStoreError(LookoutNbError):
    """The saved objects cannot be opened or read; the message names the file and says what to do."""


class PersistError(LookoutNbError):
    """A change could not be written to disk (disk full, read-only file system, ...); nothing was changed."""


def write_durably(path: Path, data: bytes, durable: bool = True) -> None:
    """Write ``data`` to ``path`` atomically and durably: a temporary file in the same folder, fsync,
    ``os.replace``, fsync of the folder (``durable=False``: atomically only, no fsync). On failure no temporary
    file is left and ``path`` is unchanged."""
    folder = path.parent
    if not folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        if durable:
            fsync_dir(folder.parent)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        if durable:
            os.fsync(fd)
        os.close(fd)
        fd = -1
        os.replace(tmp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        Path(tmp).unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(folder)


class ObjectStore:
    """The objects of one ``state_dir``; thread-safe (one lock around every change). ``durable=False``: no fsync
    (the bodies of a memory-only endpoint, see :func:`spill_store`)."""

    def __init__(self, state_dir, durable: bool = True):
        self.durable = durable
        self.state_dir = Path(state_dir)
        self.root = self.state_dir / "objects"
        self.index_path = self.root / "index.sqlite"
        self.blobs = self.root / "blobs"
        self._db: sqlite3.Connection | None = None
        self._lock = threading.RLock()
        self._queue_lock = threading.Lock()
        self._pending: list[_Job] = []  # changes waiting for the next group commit
        #: Objects whose file was found missing at :meth:`load` (one line each, naming the object and the file).
        self.damaged: list[str] = []

    # -- opening -----------------------------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self._db is not None

    def open(self) -> ObjectStore:
        """Open (or create) the index, check it, sweep leftovers of a crash.

        Raises :class:`ObjectStoreError` naming the file when the index is not a readable index of this version.
        """
        try:
            self.blobs.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ObjectStoreError(
                f"cannot create {self.blobs}: {err.strerror or err}; choose a state directory you can write") from err
        try:
            db = sqlite3.connect(self.index_path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as err:
            raise self._unreadable(f"{type(err).__name__}: {err}") from err
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            fresh = version == 0 and not db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if not fresh and version not in (1, 2, SCHEMA_VERSION):
                raise ValueError(f"it is not an object index of version {SCHEMA_VERSION} (found version {version})")
            check = db.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise ValueError(f"SQLite finds it damaged ({check})")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL" if self.durable else "PRAGMA synchronous=OFF")
            db.executescript(_SCHEMA)
            if version == 1:  # saved by the release before bucket settings were kept: add the column
                db.execute("ALTER TABLE buckets ADD COLUMN settings BLOB")
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            db.execute("SELECT name, account, partition, region, created, settings FROM buckets LIMIT 1").fetchall()
            db.execute("SELECT bucket, key, blob, size, etag, last_modified, metadata, tags, attrs FROM objects "
                       "LIMIT 1").fetchall()
        except (sqlite3.Error, ValueError) as err:
            db.close()
            raise self._unreadable(str(err) if isinstance(err, ValueError) else f"{type(err).__name__}: {err}") from err
        self._db = db
        try:
            self._sweep()
            if not self._reserve_path.exists():
                self._make_reserve()
        except (OSError, sqlite3.Error) as err:
            self.close()
            raise ObjectStoreError(
                f"cannot prepare the S3 objects in {self.root}: {_cause(err)}; free disk space or fix the "
                f"permissions, then start again"
            ) from err
        return self

    def close(self) -> None:
        """Close the index (the store can be opened again)."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _index(self) -> sqlite3.Connection:
        """The open index; :class:`ObjectStoreError` when the store is not open."""
        if self._db is None:
            raise ObjectStoreError(f"the S3 object index {self.index_path} is not open: open() the store first")
        return self._db

    def _unreadable(self, why: str) -> ObjectStoreError:
        return ObjectStoreError(
            f"cannot restore the S3 objects from {self.index_path}: {why}. Restore it from a backup, or move the "
            f"folder {self.root} away to start with no S3 objects; it has not been changed"
        )

    def _sweep(self) -> None:
        """Remove temporary files of interrupted writes and blobs no row names (a crash before the commit)."""
        named = {row[0] for row in self._index().execute("SELECT DISTINCT blob FROM objects")}
        named |= versions.blobs(self._index())
        for path in self.blobs.glob("*/*"):
            if path.name.endswith(".tmp") or path.name not in named:
                path.unlink(missing_ok=True)
        uploads.sweep(self._index(), self.root)

    # -- reading -----------------------------------------------------------------------------------------------
    def bucket_records(self) -> list[BucketRecord]:
        """Every saved bucket."""
        with self._lock:
            rows = self._index().execute("SELECT name, account, partition, region, created, settings FROM buckets "
                                    "ORDER BY name")
            return [BucketRecord(*row) for row in rows]

    def object_records(self, bucket: str | None = None, key: str | None = None) -> list[tuple[ObjectRecord, str]]:
        """Every saved object (of ``bucket``, or of all buckets; only ``key`` if given) with its blob's name."""
        sql = "SELECT bucket, key, blob, size, etag, last_modified, metadata, tags, attrs FROM objects"
        where = {name: value for name, value in (("bucket", bucket), ("key", key)) if value is not None}
        if where:
            sql += " WHERE " + " AND ".join(f"{name} = ?" for name in where)
        with self._lock:
            rows = self._index().execute(sql, tuple(where.values())).fetchall()
        out = []
        for b, k, blob, size, etag, modified, metadata, tags, attrs in rows:
            record = ObjectRecord(b, k, size, etag, modified, json.loads(metadata), json.loads(tags), json.loads(attrs))
            out.append((record, blob))
        return out

    def body(self, blob: str) -> bytes:
        """The bytes of a blob, checked against its name; :class:`ObjectStoreError` when missing or damaged."""
        path = self._blob_path(blob)
        try:
            data = path.read_bytes()
        except OSError as err:
            raise self._unreadable(f"the object file {path} cannot be read ({err.strerror or err})") from err
        if hashlib.sha256(data).hexdigest() != blob:
            raise self._unreadable(f"the object file {path} does not hold the bytes it was saved with")
        return data

    def load(self) -> int:
        """Put every saved bucket and object back into moto's backend (directly, not through HTTP); returns how
        many objects. No body is read: each key reads its blob when asked (:class:`.diskbody.DiskBody`), so a
        start costs neither the data's time nor its memory. A missing blob is listed in :attr:`damaged` (that
        object then answers an error naming its file; the others serve). Keys moto holds already are replaced by
        their saved state; other keys are left alone."""
        with self._lock:
            try:
                buckets, objects = self.bucket_records(), self.object_records()
            except (sqlite3.Error, ValueError) as err:
                raise self._unreadable(f"{type(err).__name__}: {err}") from err
            backends = {}
            for bucket_record in buckets:
                try:
                    bucket = motos3.restore_bucket(bucket_record)
                    backends[bucket_record.name] = motos3.backend_of(bucket.account_id, bucket.partition)
                except Exception as err:  # a hand-edited row: an account, partition or date moto cannot take
                    raise self._unreadable(
                        f"bucket {bucket_record.name!r} cannot be restored ({type(err).__name__}: {err})") from err
            self.damaged, history = [], versions.saved(self._index())
            current = {(record.bucket, record.key) for record, _ in objects}
            for record, blob in [*objects, *((None, key) for key in history if key not in current)]:
                bucket, key = (record.bucket, record.key) if record is not None else blob
                if bucket not in backends:
                    raise self._unreadable(f"{s3_uri(bucket, key)} is in no saved bucket")
                path = self._blob_path(blob) if record is not None else None
                if path is not None and not path.is_file():
                    self.damaged.append(f"{s3_uri(bucket, key)}: the object file {path} is missing")
                try:
                    older = versions.rebuilt(backends[bucket], key, history.get((bucket, key), []), self._blob_path,
                                             self.damaged)
                    if record is None:  # only older versions: the latest is a delete marker
                        motos3.place(backends[bucket], bucket, key, older)
                    else:
                        motos3.restore(backends[bucket], record, DiskBody(path, record.size, blob), older)
                except Exception as err:  # a hand-edited row moto cannot take (a date that is not one, bad tags)
                    raise self._unreadable(f"{s3_uri(bucket, key)} cannot be restored "
                                           f"({type(err).__name__}: {err})") from err
            uploads.load(self, backends)
            for line in self.damaged:
                log.error("lookout_nb.service: %s (run lookout-nb fsck --state-dir %s)", line, self.state_dir)
            return len(objects)

    # -- writing -----------------------------------------------------------------------------------------------
    def _blob_path(self, blob: str) -> Path:
        return self.blobs / blob[:2] / blob

    def sync(self, buckets=(), keys=(), parts=()) -> None:
        """Write the current moto state of ``buckets`` (``(backend, name)``), ``keys`` (``(backend, bucket,
        key)``, with their older versions) and multipart ``parts`` (``(backend, bucket, upload id, part number or
        None)``, :mod:`.keep.uploads`) to disk: present ones saved, absent ones removed, before returning.

        The bodies are written first, outside the lock (so requests write theirs side by side). The index is then
        committed by group commit: the changes of every request waiting at that moment go into one transaction
        (one fsync for all, not one each), written under the lock from the state moto holds then, so the last
        commit of a key always saves its latest state; each request returns once the transaction holding its
        change is on disk. Raises :class:`PersistError` (naming the cause) when the disk refuses; then the index
        is unchanged and no new file is left behind.
        """
        if self._db is None:
            raise PersistError("the object store is closed")
        written: list[Path] = []
        try:
            ready = {(id(backend), b, k): self._blob_of(motos3.live(backend, b, k), written) for backend, b, k in keys}
            ready.update(uploads.prepare(self, parts, written))
            if self.durable:  # the new files' names, fsynced side by side (not one after the other under the lock)
                for folder in {p.parent for p in written}:
                    fsync_dir(folder)
        except OSError as err:
            self._forget(written)
            raise PersistError(f"could not write to the state directory {self.state_dir}: {_cause(err)}") from err
        job = _Job(list(buckets), list(keys), ready, written)
        job.synced = len(written)
        job.parts = list(parts)
        with self._queue_lock:
            self._pending.append(job)
        with self._lock:  # the first waiter to get it commits every change queued by then (its own included)
            if not job.done:
                with self._queue_lock:
                    batch, self._pending = self._pending, []
                self._commit(batch)
        if job.error is not None:
            raise job.error

    def _commit(self, batch: list) -> None:
        """One transaction for the changes of ``batch`` (under the lock); each job is marked done, or failed.

        A batch that only removes (DeleteObject, DeleteBucket...) and finds the disk full is retried once with the
        space of the reserve file released, so space can always be freed through S3; the reserve is made again
        when space allows."""
        db, dropped = self._db, set[str]()
        try:
            if db is None:
                raise PersistError("the object store is closed")
            try:
                self._transact(db, batch, dropped)
            except (OSError, sqlite3.Error) as err:
                if not (_is_full(err) and not any(job.written for job in batch) and self._release_reserve()):
                    raise
                dropped.clear()
                self._transact(db, batch, dropped)
        except (OSError, sqlite3.Error, ValueError, TypeError, PersistError) as err:
            error = err if isinstance(err, PersistError) else PersistError(
                f"could not write to the state directory {self.state_dir}: {_cause(err)}")
            for job in batch:
                if db is not None:
                    self._forget(job.written)
                job.error, job.done = error, True
            return
        written = [p for job in batch for p in job.written]
        self._unlink_unnamed({b for b in dropped if isinstance(b, str)} | {p.name for p in written
                                                                            if p.parent.parent == self.blobs})
        uploads.unlink_unnamed(self, written, dropped)
        for job in batch:
            job.done = True
        if dropped and not self._reserve_path.exists():
            self._make_reserve()

    def _transact(self, db, batch: list, dropped: set) -> None:
        """Write the batch's rows in one transaction (rolled back when anything fails)."""
        try:
            for job in batch:
                job.rows = [(b, k, *self._current_row(backend, b, k, job.ready.get((id(backend), b, k)), job.written))
                            for backend, b, k in job.keys]
                job.uploads = uploads.rows(self, job.parts, job.ready, job.written)
            if self.durable:  # the new files' names, on disk before the index names them (if not fsynced yet)
                for folder in {p.parent for job in batch for p in job.written[job.synced:]}:
                    fsync_dir(folder)
            db.execute("BEGIN IMMEDIATE")
            for job in batch:
                self._write_rows(db, job, dropped)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        for job in batch:
            self._to_disk(job.keys, job.rows)
            uploads.to_disk(job.uploads)

    @property
    def _reserve_path(self) -> Path:
        return self.root / "reserve"

    def _make_reserve(self) -> None:
        """Keep :data:`RESERVE` bytes of disk for removals on a full disk (nothing happens when it does not fit)."""
        try:
            write_durably(self._reserve_path, bytes(RESERVE), self.durable)
        except OSError:
            log.warning("lookout_nb.service: no room for the reserve file %s (removals on a full disk may fail)",
                        self._reserve_path)

    def _release_reserve(self) -> bool:
        try:
            self._reserve_path.unlink()
        except OSError:
            return False
        log.warning("lookout_nb.service: the disk of %s is full: its reserve is used to free space", self.root)
        return True

    @staticmethod
    def _write_rows(db, job, dropped: set) -> None:
        """The statements of one job's change (inside the group's transaction); the blobs it unnames go to
        ``dropped``."""
        bucket_rows = [(name, motos3.bucket_snapshot(backend, name)) for backend, name in job.buckets]
        holders = {(id(backend), b): (backend, b) for backend, b, _ in job.keys}  # created before, elsewhere
        for held in filter(None, (motos3.bucket_snapshot(backend, b) for backend, b in holders.values())):
            db.execute("INSERT OR IGNORE INTO buckets VALUES (?, ?, ?, ?, ?, ?)", _bucket_row(held))
        for name, record in bucket_rows:
            if record is None:
                dropped.update(r[0] for r in db.execute("SELECT blob FROM objects WHERE bucket = ?", (name,)))
                db.execute("DELETE FROM objects WHERE bucket = ?", (name,))
                db.execute("DELETE FROM buckets WHERE name = ?", (name,))
                versions.drop_bucket(db, name, dropped)
                uploads.drop_bucket(db, name, dropped)
            else:
                db.execute("INSERT OR REPLACE INTO buckets VALUES (?, ?, ?, ?, ?, ?)", _bucket_row(record))
        for bucket, key, record, blob, history in job.rows:
            versions.write(db, bucket, key, history, dropped)
            old = db.execute("SELECT blob FROM objects WHERE bucket = ? AND key = ?", (bucket, key)).fetchone()
            if old and old[0] != blob:
                dropped.add(old[0])
            if record is None:
                db.execute("DELETE FROM objects WHERE bucket = ? AND key = ?", (bucket, key))
            else:
                db.execute(
                    "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (bucket, key, blob, record.size, record.etag, record.last_modified,
                     json.dumps(record.metadata), json.dumps(record.tags), json.dumps(record.attrs)),
                )
        uploads.write(db, job.uploads, dropped)

    def _blob_of(self, key, written: list):
        """``(key, blob name)`` with the key's body on disk, or None for no key (or one replaced meanwhile)."""
        if key is None:
            return None
        disk = motos3.disk_body(key)
        if disk is not None and disk.sha256 and disk.path == self._blob_path(disk.sha256):
            return key, disk.sha256  # already one of this store's blobs (a change of its tags, ACL, ...)
        if disk is not None and disk.sha256 and disk.owned and self._link(disk.path, disk.sha256, written):
            return key, disk.sha256  # an upload received in a file of this store (:mod:`.putbody`): linked, not copied
        tmp = self.incoming
        spooled: Path | None
        try:
            blob, spooled = spool(motos3.body_pieces(key), tmp, self.durable)
        except ValueError:  # replaced and disposed of by a later write: the commit reads the new one
            return None
        path = self._blob_path(blob)
        try:
            if path.exists():
                return key, blob
            if not path.parent.is_dir():
                path.parent.mkdir(parents=True, exist_ok=True)
                if self.durable:
                    fsync_dir(path.parent.parent)
            os.replace(spooled, path)
            spooled = None
            written.append(path)  # its folder is fsynced by the group commit, before the index names it
        finally:
            if spooled is not None:
                spooled.unlink(missing_ok=True)
        return key, blob

    def _link(self, source: Path, blob: str, written: list) -> bool:
        """Give the file ``source`` (``blob`` is its SHA-256, its data fsynced when durable) the blob's name by a hard
        link; False when it cannot be linked (another file system): then the body is copied."""
        path = self._blob_path(blob)
        if path.exists():
            return True
        try:
            if not path.parent.is_dir():
                path.parent.mkdir(parents=True, exist_ok=True)
                if self.durable:
                    fsync_dir(path.parent.parent)
            if not link(source, path):
                return False
        except FileExistsError:
            return True
        except OSError:
            return False
        written.append(path)  # its folder is fsynced by the group commit, before the index names it
        return True

    @property
    def incoming(self) -> Path:
        """The folder where uploads are received before they are named (on the blobs' file system)."""
        return self.blobs / "tmp"

    def _current_row(self, backend, bucket: str, key: str, ready, written: list):
        """``(ObjectRecord or None, blob name or None, older versions' rows)`` of what moto holds now (under the
        lock, from one reading of the key's versions), reusing the blob written for the same object outside the
        lock when it is still there."""
        for _ in range(10):
            live, older = versions.snapshot(backend, bucket, key)
            history = versions.rows(self, backend, bucket, older, written)
            if history is None:
                continue
            if live is None:
                return None, None, history
            if ready is None or ready[0] is not live or not self._blob_path(ready[1]).exists():
                ready = self._blob_of(live, written)
                if ready is None or ready[0] is not live:
                    continue
            return motos3.describe(backend, bucket, live), ready[1], history
        raise ValueError(f"{s3_uri(bucket, key)} kept changing while it was being saved")

    def _to_disk(self, keys, rows) -> None:
        """After the commit: the saved keys and their older versions read their bytes from their blob, their memory
        freed."""
        for (backend, bucket, key), (_, _, record, blob, history) in zip(keys, rows):
            versions.to_disk(self, history)
            if record is None:
                continue
            live, path = motos3.live(backend, bucket, key), self._blob_path(blob)
            disk = motos3.disk_body(live) if live is not None else None
            if live is not None and (disk is None or disk.path != path):  # moto's buffer, or a spooled upload
                motos3.to_disk(live, DiskBody(path, record.size, blob))

    def _forget(self, written: list) -> None:
        """Remove blobs this sync wrote that no row names (another sync may have committed one meanwhile)."""
        with self._lock:
            if self._db is not None:
                self._unlink_unnamed({p.name for p in written if p.parent.parent == self.blobs})
                uploads.unlink_unnamed(self, written, ())

    def _unlink_unnamed(self, blobs) -> None:
        """Remove the blobs no row names any more (one left behind by an error is swept at the next open)."""
        for blob in blobs:
            if (self._index().execute("SELECT 1 FROM objects WHERE blob = ? LIMIT 1", (blob,)).fetchone() is None
                    and not versions.names(self._index(), blob)):
                try:
                    self._blob_path(blob).unlink(missing_ok=True)
                except OSError:
                    log.warning("lookout_nb.service: could not remove the unused object file %s", self._blob_path(blob))

    def restore_key(self, backend, bucket: str, key: str) -> None:
        """Give moto back the saved state of one key (after a change that could not be saved)."""
        with self._lock:
            row = self.object_records(bucket, key)
            older = versions.rebuilt(backend, key, versions.saved(self._index(), bucket, key).get((bucket, key), []),
                                     self._blob_path, [])
            if row:
                motos3.restore(backend, row[0][0], self.body(row[0][1]), older)
            elif older:
                motos3.place(backend, bucket, key, older)
            else:
                motos3.remove(backend, bucket, key)

    def restore_bucket(self, backend, name: str) -> None:
        """Give moto back the saved state of one bucket (after a create or delete that could not be saved)."""
        with self._lock:
            saved = [r for r in self.bucket_records() if r.name == name]
            if saved:
                motos3.restore_bucket(saved[0])
            else:
                motos3.remove_bucket(backend, name)


#: Bytes kept in ``objects/reserve`` so that a removal can be committed on a full disk.
RESERVE = 256 * 1024


def _is_full(err: BaseException) -> bool:
    """True for a disk-full error (ENOSPC, or SQLite's "database or disk is full")."""
    return getattr(err, "errno", None) == 28 or "full" in str(err).lower()


class _Job:
    """One sync's change waiting for a group commit: ``done`` once committed, ``error`` (a PersistError) if not."""

    def __init__(self, buckets, keys, ready, written):
        self.buckets, self.keys, self.ready, self.written = buckets, keys, ready, written
        self.rows: list = []
        self.synced = 0  # how many of ``written`` have their folder fsynced already
        self.parts: list = []  # (backend, bucket, upload id, part number or None), see .uploads
        self.uploads: list = []
        self.done = False
        self.error: PersistError | None = None


@functools.lru_cache(maxsize=1)
def spill_store() -> ObjectStore:
    """The store of every memory-only endpoint of this process (moto's backend is process-wide too): bodies in a
    temporary folder, not in memory, without fsync; removed when the process ends."""
    folder = tempfile.mkdtemp(prefix="lookout-nb-s3-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return ObjectStore(folder, durable=False).open()


def _bucket_row(record: BucketRecord) -> tuple:
    return (record.name, record.account, record.partition, record.region, record.created, record.settings)


def _cause(err: Exception) -> str:
    if isinstance(err, OSError) and err.strerror:
        return f"{err.strerror} (errno {err.errno})" + (f": {err.filename}" if err.filename else "")
    return f"{type(err).__name__}: {err}"
