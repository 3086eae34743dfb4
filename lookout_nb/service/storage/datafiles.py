"""The format of a dataset's ingested data file (an ``.npz``), written to and read from a stream: the state
store keeps the files (:attr:`Store.files <lookout_nb.service.state.store.Store.files>`: ``<state_dir>/datasets/``
with SQLite, the database with PostgreSQL, see :mod:`lookout_nb.service.state.files`). A new ingestion writes a new
file and the dataset record names it in the same transaction that ends the job; the file it replaces is removed
only after that commit, so a failed ingestion (or a crash in between) never loses what was ingested before.

Layout of a file: ``meta`` (JSON text: the schema and each component's sensors), ``t<i>`` (int64 nanoseconds
since the epoch, UTC) and ``v<i>`` (float64 rows x sensors) of the ``i``-th component; zlib level 1 (about half
the size of the raw arrays, five times faster to write than ``np.savez_compressed``'s default level). The members
are compressed straight into the destination stream (:func:`write`) and read back member by member
(:func:`read`): neither builds the whole file in memory.

The file names are the API's choice (:func:`lookout_nb.service.api.datasets.data_file_name`).

>>> import io
>>> import pandas as pd
>>> t = pd.date_range("2026-01-01", periods=2, freq="min", tz="UTC", name="Timestamp")
>>> out = io.BytesIO()
>>> write(out, ModelSchema.parse({"pump": ["Flow"]}), {"pump": pd.DataFrame({"Flow": [1.0, 2]}, index=t)})
>>> schema, frames = read(io.BytesIO(out.getvalue()))
>>> frames["pump"]["Flow"].tolist()
[1.0, 2.0]
"""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd

from ...contract.schema import ModelSchema

#: Bytes handed to the compressor at once.
SLICE = 1 << 20


def write(out, schema: ModelSchema, frames: dict) -> None:
    """Write the data file of ``schema`` and ``frames`` into the binary stream ``out`` (seekable or not), member by
    member, compressed on the way (see the module docstring)."""
    names = list(frames)
    meta = {"schema": schema.to_json(), "components": names, "sensors": [list(frames[c].columns) for c in names]}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:  # np.load reads it as an .npz
        _member(z, "meta", np.array(json.dumps(meta)))
        for i, c in enumerate(names):
            _member(z, f"t{i}", pd.DatetimeIndex(frames[c].index).as_unit("ns").asi8)
            _member(z, f"v{i}", frames[c].to_numpy(dtype="float64"))


def _member(z: zipfile.ZipFile, name: str, array: np.ndarray) -> None:
    """``array`` as member ``<name>.npy``: the .npy header, then the array's own memory in slices of :data:`SLICE`
    bytes (no copy of it: ``np.lib.format.write_array`` copies 16 MiB at a time)."""
    if not (array.flags.c_contiguous or array.flags.f_contiguous):
        array = np.ascontiguousarray(array)
    flat = array.ravel(order="K")  # a view: the memory in its order (C, or Fortran as the header says)
    step = max(1, SLICE // max(1, array.itemsize))
    with z.open(f"{name}.npy", "w", force_zip64=True) as member:
        np.lib.format.write_array_header_2_0(member, np.lib.format.header_data_from_array_1_0(array))
        for start in range(0, flat.size, step):
            member.write(flat[start:start + step].data.cast("B"))


def read(stream) -> tuple[ModelSchema, dict]:
    """``(schema, frames)`` of the data file in the seekable binary stream ``stream``; ValueError saying what is wrong
    with it."""
    try:
        with np.load(stream, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            frames = {}
            for i, (c, sensors) in enumerate(zip(meta["components"], meta["sensors"])):
                index = pd.DatetimeIndex(pd.to_datetime(z[f"t{i}"], unit="ns", utc=True), name="Timestamp")
                frames[c] = pd.DataFrame(z[f"v{i}"], index=index, columns=sensors, copy=False)
        return ModelSchema.parse(meta["schema"]), frames
    except Exception as err:  # noqa: BLE001 - numpy and zipfile raise many kinds for a broken file
        raise ValueError(f"it is not a data file of this endpoint ({type(err).__name__}: {str(err)[:200]})") from None
