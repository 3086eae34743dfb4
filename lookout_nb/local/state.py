"""Persistence of the embedded endpoint in a ``state_dir``: models, schedulers, executions, and S3 objects.

- ``state.json`` holds the models, the schedulers of every region (with their executions, tags and client
  tokens) and, for a manual clock, the clock's time. It is rewritten (atomically) shortly after every change and
  when the endpoint stops.
- ``s3/<bucket>/<percent-encoded key>`` holds a copy of every object of every bucket the endpoint serves, with
  ``s3-manifest.json`` (bucket -> key -> ETag). The copy is taken when the endpoint stops (or on
  ``endpoint.save()``); objects whose ETag did not change are not copied again. At start the buckets are
  recreated and the objects that are missing are uploaded again, through the S3 API. S3 changes made after the
  last stop or save are lost if the process dies without stopping the endpoint.

>>> save_state(backend, clock, "/tmp/lookout-state")   # doctest: +SKIP
>>> load_state(backend, clock, "/tmp/lookout-state")   # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import urllib.parse
from pathlib import Path

import pandas as pd

from ..errors import LookoutNbError
from ..request import parse_duration
from .backend import Backend, first_boundary_after
from .records import Execution, Model, Scheduler
from .s3util import ensure_bucket, list_keys

VERSION = 1
#: Fields earlier builds of this version saved and that are no longer kept (dropped when reading).
_RETIRED = {"scheduler": {"active_from"}, "execution": {"rows"}}


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


def _encode(value):
    if isinstance(value, pd.Timestamp):
        return {"$ts": value.isoformat()}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _decode(value):
    if isinstance(value, dict):
        if set(value) == {"$ts"}:
            return pd.Timestamp(value["$ts"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _fields(record) -> dict:
    return {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}


def snapshot(backend: Backend, clock) -> dict:
    """Everything the backend knows, as JSON-ready data."""
    with backend.lock:
        schedulers = {
            region: [
                {**_fields(s), "executions": [_fields(e) for e in s.executions]} for s in by_name.values()
            ]
            for region, by_name in backend.schedulers.items()
        }
        data = {
            "version": VERSION,
            "clock": clock.now() if clock.kind == "manual" else None,
            "models": [_fields(m) for m in backend.models.values()],
            "model_tags": backend.model_tags,
            "schedulers": schedulers,
            "tokens": backend.tokens,
        }
        return json.loads(json.dumps(_encode(data)))  # a deep copy, safe to write outside the lock


def restore(backend: Backend, data: dict, now: pd.Timestamp) -> None:
    """Put a :func:`snapshot` back; runs missed while the endpoint was down are skipped, not made up.

    Raises ValueError when ``data`` is not a snapshot of this :data:`VERSION`.
    """
    problem = _version_problem(data)
    if problem:
        raise ValueError(problem)
    data = _decode(data)
    with backend.lock:
        for m in data.get("models", []):
            backend.models[m["name"]] = Model(**m)
        backend.model_tags.update(data.get("model_tags", {}))
        for region, items in data.get("schedulers", {}).items():
            for item in items:
                executions = [Execution(**_current(e, "execution")) for e in item["executions"]]
                s = Scheduler(**{**_current(item, "scheduler"), "executions": executions})
                if s.runs and s.next_boundary is not None:
                    delay = pd.Timedelta(minutes=s.delay_minutes)
                    if s.next_boundary + delay < now:
                        s.next_boundary = first_boundary_after(now - delay, parse_duration(s.frequency))
                for ex in s.executions:  # a run interrupted by the stop did not finish
                    if ex.status == "IN_PROGRESS":
                        ex.status, ex.failed_reason = "FAILED", "The endpoint stopped while this run was in progress"
                backend._schedulers(region)[s.name] = s
        for region, tokens in data.get("tokens", {}).items():
            backend.tokens.setdefault(region, {}).update(tokens)


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


def _current(fields: dict, kind: str) -> dict:
    return {k: v for k, v in fields.items() if k not in _RETIRED[kind]}


def _write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh)
    os.replace(tmp, path)


def save_state(backend: Backend, clock, state_dir) -> None:
    """Write ``state.json`` (models, schedulers, executions, manual clock time)."""
    backend.changed.clear()
    _write_json(Path(state_dir) / "state.json", snapshot(backend, clock))


def _read(state_dir):
    """The data of ``state_dir/state.json`` (None when there is none); :class:`StateError` when unreadable."""
    path = Path(state_dir) / "state.json"
    if not path.exists():
        return path, None
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise _unreadable(path, f"{type(err).__name__}: {err}") from err
    problem = _version_problem(data)
    if problem:
        raise _unreadable(path, problem)
    return path, data


def load_state(backend: Backend, state_dir, now: pd.Timestamp) -> bool:
    """Read ``state.json`` into the backend if there is one; returns whether there was.

    Raises :class:`StateError` (naming the file) when it cannot be read or restored.
    """
    path, data = _read(state_dir)
    if data is None:
        return False
    try:
        restore(backend, data, now)
    except (TypeError, ValueError, KeyError, AttributeError) as err:
        raise _unreadable(path, f"{type(err).__name__}: {err}") from err
    return True


def saved_clock(state_dir):
    """The manual clock time saved in ``state_dir`` (None when there is none); :class:`StateError` if unreadable."""
    path, data = _read(state_dir)
    value = data.get("clock") if data else None
    if not value:
        return None
    try:
        return pd.Timestamp(value["$ts"])
    except (TypeError, ValueError, KeyError) as err:
        raise _unreadable(path, f"its clock {value!r} is not a time") from err


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
