"""Reading a dataset's CSVs from S3 (or a folder) as a data ingestion job does: keys, files, quality counts.

``ingest(reader, bucket, prefix, key_pattern, schema)`` lists the keys under the prefix, gives each to its
component by ``KeyPattern`` and reads every file with :func:`lookout_nb.contract.inputfiles.read_input` (the reader of
the preview and of scheduled runs, so the timestamp forms and CSV rules are the same: see its docstring).

- KeyPattern: ``{prefix}/{component_name}X*`` with X one of ``/`` (the default: a folder per component),
  ``_``, space, ``.`` or ``-``. A key belongs to the longest component name it matches (``pump_2_a.csv`` is
  ``pump_2``'s, not ``pump``'s). Without a schema, a key's component is its text up to the first X.
- Keys ending in ``/`` (folder markers) are skipped; other keys not ending in ``.csv`` are discarded, and so
  are files that cannot be read as CSV (binary, ragged, another separator, no header): each is listed in
  DiscardedFiles and its reason in StatusDetail. A component left with no file FAILS the job naming its files.
- A file lacking a column of the schema FAILS the job (the reason names the file and the columns). Without a
  schema, the first file of a component gives its sensors (every column after the timestamp).
- Rows whose timestamp cannot be read are dropped and counted (UnsupportedTimestamps); repeated timestamps of
  a component keep their first row (files in key order) and are counted (DuplicateTimestamps); cells that are
  not numbers or are infinite are counted as invalid and kept as missing (InvalidSensorData); empty cells are
  missing (MissingSensorData); a sensor without any value is MissingCompleteSensorData, one whose values span
  less than 14 days is SensorsWithShortDateRange.

>>> reader = FolderReader("/data/pump-csvs")                                    # doctest: +SKIP
>>> result = ingest(reader, "", "", "{prefix}/{component_name}/*", None)       # doctest: +SKIP
>>> result.data.frames["pump"].columns.tolist()                                 # doctest: +SKIP
['Flow', 'Speed']
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ...contract.inputfiles import read_input
from ...contract.s3keys import s3_uri
from ...contract.schema import ModelSchema
from ...errors import read_error
from .sensorstats import sensor_statistics

DEFAULT_KEY_PATTERN = "{prefix}/{component_name}/*"
_PATTERN = re.compile(r"^\{prefix\}/\{component_name\}([/_ .-])\*$")
#: A sensor whose values span less than this is counted in SensorsWithShortDateRange.
SHORT_RANGE = pd.Timedelta(days=14)
#: read_input problems that make a file unreadable as a dataset CSV (it is discarded).
DISCARD = {"line-too-long", "empty-file", "csv-malformed", "csv-delimiter", "no-header", "too-few-columns"}
ALLOWED = ("{prefix}/{component_name}/*, {prefix}/{component_name}_*, {prefix}/{component_name}-*, "
           "{prefix}/{component_name}.* or '{prefix}/{component_name} *'")


def empty_quality() -> dict:
    """A DataQualitySummary with every count 0."""
    return {
        "InsufficientSensorData": {"MissingCompleteSensorData": {"AffectedSensorCount": 0},
                                   "SensorsWithShortDateRange": {"AffectedSensorCount": 0}},
        "MissingSensorData": {"AffectedSensorCount": 0, "TotalNumberOfMissingValues": 0},
        "InvalidSensorData": {"AffectedSensorCount": 0, "TotalNumberOfInvalidValues": 0},
        "UnsupportedTimestamps": {"TotalNumberOfUnsupportedTimestamps": 0},
        "DuplicateTimestamps": {"TotalNumberOfDuplicateTimestamps": 0},
    }


class IngestFailed(Exception):
    """The job FAILS with this message (its FailedReason); ``files`` is the IngestedFilesSummary so far."""

    def __init__(self, message: str, files: dict | None = None):
        super().__init__(message)
        self.files = files


@dataclass
class Ingested:
    """What a SUCCESS job found: the schema and frames, and the job's summaries."""

    schema: ModelSchema
    frames: dict
    quality: dict
    files: dict
    size: int
    start: pd.Timestamp
    end: pd.Timestamp
    detail: str | None = None
    #: ListSensorStatistics' summaries, per sensor (:mod:`.sensorstats`).
    statistics: list = field(default_factory=list)


class S3Reader:
    """Reads objects with an S3 client: boto3's (the user's S3) or the endpoint's own, in-process, as the runner does
    (anything with boto3's ``list_objects_v2`` and ``get_object``). Every failure is an :class:`IngestFailed` naming
    the bucket, the key or prefix, and the cause (the S3 error code and message, or the connection's error)."""

    def __init__(self, s3):
        self.s3 = s3

    def keys(self, bucket: str, prefix: str) -> list[tuple[str, int]]:
        """``[(key, size)]`` under ``prefix``, in key order; IngestFailed naming the bucket when it is absent."""
        out, token = [], None
        try:
            while True:
                page = self.s3.list_objects_v2(Bucket=bucket, Prefix=prefix,
                                               **({"ContinuationToken": token} if token else {}))
                out += [(o["Key"], o["Size"]) for o in page.get("Contents", [])]
                token = page.get("NextContinuationToken")
                if not page.get("IsTruncated") or not token:
                    break
        except Exception as err:  # noqa: BLE001 - any S3 client's error: the job FAILS naming the place
            raise IngestFailed(f"Cannot list {s3_uri(bucket, prefix)} ({cause(err)}): check the Bucket and Prefix "
                               "of IngestionInputConfiguration.S3InputConfiguration") from None
        return sorted(out)

    def body(self, bucket: str, key: str) -> bytes:
        """The bytes of one object; IngestFailed naming it and the cause when S3 refuses, fails or times out."""
        try:
            return self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except Exception as err:  # noqa: BLE001 - any S3 client's error (or a body cut short): named
            raise IngestFailed(f"Cannot read {s3_uri(bucket, key)} ({cause(err)})") from None


def cause(err: BaseException) -> str:
    """An S3 client's error in a few words: the code, HTTP status and message S3 answered, or the error class and
    text when it did not answer (a refused connection, a timeout).

    >>> cause(TimeoutError("read timed out"))
    'TimeoutError: read timed out'
    """
    e = read_error(err)
    if not e.answered:
        return f"{e.code}: {e.message}"
    return f"{e.code or 'HTTP ' + str(e.status)}" + (f", HTTP {e.status}" if e.code and e.status else "") + \
        (f": {e.message}" if e.message and e.message != e.code else "")


class FolderReader:
    """The same interface over a local folder: keys are paths relative to ``root`` (``bucket`` is ignored)."""

    def __init__(self, root):
        self.root = Path(root)

    def keys(self, bucket: str, prefix: str) -> list[tuple[str, int]]:
        found = [(p.relative_to(self.root).as_posix(), p.stat().st_size) for p in self.root.rglob("*") if p.is_file()]
        return sorted(k for k in found if k[0].startswith(prefix))

    def body(self, bucket: str, key: str) -> bytes:
        return (self.root / key).read_bytes()


def delimiter_of(key_pattern: str | None) -> str:
    """The character after ``{component_name}`` in a KeyPattern; ValueError listing the allowed ones.

    >>> delimiter_of("{prefix}/{component_name}_*"), delimiter_of(None)
    ('_', '/')
    """
    m = _PATTERN.match(key_pattern or DEFAULT_KEY_PATTERN)
    if not m:
        raise ValueError(f"IngestionInputConfiguration.S3InputConfiguration.KeyPattern {key_pattern!r} is not a "
                         f"pattern the service reads; use one of {ALLOWED}")
    return m.group(1)


def base_of(prefix: str | None) -> str:
    """The key text before the component name: ``"in"`` and ``"in/"`` give ``"in/"``, none gives ``""``."""
    p = (prefix or "").rstrip("/")
    return p + "/" if p else ""


def assign(keys, base: str, delimiter: str, components: tuple | None) -> dict[str, list]:
    """``{component: [(key, size)]}`` of the keys under ``base`` (see the module docstring).

    >>> assign([("in/pump_2_a.csv", 1), ("in/pump_b.csv", 1), ("in/fan_c.csv", 1)], "in/", "_", ("pump", "pump_2"))
    {'pump': [('in/pump_b.csv', 1)], 'pump_2': [('in/pump_2_a.csv', 1)]}
    """
    out: dict[str, list] = {c: [] for c in components or ()}
    ordered = sorted(components or (), key=len, reverse=True)
    for key, size in keys:
        rest = key[len(base):]
        if not key.startswith(base) or key.endswith("/"):
            continue
        if components is None:
            name, found, _ = rest.partition(delimiter)
            if found and name:
                out.setdefault(name, []).append((key, size))
            continue
        name = next((c for c in ordered if rest.startswith(c + delimiter)), None)
        if name is not None:
            out[name].append((key, size))
    return out


@dataclass
class _Component:
    """What the files of one component gave."""

    sensors: tuple | None = None
    index: list = field(default_factory=list)  # int64 nanoseconds of each file's rows
    values: list = field(default_factory=list)
    invalid: list = field(default_factory=list)
    unsupported: int = 0
    size: int = 0
    ingested: int = 0


def _is_text(body: bytes) -> bool:
    if b"\x00" in body[:65536]:
        return False
    try:
        body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return True


def _read_file(state: _Component, component: str, key: str, body: bytes) -> str | None:
    """Add one file to ``state``; returns why it is discarded (None: ingested). IngestFailed on a schema mismatch."""
    if not key.lower().endswith(".csv"):
        return f"{key}: not a .csv file"
    if not _is_text(body):
        return f"{key}: not a UTF-8 text CSV file"
    f = read_input(body, key, sensors=state.sensors)
    codes = {p.code: p.message for p in f.errors}
    discard = [codes[c] for c in codes if c in DISCARD]
    if discard or f.table is None:
        return discard[0] if discard else f"{key}: cannot be read"
    if "missing-columns" in codes:
        raise IngestFailed(f"Component {component}: {codes['missing-columns']}. Fix the file, or the dataset's "
                           "schema (CreateDataset DatasetSchema), then start the ingestion again")
    if state.sensors is None:
        state.sensors = tuple(f.table.columns)
    values = f.table.to_numpy(dtype="float64")[:, f.table.columns.get_indexer(state.sensors)]
    raw = f.raw.iloc[:, f.raw.columns.get_indexer(state.sensors)]
    if all(dtype.kind in "iuf" for dtype in raw.dtypes):  # numbers only: the invalid cells are the infinite ones
        invalid = np.isinf(raw.to_numpy(dtype="float64"))
    else:  # text or infinite cells (read as missing)
        invalid = raw.notna().to_numpy() & np.isnan(values)
    known = f.table.index.notna()
    if not known.all():
        state.unsupported += int(len(known) - known.sum())
        values, invalid = values[known], invalid[known]
    state.index.append(f.table.index.as_unit("ns").asi8[known])
    state.values.append(values)
    state.invalid.append(invalid)
    state.size += len(body)
    state.ingested += 1
    return None


def _frame(state: _Component) -> tuple[pd.DataFrame, np.ndarray, int]:
    """The component's rows sorted by time, first row of each timestamp kept; its invalid mask; duplicates."""
    stamps = np.concatenate(state.index)
    values, invalid = np.concatenate(state.values), np.concatenate(state.invalid)
    repeated = 0
    if len(stamps) > 1 and not (np.diff(stamps) > 0).all():
        order = np.argsort(stamps, kind="stable")
        stamps, values, invalid = stamps[order], values[order], invalid[order]
        first = np.concatenate([[True], stamps[1:] != stamps[:-1]])
        stamps, values, invalid = stamps[first], values[first], invalid[first]
        repeated = int(len(first) - first.sum())
    index = pd.DatetimeIndex(pd.to_datetime(stamps, unit="ns", utc=True), name="Timestamp")
    return pd.DataFrame(values, index=index, columns=[str(c) for c in state.sensors]), invalid, repeated


def _count(quality: dict, frame: pd.DataFrame, invalid: np.ndarray) -> None:
    """Add one component's missing, invalid and insufficient sensor counts to ``quality``."""
    missing = frame.isna().to_numpy() & ~invalid
    q = quality
    q["MissingSensorData"]["AffectedSensorCount"] += int(missing.any(axis=0).sum())
    q["MissingSensorData"]["TotalNumberOfMissingValues"] += int(missing.sum())
    q["InvalidSensorData"]["AffectedSensorCount"] += int(invalid.any(axis=0).sum())
    q["InvalidSensorData"]["TotalNumberOfInvalidValues"] += int(invalid.sum())
    insufficient = q["InsufficientSensorData"]
    for name in frame.columns:
        valid = frame.index[frame[name].notna().to_numpy()]
        if not len(valid):
            insufficient["MissingCompleteSensorData"]["AffectedSensorCount"] += 1
        elif valid[-1] - valid[0] < SHORT_RANGE:
            insufficient["SensorsWithShortDateRange"]["AffectedSensorCount"] += 1


def ingest(reader, bucket: str, prefix: str | None, key_pattern: str | None, schema: ModelSchema | None,
           stopping: Callable[[], bool] = lambda: False) -> Ingested:
    """Read a dataset's files (see the module docstring); IngestFailed with the job's FailedReason."""
    delimiter = delimiter_of(key_pattern)
    base = base_of(prefix)
    where = s3_uri(bucket, base) if bucket else base or "the folder"
    groups = assign(reader.keys(bucket, base), base, delimiter, schema.names if schema else None)
    total = sum(len(v) for v in groups.values())
    discarded: list[tuple[str, str]] = []
    def files():
        return {"TotalNumberOfFiles": total, "IngestedNumberOfFiles": total - len(discarded),
                "DiscardedFiles": [{"Bucket": bucket, "Key": k} for k, _ in discarded]}
    if not groups:
        raise IngestFailed(f"No file under {where} matches KeyPattern {key_pattern or DEFAULT_KEY_PATTERN}: put each "
                           f"component's CSVs at {base}<component>{delimiter}<name>.csv", files())
    quality, frames, size, statistics = empty_quality(), {}, 0, []
    for component, keys in groups.items():
        state = _Component(sensors=schema.sensors[component] if schema else None)
        for key, _ in keys:
            body = None if stopping() else reader.body(bucket, key)
            if stopping():  # checked again after a read, which may be slow
                raise IngestFailed("The endpoint stopped while this ingestion was in progress; start it again", files())
            why = _read_file(state, component, key, body)
            if why:
                discarded.append((key, why))
        if not state.ingested:
            reasons = "; ".join(why for key, why in discarded if key in {k for k, _ in keys})
            hint = f" (upload its CSVs as {base}{component}{delimiter}<name>.csv)"
            raise IngestFailed(f"Component {component}: no file could be ingested from {where} with KeyPattern "
                               f"{key_pattern or DEFAULT_KEY_PATTERN}"
                               f"{': ' + reasons[:2000] if reasons else hint}",
                               files())
        frame, invalid, duplicates = _frame(state)
        if frame.empty:
            raise IngestFailed(f"Component {component}: none of its {state.unsupported} rows has a timestamp that can "
                               "be read; write them as ISO 8601 UTC, e.g. 2022-03-30T11:01:00.000000", files())
        quality["UnsupportedTimestamps"]["TotalNumberOfUnsupportedTimestamps"] += state.unsupported
        quality["DuplicateTimestamps"]["TotalNumberOfDuplicateTimestamps"] += duplicates
        _count(quality, frame, invalid)
        statistics += sensor_statistics(component, frame, invalid, duplicates, state.unsupported)
        frames[component], size = frame, size + state.size
    found = ModelSchema({c: ("Timestamp", *f.columns) for c, f in frames.items()})
    detail = "; ".join(why for _, why in discarded)[:4000] or None
    return Ingested(found, frames, quality, files(), size, min(f.index[0] for f in frames.values()),
                    max(f.index[-1] for f in frames.values()), detail, statistics)


def ingest_folder(folder, schema=None, key_pattern: str | None = None) -> Ingested:
    """Ingest a local folder of CSVs laid out as on S3 (``<component>/<name>.csv`` by default) exactly as an
    ingestion job reads them (benchmarks and tests; no endpoint needed). ``schema`` is anything
    :meth:`ModelSchema.parse` reads (``{component: [sensors]}``), or None to take it from the files.

    >>> result = ingest_folder("/tmp/pump-csvs", {"hx-pump": ["Speed", "Flow"]})   # doctest: +SKIP
    >>> result.frames["hx-pump"].shape, result.quality["DuplicateTimestamps"]     # doctest: +SKIP
    ((86400, 2), {'TotalNumberOfDuplicateTimestamps': 0})
    """
    return ingest(FolderReader(folder), "", "", key_pattern, ModelSchema.parse(schema) if schema is not None else None)
