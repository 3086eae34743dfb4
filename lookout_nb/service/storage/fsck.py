"""``lookout-nb fsck --state-dir DIR``: every saved S3 object (older versions and parts of uploads in progress
included) whose file is missing or damaged, one line each.

Reads the object index read-only and each object's file (its size and SHA-256, the file's name); changes nothing,
so it may run while an endpoint serves the directory. A damaged object answers an error naming its file and the
others serve; to clear it, put the object again (or delete it) through S3.

>>> report(check("/nonexistent/state"), "/nonexistent/state")
'no object index in /nonexistent/state/objects (nothing to check)'
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from ...contract.s3keys import s3_uri
from .diskbody import CHUNK


def check(state_dir) -> list[str] | None:
    """The problems found (``[]``: every object file is whole), or None when ``state_dir`` holds no index."""
    root = Path(state_dir) / "objects"
    index = root / "index.sqlite"
    if not index.is_file():
        return None
    db = sqlite3.connect(f"{index.as_uri()}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT bucket, key, blob, size FROM objects ORDER BY bucket, key").fetchall()
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "versions" in tables:  # older versions (index version 3)
            rows += db.execute("SELECT bucket, key || ' version ' || version_id, blob, size FROM versions "
                               "WHERE blob IS NOT NULL ORDER BY bucket, key, position").fetchall()
        parts = db.execute("SELECT p.bucket, u.key || ' upload ' || p.upload_id || ' part ' || p.number, p.file, "
                           "p.size FROM parts p JOIN uploads u USING (bucket, upload_id) ORDER BY 1, 2"
                           ).fetchall() if "parts" in tables else []
    finally:
        db.close()
    problems = []
    for bucket, key, blob, size in rows:
        why = _damage(root / "blobs" / blob[:2] / blob, blob, size)
        if why:
            problems.append(f"{s3_uri(bucket, key)}: {why}")
    for bucket, part, name, size in parts:
        why = _damage(root / "uploads" / name, name.rsplit("-", 1)[1], size)
        if why:
            problems.append(f"{s3_uri(bucket, part)}: {why}")
    return problems


def _damage(path: Path, blob: str, size: int) -> str | None:
    digest, done = hashlib.sha256(), 0
    try:
        with open(path, "rb") as f:
            while piece := f.read(CHUNK):
                digest.update(piece)
                done += len(piece)
    except FileNotFoundError:
        return f"the object file {path} is missing"
    except OSError as err:
        return f"the object file {path} cannot be read ({err.strerror or err})"
    if done != size:
        return f"the object file {path} holds {done} bytes, not the {size} it was saved with"
    if digest.hexdigest() != blob:
        return f"the object file {path} does not hold the bytes it was saved with"
    return None


def report(problems: list[str] | None, state_dir) -> str:
    """What ``lookout-nb fsck`` prints."""
    if problems is None:
        return f"no object index in {Path(state_dir) / 'objects'} (nothing to check)"
    if not problems:
        return "every saved S3 object file is whole"
    return "\n".join([f"{len(problems)} damaged S3 object(s): each answers an error; put or delete it again through "
                      "S3 to clear it", *problems])
