"""The sample checks: the first bytes of the newest file(s) of each component, read by a ranged GET and by the
run's own reader (:func:`lookout_nb.contract.inputfiles.read_input`), whose problems become findings; then the rows'
times against the window of the file's name: ``rows-outside-window``, ``rows-look-local``, ``names-look-utc``,
``offset-detected``.

>>> rules = WindowRules(pd.Timedelta(minutes=5), Naming(timezone_offset="+05:30"), offset_configured=True, now=None)
>>> body = b"Timestamp,Flow\\n2022-03-30T16:31:00,1.5\\n"    # local time in the rows: they must be UTC
>>> row, = pd.DataFrame({"key": ["in/pump_20220330163000.csv"], "size": [len(body)], "component": ["pump"],
...                      "matches": [True], "time_local": [pd.Timestamp("2022-03-30 16:30")],
...                      "time_utc": [pd.Timestamp("2022-03-30 11:00Z")]}).itertuples(index=False)
>>> table, found = check_sample(row, body, None, rules)
>>> [f.code for f in found]
['rows-look-local']
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pandas as pd

from ..contract.inputfiles import read_input
from ..contract.naming import Naming, format_offset
from ._findings import Finding
from ._text import brief, hours, window_text


@dataclass(frozen=True)
class WindowRules:
    """What a sample's rows are judged by: the slot length, the naming its name is read with, whether that
    naming's offset was configured (else the rows may reveal it), and the time the files are judged at."""

    frequency: pd.Timedelta | None
    naming: Naming | None
    offset_configured: bool = True
    now: pd.Timestamp | None = None


#: The sample tables' last column: the name of the file each row was read from.
FILE_COLUMN = "file"


@dataclass
class Samples:
    """The rows read per component (``tables``), the key each came from, the bytes read per key, the findings."""

    tables: dict = field(default_factory=dict)
    keys: dict = field(default_factory=dict)
    reads: dict = field(default_factory=dict)
    findings: list = field(default_factory=list)

    @property
    def bytes_read(self) -> int:
        """Bytes read by all the ranged GETs."""
        return sum(self.reads.values())


def read_samples(s3, bucket: str, keys: pd.DataFrame, *, sample_bytes: int, sample_files: int, columns,
                 rules: WindowRules) -> Samples:
    """Ranged GETs of the newest file(s) per component, each checked (``columns``: the schema's, by component)."""
    out = Samples()
    chosen = _newest(keys, sample_files)
    if chosen.empty:
        return out
    with ThreadPoolExecutor(max_workers=min(8, len(chosen))) as pool:
        bodies = list(pool.map(lambda key: _ranged_get(s3, bucket, key, sample_bytes), chosen["key"]))
    for row, body in zip(chosen.itertuples(index=False), bodies):
        if isinstance(body, Exception):
            out.findings.append(Finding("sample-failed", "warning", f"could not read {row.key!r}: {brief(body)}; "
                                        "check s3:GetObject on the prefix", (row.key,)))
            continue
        out.reads[row.key] = len(body)
        schema = (columns or {}).get(row.component) if isinstance(row.component, str) else None
        table, found = check_sample(row, body, schema, rules)
        out.findings += found
        if table is not None:  # oldest first, so the newest file's rows are the ones kept
            label = row.component if isinstance(row.component, str) else row.key.rsplit("/", 1)[-1]
            out.tables[label] = table.assign(**{FILE_COLUMN: row.key.rsplit("/", 1)[-1]})  # each row names its file
            out.keys[label] = row.key
    return out


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


def check_sample(row, body: bytes, columns, rules: WindowRules) -> tuple[pd.DataFrame | None, list[Finding]]:
    """Read a sample with the run's own reader: its problems become findings, then the row times are checked
    against the slot of the file's name. ``columns``: the schema's (the timestamp first, then the sensors)."""
    read = read_input(body, row.key, columns[1:] if columns else None, size=row.size)
    found = [Finding(p.code, p.level, p.message, (row.key,)) for p in read.problems]
    if read.raw is None:
        return None, found
    found += window_findings(row, read.times, rules)
    return _typed(read.raw, read.times), found


def _typed(raw: pd.DataFrame, times: pd.Series) -> pd.DataFrame:
    """The sample as shown: times as UTC when every one parses, numbers as numbers where the cells hold them."""
    table = raw.apply(lambda col: pd.to_numeric(col, errors="coerce") if col.name != raw.columns[0] else col)
    table = table.where(table.notna() | (raw == ""), raw)  # cells that are no number stay as written
    if times.notna().all():
        table = table.assign(**{str(raw.columns[0]): times})
    return table


def window_findings(row, times: pd.Series, rules: WindowRules) -> list[Finding]:
    """rows-look-local, names-look-utc, rows-outside-window or offset-detected, for the window of the file's slot."""
    if rules.frequency is None or rules.naming is None or not row.matches or times.notna().sum() == 0:
        return []
    freq, key, valid = rules.frequency, row.key, times.dropna()
    start = row.time_utc.floor(freq)
    inside = _inside(valid, start, start + freq)
    if inside.mean() < 0.5:
        implied = _implied_offset(valid, row.time_local, freq)
        if implied is not None and rules.naming.offset != implied:
            return [_offset_finding(row, start, implied, rules)]
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
                    f"window {window_text(start, freq)}; {consequence}: put the rows of each window in the file "
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


def _naming(rules: WindowRules) -> Naming:
    """The rules' naming, where a window finding is made (only with a naming: :func:`window_findings`)."""
    assert rules.naming is not None, "window findings are made only with a naming"
    return rules.naming


def _offset_finding(row, start: pd.Timestamp, implied: pd.Timedelta, rules: WindowRules) -> Finding:
    """The rows sit where another InputTimeZoneOffset would put the window: say which reading fixes it."""
    key = row.key
    window = window_text(start, rules.frequency)
    if implied == pd.Timedelta(0):
        return _shifted_by_offset(row, window, rules)
    text = format_offset(implied)
    if not rules.offset_configured:
        return Finding("offset-detected", "info", f"{key!r}: the rows (UTC) sit {hours(implied)} before the time "
                       f"in the file's name, so the names look like local time UTC{text}: set "
                       f"InputTimeZoneOffset={text!r} in the request", (key,))
    return Finding("rows-outside-window", "error", f"{key!r}: no sampled row lies in the file's window {window} "
                   f"(its run FAILS), but they would under InputTimeZoneOffset {text!r}: if the file names carry "
                   f"local time UTC{text}, set InputTimeZoneOffset={text!r}; otherwise fix the rows", (key,))


def _shifted_by_offset(row, window: str, rules: WindowRules) -> Finding:
    """Rows at the name's own clock time, InputTimeZoneOffset apart from its window: rows local, or names UTC?

    Both mistakes look the same inside one file; when the file came (``now``, else its LastModified) tells them
    apart, so the first fix offered is the one for the mistake made, and both are offered when it cannot tell.
    """
    naming = _naming(rules)
    key, configured, shift = row.key, naming.timezone_offset, hours(naming.offset)
    seen = f"the rows are {shift} away from the file's window {window}, exactly the InputTimeZoneOffset {configured}"
    names_utc, when = _names_read_as_utc(row, rules)
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


def _names_read_as_utc(row, rules: WindowRules) -> tuple[bool | None, str]:
    """Whether a name reads as UTC (True) or as local time (False) by when its file came; None when unclear.

    The time the file came is ``now`` (files are written around their slot), else its LastModified; the reading
    of the name within half the offset of it wins. Also returns how that time is called in a message.
    """
    when, name = (rules.now, "now") if rules.now is not None else (getattr(row, "last_modified", None), "its upload")
    if when is None or pd.isna(when):
        return None, ""
    near = abs(_naming(rules).offset) / 2
    as_local, as_utc = abs(when - row.time_utc), abs(when - row.time_local.tz_localize("UTC"))
    verdict = True if as_utc < near <= as_local else False if as_local < near <= as_utc else None
    return verdict, f"{name} ({when:%Y-%m-%d %H:%M} UTC)"


def _inside(times: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """Rows in the left-open, right-closed window (start, end]."""
    return (times > start) & (times <= end)
