"""Files of a ``state_dir`` besides the databases: the directory itself, and the timestamp encoding every saved
document uses (``{"$ts": "2026-01-05T09:00:00+00:00"}``). S3 objects are kept by :mod:`.objects` under
``objects/``, written through before each S3 response.

>>> decode(encode({"at": pd.Timestamp("2026-01-05T09:00Z")}))
{'at': Timestamp('2026-01-05 09:00:00+0000', tz='UTC')}
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ...errors import LookoutNbError

#: Fields earlier builds of this version saved and that are no longer kept (dropped when reading).
RETIRED = {"scheduler": {"active_from", "pruned"}, "execution": {"rows"}}


class StateError(LookoutNbError):
    """The saved state cannot be read; the message names the file and says what to do."""


def unreadable(path: Path, why: str) -> StateError:
    return StateError(
        f"cannot restore the endpoint state from {path}: {why}. Fix the file, or move it (or the whole state "
        f"directory) away to start with an empty state; it has not been changed"
    )


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
