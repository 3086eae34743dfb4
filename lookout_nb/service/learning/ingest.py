"""Reading a dataset's CSVs from S3 (or a folder) as a data ingestion job does: keys, files, quality counts.

``ingest(reader, bucket, prefix, key_pattern, schema)`` lists the keys under the prefix, gives each to its
component by ``KeyPattern`` and reads every file with :func:`lookout_nb.contract.inputfiles.read_input` (the reader of
the preview and of scheduled runs, so the timestamp forms and CSV rules are the same: see its docstring).

Memory is bounded by design: a file is streamed (``reader.stream``) and read in pieces of
:data:`.chunks.PIECE_BYTES` (:mod:`.chunks`), whose rows go straight into the arrays of the frame kept
(:mod:`.assemble`); the peak is the data kept plus 8 bytes a row and a fixed amount, whatever the size of the
largest file (``benchmarks/bench_ingest.py --memory``).

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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ...contract.inputfiles import read_input
from ...contract.s3keys import s3_uri
from ...contract.schema import ModelSchema
from ...errors import read_error
from . import chunks
from .assemble import Assembled, Rows
from .sensorstats import sensor_statistics

#: The size of the blocks a file is streamed in (pieces of :data:`.chunks.PIECE_BYTES` are cut from them).
BLOCK = 2**20
#: Where an ingestion's files are named in its request (what a listing error points to).
INPUT = "IngestionInputConfiguration.S3InputConfiguration"
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

    def keys(self, bucket: str, prefix: str, field: str = INPUT) -> list[tuple[str, int]]:
        """``[(key, size)]`` under ``prefix``, in key order; IngestFailed naming the place, the cause and the
        request's ``field`` that gave it when it cannot be listed (e.g. no such bucket)."""
        out: list[tuple[str, int]] = []
        token = None
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
                               f"of {field}") from None
        return sorted(out)

    def body(self, bucket: str, key: str) -> bytes:
        """The bytes of one object; IngestFailed naming it and the cause when S3 refuses, fails or times out."""
        try:
            return self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except Exception as err:  # noqa: BLE001 - any S3 client's error (or a body cut short): named
            raise IngestFailed(f"Cannot read {s3_uri(bucket, key)} ({cause(err)})") from None

    def stream(self, bucket: str, key: str) -> Iterator[bytes]:
        """The object's bytes in blocks of :data:`BLOCK` (a file is never held whole); IngestFailed naming it when
        it cannot be read (e.g. deleted since it was listed)."""
        try:
            body = self.s3.get_object(Bucket=bucket, Key=key)["Body"]  # botocore's StreamingBody, or a file object
        except Exception as err:  # noqa: BLE001 - any S3 client's error: the job FAILS naming the object
            raise IngestFailed(f"Cannot read {s3_uri(bucket, key)} ({cause(err)}): it was listed under the Prefix of "
                               f"{INPUT} but cannot be read; upload it again") from None
        try:
            yield from iter(lambda: body.read(BLOCK), b"")
        finally:
            body.close()


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

    def keys(self, bucket: str, prefix: str, field: str = "") -> list[tuple[str, int]]:
        found = [(p.relative_to(self.root).as_posix(), p.stat().st_size) for p in self.root.rglob("*") if p.is_file()]
        return sorted(k for k in found if k[0].startswith(prefix))

    def body(self, bucket: str, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def stream(self, bucket: str, key: str) -> Iterator[bytes]:
        with open(self.root / key, "rb") as f:
            yield from iter(lambda: f.read(BLOCK), b"")


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


def _blocks(reader, bucket: str, key: str):
    """The object's bytes as blocks: streamed when the reader can (its whole body at once otherwise)."""
    stream = getattr(reader, "stream", None)
    return stream(bucket, key) if stream is not None else iter((reader.body(bucket, key),))


def _read_file(rows: Rows, component: str, key: str, blocks) -> str | None:
    """Add one file to ``rows`` piece by piece; returns why it is discarded (None: ingested). IngestFailed on a
    schema mismatch."""
    if not key.lower().endswith(".csv"):
        return f"{key}: not a .csv file"
    for number, piece in enumerate(chunks.pieces(blocks, chunks.PIECE_BYTES)):
        try:
            if number == 0 and b"\x00" in piece.text[:65536]:
                raise UnicodeDecodeError("utf-8", b"", 0, 0, "a NUL byte")
            piece.text.decode("utf-8-sig")
        except UnicodeDecodeError:
            rows.drop()
            return f"{key}: not a UTF-8 text CSV file"
        why = _read_piece(rows, component, key, piece)
        if why:
            rows.drop()
            return why
    rows.commit()
    return None


def _read_piece(rows: Rows, component: str, key: str, piece: chunks.Piece) -> str | None:
    f = read_input(piece.text, key, sensors=rows.sensors)
    codes = {p.code: p.message for p in f.errors}
    discard = [codes[c] for c in codes if c in DISCARD]
    table, raw = f.table, f.raw  # read_input sets raw whenever it sets table
    if discard or table is None or raw is None:
        why = discard[0] if discard else f"{key}: cannot be read"
        return _LINE.sub(lambda m: f"line {int(m[1]) + piece.lines_before}", why) if piece.lines_before else why
    for code in ("repeated-columns", "missing-columns"):
        if code in codes:
            raise IngestFailed(f"Component {component}: {codes[code]}. Fix the file, or the dataset's schema "
                               "(CreateDataset DatasetSchema), then start the ingestion again")
    if rows.sensors is None:
        rows.sensors = tuple(table.columns)
    values = table.to_numpy(dtype="float64")[:, table.columns.get_indexer(rows.sensors)]
    raw = raw.iloc[:, raw.columns.get_indexer(rows.sensors)]
    if all(dtype.kind in "iuf" for dtype in raw.dtypes):  # numbers only: the invalid cells are the infinite ones
        invalid = np.isinf(raw.to_numpy(dtype="float64"))
    else:  # text or infinite cells (read as missing)
        invalid = raw.notna().to_numpy() & np.isnan(values)
    known = table.index.notna()
    if not known.all():
        values, invalid = values[known], invalid[known]
    rows.add(table.index.as_unit("ns").asi8[known], values, invalid, int(len(known) - known.sum()), len(piece.text))
    return None


_LINE = re.compile(r"\bline (\d+)")


def _count(quality: dict, done: Assembled) -> None:
    """Add one component's missing, invalid and insufficient sensor counts to ``quality``."""
    q = quality
    q["MissingSensorData"]["AffectedSensorCount"] += int((done.missing > 0).sum())
    q["MissingSensorData"]["TotalNumberOfMissingValues"] += int(done.missing.sum())
    q["InvalidSensorData"]["AffectedSensorCount"] += int((done.invalid > 0).sum())
    q["InvalidSensorData"]["TotalNumberOfInvalidValues"] += int(done.invalid.sum())
    q["DuplicateTimestamps"]["TotalNumberOfDuplicateTimestamps"] += done.repeated
    insufficient, frame = q["InsufficientSensorData"], done.frame
    for i in range(frame.shape[1]):
        valid = frame.iloc[:, i].notna().to_numpy()
        if not valid.any():
            insufficient["MissingCompleteSensorData"]["AffectedSensorCount"] += 1
        elif frame.index[len(valid) - 1 - valid[::-1].argmax()] - frame.index[valid.argmax()] < SHORT_RANGE:
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
        rows = Rows(schema.sensors[component] if schema else None, expected_bytes=sum(n for _, n in keys))
        ingested = 0
        for key, key_size in keys:
            if stopping():
                raise IngestFailed("The endpoint stopped while this ingestion was in progress; start it again", files())
            why = _read_file(rows, component, key, _stopped_between(_blocks(reader, bucket, key), stopping, files))
            if why:
                discarded.append((key, why))
            else:
                ingested, size = ingested + 1, size + key_size
        if not ingested:
            reasons = "; ".join(why for key, why in discarded if key in {k for k, _ in keys})
            hint = f" (upload its CSVs as {base}{component}{delimiter}<name>.csv)"
            raise IngestFailed(f"Component {component}: no file could be ingested from {where} with KeyPattern "
                               f"{key_pattern or DEFAULT_KEY_PATTERN}"
                               f"{': ' + reasons[:2000] if reasons else hint}",
                               files())
        done = rows.assemble()
        if done.frame.empty:
            raise IngestFailed(f"Component {component}: none of its {rows.unsupported} rows has a timestamp that can "
                               "be read; write them as ISO 8601 UTC, e.g. 2022-03-30T11:01:00.000000", files())
        quality["UnsupportedTimestamps"]["TotalNumberOfUnsupportedTimestamps"] += rows.unsupported
        _count(quality, done)
        statistics += sensor_statistics(component, done.frame, done.missing, done.invalid, done.repeated,
                                        rows.unsupported)
        frames[component] = done.frame
    found = ModelSchema({c: ("Timestamp", *f.columns) for c, f in frames.items()})
    detail = "; ".join(why for _, why in discarded)[:4000] or None
    return Ingested(found, frames, quality, files(), size, min(f.index[0] for f in frames.values()),
                    max(f.index[-1] for f in frames.values()), detail, statistics)


def _stopped_between(blocks, stopping: Callable[[], bool], files: Callable[[], dict]):
    """``blocks``, with IngestFailed as soon as the endpoint stops (checked after each read, which may be slow)."""
    for block in blocks:
        if stopping():
            raise IngestFailed("The endpoint stopped while this ingestion was in progress; start it again", files())
        yield block


def ingest_folder(folder, schema=None, key_pattern: str | None = None) -> Ingested:
    """Ingest a local folder of CSVs laid out as on S3 (``<component>/<name>.csv`` by default) exactly as an
    ingestion job reads them (benchmarks and tests; no endpoint needed). ``schema`` is anything
    :meth:`ModelSchema.parse` reads (``{component: [sensors]}``), or None to take it from the files.

    >>> result = ingest_folder("/tmp/pump-csvs", {"hx-pump": ["Speed", "Flow"]})   # doctest: +SKIP
    >>> result.frames["hx-pump"].shape, result.quality["DuplicateTimestamps"]     # doctest: +SKIP
    ((86400, 2), {'TotalNumberOfDuplicateTimestamps': 0})
    """
    return ingest(FolderReader(folder), "", "", key_pattern, ModelSchema.parse(schema) if schema is not None else None)
