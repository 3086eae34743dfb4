"""Files of a ``state_dir`` besides the database: the directory itself, the state.json of earlier releases
(read once to migrate it into ``state.db``, see :mod:`.restore`), the S3 object copies, and the
timestamp encoding every saved document uses (``{"$ts": "2026-01-05T09:00:00+00:00"}``).

- ``s3/<bucket>/<percent-encoded key>`` holds a copy of every object of every bucket the endpoint serves, with
  ``s3-manifest.json`` (bucket -> key -> ETag). The copy is taken when the endpoint stops (or on
  ``endpoint.save()``); objects whose ETag did not change are not copied again. At start the buckets are
  recreated and the objects that are missing are uploaded again, through the S3 API.

>>> decode(encode({"at": pd.Timestamp("2026-01-05T09:00Z")}))
{'at': Timestamp('2026-01-05 09:00:00+0000', tz='UTC')}
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import urllib.parse
from pathlib import Path

import pandas as pd

from ..errors import LookoutNbError
from .s3util import ensure_bucket, list_keys

VERSION = 1
#: Fields earlier builds of this version saved and that are no longer kept (dropped when reading).
RETIRED = {"scheduler": {"active_from"}, "execution": {"rows"}}


class StateError(LookoutNbError):
    """The saved state cannot be read; the message names the file and says what to do."""


def _unreadable(path: Path, why: str) -> StateError:
    return StateError(
        f"cannot restore the endpoint state from {path}: {why}. Fix the file, or move it (or the whole state "
        f"directory) away to start with an empty state; it has not been changed"
    )


def _version_problem(data) -> str | None:
    if isinstance(data, dict) and data.get("version") == VERSION:
        return None
    found = data.get("version") if isinstance(data, dict) else f"a JSON {type(data).__name__}"
    return f"it is not a saved state of version {VERSION} (found {found!r})"


def encode(value):
    if isinstance(value, pd.Timestamp):
        return {"$ts": value.isoformat()}
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return value


def decode(value):
    if isinstance(value, dict):
        if set(value) == {"$ts"}:
            return pd.Timestamp(value["$ts"])
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def prepare(state_dir) -> Path:
    """Create ``state_dir`` if needed; :class:`StateError` naming it when it cannot be created or written."""
    path = Path(state_dir).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
        if not os.access(path, os.W_OK | os.X_OK):
            raise PermissionError("not writable")
    except OSError as err:
        why = err.strerror or str(err)
        raise StateError(f"cannot use {path} as the state directory: {why}; choose a directory you can write") from err
    return path


def _write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh)
    os.replace(tmp, path)


def read_v1(state_dir):
    """``(path, data)`` of the ``state.json`` of version 1 in ``state_dir`` (data None when there is none);
    :class:`StateError` naming the file when it cannot be read."""
    path = Path(state_dir) / "state.json"
    if not path.exists():
        return path, None
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as err:
        raise _unreadable(path, f"{type(err).__name__}: {str(err)[:200]}") from None
    problem = _version_problem(data)
    if problem:
        raise _unreadable(path, problem)
    return path, data


def _object_path(root: Path, bucket: str, key: str) -> Path:
    """The file of a saved object: one flat, percent-encoded name per key under the bucket's folder.

    ``in/`` and ``in/a.csv`` (or ``a`` and ``a/b``) are both files, and no key can name a path outside the folder.
    Names too long for a file system end with a hash of the key instead.

    >>> _object_path(Path("s3"), "b", "in/a b.csv").as_posix()
    's3/b/in%2Fa%20b.csv'
    """
    name = urllib.parse.quote(key, safe="")
    if name in (".", ".."):
        name = name.replace(".", "%2E")
    elif len(name) > 200:
        name = f"{name[:150]}~{hashlib.sha256(key.encode()).hexdigest()}"
    return root / bucket / name


def _manifest(path: Path) -> dict:
    """``s3-manifest.json`` (bucket -> key -> ETag; empty when there is none); StateError when unreadable."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise _unreadable(path, f"{type(err).__name__}: {err}") from err
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise _unreadable(path, "it is not a JSON object of bucket -> key -> ETag")
    return data


def save_objects(s3, state_dir) -> int:
    """Copy every object of every bucket into ``state_dir/s3``; returns how many were (re)copied."""
    root = Path(state_dir) / "s3"
    manifest_path = Path(state_dir) / "s3-manifest.json"
    old = _manifest(manifest_path)
    new, copied = {}, 0
    for bucket in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
        new[bucket] = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                key, etag = obj["Key"], obj.get("ETag", "")
                path = _object_path(root, bucket, key)
                new[bucket][key] = etag
                if old.get(bucket, {}).get(key) == etag and path.exists():
                    continue
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
                copied += 1
        for key in set(old.get(bucket, {})) - set(new[bucket]):
            _object_path(root, bucket, key).unlink(missing_ok=True)
    _write_json(manifest_path, new)
    return copied


def load_objects(s3, state_dir) -> int:
    """Recreate the saved buckets and upload the saved objects that are missing; returns how many."""
    root = Path(state_dir) / "s3"
    uploaded = 0
    for bucket, objects in _manifest(Path(state_dir) / "s3-manifest.json").items():
        ensure_bucket(s3, bucket)
        present = list_keys(s3, bucket)
        for key in objects:
            path = _object_path(root, bucket, key)
            if key not in present and path.exists():
                s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
                uploaded += 1
    return uploaded
