"""Preview a scheduler's S3 input before submitting: list, detect the naming, sample, and say what will fail.

``preview_input`` lists the input prefix (at most ``max_keys`` keys), parses every name with the configured
naming (and detects the naming the files really use), reads the model's schema when a Lookout client is at hand,
reads the first ``sample_bytes`` of the newest file of each component with a ranged GET, and reports every known
mistake as a :class:`Finding` with a stable ``code``, a ``level`` and a message that says how to fix it.

>>> pv = preview_input(req, s3=s3)                                                 # doctest: +SKIP
>>> [(f.code, f.level) for f in pv.findings]                                       # doctest: +SKIP
[('rows-look-local', 'error')]
>>> pv.keys.columns.tolist()                                                       # doctest: +SKIP
['key', 'size', 'last_modified', 'component', 'time_local', 'time_utc', 'matches']

The rules follow the reference (§2.2-2.4): the run for the slot starting ``s`` covers rows in ``(s, s + F]`` (UTC),
wakes at ``s + F + DataDelayOffsetInMinutes``, and searches file names (local time) from ``s - F`` to ``s + 2F``;
every component of the schema needs a file there, on time, else the run fails; rows are UTC whatever the file
names' offset. The slot checks are ``lookout_nb.timing.plan_schedule`` and ``match_files`` on the listing.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pandas as pd

from . import _aws, servicemodel, servicetime
from .errors import LookoutNbError, NamingError, Problem, RequestInvalid, ResourceNotFound
from .filematch import FileMatch, match_files
from .inputfiles import read_input
from .naming import Naming, NamingCandidate, detect_naming, format_offset, to_utc
from .request import SchedulerRequest, parse_duration
from .schema import ModelSchema, SchemaError
from .timing import FILE_COLUMN, plan_schedule

__all__ = ["Finding", "InputPreview", "preview_input", "LEVELS", "CODES"]

#: Finding levels, most severe first.
LEVELS = ("error", "warning", "info")

#: Every finding code with what it means (stable: notebooks and tests match on them).
CODES = {
    "no-files": "the prefix holds no input file",
    "bucket-not-found": "the input bucket does not exist",
    "access-denied": "the credentials may not list or read the input",
    "s3-unreachable": "the S3 endpoint could not be reached or answered with an error",
    "listing-truncated": "the listing stopped at max_keys",
    "name-mismatch": "file names do not follow the configured naming",
    "naming-detected": "no naming was configured; the detected one was used",
    "naming-invalid": "the configured naming is not a valid one",
    "unknown-component": "files name a component the model's schema does not have",
    "missing-component": "a recent slot lacks the file of a schema component",
    "gap": "recent slots have no file at all",
    "late-files": "files arrived after the run that reads them woke up",
    "clock-skew": "files were modified after `now`: the S3 clock and `now` disagree",
    "frequency-too-fine": "the upload frequency is finer than the model's sampling rate",
    "model-not-found": "DescribeModel found no model of that name",
    "model-unavailable": "the model's schema could not be read",
    "empty-file": "an input file is empty or holds only a header",
    "csv-delimiter": "a file's columns are not separated by commas",
    "no-header": "a file's first line holds data, not column names",
    "missing-columns": "a file lacks columns of the schema",
    "extra-columns": "a file has columns the schema does not have",
    "not-numeric": "sensor values that are not numbers",
    "timestamp-unparseable": "row timestamps that cannot be read",
    "rows-outside-window": "rows outside the time window of the file's slot",
    "rows-look-local": "row timestamps are shifted by the time zone offset: rows must be UTC",
    "names-look-utc": "file names carry UTC where InputTimeZoneOffset says local time: the rows fit the UTC reading",
    "offset-detected": "no offset was configured; the rows show the file names' local offset",
    "sample-failed": "a sample file could not be read",
    "csv-malformed": "a file is not well-formed CSV (ragged rows, unclosed quotes): the parser's reason is quoted",
    "too-few-columns": "a file has a timestamp column only",
    "line-too-long": "a file's first line is too long to be a CSV header",
    "non-finite": "sensor values that are inf, -inf or nan: read as missing values",
    "no-values": "a sensor column without a single value",
}

_SHOWN = 3  # keys quoted in a message before "and N more"


@dataclass(frozen=True)
class Finding:
    """One thing found in the input: a stable ``code``, a ``level``, a message saying how to fix it, the keys.

    >>> Finding("empty-file", "error", "in/pump_20220330110000.csv is empty: upload the rows", ("in/x.csv",)).level
    'error'
    """

    code: str
    level: str
    message: str
    keys: tuple = ()

    def __post_init__(self):
        if self.level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, not {self.level!r}")
        object.__setattr__(self, "keys", tuple(self.keys))

    def __str__(self) -> str:
        return f"[{self.level}] {self.code}: {self.message}"


@dataclass
class InputPreview:
    """What ``preview_input`` found: the listed keys, the detected naming, sample rows and findings.

    >>> pv = InputPreview("bucket", "in/")
    >>> pv.ok, pv.by_level()
    (True, {'error': [], 'warning': [], 'info': []})
    """

    bucket: str
    prefix: str
    naming: Naming | None = None
    frequency: pd.Timedelta | None = None
    delay: pd.Timedelta = pd.Timedelta(0)
    keys: pd.DataFrame = field(default_factory=lambda: _empty_keys())
    detected: NamingCandidate | None = None
    samples: dict = field(default_factory=dict)
    sampled_keys: dict = field(default_factory=dict)
    #: Bytes read by the ranged GET of each sampled key.
    sample_reads: dict = field(default_factory=dict)
    findings: list = field(default_factory=list)
    listing_truncated: bool = False
    list_calls: int = 0
    bytes_read: int = 0
    model_name: str | None = None
    components: tuple | None = None
    columns: dict | None = None
    target_sampling_rate: str | None = None
    #: False when names are read with an assumed offset (no request given), so the rows may reveal the real one.
    offset_configured: bool = True
    #: The time the preview judged "now" by (None: the newest file's slot).
    now: pd.Timestamp | None = None
    #: The recent runs judged (``lookout_nb.timing.plan_schedule`` with the expected keys), None when not judged.
    plan: pd.DataFrame | None = None
    #: That plan matched against the listing (``lookout_nb.timing.match_files``), None when not judged.
    match: FileMatch | None = None
    #: The recent slots (UTC starts of the runs' windows) the slot checks covered.
    recent_slots: pd.DatetimeIndex = field(default_factory=lambda: pd.DatetimeIndex([], tz="UTC"))

    @property
    def errors(self) -> list[Finding]:
        """The findings that make runs fail."""
        return [f for f in self.findings if f.level == "error"]

    @property
    def warnings(self) -> list[Finding]:
        """The findings that may lose data or make some runs fail."""
        return [f for f in self.findings if f.level == "warning"]

    @property
    def ok(self) -> bool:
        """True when no finding is an error."""
        return not self.errors

    @property
    def codes(self) -> set[str]:
        """The codes of all findings: ``"rows-look-local" in pv.codes``."""
        return {f.code for f in self.findings}

    def by_level(self) -> dict[str, list[Finding]]:
        """Findings grouped by level, most severe first (every level present, maybe empty)."""
        return {level: [f for f in self.findings if f.level == level] for level in LEVELS}

    def find(self, code: str) -> list[Finding]:
        """The findings of one code."""
        return [f for f in self.findings if f.code == code]

    def __repr__(self) -> str:
        counts = ", ".join(f"{len(v)} {k}" for k, v in self.by_level().items() if v) or "no findings"
        return f"<InputPreview s3://{self.bucket}/{self.prefix}: {len(self.keys)} keys, {counts}>"

    def _repr_html_(self) -> str:
        return _render_html(self)


# -- entry point ---------------------------------------------------------------------------------------------------
def preview_input(
    request_or_location,
    s3=None,
    client=None,
    session=None,
    *,
    components=None,
    max_keys: int = 10_000,
    sample_bytes: int = 65536,
    sample_files: int = 1,
    recent: int = 12,
    now=None,
    target_sampling_rate: str | None = None,
    progress: bool = True,
) -> InputPreview:
    """List, detect, sample and check the input files of a scheduler; never raises for S3 or service errors.

    ``request_or_location`` is a :class:`SchedulerRequest`, ``"s3://bucket/prefix/"`` or ``(bucket, prefix)``.
    With a Lookout ``client`` (or a request naming a model, when a client can be made) the model's schema gives
    the components and columns; ``components`` gives them otherwise. Slot checks (``gap``, ``missing-component``)
    cover the ``recent`` slots up to the last run woken by ``now``: by default the time of the S3 service that
    holds the files (:func:`lookout_nb.servicetime.now`; the embedded endpoint's clock there, the real time on
    AWS), so lateness compares LastModified with the same clock; ``now="newest"`` judges the slots up to the
    newest file instead (old sample data, files copied from elsewhere).

    Example
    -------
    >>> pv = preview_input("s3://my-input/in/", s3=s3, progress=False)             # doctest: +SKIP
    >>> pv.detected.timestamp_format, pv.ok                                        # doctest: +SKIP
    ('yyyyMMddHHmmss', True)
    """
    target = _target(request_or_location)
    newest = isinstance(now, str) and now == "newest"
    now = None if now is None or newest else to_utc(now, name="now")  # before any call: a bad `now` fails fast
    pv = InputPreview(target.bucket, target.prefix, frequency=target.frequency, delay=target.delay,
                      model_name=target.model_name, target_sampling_rate=target_sampling_rate)
    _read_model(pv, client, session)
    if components is not None and pv.components is None:
        pv.components = tuple(components)
    try:
        s3 = _aws.s3_client(s3, session)
    except Exception as exc:  # noqa: BLE001 - e.g. a malformed endpoint URL or profile
        pv.findings.append(_s3_finding(exc, pv.bucket, pv.prefix))
        return pv

    listing = _list(pv, s3, max_keys, progress)
    if listing is None:
        return pv
    candidates = detect_naming(listing["key"], pv.components) or detect_naming(listing["key"])
    pv.detected = candidates[0] if candidates else None
    pv.naming = _effective_naming(pv, target)
    pv.offset_configured = target.request is not None
    pv.keys = _keys_table(listing, pv.naming)
    if pv.frequency is None:
        pv.frequency = _infer_frequency(pv.keys)
    pv.now = now if now is not None or newest else servicetime.now(s3)
    pv.plan, pv.match = _match_recent(pv, _plan_request(pv, target), recent)
    if pv.match is not None:
        pv.recent_slots = pd.DatetimeIndex(pv.match.runs["data_start"])

    pv.findings += _listing_findings(pv)
    pv.findings += _naming_findings(pv, target)
    pv.findings += _component_findings(pv)
    pv.findings += _slot_findings(pv)
    pv.findings += _clock_findings(pv)
    pv.findings += _late_findings(pv)
    pv.findings += _frequency_findings(pv, target)
    _sample(pv, s3, sample_bytes, sample_files)
    pv.findings.sort(key=lambda f: LEVELS.index(f.level))
    return pv


# -- where to look -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Target:
    bucket: str
    prefix: str
    request: SchedulerRequest | None = None
    model_name: str | None = None
    frequency: pd.Timedelta | None = None
    delay: pd.Timedelta = pd.Timedelta(0)


def _target(value) -> _Target:
    """Bucket, prefix and request settings from a SchedulerRequest, ``s3://bucket/prefix`` or ``(bucket, prefix)``.

    >>> _target("s3://my-input/in/").prefix
    'in/'
    """
    if isinstance(value, SchedulerRequest):
        if not value.input_bucket:
            raise RequestInvalid([Problem("DataInputConfiguration.S3InputConfiguration.Bucket",
                                          "is required to preview the input")])
        return _Target(value.input_bucket, value.input_prefix or "", value, value.model_name or None,
                       value.frequency, value.delay)
    if isinstance(value, str) and value.startswith("s3://"):
        bucket, _, prefix = value[5:].partition("/")
        return _Target(bucket, prefix)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(v, str) for v in value):
        return _Target(value[0], value[1])
    raise TypeError("preview_input takes a SchedulerRequest, 's3://bucket/prefix/' or (bucket, prefix)")


# -- the model's schema --------------------------------------------------------------------------------------------
def _read_model(pv: InputPreview, client, session) -> None:
    """Fill components, columns and TargetSamplingRate from DescribeModel; trouble becomes a finding."""
    if not pv.model_name:
        if client is not None:
            pv.findings.append(Finding("model-unavailable", "info", "a Lookout client was given but no model name: "
                                       "components and columns come from the file names and contents only"))
        return
    try:
        from ._service import call

        model = call(_aws.lookout_client(client, session), "describe_model", ModelName=pv.model_name)
    except ResourceNotFound:
        pv.findings.append(Finding("model-not-found", "warning", f"no model named {pv.model_name!r}: check "
                                   "ModelName (components and columns are checked against the files only)"))
        return
    except Exception as exc:  # noqa: BLE001 - no credentials, no region, unreachable, refused: all say the same
        pv.findings.append(Finding("model-unavailable", "info", f"could not read model {pv.model_name!r} "
                                   f"({_brief(exc)}); components and columns are checked against the files only"))
        return
    _apply_schema(pv, model)


def _apply_schema(pv: InputPreview, model: Mapping) -> None:
    """Components and columns from DescribeModel's ``Schema`` JSON string (see :class:`ModelSchema`)."""
    rate = (model.get("DataPreProcessingConfiguration") or {}).get("TargetSamplingRate")
    pv.target_sampling_rate = pv.target_sampling_rate or rate
    try:
        schema = ModelSchema.parse(model)
    except SchemaError as exc:
        pv.findings.append(Finding("model-unavailable", "info", f"the schema of model {pv.model_name!r} could not be "
                                   f"read ({exc}); components and columns are checked against the files only"))
        return
    pv.columns = schema.columns
    pv.components = schema.names


# -- listing -------------------------------------------------------------------------------------------------------
def _list(pv: InputPreview, s3, max_keys: int, progress: bool) -> pd.DataFrame | None:
    """Page through ListObjectsV2 (at most ``max_keys`` keys); S3 errors become findings and return None."""
    rows: list[dict] = []
    try:
        with _progress(progress, pv) as bar:
            token = None
            while len(rows) < max_keys:
                page = _list_page(s3, pv, max_keys - len(rows), token)
                rows += [{"key": o["Key"], "size": o["Size"], "last_modified": o["LastModified"]}
                         for o in page.get("Contents", [])]
                bar.update(len(page.get("Contents", [])))
                token = page.get("NextContinuationToken") if page.get("IsTruncated") else None
                if token is None:
                    break
            pv.listing_truncated = token is not None
    except Exception as exc:  # noqa: BLE001 - every S3 failure is reported, none is raised
        pv.findings.append(_s3_finding(exc, pv.bucket, pv.prefix))
        return None
    table = pd.DataFrame(rows, columns=["key", "size", "last_modified"])
    table["last_modified"] = pd.to_datetime(table["last_modified"], utc=True)
    return table[~table["key"].str.endswith("/")].reset_index(drop=True)  # folder markers are not files


def _list_page(s3, pv: InputPreview, remaining: int, token: str | None) -> dict:
    params = {"Bucket": pv.bucket, "Prefix": pv.prefix, "MaxKeys": min(1000, remaining)}
    if token:
        params["ContinuationToken"] = token
    pv.list_calls += 1
    return s3.list_objects_v2(**params)


def _progress(enabled: bool, pv: InputPreview):
    """A tqdm.auto bar for long listings (shown after half a second; a widget in notebooks)."""
    from tqdm.auto import tqdm

    return tqdm(desc=f"listing s3://{pv.bucket}/{pv.prefix}", unit=" keys", disable=not enabled, delay=0.5,
                leave=False)


def _s3_finding(exc: Exception, bucket: str, prefix: str) -> Finding:
    """The finding for an S3 failure: missing bucket, denied access, unreachable endpoint."""
    where = f"s3://{bucket}/{prefix}"
    code, status = _error_code(exc)
    if code == "NoSuchBucket" or status == 404:
        return Finding("bucket-not-found", "error", f"bucket {bucket!r} does not exist: check "
                       "DataInputConfiguration.S3InputConfiguration.Bucket (and the account/region of the endpoint)")
    if code in ("AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch",
                "ExpiredToken", "NoCredentialsError") or status == 403:
        return Finding("access-denied", "error", f"access to {where} was denied ({code or status}): grant "
                       "s3:ListBucket on the bucket and s3:GetObject on the prefix to these credentials and to the "
                       "scheduler's RoleArn")
    return Finding("s3-unreachable", "error", f"could not list {where}: {_brief(exc)}; check the endpoint "
                   "(AWS_ENDPOINT_URL), the network and the region")


def _error_code(exc: Exception) -> tuple[str, int]:
    """(error code, HTTP status) of a botocore error; the class name for client-side errors."""
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        return (response.get("Error", {}).get("Code", ""),
                int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0))
    return type(exc).__name__, 0


def _brief(exc: Exception) -> str:
    code, _ = _error_code(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if code in text else f"{code}: {text}"


# -- names ---------------------------------------------------------------------------------------------------------
def _effective_naming(pv: InputPreview, target: _Target) -> Naming | None:
    """The configured naming; the detected one when nothing is configured (or the configured one is invalid)."""
    offset = target.request.timezone_offset if target.request else None
    if target.request is not None:
        try:
            return target.request.naming
        except NamingError as exc:
            pv.findings.append(Finding("naming-invalid", "error", f"{exc}; names are read with the detected naming"))
    if pv.detected is None:
        return None
    try:
        return pv.detected.naming(offset)
    except NamingError:
        return pv.detected.naming()


def _keys_table(listing: pd.DataFrame, naming: Naming | None) -> pd.DataFrame:
    """key, size, last_modified, component, time_local, time_utc, matches: one row per listed key."""
    if listing.empty:
        return _empty_keys()
    if naming is None:
        parsed = pd.DataFrame({"component": None, "time_local": pd.NaT, "time_utc": pd.NaT, "matches": False},
                              index=listing.index)
        parsed["time_utc"] = pd.to_datetime(parsed["time_utc"], utc=True)
    else:
        parsed = naming.parse_many(listing["key"]).drop(columns=["key", "folder"])
    return pd.concat([listing, parsed.set_index(listing.index)], axis=1)


def _empty_keys() -> pd.DataFrame:
    return pd.DataFrame({"key": pd.Series(dtype=object), "size": pd.Series(dtype="int64"),
                         "last_modified": pd.Series(dtype="datetime64[ns, UTC]"),
                         "component": pd.Series(dtype=object), "time_local": pd.Series(dtype="datetime64[ns]"),
                         "time_utc": pd.Series(dtype="datetime64[ns, UTC]"), "matches": pd.Series(dtype=bool)})


def _infer_frequency(keys: pd.DataFrame) -> pd.Timedelta | None:
    """The most common step between the file times, when it is one of the API's upload frequencies."""
    times = pd.Series(keys.loc[keys["matches"], "time_utc"].unique()).sort_values()
    steps = times.diff().dropna()
    if steps.empty:
        return None
    step = steps.mode().iloc[0]
    return step if step in _frequencies() else None


def _frequencies() -> dict:
    """The API's upload frequencies (from the service model) by duration: ``{Timedelta(minutes=5): "PT5M", ...}``."""
    return {parse_duration(f): f for f in servicemodel.enum("DataUploadFrequency")}


def _quote(keys, total: int | None = None) -> str:
    """The first few keys, then "and N more"."""
    keys = list(keys)
    total = len(keys) if total is None else total
    shown = ", ".join(repr(k) for k in keys[:_SHOWN])
    return shown + (f" and {total - _SHOWN} more" if total > _SHOWN else "")


def _pattern(fmt: str, delimiter: str) -> str:
    return f"<component>{delimiter}<{fmt}>.csv"


# -- checks on the listing -----------------------------------------------------------------------------------------
def _listing_findings(pv: InputPreview) -> list[Finding]:
    """no-files, listing-truncated and empty (zero-byte) files."""
    out = []
    where = f"s3://{pv.bucket}/{pv.prefix}"
    if pv.keys.empty:
        hint = "" if pv.prefix.endswith("/") or not pv.prefix else " (the prefix does not end with '/')"
        out.append(Finding("no-files", "error", f"no input file under {where}{hint}: upload one CSV per component "
                           "and slot there, or fix the bucket/prefix"))
    if pv.listing_truncated:
        out.append(Finding("listing-truncated", "warning", f"the listing stopped after {len(pv.keys):,} keys "
                           f"({pv.list_calls} ListObjectsV2 calls); gap and missing-component checks were skipped "
                           "because later keys were not seen: raise max_keys to check everything"))
    empty = pv.keys.loc[pv.keys["size"] == 0, "key"]
    if len(empty):
        out.append(Finding("empty-file", "error", f"{len(empty)} input files are empty (0 bytes): "
                           f"{_quote(empty)}; their runs fail: upload the header and rows", tuple(empty)))
    return out


def _naming_findings(pv: InputPreview, target: _Target) -> list[Finding]:
    """name-mismatch (offering the detected naming) or naming-detected when nothing was configured."""
    keys, naming, best = pv.keys, pv.naming, pv.detected
    if keys.empty:
        return []
    out = []
    if target.request is None and naming is not None:
        out.append(Finding("naming-detected", "info", f"no request given: names read as "
                           f"{_pattern(naming.timestamp_format, naming.delimiter)} with offset "
                           f"{naming.timezone_offset} (the offset cannot be seen in names)"))
    bad = keys.loc[~keys["matches"], "key"]
    if bad.empty:
        return out
    level = "error" if len(bad) == len(keys) else "warning"
    expected = _pattern(naming.timestamp_format, naming.delimiter) if naming else "<component>_<timestamp>.csv"
    message = f"{len(bad)} of {len(keys)} files do not follow {expected} and will be ignored: {_quote(bad)}"
    if best is not None and naming is not None and (best.timestamp_format, best.delimiter) != (
            naming.timestamp_format, naming.delimiter) and best.share > keys["matches"].mean():
        message += (f". They look like {_pattern(best.timestamp_format, best.delimiter)} ({best.share:.0%} of the "
                    f"files): set TimestampFormat={best.timestamp_format!r} and "
                    f"ComponentTimestampDelimiter={best.delimiter!r}, or rename the files")
    else:
        message += f"; rename them like {naming.key('pump', '2022-03-30 11:00', pv.prefix)!r}" if naming else ""
    return out + [Finding("name-mismatch", level, message, tuple(bad))]


def _component_findings(pv: InputPreview) -> list[Finding]:
    """unknown-component: files named after components the schema does not have."""
    if not pv.components:
        return []
    matched = pv.keys[pv.keys["matches"]]
    unknown = matched[~matched["component"].isin(pv.components)]
    if unknown.empty:
        return []
    names = sorted(unknown["component"].unique())
    level = "error" if len(unknown) == len(matched) else "warning"
    return [Finding("unknown-component", level, f"{len(unknown)} files name components the model does not have "
                    f"({_quote(names)}); they are ignored. The schema's components are {_quote(pv.components)}: "
                    "rename the files (names are case-sensitive)", tuple(unknown["key"]))]


def _expected_components(pv: InputPreview) -> tuple:
    if pv.components:
        return tuple(pv.components)
    return tuple(sorted(pv.keys.loc[pv.keys["matches"], "component"].unique()))


def _plan_request(pv: InputPreview, target: _Target) -> SchedulerRequest | None:
    """A request with what the slot checks need: the effective frequency, delay, naming and prefix (else None)."""
    name = _frequencies().get(pv.frequency)
    if name is None or pv.naming is None:
        return None
    prefix = pv.prefix
    if prefix and not prefix.endswith("/"):  # a partial prefix ("in", "in/pump"): the folder the files sit in
        folders = pv.keys.loc[pv.keys["matches"], "key"].str.rpartition("/")[0]
        prefix = folders.mode().iloc[0] + "/" if len(folders) and folders.mode().iloc[0] else ""
    return SchedulerRequest(upload_frequency=name, delay_offset_minutes=int(pv.delay.total_seconds() // 60),
                            input_prefix=prefix, timezone_offset=pv.naming.timezone_offset,
                            timestamp_format=pv.naming.timestamp_format, delimiter=pv.naming.delimiter)


def _match_recent(pv: InputPreview, req: SchedulerRequest | None, recent: int):
    """(plan, ``match_files`` of the listing against the ``recent`` runs up to the newest file's run (or the last run woken
    by ``now``), leaving out runs whose window ends before the first file (nothing was uploaded yet: no gap).

    Files modified after ``now`` carry no LastModified here (clock-skew judges them, not late-files).
    """
    matched = pv.keys[pv.keys["matches"]]
    comps = _expected_components(pv)
    if req is None or matched.empty or not comps or recent <= 0:
        return None, None
    try:
        if pv.now is None:  # the run named for the newest file: the first boundary after its time ends its window
            end = plan_schedule(req, start=matched["time_utc"].max(), periods=1)["wake_time"].iloc[0]
        else:
            end = pv.now
        plan = plan_schedule(req, start=end - pv.delay - (recent + 1) * pv.frequency, end=end, components=comps)
    except LookoutNbError:  # e.g. a delay the API refuses: the request's own problems say so
        return None, None
    plan = plan.tail(recent)
    plan = plan[plan["data_end"] > matched["time_utc"].min()]
    future = _from_the_future(pv)[matched.index]
    listing = pd.DataFrame({"Key": matched["key"], "LastModified": matched["last_modified"].mask(future)})
    return plan, match_files(plan, listing, components=list(comps))


def _slot_findings(pv: InputPreview) -> list[Finding]:
    """gap (recent runs that find no file at all), missing-component (runs lacking a component: error; runs
    reading a neighbouring slot's file for want of one named for their own slot: warning).

    A run whose own file arrived late is left to late-files (one cause, one finding).
    """
    m = pv.match
    if m is None or m.runs.empty or pv.listing_truncated:
        return []
    runs, own = m.runs, _own_files(m)
    gap = [r for r in runs.index[runs["files"] == 0] if not any((r, c) in own for c in m.components)]
    out = []
    if gap:
        below = _folder_below(pv)
        fix = (f"the files named for them are in {below!r}, a folder below the prefix {pv.prefix!r} that the "
               f"scheduler does not read (it reads the files directly under its prefix): set the prefix to "
               f"{below!r}" if below else
               "upload one file per component for every slot (named with the slot start, local time)")
        out.append(Finding("gap", "warning", f"{len(gap)} of the {len(runs)} recent slots have no file at all "
                           f"({_quote(_slot_text(runs.loc[gap, 'data_start']))}); the runs for them FAIL: {fix}"))
    missing = m.missing[~m.missing["run"].isin(gap)]
    missing = missing[pd.Series([(r, c) not in own for r, c in zip(missing["run"], missing["component"])],
                                index=missing.index, dtype=bool)]
    out += _missing_components(pv.plan, m, [r for r in runs.index if r not in set(gap)], missing)
    out += _unnamed_findings(pv, m, own, set(zip(m.missing["run"], m.missing["component"])))
    return out


def _folder_below(pv: InputPreview) -> str | None:
    """The folder below the prefix that holds most correctly named files (the scheduler reads none of them), if any.

    >>> pv = InputPreview("b", "inference/")
    >>> pv.keys = pd.DataFrame({"key": ["inference/input/pump_20260105090000.csv"], "matches": [True]})
    >>> _folder_below(pv)
    'inference/input/'
    """
    keys = pv.keys.loc[pv.keys["matches"], "key"]
    folders = keys.str.rpartition("/")[0] + "/"
    below = folders[(folders != (pv.prefix or "/")) & folders.str.startswith(pv.prefix or "")]
    return below.mode().iloc[0] if len(below) else None


def _own_files(m: FileMatch) -> set:
    """(run, component) pairs that have a file named for the run's own slot, on time or late."""
    files = m.files[m.files["run"].notna()]
    return set(zip(files["run"].astype(int), files["component"]))


def _expected_key(plan: pd.DataFrame, run, component: str) -> str:
    """The key named for the run's own slot (from the plan's ``file:<component>`` column)."""
    return plan.at[run, FILE_COLUMN + component]


def _missing_components(plan: pd.DataFrame, m: FileMatch, runs, missing: pd.DataFrame) -> list[Finding]:
    """One finding per component absent from every run's search range, then one per run for the others."""
    no_file = missing[missing["reason"] == "no file"]
    always = [c for c in m.components if runs and no_file.loc[no_file["component"] == c, "run"].nunique() == len(runs)]
    out = [Finding("missing-component", "error", f"component {c!r} has no file in any of the {len(runs)} recent "
                   f"slots (expected e.g. {_expected_key(plan, runs[-1], c)!r}); every run FAILS with "
                   "'Could not find data file for sensor': upload its files",
                   tuple(_expected_key(plan, r, c) for r in runs)) for c in always]
    for run, rows in missing[~missing["component"].isin(always)].groupby("run", sort=True):
        lacking = rows["component"].tolist()
        keys = tuple(_expected_key(plan, run, c) for c in lacking)
        slot = _slot_text([rows["data_start"].iloc[0]])[0]
        if (rows["reason"] == "no file").all():
            why = f"lacks the files of {_quote(lacking)} (expected {_quote(keys)}, or a neighbouring slot's)"
        else:
            why = (f"has no file of {_quote(lacking)} that was there when its run woke at "
                   f"{rows['wake_time'].iloc[0]:%H:%M} UTC (expected {_quote(keys)}; late files do not count)")
        out.append(Finding("missing-component", "error", f"slot {slot} {why}; its run FAILS: every component needs "
                           "a file for every slot", keys))
    return out


def _unnamed_findings(pv: InputPreview, m: FileMatch, own: set, missing: set) -> list[Finding]:
    """missing-component (warning): runs that find a component only in a file named for a neighbouring slot."""
    pairs = [(r, c) for r in m.runs.index for c in m.components if (r, c) not in own and (r, c) not in missing]
    if not pairs:
        return []
    runs = m.runs.loc[sorted({r for r, _ in pairs})]
    comps = sorted({c for _, c in pairs}, key=m.components.index)
    keys = tuple(_expected_key(pv.plan, r, c) for r, c in pairs)
    step = _infer_frequency(pv.keys)
    hint = (f", or set DataUploadFrequency to {_frequencies()[step]!r}, the step between the files' names"
            if step is not None and step > pv.frequency else "")
    return [Finding("missing-component", "warning", f"{len(runs)} of the {len(m.runs)} recent slots have no file of "
                    f"{_quote(comps)} named for them ({_quote(_slot_text(runs['data_start']))}; expected e.g. "
                    f"{_quote(keys[:1])}): their runs read a neighbouring slot's file instead (names are searched "
                    "from one slot before the window to one slot after) and FAIL unless it holds rows of their "
                    f"window: upload one file per component for every slot, named with the slot start{hint}", keys)]


def _slot_text(slots) -> list[str]:
    return [pd.Timestamp(s).strftime("%Y-%m-%d %H:%M UTC") for s in slots]


def _late_findings(pv: InputPreview) -> list[Finding]:
    """late-files: recent files modified after the wake-up of the run they are named for (``FileMatch.late``).

    Without a request the delay and offset are assumed (0, +00:00), so the finding is only information then.
    """
    m = pv.match
    if m is None or m.late.empty:
        return []
    late = m.late
    files = m.files
    named = int((files["run"].notna() & files["last_modified"].notna()).sum())  # files after `now` are not judged
    worst = late["after_wake"].max()
    needed = math.ceil((pv.delay + worst).total_seconds() / 60)
    fix = (f"set DataDelayOffsetInMinutes to at least {needed}" if needed <= 60
           else "upload sooner: the delay cannot exceed 60 minutes")
    level = "warning" if pv.offset_configured else "info"
    assumed = "" if pv.offset_configured else " (no request: delay 0 and names in UTC assumed)"
    return [Finding("late-files", level, f"{len(late)} of {named} recent files arrived after the run that reads "
                    f"them woke up (window end + {int(pv.delay.total_seconds() // 60)} min), up to "
                    f"{_minutes(worst)} late{assumed}: {_quote(late['key'])}; those runs FAIL or miss the data: "
                    f"upload each file before its window ends, or {fix}", tuple(late["key"]))]


def _from_the_future(pv: InputPreview) -> pd.Series:
    """Keys modified after ``now`` (plus 5 minutes of clock tolerance): S3's clock and ``now`` disagree."""
    if pv.now is None:
        return pd.Series(False, index=pv.keys.index)
    return pv.keys["last_modified"] > pv.now + pd.Timedelta(minutes=5)


def _clock_findings(pv: InputPreview) -> list[Finding]:
    """clock-skew: files modified after ``now`` (e.g. a simulated clock), left out of the late-files check."""
    future = pv.keys.loc[_from_the_future(pv), "key"]
    if future.empty:
        return []
    return [Finding("clock-skew", "info", f"{len(future)} files were modified after now ({pv.now:%Y-%m-%d %H:%M} "
                    f"UTC), e.g. {_quote(future[:1])}: the S3 clock and `now` disagree (a simulated clock?), so "
                    "late-files does not judge them", tuple(future))]


def _minutes(delta: pd.Timedelta) -> str:
    return f"{delta.total_seconds() / 60:.0f} min"


def _frequency_findings(pv: InputPreview, target: _Target) -> list[Finding]:
    """frequency-too-fine: the request's own DataUploadFrequency problem against the model's TargetSamplingRate.

    Without a request (or when its frequency is unset or invalid) the frequency inferred from the file names is put
    in a ``SchedulerRequest`` and asked the same question, so the rule lives in request.py alone.
    """
    if not pv.target_sampling_rate:
        return []
    req, inferred = target.request, ""
    if req is None or req.frequency is None:
        name = _frequencies().get(pv.frequency)
        if name is None:
            return []
        req, inferred = SchedulerRequest(upload_frequency=name), f"the files arrive every {name}: "
    field = "DataUploadFrequency"
    before = {p.message for p in req.problems() if p.field == field}
    found = [p for p in req.problems(target_sampling_rate=pv.target_sampling_rate)
             if p.field == field and p.message not in before]
    return [Finding("frequency-too-fine", "error", f"{inferred}DataUploadFrequency {p.message}: otherwise each "
                    "run finds too few rows")
            for p in found]


# -- samples -------------------------------------------------------------------------------------------------------
def _sample(pv: InputPreview, s3, sample_bytes: int, sample_files: int) -> None:
    """Ranged GETs of the newest file(s) per component; fills samples, sampled_keys, bytes_read, findings."""
    chosen = _newest(pv.keys, sample_files)
    if chosen.empty:
        return
    with ThreadPoolExecutor(max_workers=min(8, len(chosen))) as pool:
        bodies = list(pool.map(lambda key: _ranged_get(s3, pv.bucket, key, sample_bytes), chosen["key"]))
    for row, body in zip(chosen.itertuples(index=False), bodies):
        if isinstance(body, Exception):
            pv.findings.append(Finding("sample-failed", "warning", f"could not read {row.key!r}: {_brief(body)}; "
                                       "check s3:GetObject on the prefix", (row.key,)))
            continue
        pv.bytes_read += len(body)
        pv.sample_reads[row.key] = len(body)
        label = row.component if isinstance(row.component, str) else row.key.rsplit("/", 1)[-1]
        table, found = _check_sample(pv, row, body)
        pv.findings += found
        if table is not None:  # oldest first, so the newest file's rows are the ones kept
            pv.samples[label] = table
            pv.sampled_keys[label] = row.key


def _newest(keys: pd.DataFrame, per_component: int) -> pd.DataFrame:
    """The newest non-empty file(s) of each component (by name time); the newest CSV when no name matches."""
    files = keys[keys["size"] > 0]
    matched = files[files["matches"]]
    if not matched.empty:
        return matched.sort_values("time_utc").groupby("component", sort=True).tail(per_component)
    csv = files[files["key"].str.lower().str.endswith(".csv")]
    return csv.sort_values("last_modified").tail(per_component)


def _ranged_get(s3, bucket: str, key: str, sample_bytes: int):
    """The first ``sample_bytes`` of an object (a Range GET; never the whole object), or the exception."""
    try:
        response = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{sample_bytes - 1}")
        with response["Body"] as stream:
            return stream.read(sample_bytes)
    except Exception as exc:  # noqa: BLE001 - reported as a finding by the caller
        return exc


def _check_sample(pv: InputPreview, row, body: bytes) -> tuple[pd.DataFrame | None, list[Finding]]:
    """Read a sample with the run's own reader (:func:`lookout_nb.inputfiles.read_input`): its problems become
    findings, then the row times are checked against the slot of the file's name."""
    columns = _schema_columns(pv, row.component)  # the schema's columns: the timestamp first, then the sensors
    read = read_input(body, row.key, columns[1:] if columns else None, size=row.size)
    found = [Finding(p.code, p.level, p.message, (row.key,)) for p in read.problems]
    if read.raw is None:
        return None, found
    found += _window_findings(pv, row, read.times)
    return _typed(read.raw, read.times), found


def _schema_columns(pv: InputPreview, component) -> tuple | None:
    return (pv.columns or {}).get(component) if isinstance(component, str) else None


def _typed(raw: pd.DataFrame, times: pd.Series) -> pd.DataFrame:
    """The sample as shown: times as UTC when every one parses, numbers as numbers where the cells hold them."""
    table = raw.apply(lambda col: pd.to_numeric(col, errors="coerce") if col.name != raw.columns[0] else col)
    table = table.where(table.notna() | (raw == ""), raw)  # cells that are no number stay as written
    if times.notna().all():
        table = table.assign(**{str(raw.columns[0]): times})
    return table


def _window_findings(pv: InputPreview, row, times: pd.Series) -> list[Finding]:
    """rows-look-local, names-look-utc, rows-outside-window or offset-detected, for the window of the file's slot."""
    if pv.frequency is None or pv.naming is None or not row.matches or times.notna().sum() == 0:
        return []
    freq, key, valid = pv.frequency, row.key, times.dropna()
    start = row.time_utc.floor(freq)
    inside = _inside(valid, start, start + freq)
    if inside.mean() < 0.5:
        implied = _implied_offset(valid, row.time_local, freq)
        if implied is not None and pv.naming.offset != implied:
            return [_offset_finding(pv, row, start, implied)]
    if inside.all():
        return []
    never = ~_inside(valid, start - freq, start + 2 * freq)
    if inside.any() and not never.any():
        return []  # rows of the neighbouring windows are read by the neighbouring runs, which open this file too
    level = "error" if not inside.any() else "warning"
    consequence = ("its run FAILS with 'Could not find data ... within expected time range'" if not inside.any()
                   else f"{int(never.sum())} rows are never scored")
    return [Finding("rows-outside-window", level, f"{key!r}: {int((~inside).sum())} of {len(valid)} sampled rows "
                    f"(from {valid.min():%Y-%m-%d %H:%M} to {valid.max():%Y-%m-%d %H:%M} UTC) lie outside its "
                    f"window {_window_text(start, freq)}; {consequence}: put the rows of each window in the file "
                    "named with the window start", (key,))]


def _implied_offset(valid: pd.Series, name_local: pd.Timestamp, freq: pd.Timedelta) -> pd.Timedelta | None:
    """The InputTimeZoneOffset (a multiple of 15 min) under which most rows fall in the name's window, if any.

    Names carry local time = UTC + offset, rows are UTC, so the window of a name is (local - offset, ... + F].
    """
    local = name_local.tz_localize("UTC")
    offset = (local + freq - valid.max()).round("15min")
    if not pd.Timedelta(hours=-12) <= offset <= pd.Timedelta(hours=14):
        return None
    return offset if _inside(valid, local - offset, local - offset + freq).mean() >= 0.5 else None


def _offset_finding(pv: InputPreview, row, start: pd.Timestamp, implied: pd.Timedelta) -> Finding:
    """The rows sit where another InputTimeZoneOffset would put the window: say which reading fixes it."""
    key = row.key
    window = _window_text(start, pv.frequency)
    if implied == pd.Timedelta(0):
        return _shifted_by_offset(pv, row, window)
    text = format_offset(implied)
    if not pv.offset_configured:
        return Finding("offset-detected", "info", f"{key!r}: the rows (UTC) sit {_hours(implied)} before the time "
                       f"in the file's name, so the names look like local time UTC{text}: set "
                       f"InputTimeZoneOffset={text!r} in the request", (key,))
    return Finding("rows-outside-window", "error", f"{key!r}: no sampled row lies in the file's window {window} "
                   f"(its run FAILS), but they would under InputTimeZoneOffset {text!r}: if the file names carry "
                   f"local time UTC{text}, set InputTimeZoneOffset={text!r}; otherwise fix the rows", (key,))


def _shifted_by_offset(pv: InputPreview, row, window: str) -> Finding:
    """Rows at the name's own clock time, InputTimeZoneOffset apart from its window: rows local, or names UTC?

    Both mistakes look the same inside one file; when the file came (``now``, else its LastModified) tells them
    apart, so the first fix offered is the one for the mistake made, and both are offered when it cannot tell.
    """
    key, configured, shift = row.key, pv.naming.timezone_offset, _hours(pv.naming.offset)
    seen = f"the rows are {shift} away from the file's window {window}, exactly the InputTimeZoneOffset {configured}"
    names_utc, when = _names_read_as_utc(pv, row)
    if names_utc:
        return Finding("names-look-utc", "error", f"{key!r}: {seen}, and its name's time "
                       f"({row.time_local:%Y-%m-%d %H:%M}) is near {when} only when read as UTC: the file names "
                       "carry UTC, not local time. Set InputTimeZoneOffset to +00:00 (or name the files in local "
                       f"time, UTC{configured}); the rows (UTC) are right", (key,))
    if names_utc is False:
        return Finding("rows-look-local", "error", f"{key!r}: {seen}, and its name is near {when} when read as "
                       "local time: the rows carry local time, but rows must be UTC (only file names use local "
                       "time). Write row timestamps in UTC", (key,))
    return Finding("rows-look-local", "error", f"{key!r}: {seen}: rows must be UTC and file names local time "
                   f"(UTC{configured}). If the rows carry local time, write them in UTC; if the file names carry "
                   "UTC, set InputTimeZoneOffset to +00:00", (key,))


def _names_read_as_utc(pv: InputPreview, row) -> tuple[bool | None, str]:
    """Whether a name reads as UTC (True) or as local time (False) by when its file came; None when unclear.

    The time the file came is ``now`` (files are written around their slot), else its LastModified; the reading
    of the name within half the offset of it wins. Also returns how that time is called in a message.
    """
    when, name = (pv.now, "now") if pv.now is not None else (getattr(row, "last_modified", None), "its upload")
    if when is None or pd.isna(when):
        return None, ""
    near = abs(pv.naming.offset) / 2
    as_local, as_utc = abs(when - row.time_utc), abs(when - row.time_local.tz_localize("UTC"))
    verdict = True if as_utc < near <= as_local else False if as_local < near <= as_utc else None
    return verdict, f"{name} ({when:%Y-%m-%d %H:%M} UTC)"


def _inside(times: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """Rows in the left-open, right-closed window (start, end]."""
    return (times > start) & (times <= end)


def _window_text(start: pd.Timestamp, freq: pd.Timedelta) -> str:
    return f"({start:%Y-%m-%d %H:%M}, {start + freq:%H:%M}] UTC"


def _hours(offset: pd.Timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    return f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:d}h{abs(minutes) % 60:02d}"


# -- notebook display ----------------------------------------------------------------------------------------------
_COLOURS = {"error": "#b00020", "warning": "#b26a00", "info": "#1f5fa8"}


def _render_html(pv: InputPreview) -> str:
    """Summary, detected naming, findings by level in colour, and the head of each sample."""
    esc = html.escape
    matched = int(pv.keys["matches"].sum()) if len(pv.keys) else 0
    parts = [f"<div><b>Input preview</b> <code>s3://{esc(pv.bucket)}/{esc(pv.prefix)}</code>: "
             f"{len(pv.keys):,} keys{' (listing stopped early)' if pv.listing_truncated else ''}, {matched:,} "
             f"follow the naming; ListObjectsV2 calls: {pv.list_calls}, bytes sampled: {pv.bytes_read:,}. "
             f"<b style='color:{_COLOURS['error'] if pv.errors else '#2e7d32'}'>"
             f"{'will fail' if pv.errors else 'no errors found'}</b></div>"]
    if pv.naming is not None:
        parts.append(f"<div>Naming: <code>{esc(_pattern(pv.naming.timestamp_format, pv.naming.delimiter))}</code>, "
                     f"offset <code>{esc(pv.naming.timezone_offset)}</code></div>")
    if pv.detected is not None:
        d = pv.detected
        parts.append(f"<div>Detected: <code>{esc(_pattern(d.timestamp_format, d.delimiter))}</code> "
                     f"({d.share:.0%} of the keys; components {esc(_quote(d.components))})</div>")
    for level, items in pv.by_level().items():
        if items:
            rows = "".join(f"<li><code>{esc(f.code)}</code>: {esc(f.message)}</li>" for f in items)
            parts.append(f"<div style='color:{_COLOURS[level]}'><b>{level} ({len(items)})</b><ul>{rows}</ul></div>")
    for component, table in pv.samples.items():
        parts.append(f"<details><summary>sample of <code>{esc(str(component))}</code> "
                     f"(<code>{esc(pv.sampled_keys.get(component, ''))}</code>, {len(table)} rows)</summary>"
                     f"{table.head(5).to_html(index=False)}</details>")
    return "".join(parts)
