"""Which files each planned run reads: an input listing matched against a plan of :mod:`lookout_nb.contract.timing`.

A file counts for a run when its component is in the model and the time in its name lies in the run's search
range (both ends included); it is late when it was modified after that run woke up. :func:`match_files` works in
phases: what to match against (naming, prefix, components), the plan's runs as arrays, the listing, the names
parsed, the runs searching each file, the run each file is named for, why a file is read by no run, and the tables
of a :class:`FileMatch`.

>>> from lookout_nb import SchedulerRequest
>>> from lookout_nb.contract.timing import plan_schedule
>>> plan = plan_schedule(SchedulerRequest(upload_frequency="PT5M"), start="2022-03-30 11:00", periods=1,
...                      components=["pump"])
>>> match_files(plan, ["pump_20220330110000.csv"]).ok
True
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np
import pandas as pd

from ._nanos import NAT, td_ns, to_ns, utc_index
from .timing import FILE_COLUMN, Schedule, TimingError, components_from

__all__ = ["REASONS", "FileMatch", "MatchArrays", "match_files"]

#: Why no planned run reads a file (the ``reason`` of :attr:`FileMatch.unread`), by where or what the file is.
REASONS = {
    "outside": "outside the input prefix",
    "subfolder": "in a sub-folder of the input prefix",
    "name": "name does not follow the naming convention",
    "component": "component is not in the model",
    "range": "no planned run searches this time",
}

#: File times a plan can reach: the int64 nanosecond range (names outside it match no run).
_NS_MIN, _NS_MAX = pd.Timestamp.min, pd.Timestamp.max


@dataclass(frozen=True)
class MatchArrays:
    """The arrays behind a :class:`FileMatch`, from which its ``files`` and ``reads`` tables are built.

    Per key (listing order): ``keys`` ... ``reason``. Per (run, file in its search range) pair: ``pair_run``,
    ``pair_file``, ``pair_late``. Per run (plan order, sorted by data start): ``wake``. Times are int64
    nanoseconds since the epoch (UTC), ``NAT`` (the int64 minimum) when unknown; runs are positions in the plan.
    """

    #: The S3 keys.
    keys: list
    #: The component each name carries (object array; None when the name does not follow the convention).
    components: np.ndarray
    #: Each key's position in :attr:`FileMatch.components`; -1 when its component is not in the model (or none).
    comp_index: np.ndarray
    #: The UTC time each name says; NAT when none, or outside the years 1677-2262 a plan covers.
    times: np.ndarray
    #: LastModified; NAT when the listing gave none.
    last_modified: np.ndarray
    #: How many runs search each key (0 for keys no run may read).
    readers: np.ndarray
    #: The run each key is named for (its window holds the name's time); -1 when none.
    own: np.ndarray
    #: Whether each key was modified after its own run woke up.
    late_own: np.ndarray
    #: Why no run reads each key (a value of :data:`REASONS`); None when some run does.
    reason: np.ndarray
    #: For each pair: the run.
    pair_run: np.ndarray
    #: For each pair: the key (a position in the per-key arrays).
    pair_file: np.ndarray
    #: For each pair: whether the key was modified after that run woke up.
    pair_late: np.ndarray
    #: For each run: its wake-up.
    wake: np.ndarray


@dataclass(frozen=True, eq=False, repr=False)
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
    - ``components``: the model's components the listing was matched against.
    - ``files`` (built on first access): one row per key: ``key, component, file_time_utc, last_modified, run``
      (the run it is named for), ``readers`` (runs whose search range holds it), ``late``, ``reason``.
    - ``reads`` (built on first access): one row per (run, file in its search range): ``run, wake_time,
      component, key, file_time_utc, last_modified, late`` (modified after that run woke up).
    """

    runs: pd.DataFrame
    missing: pd.DataFrame
    late: pd.DataFrame
    unread: pd.DataFrame
    components: list
    arrays: MatchArrays

    @cached_property
    def files(self) -> pd.DataFrame:
        """One row per key, in listing order."""
        a = self.arrays
        labels = self.runs.index.to_numpy()
        run = pd.array(labels[np.maximum(a.own, 0)] if len(labels) else np.zeros(len(a.own), dtype=np.int64),
                       dtype="Int64")
        run[a.own < 0] = pd.NA
        return pd.DataFrame(
            {
                "key": pd.array(a.keys, dtype="str"),
                "component": pd.array(a.components, dtype="str"),
                "file_time_utc": utc_index(a.times),
                "last_modified": utc_index(a.last_modified),
                "run": run,
                "readers": a.readers,
                "late": a.late_own,
                "reason": pd.array(a.reason, dtype="str"),
            }
        )

    @cached_property
    def reads(self) -> pd.DataFrame:
        """One row per (run, file in its search range)."""
        a = self.arrays
        run, key = a.pair_run, a.pair_file
        component = (pd.Categorical.from_codes(a.comp_index[key], categories=self.components)
                     if self.components else pd.Categorical([]))
        return pd.DataFrame(
            {
                "run": self.runs.index.to_numpy()[run],
                "wake_time": utc_index(a.wake[run]),
                "component": component,
                "key": np.asarray(a.keys, dtype=object)[key],
                "file_time_utc": utc_index(a.times[key]),
                "last_modified": utc_index(a.last_modified[key]),
                "late": a.pair_late,
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
            f"woke up; {len(self.unread):,} of {len(self.arrays.keys):,} files read by no run"
        )

    def __repr__(self) -> str:
        return f"<FileMatch: {self.summary()}>"

    def _repr_html_(self) -> str:
        parts = [f"<div><b>FileMatch</b>: {html.escape(self.summary())}"]
        for title, frame in (("Missing", self.missing), ("Late", self.late), ("Unread", self.unread)):
            if len(frame):
                summary = f"<summary>{title} ({len(frame):,})</summary>"
                parts.append(f"<details>{summary}{frame.head(20).to_html()}</details>")
        return "".join(parts) + "</div>"


def match_files(plan: pd.DataFrame, keys, request=None, components=None) -> FileMatch:
    """Match an input listing against a plan: files read per run, missing components, late and unread files.

    ``keys`` are S3 keys, or a listing (DataFrame or dicts with ``Key`` and ``LastModified``; naive times are UTC).
    A file counts for a run when its component is in the model and its name's time lies in the run's search range
    (both ends included); it is late when it was modified after that run woke up. The naming, prefix and components
    come from the plan (``plan_schedule(..., components=...)``) unless ``request`` / ``components`` are given; with
    no components at all, those seen in the listing are used. Bare names (no ``/``) count as inside the prefix.

    >>> from lookout_nb import SchedulerRequest
    >>> from lookout_nb.contract.timing import plan_schedule
    >>> req = SchedulerRequest(upload_frequency="PT5M", input_prefix="in/")
    >>> plan = plan_schedule(req, start="2022-03-30 11:00", periods=3, components=["pump", "fan"])
    >>> m = match_files(plan, ["in/pump_20220330110000.csv", "in/fan_20220330110000.csv", "in/x.csv"])
    >>> m.runs[["ok", "named"]].values.tolist()
    [[True, 2], [True, 0], [False, 0]]
    >>> m.unread["reason"].tolist()
    ['name does not follow the naming convention']
    """
    naming, prefix, offset, comps = _matched_against(plan, request, components)
    if not plan["data_start"].is_monotonic_increasing:
        plan = plan.sort_values("data_start", kind="stable")
    runs = _Runs.of(plan, offset)
    key_list, last_mod = _listing(keys)
    parsed = _parse(naming, key_list, prefix)
    named_inside = parsed.matches & (parsed.place == "ok")
    if comps is None:
        comps = sorted(set(parsed.components[named_inside].tolist()))
    comp_index = _component_index(parsed.components, comps)
    usable = named_inside & (comp_index >= 0)
    readers, pair_run, pair_file = _searchers(runs, parsed.times, usable)
    pair_late = last_mod[pair_file] > runs.wake[pair_run]  # NaT is the int64 minimum: never late
    own, late_own = _own_runs(runs, parsed.times, usable, last_mod)
    arrays = MatchArrays(
        keys=key_list, components=parsed.components, comp_index=comp_index, times=parsed.times,
        last_modified=last_mod, readers=readers, own=own, late_own=late_own,
        reason=_reasons(parsed, comp_index, readers), pair_run=pair_run, pair_file=pair_file, pair_late=pair_late,
        wake=runs.wake,
    )
    on_time, any_file = _coverage(arrays, len(runs.wake), len(comps))
    miss_run, miss_comp = np.nonzero(~on_time)
    missing = _missing_table(runs, comps, miss_run, miss_comp, any_file)
    n_missing = np.bincount(miss_run, minlength=len(runs.wake))
    return FileMatch(_runs_table(plan, arrays, len(comps), n_missing), missing, _late_table(runs, arrays),
                     _unread_table(arrays), comps, arrays)


# -- phases ------------------------------------------------------------------------------------------------------


def _matched_against(plan, request, components):
    """``(naming, prefix, offset ns, components or None)``: the plan's own unless request / components are given."""
    if not isinstance(plan, pd.DataFrame) or not {"wake_time", "data_start", "search_start_local"} <= set(plan.columns):
        raise TimingError("plan must be a DataFrame from plan_schedule (wake_time, data_start, search ranges)")
    if request is not None:
        s = Schedule.of(request)
        naming, prefix, offset = s.naming, s.prefix, s.offset
    elif "naming" in plan.attrs:
        naming, prefix, offset = plan.attrs["naming"], plan.attrs["prefix"], td_ns(plan.attrs["offset"])
    else:
        raise TimingError("the plan does not carry its request (its attrs were lost): pass request= to match_files")
    comps = components_from(components) if components is not None else plan.attrs.get("components")
    if comps is None:
        comps = [c[len(FILE_COLUMN):] for c in plan.columns if isinstance(c, str) and c.startswith(FILE_COLUMN)] or None
    return naming, prefix, offset, comps


@dataclass(frozen=True)
class _Runs:
    """A plan's runs as int64 UTC nanoseconds: labels, wake-ups, windows and search ranges (sorted)."""

    labels: np.ndarray
    wake: np.ndarray
    data_start: np.ndarray
    data_end: np.ndarray
    search_start: np.ndarray
    search_end: np.ndarray

    @classmethod
    def of(cls, plan: pd.DataFrame, offset: int) -> _Runs:
        runs = cls(
            labels=plan.index.to_numpy(),
            wake=to_ns(plan["wake_time"]),
            data_start=to_ns(plan["data_start"]),
            data_end=to_ns(plan["data_end"]),
            search_start=to_ns(plan["search_start_local"]) - offset,
            search_end=to_ns(plan["search_end_local"]) - offset,
        )
        if len(runs.search_end) > 1 and (np.any(np.diff(runs.search_end) < 0) or np.any(np.diff(runs.data_end) < 0)):
            raise TimingError(
                "plan: its windows do not share one frequency; pass a plan from a single plan_schedule call")
        return runs


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
                lm = to_ns(pd.to_datetime(keys[lm_col], utc=True))
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
    return arr.tolist(), (np.full(len(arr), NAT, dtype=np.int64) if lm is None else lm)


class _Parsed(NamedTuple):
    """Keys read by the naming convention: component, UTC time (ns), whether the name matches, where it sits."""

    components: np.ndarray
    times: np.ndarray
    matches: np.ndarray
    place: np.ndarray


def _place(directory: str, prefix: str) -> str:
    """Where a key's folder sits: "ok" (the prefix itself, or a bare name), "subfolder" or "outside" the prefix."""
    if directory == "" or directory == prefix:
        return "ok"
    return "subfolder" if directory.startswith(prefix) else "outside"


def _parse(naming, keys: list, prefix: str) -> _Parsed:
    """``naming.parse_many`` of S3 keys plus where each key sits relative to the prefix.

    The convention is judged by :meth:`lookout_nb.contract.naming.Naming.parse_many` alone; where each key's folder
    sits is decided once per distinct folder (a listing has few). Names whose time lies outside the years 1677-2262 (the
    nanosecond range of a plan) match the convention but get NaT: no run reads them.
    """
    table = naming.parse_many(keys)
    ok = table["matches"].to_numpy(dtype=bool)
    comps = table["component"].to_numpy(dtype=object, copy=True)
    comps[~ok] = None
    naive = table["time_utc"].dt.tz_localize(None)
    reachable = ok & np.asarray((naive >= _NS_MIN) & (naive <= _NS_MAX))
    times = np.full(len(keys), NAT, dtype=np.int64)
    times[reachable] = naive[reachable].dt.as_unit("ns").to_numpy().view(np.int64)
    codes, folders = pd.factorize(table["folder"])
    place = np.array([_place(f, prefix) for f in folders] + ["ok"], dtype=object)[codes]
    return _Parsed(comps, times, ok, place)


def _component_index(components: np.ndarray, comps: list) -> np.ndarray:
    """Each key's position in ``comps`` (-1 when its component is not there, or it has none)."""
    codes, uniq = pd.factorize(components)
    lookup = pd.Index(comps, dtype=object).get_indexer(pd.Index(uniq, dtype=object))
    return np.append(lookup, -1)[codes]  # code -1 (no component) maps to -1


def _searchers(runs: _Runs, times: np.ndarray, usable: np.ndarray):
    """``(readers per key, pair_run, pair_file)``: the runs whose search range holds each usable key.

    Those runs form one block ``[lo, hi)`` of positions, as the search ranges are sorted.
    """
    lo = np.searchsorted(runs.search_end, times, side="left")
    hi = np.searchsorted(runs.search_start, times, side="right")
    readers = np.where(usable, np.maximum(hi - lo, 0), 0)
    pair_file = np.repeat(np.arange(len(times)), readers)
    first = np.cumsum(readers) - readers
    pair_run = np.repeat(lo, readers) + (np.arange(pair_file.size) - np.repeat(first, readers))
    return readers, pair_run, pair_file


def _own_runs(runs: _Runs, times: np.ndarray, usable: np.ndarray, last_mod: np.ndarray):
    """``(own, late_own)``: the run each key is named for (data_start <= time < data_end; -1 when none) and
    whether the key was modified after that run woke up."""
    n_runs = len(runs.wake)
    if not n_runs:
        return np.full(len(times), -1), np.zeros(len(times), dtype=bool)
    own = np.searchsorted(runs.data_start, times, side="right") - 1
    clipped = np.clip(own, 0, n_runs - 1)
    own_ok = usable & (own >= 0) & (times < runs.data_end[clipped])
    return np.where(own_ok, own, -1), own_ok & (last_mod > runs.wake[clipped])


def _reasons(parsed: _Parsed, comp_index: np.ndarray, readers: np.ndarray) -> np.ndarray:
    """Why no run reads each key (the most basic reason wins); None when some run does."""
    reason = np.full(len(readers), None, dtype=object)
    reason[readers == 0] = REASONS["range"]
    reason[parsed.matches & (comp_index < 0)] = REASONS["component"]
    reason[~parsed.matches] = REASONS["name"]
    reason[parsed.place == "subfolder"] = REASONS["subfolder"]
    reason[parsed.place == "outside"] = REASONS["outside"]
    return reason


def _coverage(a: MatchArrays, n_runs: int, n_comps: int):
    """``(on_time, any_file)``: (run, component) grids of a file found on time, and of any file found."""
    on_time = np.zeros((n_runs, n_comps), dtype=bool)
    any_file = np.zeros((n_runs, n_comps), dtype=bool)
    in_time = ~a.pair_late
    on_time[a.pair_run[in_time], a.comp_index[a.pair_file[in_time]]] = True
    any_file[a.pair_run, a.comp_index[a.pair_file]] = True
    return on_time, any_file


# -- tables ------------------------------------------------------------------------------------------------------


def _missing_table(runs: _Runs, comps: list, miss_run, miss_comp, any_file: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "run": runs.labels[miss_run],
            "wake_time": utc_index(runs.wake[miss_run]),
            "data_start": utc_index(runs.data_start[miss_run]),
            "data_end": utc_index(runs.data_end[miss_run]),
            "component": pd.array(np.asarray(comps, dtype=object)[miss_comp], dtype="str"),
            "reason": np.where(any_file[miss_run, miss_comp], "arrived late", "no file"),
        }
    )


def _late_table(runs: _Runs, a: MatchArrays) -> pd.DataFrame:
    li = np.flatnonzero(a.late_own)
    return pd.DataFrame(
        {
            "run": runs.labels[a.own[li]],
            "wake_time": utc_index(a.wake[a.own[li]]),
            "component": pd.array(a.components[li], dtype="str"),
            "key": pd.array([a.keys[i] for i in li], dtype="str"),
            "last_modified": utc_index(a.last_modified[li]),
            "after_wake": pd.to_timedelta(a.last_modified[li] - a.wake[a.own[li]], unit="ns"),
        }
    )


def _unread_table(a: MatchArrays) -> pd.DataFrame:
    ui = np.flatnonzero(pd.notna(a.reason))
    return pd.DataFrame(
        {
            "key": pd.array([a.keys[i] for i in ui], dtype="str"),
            "component": pd.array(a.components[ui], dtype="str"),
            "file_time_utc": utc_index(a.times[ui]),
            "reason": pd.array(a.reason[ui], dtype="str"),
        }
    )


def _runs_table(plan: pd.DataFrame, a: MatchArrays, n_comps: int, n_missing: np.ndarray) -> pd.DataFrame:
    n_runs = len(plan)
    named = np.zeros((n_runs, n_comps), dtype=bool)  # a file named for the run's own slot, there on time
    hit = np.flatnonzero((a.own >= 0) & ~a.late_own)
    named[a.own[hit], a.comp_index[hit]] = True
    runs = plan[["wake_time", "data_start", "data_end"]].copy()
    runs["files"] = np.bincount(a.pair_run[~a.pair_late], minlength=n_runs)
    runs["missing"] = n_missing
    runs["named"] = named.sum(axis=1)
    runs["late"] = np.bincount(a.own[a.late_own], minlength=n_runs)
    runs["ok"] = n_missing == 0
    return runs
