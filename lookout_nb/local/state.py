"""Persistence of the embedded endpoint in a ``state_dir``: models, schedulers and executions.

- ``state.json`` holds the models, the schedulers of every region (with their executions, tags and client
  tokens) and, for a manual clock, the clock's time. It is rewritten (atomically) shortly after every change and
  when the endpoint stops.
- S3 objects are kept by :mod:`.objects` under ``objects/``, written through before each S3 response.

>>> save_state(backend, clock, "/tmp/lookout-state")   # doctest: +SKIP
>>> load_state(backend, clock, "/tmp/lookout-state")   # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path

import pandas as pd

from ..errors import LookoutNbError
from ..request import parse_duration
from .backend import Backend, first_boundary_after
from .records import Execution, Model, Scheduler

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
