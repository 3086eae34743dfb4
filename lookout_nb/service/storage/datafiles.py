"""The ingested data of datasets on disk: one ``.npz`` file per dataset and ingestion, under
``<state_dir>/datasets/``, written atomically and fsynced (:func:`.objects.write_durably`) before the job that made
it reports SUCCESS. A new ingestion writes a new file and the dataset record names it in the same transaction
that ends the job; the file it replaces is removed only after that commit, so a failed ingestion (or a crash
in between) never loses what was ingested before.

Layout of a file: ``meta`` (JSON text: the schema and each component's sensors), ``t<i>`` (int64 nanoseconds
since the epoch, UTC) and ``v<i>`` (float64 rows x sensors) of the ``i``-th component; zlib level 1 (about half
the size of the raw arrays, five times faster to write than ``np.savez_compressed``'s default level).

The file names are the API's choice (:func:`lookout_nb.service.api.datasets.data_file_name`).

>>> import pandas as pd
>>> t = pd.date_range("2026-01-01", periods=2, freq="min", tz="UTC", name="Timestamp")
>>> schema, frames = decode(encode(ModelSchema.parse({"pump": ["Flow"]}), {"pump": pd.DataFrame({"Flow": [1.0, 2]},
...                                                                                              index=t)}))
>>> frames["pump"]["Flow"].tolist()
[1.0, 2.0]
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from ...contract.schema import ModelSchema
from .objects import write_durably

FOLDER = "datasets"


def encode(schema: ModelSchema, frames: dict) -> bytes:
    """The bytes of a data file (see the module docstring)."""
    names = list(frames)
    meta = {"schema": schema.to_json(), "components": names, "sensors": [list(frames[c].columns) for c in names]}
    arrays = {"meta": np.array(json.dumps(meta))}
    for i, c in enumerate(names):
        arrays[f"t{i}"] = pd.DatetimeIndex(frames[c].index).as_unit("ns").asi8
        arrays[f"v{i}"] = frames[c].to_numpy(dtype="float64")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:  # np.load reads it as an .npz
        for name, array in arrays.items():
            with z.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)
    return out.getvalue()


def decode(body: bytes) -> tuple[ModelSchema, dict]:
    """``(schema, frames)`` of a data file; ValueError saying what is wrong with it."""
    try:
        with np.load(io.BytesIO(body), allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            frames = {}
            for i, (c, sensors) in enumerate(zip(meta["components"], meta["sensors"])):
                index = pd.DatetimeIndex(pd.to_datetime(z[f"t{i}"], unit="ns", utc=True), name="Timestamp")
                frames[c] = pd.DataFrame(z[f"v{i}"], index=index, columns=sensors)
        return ModelSchema.parse(meta["schema"]), frames
    except Exception as err:  # noqa: BLE001 - numpy and zipfile raise many kinds for a broken file
        raise ValueError(f"it is not a data file of this endpoint ({type(err).__name__}: {str(err)[:200]})") from None


def write(folder: Path, name: str, schema: ModelSchema, frames: dict) -> Path:
    """Write a data file durably; returns its path."""
    path = folder / name
    write_durably(path, encode(schema, frames))
    return path


def read(folder: Path, name: str) -> tuple[ModelSchema, dict]:
    """Read a data file; ValueError naming the file when it is missing or broken."""
    path = folder / name
    try:
        body = path.read_bytes()
    except OSError as err:
        raise ValueError(f"its data file {path} cannot be read ({err.strerror or err})") from None
    try:
        return decode(body)
    except ValueError as err:
        raise ValueError(f"its data file {path}: {err}") from None


def remove(folder: Path, name: str) -> None:
    """Remove a data file that no record names any more (missing is fine)."""
    (folder / name).unlink(missing_ok=True)
