"""When a scheduler wakes up, which data it scores and which files it reads: pure schedule maths on pandas.

The rules (the service's documentation, read as the README's "Behaviour choices of the embedded endpoint"
say): wake-ups fall on each frequency boundary ``b`` (boundaries aligned to the top of
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
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..errors import InvalidArgument, LookoutNbWarning, NamingError, Problem, RequestInvalid
from . import servicetime
from ._display import whole
from ._nanos import NAT, SECOND, naive_index, td_ns, to_ns, utc_index
from .naming import Naming, format_offset, to_utc
from .request import SchedulerRequest
from .s3keys import join_input_key
from .schema import ModelSchema, SchemaError

__all__ = [
    "FILE_COLUMN",
    "MAX_RUNS",
    "Schedule",
    "TimingError",
    "Window",
    "check_zone",
    "components_from",
    "expected_files",
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
class Schedule:
    """The timing fields of a request in nanoseconds: what plans, windows and file matching are computed from.

    :meth:`of` reads them from a :class:`SchedulerRequest` (or create_inference_scheduler's kwargs) and raises
    :class:`RequestInvalid` for the problems of those fields only (names, buckets or the role do not stop a plan).

    >>> s = Schedule.of(SchedulerRequest(upload_frequency="PT10M", delay_offset_minutes=5, input_prefix="in/"))
    >>> s.freq // SECOND, s.delay // SECOND, s.offset, s.prefix
    (600, 300, 0, 'in/')
    """

    #: The upload frequency F.
    freq: int
    #: DataDelayOffsetInMinutes: from each boundary to the wake-up.
    delay: int
    #: The offset file names carry (InputTimeZoneOffset; 0 for EPOCH names).
    offset: int
    #: The input-file name convention (:class:`lookout_nb.contract.naming.Naming`).
    naming: Naming
    #: The input prefix ("" when unset).
    prefix: str

    @classmethod
    def of(cls, request) -> Schedule:
        """Frequency, delay, offset, naming and prefix of a request (a SchedulerRequest or boto3 kwargs)."""
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
        return cls(
            freq=td_ns(request.frequency),
            delay=td_ns(request.delay),
            offset=td_ns(naming.offset),
            naming=naming,
            prefix=request.input_prefix or "",
        )


def _to_utc(value, name: str) -> pd.Timestamp:
    """:func:`lookout_nb.contract.naming.to_utc` at nanosecond resolution, the range a plan covers."""
    ts = to_utc(value, name)
    try:
        return ts.as_unit("ns")
    except (OverflowError, ValueError) as exc:
        raise TimingError(f"{name}={value!r} is outside the years 1678-2261 that a schedule can cover") from exc


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
    p = Schedule.of(request)
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
            "wake_time": utc_index(boundary + p.delay),
            "data_start": utc_index(data_start),
            "data_end": utc_index(boundary),
            "file_time_local": naive_index(data_start + p.offset),
            "search_start_local": naive_index(data_start - p.freq + p.offset),
            "search_end_local": naive_index(boundary + p.freq + p.offset),
        },
        index=pd.RangeIndex(n, name="run"),
    )
    if comps:
        stamps = p.naming.stamps(plan["data_start"]).to_numpy(dtype=object)
        for comp in comps:
            plan[FILE_COLUMN + comp] = join_input_key(p.prefix, comp, p.naming.delimiter, stamps)
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
    return whole(plan)  # file names are longer than pandas shows of a cell


def next_runs(request, now=None, n: int = 5, running: bool = False, components=None, zone=None,
              client=None) -> pd.DataFrame:
    """The next ``n`` runs of a scheduler created at ``now``, as :func:`plan_schedule`; ``now`` defaults to the
    time of the service ``client`` talks to (:func:`lookout_nb.contract.servicetime.now`).

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
        p = Schedule.of(request)
        # The earliest boundary whose wake-up is still ahead: plan from just before it.
        b = ((now_ts.value - p.delay) // p.freq + 1) * p.freq
        start = pd.Timestamp(b - p.freq, tz="UTC")
    return plan_schedule(request, start=start, periods=n, components=components, zone=zone)


def _service_now(client=None) -> pd.Timestamp:
    """The service's time, for a "now" the caller left out (the only I/O of this module, made on demand)."""
    return servicetime.now(client)


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
    p = Schedule.of(request)
    try:
        values = timestamps if isinstance(timestamps, (pd.Series, pd.Index)) else pd.Index(
            np.atleast_1d(np.asarray(timestamps, dtype=object)))
        if not pd.api.types.is_datetime64_any_dtype(values):
            values = pd.to_datetime(values, utc=True, format="mixed")
        ts = to_ns(values)
    except (TypeError, ValueError) as exc:
        raise TimingError(f"timestamps: pass UTC times (strings, datetimes or Timestamps): {exc}") from exc
    ok = ts != NAT
    end = np.where(ok, -((-ts) // p.freq) * p.freq, NAT)  # ceil: a row on a boundary closes that window
    start = np.where(ok, end - p.freq, NAT)
    return pd.DataFrame(
        {
            "timestamp": utc_index(ts),
            "data_start": utc_index(start),
            "data_end": utc_index(end),
            "wake_time": utc_index(np.where(ok, end + p.delay, NAT)),
            "file_time_local": naive_index(np.where(ok, start + p.offset, NAT)),
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
    utc = utc_index(times_ns)
    offsets = to_ns(utc.tz_convert(tz).tz_localize(None)) - times_ns
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
        span = f"from {row.from_utc:%Y-%m-%d %H:%M} to {row.to_utc:%Y-%m-%d %H:%M} UTC"
        parts.append(f"UTC{row.zone_offset} {span}{count}")
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
    p = Schedule.of(request)
    t0 = _to_utc(start, "start").value
    t1 = _to_utc(end, "end").value if end is not None else t0
    if t1 < t0:
        raise TimingError(f"end={end!r} is before start={start!r}: pass an end after the start")
    hour = 3600 * SECOND
    if (t1 - t0) // hour > MAX_RUNS:
        raise TimingError("check_zone covers at most about 200 years: pass a closer end=")
    times = np.unique(np.concatenate([[t0], np.arange((t0 // hour + 1) * hour, t1, hour, dtype=np.int64), [t1]]))
    spans = _zone_spans(zone, times, p.offset, per_run=False)
    _warn_zone(spans, zone, p.offset)
    return spans
