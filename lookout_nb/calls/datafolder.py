"""A local folder of CSVs as a dataset's source: its layout, a schema from its headers, checks, and the upload.

The layout is the one the default KeyPattern ``{prefix}/{component_name}/*`` reads once uploaded: one sub-folder
per component, holding that component's CSV files (any names, any depth)::

    pump-data/
        hx-pump/hx-pump.csv        Timestamp,Speed,Flow,Pressure,Vibration
        motor/2026-01.csv          Timestamp,Power,Current,...
        motor/2026-02.csv

Files at the top of the folder (a label file, a README) and hidden files are not part of the data and are not
uploaded. Every file is read by :func:`lookout_nb.contract.inputfiles.read_input`, the reader of the preview, the
scheduled runs and the ingestion, so what :func:`check_folder` finds is what the ingestion would do: a file that is not
CSV (another extension, binary, ragged rows, another separator, no header) would be discarded, a file without
one of its component's columns would FAIL the ingestion, rows with unreadable timestamps would be dropped.

>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> (root / "pump").mkdir()
>>> _ = (root / "pump" / "a.csv").write_text("Timestamp,Flow\\n2026-01-01T00:00:00,1.5\\n")
>>> check_folder(root).schema
{'pump': ['Flow']}
>>> _ = (root / "pump" / "b.csv").write_text("Timestamp,Flow\\n2026-01-01T00:01:00,1.5,7\\n")
>>> print(check_folder(root).errors[0])     # doctest: +ELLIPSIS
pump/b.csv: File pump/b.csv is not well-formed CSV (line 2 has 3 fields, the header 2; ...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..contract.inputfiles import read_input
from ..contract.schema import ModelSchema
from ..errors import DataFilesInvalid, InvalidArgument

#: read_input problems that make the ingestion discard a file (or, for missing columns, FAIL): errors here.
UNREADABLE = {"line-too-long", "empty-file", "csv-malformed", "csv-delimiter", "no-header", "too-few-columns"}
ERRORS = UNREADABLE | {"missing-columns", "timestamp-unparseable"}
_FIX_TIMES = ("; or pass check=False to upload it anyway: the ingestion then drops those rows and counts them in "
              "DataQualitySummary.UnsupportedTimestamps")


@dataclass(frozen=True)
class FileProblem:
    """One problem of one file: ``path`` relative to the folder, ``level`` ``"error"`` or ``"warning"``."""

    path: str
    level: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class FolderReport:
    """What :func:`check_folder` found: ``files`` per component (paths relative to the folder), the ``schema``
    (``{component: [sensors]}``, from each component's first file), ``rows`` per component, and the problems."""

    folder: Path
    files: dict = field(default_factory=dict)
    schema: dict = field(default_factory=dict)
    rows: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)

    @property
    def errors(self) -> list[FileProblem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self) -> list[FileProblem]:
        return [p for p in self.problems if p.level == "warning"]

    def raise_for_errors(self) -> FolderReport:
        """Raise :class:`DataFilesInvalid` listing every error; return the report when there is none."""
        if self.errors:
            raise DataFilesInvalid(self.errors, where=f"folder {self.folder}")
        return self


def component_files(folder) -> dict[str, list[Path]]:
    """``{component: [files]}`` of a folder laid out as in the module docstring (hidden files left out).

    Raises :class:`InvalidArgument` naming the folder when it does not exist or has no component sub-folder.
    """
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise InvalidArgument(f"source: {str(root)!r} is not a folder: give the folder that holds one sub-folder of "
                              "CSV files per component, or an s3://bucket/prefix/")
    out = {}
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = sorted(p for p in sub.rglob("*") if p.is_file() and not _hidden(p.relative_to(root)))
        if files:
            out[sub.name] = files
    if not out:
        loose = sorted(p.name for p in root.glob("*.csv"))[:3]
        hint = (f" (it has {', '.join(loose)} at its top: move each component's files into a sub-folder named after "
                "the component)" if loose else "")
        raise InvalidArgument(f"source: folder {root} has no component sub-folder with files{hint}; lay it out as "
                              f"{root.name}/<component>/<file>.csv, one sub-folder per component")
    return out


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def check_folder(folder, schema=None) -> FolderReport:
    """Read every data file of ``folder`` as the ingestion would and report every problem, naming the file.

    ``schema`` (anything :meth:`ModelSchema.parse` reads, e.g. ``{component: [sensors]}``) is checked against the
    files: a component without a sub-folder, or a file without one of the schema's columns, is an error. Without
    it, each component's first file gives its sensors and the other files must have them too.
    """
    root = Path(folder).expanduser()
    groups = component_files(root)
    wanted = ModelSchema.parse(schema).sensors if schema is not None else None
    report = FolderReport(root, {c: [p.relative_to(root).as_posix() for p in ps] for c, ps in groups.items()})
    if wanted is not None:
        for component in wanted:
            if component not in groups:
                report.problems.append(FileProblem(f"{component}/", "error", _no_folder(component, wanted, groups)))
    for component, paths in groups.items():
        if wanted is not None and component not in wanted:
            report.problems.append(FileProblem(f"{component}/", "warning", f"component {component} is not in the "
                                               f"schema ({', '.join(wanted)}): its files are not read"))
            continue
        sensors = list(wanted[component]) if wanted is not None else None
        for path in paths:
            sensors = _check_file(report, root, component, path, sensors)
        report.schema[component] = list(sensors or [])
    return report


def _no_folder(component: str, wanted: dict, groups: dict) -> str:
    return (f"the schema has component {component} but the folder has no sub-folder {component}/ (it has "
            f"{', '.join(groups)}): rename a sub-folder, or change the schema's components to {', '.join(groups)}")


def _check_file(report: FolderReport, root: Path, component: str, path: Path, sensors):
    """Check one file; returns the component's sensors (the first readable file gives them without a schema)."""
    name = path.relative_to(root).as_posix()
    add = lambda level, message: report.problems.append(FileProblem(name, level, message))  # noqa: E731
    if path.suffix.lower() != ".csv":
        add("error", "not a .csv file: the ingestion discards it; save it as CSV with a .csv name, or move it out of "
                     "the folder")
        return sensors
    body = path.read_bytes()
    if b"\x00" in body[:65536] or not _utf8(body):
        add("error", "not a UTF-8 text file, so not a CSV: the ingestion discards it; export it as CSV (UTF-8)")
        return sensors
    f = read_input(body, name, sensors=sensors)
    for p in f.problems:
        level = "error" if p.code in ERRORS else "warning"
        fix = _FIX_TIMES if p.code == "timestamp-unparseable" else ""
        if p.code == "missing-columns":
            fix = " (the ingestion would FAIL): add what is missing to the file, or fix the schema"
        add(level, p.message + fix)
    if f.table is not None and not any(p.code in UNREADABLE for p in f.problems):
        report.rows[component] = report.rows.get(component, 0) + len(f.table)
        if sensors is None:
            sensors = list(f.table.columns)
    return sensors


def _utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return True


def base_prefix(prefix: str | None) -> str:
    """The key text before the component name under KeyPattern ``{prefix}/{component_name}/*``.

    >>> base_prefix("datasets/pump"), base_prefix("datasets/pump/"), base_prefix("")
    ('datasets/pump/', 'datasets/pump/', '')
    """
    p = (prefix or "").strip("/")
    return p + "/" if p else ""


def check_bucket(s3, bucket: str) -> None:
    """:class:`InvalidArgument` naming ``bucket`` when it does not exist or cannot be reached."""
    from ..errors import ServiceError
    from ._service import call

    try:
        call(s3, "head_bucket", Bucket=bucket)
    except ServiceError as exc:
        raise InvalidArgument(f"bucket: s3://{bucket} cannot be used ({exc}): create the bucket first "
                              "(s3.create_bucket) or give one you can write to") from exc


def upload_folder(folder, bucket: str, prefix: str, s3, report: FolderReport | None = None,
                  progress: bool = True) -> list[str]:
    """Upload the data files of ``folder`` to ``s3://bucket/<prefix>/<component>/<path>``; returns the keys.

    ``report`` is the folder's :func:`check_folder` report (made when None). Nothing is sent when the bucket does
    not exist (:class:`InvalidArgument` naming it).
    """
    from tqdm.auto import tqdm

    from ._service import call

    root = Path(folder).expanduser()
    report = report or check_folder(root)
    check_bucket(s3, bucket)
    base = base_prefix(prefix)
    pairs = [(root / rel, base + rel) for paths in report.files.values() for rel in paths]
    total = sum(path.stat().st_size for path, _ in pairs)
    with tqdm(total=total, unit="B", unit_scale=True, desc=f"uploading to s3://{bucket}/{base}", delay=0.5,
              leave=False, disable=not progress) as bar:
        for path, key in pairs:
            call(s3, "put_object", Bucket=bucket, Key=key, Body=path.read_bytes())
            bar.update(path.stat().st_size)
    return [key for _, key in pairs]
