"""Files of a ``state_dir`` besides the databases: the directory itself, the state.json of earlier releases
(read once to migrate it into ``state.db``, see :mod:`.restore`), and the timestamp encoding every saved
document uses (``{"$ts": "2026-01-05T09:00:00+00:00"}``). S3 objects are kept by :mod:`.objects` under
``objects/``, written through before each S3 response.

>>> decode(encode({"at": pd.Timestamp("2026-01-05T09:00Z")}))
{'at': Timestamp('2026-01-05 09:00:00+0000', tz='UTC')}
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from ...errors import LookoutNbError

VERSION = 1
#: Fields earlier builds of this version saved and that are no longer kept (dropped when reading).
RETIRED = {"scheduler": {"active_from"}, "execution": {"rows"}}


class StateError(LookoutNbError):
    """The saved state cannot be read; the message names the file and says what to do."""


def unreadable(path: Path, why: str) -> StateError:
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


def read_v1(state_dir):
    """``(path, data)`` of the ``state.json`` of version 1 in ``state_dir`` (data None when there is none);
    :class:`StateError` naming the file when it cannot be read."""
    path = Path(state_dir) / "state.json"
    if not path.exists():
        return path, None
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as err:
        raise unreadable(path, f"{type(err).__name__}: {str(err)[:200]}") from None
    problem = _version_problem(data)
    if problem:
        raise unreadable(path, problem)
    return path, data
