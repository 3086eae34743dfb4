"""When a scheduler wakes up, which data it scores and which files it reads: pure schedule maths on pandas.

The rules (reference §2.1-2.3): wake-ups fall on each frequency boundary ``b`` (boundaries aligned to the top of
the UTC hour) plus ``DataDelayOffsetInMinutes``; the run for ``b`` scores the rows in ``(b - F, b]`` (UTC); it
looks for one file per schema component whose name carries a local time (UTC + ``InputTimeZoneOffset``) from one
slot before the window start to one slot after its end, both included (``[b - 2F, b + F]`` in UTC, as the service's
own message "under prefix '..._20220330162500' ~ '..._20220330164000'" shows for the window (11:00, 11:05] at
+05:30); the expected name uses the window start.

>>> from lookout_nb import SchedulerRequest
>>> req = SchedulerRequest(upload_frequency="PT10M", delay_offset_minutes=5)
>>> plan = plan_schedule(req, start="2024-05-01 09:08", periods=2)
>>> plan["wake_time"].dt.strftime("%H:%M").tolist(), plan["data_start"].dt.strftime("%H:%M").tolist()
(['09:15', '09:25'], ['09:00', '09:10'])
"""

from __future__ import annotations

import datetime as _dt
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np
import pandas as pd

from .errors import InvalidArgument, LookoutNbError, LookoutNbWarning, NamingError, Problem, RequestInvalid
from .naming import format_offset, to_utc
from .request import SchedulerRequest
from .schema import ModelSchema, SchemaError

__all__ = [
    "FileMatch",
    "TimingError",
    "Window",
    "check_zone",
    "components_from",
    "expected_files",
    "match_files",
    "next_runs",
    "offset_for_zone",
    "plan_schedule",
    "window_for",
    "windows_for",
]

#: A plan longer than this is certainly a mistake (ten years of PT5M is about 1.05 million runs).
MAX_RUNS = 2_000_000
#: Prefix of the plan's expected-file columns: ``file:<component>``.
FILE_COLUMN = "file:"

_NS = 1_000_000_000
_NAT = np.iinfo(np.int64).min
#: The request fields a plan depends on (API paths); other problems (names, buckets, role) do not stop a plan.
_TIMING_FIELDS = (
    "DataUploadFrequency",
    "DataDelayOffsetInMinutes",
    "DataInputConfiguration.InputTimeZoneOffset",
    "DataInputConfiguration.InferenceInputNameConfiguration",
)


class TimingError(InvalidArgument):
    """An argument of a timing function is wrong; the message names it and says how to fix it."""


# -- inputs ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Params:
    freq: int  # ns
    delay: int  # ns
    offset: int  # ns, the offset file names carry (0 for EPOCH)
    naming: object
    prefix: str


def _params(request) -> _Params:
    """Frequency, delay, naming and prefix of a request; raises RequestInvalid for the timing fields' problems."""
    if isinstance(request, Mapping):
        request = SchedulerRequest.from_boto3(request)
    if not isinstance(request, SchedulerRequest):
        raise TimingError(
            f"request must be a SchedulerRequest or the kwargs of create_inference_scheduler, "
            f"not {type(request).__name__}"
        )
    found = [p for p in request.problems() if p.field.startswith(_TIMING_FIELDS)]
    if request.upload_frequency is None and not any(p.field == "DataUploadFrequency" for p in found):
        found.insert(0, Problem("DataUploadFrequency", "is required: use one of PT5M, PT10M, PT15M, PT30M, PT1H"))
    if found:
        raise RequestInvalid(found)
    try:
        naming = request.naming
    except NamingError as exc:  # pragma: no cover - problems() reports these first
        raise RequestInvalid([Problem("DataInputConfiguration", str(exc))]) from exc
    return _Params(
        freq=_td_ns(request.frequency),
        delay=_td_ns(request.delay),
        offset=_td_ns(naming.offset),
        naming=naming,
        prefix=request.input_prefix or "",
    )


def _td_ns(td) -> int:
    return int(pd.Timedelta(td).as_unit("ns").value)


def _to_utc(value, name: str) -> pd.Timestamp:
    """:func:`lookout_nb.naming.to_utc` at nanosecond resolution, the range a plan covers."""
    ts = to_utc(value, name)
    try:
        return ts.as_unit("ns")
    except (OverflowError, ValueError) as exc:
        raise TimingError(f"{name}={value!r} is outside the years 1678-2261 that a schedule can cover") from exc


def _utc_index(ns: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(np.asarray(ns, dtype=np.int64).view("M8[ns]")).tz_localize("UTC")


def _naive_index(ns: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(np.asarray(ns, dtype=np.int64).view("M8[ns]"))


def _ns(values) -> np.ndarray:
    """int64 nanoseconds since the epoch (UTC) of datetimes, tz-aware or naive; NaT is the int64 minimum."""
    idx = pd.DatetimeIndex(values)
    if idx.tz is not None:
        idx = idx.tz_convert("UTC").tz_localize(None)
    return idx.as_unit("ns").asi8


def components_from(components) -> list[str] | None:
    """Component names from a list or a model schema (anything :meth:`ModelSchema.parse` reads).

    >>> components_from('{"Components": [{"ComponentName": "pump", "Columns": []}]}')
    ['pump']
    """
    if components is None:
        return None
    try:
        return list(ModelSchema.parse(components).names)
    except SchemaError as exc:
        raise TimingError(f"components: {exc}") from exc


# -- the plan ----------------------------------------------------------------------------------------------------


def plan_schedule(request, start, end=None, periods=None, components=None, zone=None) -> pd.DataFrame:
    """One row per wake-up after ``start``: when it wakes, which data it scores and which files it looks for.

    The first wake-up is the first frequency boundary strictly after ``start`` plus the delay; the plan stops at
    ``periods`` rows or at the last wake-up no later than ``end``, whichever comes first. Columns (index ``run``):
    ``wake_time``, ``data_start``, ``data_end`` (UTC; rows in ``(data_start, data_end]`` are scored),
    ``file_time_local`` (the time in the expected file names), ``search_start_local``, ``search_end_local``
    (file-name times searched, ``[start, end]``: both ends included, local wall-clock) and, when ``components``
    are known (a list or a model schema), one ``file:<component>`` column with each expected key (``input_prefix``
    included). With
    ``zone`` (e.g. ``"Europe/Paris"``) a :class:`LookoutNbWarning` says when the zone's offset on the planned
    dates differs from ``InputTimeZoneOffset``.

    >>> from lookout_nb import SchedulerRequest
    >>> req = SchedulerRequest(upload_frequency="PT5M", timezone_offset="+05:30", input_prefix="in/")
    >>> plan = plan_schedule(req, start="2022-03-30 11:01", periods=1, components=["centrifugal-pump"])
    >>> plan.loc[0, "file:centrifugal-pump"], str(plan.loc[0, "search_start_local"])
    ('in/centrifugal-pump_20220330163000.csv', '2022-03-30 16:25:00')
    """
    p = _params(request)
    t0 = _to_utc(start, "start").value
    if end is None and periods is None:
        raise TimingError("pass end= (the last wake-up time to plan) or periods= (how many wake-ups)")
    first = (t0 // p.freq + 1) * p.freq  # the first boundary strictly after start
    n = MAX_RUNS + 1
    if periods is not None:
        if isinstance(periods, bool) or not isinstance(periods, (int, np.integer)) or periods < 0:
            raise TimingError(f"periods={periods!r}: pass a whole number of wake-ups, 0 or more")
        n = int(periods)
    if end is not None:
        t1 = _to_utc(end, "end").value
        if t1 < t0:
            raise TimingError(f"end={end!r} is before start={start!r}: pass an end after the start")
        n = min(n, max(0, (t1 - p.delay - first) // p.freq + 1))
    if n > MAX_RUNS:
        raise TimingError(
            f"the plan would have more than {MAX_RUNS:,} runs: pass a closer end= or fewer periods="
        )
    comps = components_from(components)
    boundary = first + p.freq * np.arange(n, dtype=np.int64)
    data_start = boundary - p.freq
    plan = pd.DataFrame(
        {
            "wake_time": _utc_index(boundary + p.delay),
            "data_start": _utc_index(data_start),
            "data_end": _utc_index(boundary),
            "file_time_local": _naive_index(data_start + p.offset),
            "search_start_local": _naive_index(data_start - p.freq + p.offset),
            "search_end_local": _naive_index(boundary + p.freq + p.offset),
        },
        index=pd.RangeIndex(n, name="run"),
    )
    if comps:
        stamps = p.naming.stamps(plan["data_start"]).to_numpy(dtype=object)
        for comp in comps:
            plan[FILE_COLUMN + comp] = f"{p.prefix}{comp}{p.naming.delimiter}" + stamps + ".csv"
    plan.attrs.update(
        frequency=pd.Timedelta(p.freq, unit="ns"),
        delay=pd.Timedelta(p.delay, unit="ns"),
        offset=pd.Timedelta(p.offset, unit="ns"),
        naming=p.naming,
        prefix=p.prefix,
        components=comps,
        zone=zone,
    )
    if zone is not None and n:
        _warn_zone(_zone_spans(zone, data_start, p.offset, per_run=True), zone, p.offset)
    return plan


def next_runs(request, now=None, n: int = 5, running: bool = False, components=None, zone=None,
              client=None) -> pd.DataFrame:
    """The next ``n`` runs of a scheduler created at ``now``, as :func:`plan_schedule`; ``now`` defaults to the
    time of the service ``client`` talks to (:func:`lookout_nb.servicetime.now`).

    A new scheduler's first wake-up follows the first boundary after its creation. With ``running=True`` the
    scheduler already runs, so a wake-up still pending after ``now`` (a boundary just passed, its delay not yet
    over) is included.

    >>> from lookout_nb import SchedulerRequest
    >>> req = SchedulerRequest(upload_frequency="PT10M", delay_offset_minutes=5)
    >>> next_runs(req, now="2024-05-01 09:12", n=1, running=True)["wake_time"].iloc[0]
    Timestamp('2024-05-01 09:15:00+0000', tz='UTC')
    """
    now_ts = _service_now(client) if now is None else _to_utc(now, "now")
    start = now_ts
    if running:
        p = _params(request)
        # The earliest boundary whose wake-up is still ahead: plan from just before it.
        b = ((now_ts.value - p.delay) // p.freq + 1) * p.freq
        start = pd.Timestamp(b - p.freq, tz="UTC")
    return plan_schedule(request, start=start, periods=n, components=components, zone=zone)


def _service_now(client=None) -> pd.Timestamp:
    """The service's time, for a "now" the caller left out (the only I/O of this module, made on demand)."""
    from .servicetime import now

    return now(client)


class Window(NamedTuple):
    """The run that scores one row: its window ``(data_start, data_end]``, wake-up and file-name time."""

    data_start: pd.Timestamp
    data_end: pd.Timestamp
    wake_time: pd.Timestamp
    file_time_local: pd.Timestamp


def windows_for(request, timestamps) -> pd.DataFrame:
    """For each row timestamp (UTC), the run that scores it: vectorised :func:`window_for`.

    Columns ``timestamp, data_start, data_end, wake_time, file_time_local``.

    >>> from lookout_nb import SchedulerRequest
    >>> w = windows_for(SchedulerRequest(upload_frequency="PT5M"), ["2022-03-30 11:00", "2022-03-30 11:00:01"])
    >>> w["data_start"].dt.strftime("%H:%M").tolist()
    ['10:55', '11:00']
    """
    p = _params(request)
    try:
        values = timestamps if isinstance(timestamps, (pd.Series, pd.Index)) else pd.Index(
            np.atleast_1d(np.asarray(timestamps, dtype=object)))
        if not pd.api.types.is_datetime64_any_dtype(values):
            values = pd.to_datetime(values, utc=True, format="mixed")
        ts = _ns(values)
    except (TypeError, ValueError) as exc:
        raise TimingError(f"timestamps: pass UTC times (strings, datetimes or Timestamps): {exc}") from exc
    ok = ts != _NAT
    end = np.where(ok, -((-ts) // p.freq) * p.freq, _NAT)  # ceil: a row on a boundary closes that window
    start = np.where(ok, end - p.freq, _NAT)
    return pd.DataFrame(
        {
            "timestamp": _utc_index(ts),
            "data_start": _utc_index(start),
            "data_end": _utc_index(end),
            "wake_time": _utc_index(np.where(ok, end + p.delay, _NAT)),
            "file_time_local": _naive_index(np.where(ok, start + p.offset, _NAT)),
        }
    )


def window_for(request, timestamp) -> Window:
    """The run that scores a row at ``timestamp`` (UTC): windows are ``(start, end]``.

    A row exactly on a slot boundary belongs to the window that *ends* there (the previous one).

    >>> from lookout_nb import SchedulerRequest
    >>> w = window_for(SchedulerRequest(upload_frequency="PT5M"), "2022-03-30 11:05")
    >>> w.data_start.strftime("%H:%M"), w.data_end.strftime("%H:%M")
    ('11:00', '11:05')
    """
    _to_utc(timestamp, "timestamp")
    row = windows_for(request, [timestamp]).iloc[0]
    return Window(row["data_start"], row["data_end"], row["wake_time"], row["file_time_local"])


def expected_files(plan: pd.DataFrame) -> pd.DataFrame:
    """The plan's expected files in long form: ``run, wake_time, component, key, file_time_local``.

    >>> from lookout_nb import SchedulerRequest
    >>> plan = plan_schedule(SchedulerRequest(upload_frequency="PT1H"), start="2024-01-01", periods=2,
    ...                      components=["a", "b"])
    >>> expected_files(plan)["key"].tolist()
    ['a_20240101000000.csv', 'b_20240101000000.csv', 'a_20240101010000.csv', 'b_20240101010000.csv']
    """
    cols = [c for c in plan.columns if isinstance(c, str) and c.startswith(FILE_COLUMN)]
    if not cols:
        raise TimingError("the plan has no file:<component> columns: call plan_schedule(..., components=...)")
    long = plan[["wake_time", "file_time_local", *cols]].reset_index().melt(
        id_vars=["run", "wake_time", "file_time_local"], value_vars=cols, var_name="component", value_name="key"
    )
    long["component"] = long["component"].str.slice(len(FILE_COLUMN))
    long["_order"] = long["component"].map({c[len(FILE_COLUMN):]: i for i, c in enumerate(cols)})
    long = long.sort_values(["run", "_order"], kind="stable").drop(columns="_order").reset_index(drop=True)
    return long[["run", "wake_time", "component", "key", "file_time_local"]]


# -- time zones --------------------------------------------------------------------------------------------------


def _zoneinfo(zone):
    import zoneinfo

    if isinstance(zone, _dt.tzinfo):
        return zone
    try:
        return zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise TimingError(
            f"zone={zone!r} is not an IANA time zone name: use one such as 'Europe/Paris' or 'Asia/Kolkata'"
        ) from exc


def offset_for_zone(zone, at=None) -> str:
    """The ``±HH:MM`` offset of an IANA zone at a time (default: the service's now), for ``InputTimeZoneOffset``.

    >>> offset_for_zone("Europe/Paris", at="2024-01-15"), offset_for_zone("Europe/Paris", at="2024-07-15")
    ('+01:00', '+02:00')
    """
    tz = _zoneinfo(zone)
    ts = _service_now() if at is None else _to_utc(at, "at")
    return format_offset(ts.tz_convert(tz).utcoffset())


def _zone_spans(zone, times_ns: np.ndarray, request_offset: int, per_run: bool) -> pd.DataFrame:
    """Spans of ``times_ns`` where the zone's offset differs from ``request_offset``."""
    tz = _zoneinfo(zone)
    utc = _utc_index(times_ns)
    offsets = _ns(utc.tz_convert(tz).tz_localize(None)) - times_ns
    change = np.flatnonzero(np.diff(offsets)) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [len(times_ns)]])
    keep = offsets[starts] != request_offset
    starts, ends = starts[keep], ends[keep]
    spans = pd.DataFrame(
        {
            "from_utc": utc[starts],
            "to_utc": utc[ends - 1],
            "zone_offset": [format_offset(pd.Timedelta(o)) for o in offsets[starts]],
            "request_offset": format_offset(pd.Timedelta(request_offset)),
        }
    )
    if per_run:
        spans["runs"] = ends - starts
    spans.attrs["total"] = len(times_ns)
    return spans


def _warn_zone(spans: pd.DataFrame, zone, request_offset: int) -> None:
    if spans.empty:
        return
    unit = "runs" if "runs" in spans else None
    parts = []
    for row in spans.head(3).itertuples(index=False):
        count = f" ({row.runs:,} of {spans.attrs['total']:,} runs)" if unit else ""
        parts.append(f"UTC{row.zone_offset} from {row.from_utc:%Y-%m-%d %H:%M} to {row.to_utc:%Y-%m-%d %H:%M} UTC{count}")
    more = f" and {len(spans) - 3} more spans" if len(spans) > 3 else ""
    fixed = format_offset(pd.Timedelta(request_offset))
    warnings.warn(
        f"{zone} is at {'; '.join(parts)}{more}, but InputTimeZoneOffset is {fixed}: "
        f"the offset is fixed and does not follow daylight saving, so files named in {zone} wall-clock time will "
        f"be searched for at the wrong slot then. Name files with the fixed offset "
        f"{fixed}, or update the scheduler's offset when the clocks change.",
        LookoutNbWarning,
        stacklevel=3,
    )


def check_zone(request, zone, start, end=None) -> pd.DataFrame:
    """Where ``zone``'s UTC offset differs from the request's ``InputTimeZoneOffset`` between start and end.

    Returns the spans (``from_utc, to_utc, zone_offset, request_offset``; empty when they always agree) and warns
    with :class:`LookoutNbWarning` when there is any. The offset is sampled hourly (and at both ends).

    >>> from lookout_nb import SchedulerRequest
    >>> req = SchedulerRequest(upload_frequency="PT5M", timezone_offset="+01:00")
    >>> check_zone(req, "Europe/Paris", "2024-01-01", "2024-02-01").empty
    True
    """
    p = _params(request)
    t0 = _to_utc(start, "start").value
    t1 = _to_utc(end, "end").value if end is not None else t0
    if t1 < t0:
        raise TimingError(f"end={end!r} is before start={start!r}: pass an end after the start")
    hour = 3600 * _NS
    if (t1 - t0) // hour > MAX_RUNS:
        raise TimingError("check_zone covers at most about 200 years: pass a closer end=")
    times = np.unique(np.concatenate([[t0], np.arange((t0 // hour + 1) * hour, t1, hour, dtype=np.int64), [t1]]))
    spans = _zone_spans(zone, times, p.offset, per_run=False)
    _warn_zone(spans, zone, p.offset)
    return spans


# -- matching files to runs --------------------------------------------------------------------------------------

#: File times a plan can reach: the int64 nanosecond range (names outside it match no run).
_NS_MIN, _NS_MAX = pd.Timestamp.min, pd.Timestamp.max


def _place(directory: str, prefix: str) -> str:
    """Where a key's folder sits: "ok" (the prefix itself, or a bare name), "subfolder" or "prefix" (outside)."""
    if directory == "" or directory == prefix:
        return "ok"
    return "subfolder" if directory.startswith(prefix) else "prefix"


def _parse(naming, keys: list, prefix: str):
    """``(component, time_utc ns, matches, place)`` of S3 keys: ``naming.parse_many`` plus where each key sits.

    The convention is judged by :meth:`lookout_nb.naming.Naming.parse_many` alone; timing adds where each key's
    folder sits relative to the prefix (decided once per distinct folder). Names whose time
    lies outside the years 1677-2262 (the nanosecond range of a plan) match the convention but get NaT: no run
    reads them.
    """
    table = naming.parse_many(keys)
    ok = table["matches"].to_numpy(dtype=bool)
    comps = np.where(ok, table["component"].to_numpy(dtype=object), None)
    naive = table["time_utc"].dt.tz_localize(None)
    reachable = ok & np.asarray((naive >= _NS_MIN) & (naive <= _NS_MAX))
    times = np.full(len(keys), _NAT, dtype=np.int64)
    times[reachable] = naive[reachable].dt.as_unit("ns").to_numpy().view(np.int64)
    # Where each key sits, decided once per distinct folder (a listing has few).
    codes, folders = pd.factorize(table["folder"])
    place = np.array([_place(f, prefix) for f in folders] + ["ok"], dtype=object)[codes]
    return comps, times, ok, place


def _listing(keys) -> tuple[list, np.ndarray]:
    """(keys as a list of str, LastModified as UTC ns, NaT when unknown) from names, a listing or dicts."""
    if isinstance(keys, Mapping) and "Contents" in keys:  # a raw list_objects_v2 response
        keys = keys["Contents"]
    lm = None
    if isinstance(keys, (list, tuple)) and keys and all(isinstance(k, Mapping) for k in keys):
        keys = pd.DataFrame(list(keys))
    if isinstance(keys, pd.DataFrame):
        key_col = next((c for c in ("Key", "key") if c in keys.columns), None)
        if key_col is None:
            raise TimingError(f"keys: the listing has no Key column (columns: {', '.join(map(str, keys.columns))})")
        lm_col = next((c for c in ("LastModified", "last_modified") if c in keys.columns), None)
        if lm_col is not None:
            try:
                lm = _ns(pd.to_datetime(keys[lm_col], utc=True))
            except (TypeError, ValueError) as exc:
                raise TimingError(f"keys: the {lm_col} column must hold times: {exc}") from exc
        keys = keys[key_col]
    if isinstance(keys, str) or not isinstance(keys, (list, tuple, pd.Series, pd.Index, np.ndarray)):
        raise TimingError(
            "keys must be a list of S3 keys, a listing DataFrame with Key (and LastModified) columns, or a list of "
            f"{{'Key': ..., 'LastModified': ...}} dicts; got {type(keys).__name__}"
        )
    arr = np.asarray(keys, dtype=object).ravel()
    if len(arr) and pd.api.types.infer_dtype(arr, skipna=False) != "string":
        raise TimingError("keys: every key must be a string (an S3 object key)")
    return arr.tolist(), (np.full(len(arr), _NAT, dtype=np.int64) if lm is None else lm)


#: Why no planned run reads a file (the ``reason`` of :attr:`FileMatch.unread`).
REASONS = {
    "prefix": "outside the input prefix",
    "subfolder": "in a sub-folder of the input prefix",
    "name": "name does not follow the naming convention",
    "component": "component is not in the model",
    "range": "no planned run searches this time",
}


class FileMatch:
    """Which files each planned run reads; built by :func:`match_files`.

    - ``runs``: one row per planned run: ``wake_time, data_start, data_end, files`` (files in its search range
      found on time), ``missing`` (components without one: the run fails), ``named`` (components whose file
      named for this very slot was there on time; below the component count, the run relies on a neighbouring
      slot's file holding rows of its window), ``late`` (files named for it that arrived after it woke) and
      ``ok`` (no component missing).
    - ``missing``: ``run, wake_time, data_start, data_end, component, reason`` ("no file" or "arrived late").
    - ``late``: files that arrived after the wake-up of the run they are named for: ``run, wake_time,
      component, key, last_modified, after_wake``.
    - ``unread``: keys no planned run reads: ``key, component, file_time_utc, reason``.
    - ``files`` (built on first access): one row per key: ``key, component, file_time_utc, last_modified, run``
      (the run it is named for), ``readers`` (runs whose search range holds it), ``late``, ``reason``.
    - ``reads`` (built on first access): one row per (run, file in its search range): ``run, wake_time,
      component, key, file_time_utc, last_modified, late`` (modified after that run woke up).
    """

    def __init__(self, runs, missing, late, unread, components, arrays):
        self.runs, self.missing, self.late, self.unread = runs, missing, late, unread
        self.components = list(components)
        self._a = arrays

    @cached_property
    def files(self) -> pd.DataFrame:
        a = self._a
        run = pd.array(self.runs.index.to_numpy()[np.maximum(a["own"], 0)] if len(self.runs) else
                       np.zeros(len(a["own"]), dtype=np.int64), dtype="Int64")
        run[a["own"] < 0] = pd.NA
        return pd.DataFrame(
            {
                "key": pd.array(a["keys"], dtype="str"),
                "component": pd.array(a["comps"], dtype="str"),
                "file_time_utc": _utc_index(a["times"]),
                "last_modified": _utc_index(a["last_mod"]),
                "run": run,
                "readers": a["readers"],
                "late": a["late_own"],
                "reason": pd.array(a["reason"], dtype="str"),
            }
        )

    @cached_property
    def reads(self) -> pd.DataFrame:
        a = self._a
        run_pos, file_idx = a["run_pos"], a["file_idx"]
        keys = np.asarray(a["keys"], dtype=object)
        return pd.DataFrame(
            {
                "run": self.runs.index.to_numpy()[run_pos],
                "wake_time": _utc_index(a["wake"][run_pos]),
                "component": pd.Categorical.from_codes(a["comp_idx"][file_idx], categories=self.components)
                if self.components else pd.Categorical([]),
                "key": keys[file_idx],
                "file_time_utc": _utc_index(a["times"][file_idx]),
                "last_modified": _utc_index(a["last_mod"][file_idx]),
                "late": a["late_pair"],
            }
        )

    @property
    def ok(self) -> bool:
        """True when every planned run finds a file for every component in time."""
        return bool(self.runs["ok"].all())

    def summary(self) -> str:
        """One line: runs missing a component, late files, unread files."""
        bad = int((~self.runs["ok"]).sum())
        return (
            f"{len(self.runs):,} runs, {bad:,} missing a component; {len(self.late):,} files arrived after their run "
            f"woke up; {len(self.unread):,} of {len(self._a['keys']):,} files read by no run"
        )

    def __repr__(self) -> str:
        return f"<FileMatch: {self.summary()}>"

    def _repr_html_(self) -> str:
        import html

        parts = [f"<div><b>FileMatch</b>: {html.escape(self.summary())}"]
        for title, frame in (("Missing", self.missing), ("Late", self.late), ("Unread", self.unread)):
            if len(frame):
                parts.append(f"<details><summary>{title} ({len(frame):,})</summary>{frame.head(20).to_html()}</details>")
        return "".join(parts) + "</div>"


def match_files(plan: pd.DataFrame, keys, request=None, components=None) -> FileMatch:
    """Match an input listing against a plan: files read per run, missing components, late and unread files.

    ``keys`` are S3 keys, or a listing (DataFrame or dicts with ``Key`` and ``LastModified``; naive times are UTC).
    A file counts for a run when its component is in the model and its name's time lies in the run's search range
    (both ends included); it is late when it was modified after that run woke up. The naming, prefix and components
    come from the plan (``plan_schedule(..., components=...)``) unless ``request`` / ``components`` are given; with
    no components at all, those seen in the listing are used. Bare names (no ``/``) count as inside the prefix.

    >>> from lookout_nb import SchedulerRequest
    >>> req = SchedulerRequest(upload_frequency="PT5M", input_prefix="in/")
    >>> plan = plan_schedule(req, start="2022-03-30 11:00", periods=3, components=["pump", "fan"])
    >>> m = match_files(plan, ["in/pump_20220330110000.csv", "in/fan_20220330110000.csv", "in/x.csv"])
    >>> m.runs[["ok", "named"]].values.tolist()
    [[True, 2], [True, 0], [False, 0]]
    >>> m.unread["reason"].tolist()
    ['name does not follow the naming convention']
    """
    if not isinstance(plan, pd.DataFrame) or not {"wake_time", "data_start", "search_start_local"} <= set(plan.columns):
        raise TimingError("plan must be a DataFrame from plan_schedule (wake_time, data_start, search ranges)")
    if request is not None:
        p = _params(request)
        naming, prefix, offset = p.naming, p.prefix, p.offset
    elif "naming" in plan.attrs:
        naming, prefix, offset = plan.attrs["naming"], plan.attrs["prefix"], _td_ns(plan.attrs["offset"])
    else:
        raise TimingError("the plan does not carry its request (its attrs were lost): pass request= to match_files")
    comps = components_from(components) if components is not None else plan.attrs.get("components")
    if comps is None:
        comps = [c[len(FILE_COLUMN):] for c in plan.columns if isinstance(c, str) and c.startswith(FILE_COLUMN)] or None

    if not plan["data_start"].is_monotonic_increasing:
        plan = plan.sort_values("data_start", kind="stable")
    wake = _ns(plan["wake_time"])
    d_start, d_end = _ns(plan["data_start"]), _ns(plan["data_end"])
    s_start = _ns(plan["search_start_local"]) - offset
    s_end = _ns(plan["search_end_local"]) - offset
    if len(s_end) > 1 and (np.any(np.diff(s_end) < 0) or np.any(np.diff(d_end) < 0)):
        raise TimingError("plan: its windows do not share one frequency; pass a plan from a single plan_schedule call")

    key_list, last_mod = _listing(keys)
    comp_arr, times, matches, place = _parse(naming, key_list, prefix)
    in_prefix = place == "ok"
    if comps is None:
        comps = sorted(set(comp_arr[matches & in_prefix].tolist()))
    codes, uniq = pd.factorize(comp_arr)
    lookup = pd.Index(comps, dtype=object).get_indexer(pd.Index(uniq, dtype=object))
    comp_idx = np.append(lookup, -1)[codes]  # code -1 (no component) maps to -1

    usable = matches & in_prefix & (comp_idx >= 0)
    n_keys, n_runs, n_comps = len(key_list), len(plan), len(comps)
    # The runs whose search range [s_start, s_end] holds a file form one block [lo, hi) (ranges are sorted).
    lo = np.searchsorted(s_end, times, side="left")
    hi = np.searchsorted(s_start, times, side="right")
    readers = np.where(usable, np.maximum(hi - lo, 0), 0)
    file_idx = np.repeat(np.arange(n_keys), readers)
    first = np.cumsum(readers) - readers
    run_pos = np.repeat(lo, readers) + (np.arange(file_idx.size) - np.repeat(first, readers))
    late_pair = last_mod[file_idx] > wake[run_pos]  # NaT is the int64 minimum: never late

    on_time = np.zeros((n_runs, n_comps), dtype=bool)
    any_file = np.zeros((n_runs, n_comps), dtype=bool)
    on_time[run_pos[~late_pair], comp_idx[file_idx[~late_pair]]] = True
    any_file[run_pos, comp_idx[file_idx]] = True

    # The run each file is named for: data_start <= file time < data_end.
    own = np.searchsorted(d_start, times, side="right") - 1
    own_clip = np.clip(own, 0, max(n_runs - 1, 0))
    own_ok = usable & (own >= 0) & (times < d_end[own_clip]) if n_runs else np.zeros(n_keys, dtype=bool)
    own = np.where(own_ok, own, -1)
    late_own = own_ok & (last_mod > wake[own_clip]) if n_runs else own_ok
    named = np.zeros((n_runs, n_comps), dtype=bool)
    hit = np.flatnonzero(own_ok & ~late_own)
    named[own[hit], comp_idx[hit]] = True

    reason = np.full(n_keys, None, dtype=object)
    reason[readers == 0] = REASONS["range"]
    reason[matches & (comp_idx < 0)] = REASONS["component"]
    reason[~matches] = REASONS["name"]
    reason[place == "subfolder"] = REASONS["subfolder"]
    reason[place == "prefix"] = REASONS["prefix"]

    labels = plan.index.to_numpy()
    comp_names = np.asarray(comps, dtype=object)
    miss_run, miss_comp = np.nonzero(~on_time)
    missing = pd.DataFrame(
        {
            "run": labels[miss_run],
            "wake_time": _utc_index(wake[miss_run]),
            "data_start": _utc_index(d_start[miss_run]),
            "data_end": _utc_index(d_end[miss_run]),
            "component": pd.array(comp_names[miss_comp], dtype="str"),
            "reason": np.where(any_file[miss_run, miss_comp], "arrived late", "no file"),
        }
    )
    li = np.flatnonzero(late_own)
    late = pd.DataFrame(
        {
            "run": labels[own[li]],
            "wake_time": _utc_index(wake[own[li]]),
            "component": pd.array(comp_arr[li], dtype="str"),
            "key": pd.array([key_list[i] for i in li], dtype="str"),
            "last_modified": _utc_index(last_mod[li]),
            "after_wake": pd.to_timedelta(last_mod[li] - wake[own[li]], unit="ns"),
        }
    )
    ui = np.flatnonzero(reason != None)  # noqa: E711 - elementwise
    unread = pd.DataFrame(
        {
            "key": pd.array([key_list[i] for i in ui], dtype="str"),
            "component": pd.array(comp_arr[ui], dtype="str"),
            "file_time_utc": _utc_index(times[ui]),
            "reason": pd.array(reason[ui], dtype="str"),
        }
    )
    n_missing = np.bincount(miss_run, minlength=n_runs)
    runs = plan[["wake_time", "data_start", "data_end"]].copy()
    runs["files"] = np.bincount(run_pos[~late_pair], minlength=n_runs)
    runs["missing"] = n_missing
    runs["named"] = named.sum(axis=1)
    runs["late"] = np.bincount(own[li], minlength=n_runs)
    runs["ok"] = n_missing == 0
    arrays = dict(keys=key_list, comps=comp_arr, times=times, last_mod=last_mod, own=own, readers=readers,
                  late_own=late_own, reason=reason, run_pos=run_pos, file_idx=file_idx, late_pair=late_pair,
                  comp_idx=comp_idx, wake=wake)
    return FileMatch(runs, missing, late, unread, comps, arrays)
