"""In-progress multipart uploads kept on disk: an acknowledged UploadPart survives a restart and a kill -9.

moto holds an upload (CreateMultipartUpload) as a FakeMultipart in its bucket and each part as a FakeKey. The object
index keeps each upload in ``uploads`` (bucket, upload id, key, when it was initiated on the service clock, and
moto's state of it: metadata with the checksum algorithm and type, storage class, tags, ACL, encryption) and each
part in ``parts`` (number, size, ETag, LastModified, its file). A part's body is written, outside the index's lock,
to ``objects/uploads/<folder>/<number>-<sha256>`` (fsynced, renamed into place, the folder fsynced; a body received
into a file of the store by :mod:`..putbody` is hard-linked there, not copied) before the index names it, in the
same group commit as the other changes; the part then reads its bytes from there (:class:`..diskbody.DiskBody`), so
parts cost no memory whatever their number. A part uploaded again replaces its file; AbortMultipartUpload and
CompleteMultipartUpload remove the upload's rows and folder once committed. After a restart the client lists the
parts (same ETags, sizes, LastModified), uploads more and completes with the same UploadId. A crash leaves at worst
files no row names: :func:`sweep` removes them at the next open.

>>> folder("lookout-demo", "2~abc")
'ba1027e7d95c4e65c1ed256cc5ba318d'
"""

from __future__ import annotations

import datetime
import hashlib
import html
import os
import re
import shutil
import urllib.parse
from pathlib import Path

from .. import s3clock
from ..diskbody import DiskBody, fsync_dir, link, spool
from ..moto import motos3, multipart

SCHEMA = """
CREATE TABLE IF NOT EXISTS uploads (
    bucket TEXT NOT NULL, upload_id TEXT NOT NULL, key TEXT NOT NULL, initiated TEXT NOT NULL, state BLOB NOT NULL,
    PRIMARY KEY (bucket, upload_id)
);
CREATE TABLE IF NOT EXISTS parts (
    bucket TEXT NOT NULL, upload_id TEXT NOT NULL, number INTEGER NOT NULL, file TEXT NOT NULL, size INTEGER NOT NULL,
    etag TEXT NOT NULL, last_modified TEXT NOT NULL, PRIMARY KEY (bucket, upload_id, number)
);
CREATE INDEX IF NOT EXISTS parts_by_file ON parts (file);
"""


def folder(bucket: str, upload_id: str) -> str:
    """The folder name of an upload's parts (a hash: upload ids and bucket names need not be safe file names)."""
    return hashlib.sha256(f"{bucket}\0{upload_id}".encode()).hexdigest()[:32]


def _root(store) -> Path:
    return store.root / "uploads"


def prepare(store, parts, written: list) -> dict:
    """Write the body of every noted part (``(backend, bucket, upload id, number or None)``) to its file, outside
    the lock; ``{(id(backend), bucket, upload id, number): (part, file)}`` for :func:`rows`."""
    ready = {}
    for backend, bucket, upload_id, number in parts:
        part = multipart.upload_of(backend, bucket, upload_id, number) if number is not None else None
        if part is not None:
            ready[(id(backend), bucket, upload_id, number)] = _part_file(store, bucket, upload_id, number, part,
                                                                         written)
    return ready


def _part_file(store, bucket: str, upload_id: str, number: int, part, written: list):
    """``(part, file)`` with the part's body in its file (written now unless it is there already), or None when
    the part was replaced and disposed of meanwhile."""
    home = _root(store) / folder(bucket, upload_id)
    disk = motos3.disk_body(part)
    if disk is not None and disk.path.parent == home and disk.sha256 and disk.path.is_file():
        return part, disk.path
    if not home.is_dir():
        home.mkdir(parents=True, exist_ok=True)
        if store.durable:
            fsync_dir(home.parent)
            fsync_dir(home.parent.parent)
    if disk is not None and disk.sha256 and disk.owned:  # received in a file of this store (putbody): linked
        path = home / f"{number}-{disk.sha256}"
        try:
            linked = link(disk.path, path)
        except FileExistsError:
            linked = True  # the same bytes uploaded again as this part
        if linked:
            written.append(path)  # its folder is fsynced by the group commit, before the index names it
            return part, path
    try:
        sha, spooled = spool(motos3.body_pieces(part), home, store.durable)
    except ValueError:  # disposed of: a later UploadPart of the same number replaced it
        return None
    path = home / f"{number}-{sha}"
    os.replace(spooled, path)
    written.append(path)  # its folder is fsynced by the group commit, before the index names it
    return part, path


def rows(store, parts, ready: dict, written: list) -> list:
    """Under the lock: ``(bucket, upload id, (key, state) or None when the upload is gone, part or None)`` for
    every noted change, from what moto holds now; a part is ``(number, FakeKey, file, size, ETag, LastModified)``."""
    out: list = []
    for backend, bucket, upload_id, number in parts:
        upload = multipart.upload_of(backend, bucket, upload_id)
        if upload is None:
            out.append((bucket, upload_id, None, None))
            continue
        part = multipart.upload_of(backend, bucket, upload_id, number) if number is not None else None
        made = ready.get((id(backend), bucket, upload_id, number))
        if part is not None and (made is None or made[0] is not part or not made[1].is_file()):
            made = _part_file(store, bucket, upload_id, number, part, written)
        row = None
        if part is not None and made is not None and made[0] is part:
            row = (number, part, made[1], *multipart.part_state(part))
        out.append((bucket, upload_id, multipart.upload_state(upload), row))
    return out


def write(db, changes: list, dropped: set) -> None:
    """The statements of :func:`rows` (inside the caller's transaction); files and folders no longer named go to
    ``dropped`` (as paths)."""
    now = s3clock.moto_now().isoformat()
    for bucket, upload_id, upload, part in changes:
        where = (bucket, upload_id)
        if upload is None:
            db.execute("DELETE FROM parts WHERE bucket = ? AND upload_id = ?", where)
            if db.execute("SELECT 1 FROM uploads WHERE bucket = ? AND upload_id = ?", where).fetchone():
                db.execute("DELETE FROM uploads WHERE bucket = ? AND upload_id = ?", where)
                dropped.add(Path("uploads") / folder(bucket, upload_id))
            continue
        db.execute("INSERT INTO uploads VALUES (?, ?, ?, ?, ?) ON CONFLICT (bucket, upload_id) DO UPDATE SET "
                   "key = excluded.key, state = excluded.state", (bucket, upload_id, upload[0], now, upload[1]))
        if part is None:
            continue
        number, _, path, size, etag, modified = part
        name = f"{path.parent.name}/{path.name}"
        old = db.execute("SELECT file FROM parts WHERE bucket = ? AND upload_id = ? AND number = ?",
                         (*where, number)).fetchone()
        if old and old[0] != name:
            dropped.add(Path("uploads") / old[0])
        db.execute("INSERT OR REPLACE INTO parts VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (*where, number, name, size, etag, modified))


def drop_bucket(db, bucket: str, dropped: set) -> None:
    """Forget every upload of a deleted bucket (their folders go to ``dropped``)."""
    for (upload_id,) in db.execute("SELECT upload_id FROM uploads WHERE bucket = ?", (bucket,)).fetchall():
        dropped.add(Path("uploads") / folder(bucket, upload_id))
    db.execute("DELETE FROM uploads WHERE bucket = ?", (bucket,))  # no RETURNING: SQLite before 3.35 lacks it
    db.execute("DELETE FROM parts WHERE bucket = ?", (bucket,))


def to_disk(changes: list) -> None:
    """After the commit: every saved part reads its bytes from its file (its buffer freed)."""
    for _, _, _, part in changes:
        if part is not None:
            _, key, path, size, *_ = part
            disk = motos3.disk_body(key)
            if disk is None or disk.path != path:
                motos3.to_disk(key, DiskBody(path, size, path.name.split("-", 1)[1]))


def unlink_unnamed(store, files, dropped) -> None:
    """Remove the part files and upload folders (among ``files`` written and paths ``dropped``) no row names."""
    db, root = store._index(), _root(store)
    for path in [*(p for p in files if p.parent.parent == root), *(store.root / p for p in dropped
                                                                       if isinstance(p, Path))]:
        relative = path.relative_to(root).as_posix()
        if "/" not in relative:  # an upload's folder: gone with its upload
            if not any(folder(b, u) == relative for b, u in db.execute("SELECT bucket, upload_id FROM uploads")):
                shutil.rmtree(path, ignore_errors=True)
        elif db.execute("SELECT 1 FROM parts WHERE file = ? LIMIT 1", (relative,)).fetchone() is None:
            path.unlink(missing_ok=True)


def sweep(db, root: Path) -> None:
    """At open: remove the folders of uploads the index does not hold and the files no part row names."""
    home = root / "uploads"
    if not home.is_dir():
        return
    folders = {folder(b, u) for b, u in db.execute("SELECT bucket, upload_id FROM uploads")}
    named = {row[0] for row in db.execute("SELECT file FROM parts")}
    for entry in home.iterdir():
        if entry.name not in folders:
            shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
            continue
        for path in entry.iterdir():
            if f"{entry.name}/{path.name}" not in named:
                path.unlink(missing_ok=True)


def load(store, backends: dict) -> int:
    """Put every saved upload back into moto (its parts reading their files when asked); returns how many. A missing
    part file is listed in ``store.damaged``."""
    db, root = store._index(), _root(store)
    saved = db.execute("SELECT bucket, upload_id, key, state FROM uploads ORDER BY rowid").fetchall()
    for bucket, upload_id, key, state in saved:
        if bucket not in backends:
            raise store._unreadable(f"the upload {upload_id} of s3://{bucket}/{key} is in no saved bucket")
        parts = []
        for number, name, size, etag, modified in db.execute(
                "SELECT number, file, size, etag, last_modified FROM parts WHERE bucket = ? AND upload_id = ? "
                "ORDER BY number", (bucket, upload_id)):
            path = root / name
            if not path.is_file():
                store.damaged.append(f"s3://{bucket}/{key} upload {upload_id} part {number}: the file {path} is "
                                     "missing")
            parts.append((number, size, etag, modified, DiskBody(path, size, name.rsplit("-", 1)[1])))
        try:
            multipart.restore_upload(backends[bucket], bucket, state, parts)
        except Exception as err:  # a hand-edited row moto cannot take
            raise store._unreadable(f"the upload {upload_id} of s3://{bucket}/{key} cannot be restored "
                                    f"({type(err).__name__}: {err})") from err
    return len(saved)


def give_back(store, backend, bucket: str, upload_id: str) -> None:
    """After a change that could not be saved: moto gets the saved state of the upload back (or loses it)."""
    with store._lock:
        if multipart.upload_of(backend, bucket, upload_id) is not None:
            backend.abort_multipart_upload(bucket, upload_id)
        db, root = store._index(), _root(store)
        row = db.execute("SELECT state FROM uploads WHERE bucket = ? AND upload_id = ?", (bucket, upload_id)).fetchone()
        if row is not None:
            parts = [(n, size, etag, modified, DiskBody(root / name, size, name.rsplit("-", 1)[1]))
                     for n, name, size, etag, modified in db.execute(
                         "SELECT number, file, size, etag, last_modified FROM parts WHERE bucket = ? AND upload_id = ?"
                         " ORDER BY number", (bucket, upload_id))]
            multipart.restore_upload(backend, bucket, row[0], parts)


# -- ListMultipartUploads: each upload's Initiated, on the service clock ----------------------------------------
_UPLOAD = re.compile(rb"<Upload><UploadId>([^<]*)</UploadId>((?:(?!</Upload>).)*?)<Initiated>[^<]*</Initiated>", re.S)


def is_listing(environ) -> bool:
    """True for ListMultipartUploads (``GET /bucket?uploads``)."""
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    return environ.get("REQUEST_METHOD") == "GET" and "uploads" in query


def stamped_listing(app, environ, start_response, store):
    """moto's answer to ListMultipartUploads with each saved upload's Initiated time (the service time of its
    CreateMultipartUpload; moto answers a fixed date of 2010)."""
    answer: list = []
    result = app(environ, lambda status, headers, exc_info=None: answer.extend([status, headers]))
    try:
        body = b"".join(result)
    finally:
        getattr(result, "close", lambda: None)()
    found = re.search(rb"<Bucket>([^<]*)</Bucket>", body)
    if answer[0].startswith("200") and found:
        with store._lock:
            times = dict(store._index().execute("SELECT upload_id, initiated FROM uploads WHERE bucket = ?",
                                                (html.unescape(found.group(1).decode()),)))

        def initiated(match):
            when = times.get(html.unescape(match.group(1).decode()))
            if when is None:
                return match.group(0)
            at = datetime.datetime.fromisoformat(when)
            stamp = f"{at:%Y-%m-%dT%H:%M:%S}.{at.microsecond // 1000:03d}Z".encode()
            return b"<Upload><UploadId>" + match.group(1) + b"</UploadId>" + match.group(2) + \
                b"<Initiated>" + stamp + b"</Initiated>"

        body = _UPLOAD.sub(initiated, body)
    headers = [(k, v) for k, v in answer[1] if k.lower() != "content-length"] + [("Content-Length", str(len(body)))]
    start_response(answer[0], headers)
    return [body]
