"""The recent slots: which runs would read which files, and the checks on them: ``gap``, ``missing-component``,
``late-files``, ``clock-skew``, ``frequency-too-fine``.

The runs are :func:`lookout_nb.contract.timing.plan_schedule`'s, matched against the listing by
:func:`lookout_nb.contract.filematch.match_files` (the service's rules, README "Behaviour choices"): the run for the
slot starting ``s`` wakes at ``s + F + DataDelayOffsetInMinutes`` and searches file names (local time) from ``s - F``
to ``s + 2F``; every component needs a file there, on time.

>>> times = pd.date_range("2026-01-05 09:00", periods=3, freq="5min", tz="UTC")
>>> infer_frequency(pd.DataFrame({"matches": [True, True, True], "time_utc": times}))
Timedelta('0 days 00:05:00')
"""

from __future__ import annotations

import math

import pandas as pd

from ..contract import servicemodel
from ..contract.filematch import FileMatch, match_files
from ..contract.naming import Naming
from ..contract.request import SchedulerRequest, parse_duration
from ..contract.timing import FILE_COLUMN, plan_schedule
from ..errors import LookoutNbError
from ._findings import Finding
from ._text import minutes, quote, slot_texts


def frequencies() -> dict:
    """The API's upload frequencies (from the service model) by duration: ``{Timedelta(minutes=5): "PT5M", ...}``."""
    return {parse_duration(f): f for f in servicemodel.enum("DataUploadFrequency")}


def infer_frequency(keys: pd.DataFrame) -> pd.Timedelta | None:
    """The most common step between the file times, when it is one of the API's upload frequencies."""
    times = pd.Series(keys.loc[keys["matches"], "time_utc"].unique()).sort_values()
    steps = times.diff().dropna()
    if steps.empty:
        return None
    step = steps.mode().iloc[0]
    return step if step in frequencies() else None


def plan_request(keys: pd.DataFrame, *, naming: Naming | None, frequency, delay: pd.Timedelta,
                 prefix: str) -> SchedulerRequest | None:
    """A request with what the slot checks need: the effective frequency, delay, naming and prefix (else None)."""
    name = frequencies().get(frequency)
    if name is None or naming is None:
        return None
    if prefix and not prefix.endswith("/"):  # a partial prefix ("in", "in/pump"): the folder the files sit in
        folders = keys.loc[keys["matches"], "key"].str.rpartition("/")[0]
        prefix = folders.mode().iloc[0] + "/" if len(folders) and folders.mode().iloc[0] else ""
    return SchedulerRequest(upload_frequency=name, delay_offset_minutes=int(delay.total_seconds() // 60),
                            input_prefix=prefix, timezone_offset=naming.timezone_offset,
                            timestamp_format=naming.timestamp_format, delimiter=naming.delimiter)


def match_recent(keys: pd.DataFrame, request: SchedulerRequest | None, *, components, now, delay: pd.Timedelta,
                 frequency, recent: int) -> tuple[pd.DataFrame | None, FileMatch | None]:
    """(plan, ``match_files`` of the listing) for the ``recent`` runs up to the newest file's run (or the last run
    woken by ``now``), leaving out runs whose window ends before the first file (nothing was uploaded yet: no gap).

    The components are the schema's, else those the names show. Files modified after ``now`` carry no
    LastModified here (clock-skew judges them, not late-files).
    """
    matched = keys[keys["matches"]]
    comps = tuple(components) if components else tuple(sorted(matched["component"].unique()))
    if request is None or matched.empty or not comps or recent <= 0:
        return None, None
    try:
        if now is None:  # the run named for the newest file: the first boundary after its time ends its window
            end = plan_schedule(request, start=matched["time_utc"].max(), periods=1)["wake_time"].iloc[0]
        else:
            end = now
        plan = plan_schedule(request, start=end - delay - (recent + 1) * frequency, end=end, components=comps)
    except LookoutNbError:  # e.g. a delay the API refuses: the request's own problems say so
        return None, None
    plan = plan.tail(recent)
    plan = plan[plan["data_end"] > matched["time_utc"].min()]
    future = from_the_future(keys, now)[matched.index]
    listing = pd.DataFrame({"Key": matched["key"], "LastModified": matched["last_modified"].mask(future)})
    return plan, match_files(plan, listing, components=list(comps))


def recent_slots(match: FileMatch | None) -> pd.DatetimeIndex:
    """The UTC starts of the windows of the runs judged."""
    if match is None:
        return pd.DatetimeIndex([], tz="UTC")
    return pd.DatetimeIndex(match.runs["data_start"])


def from_the_future(keys: pd.DataFrame, now) -> pd.Series:
    """Keys modified after ``now`` (plus 5 minutes of clock tolerance): S3's clock and ``now`` disagree."""
    if now is None:
        return pd.Series(False, index=keys.index)
    return keys["last_modified"] > now + pd.Timedelta(minutes=5)


def slot_findings(plan: pd.DataFrame | None, match: FileMatch | None, *, keys: pd.DataFrame, prefix: str,
                  frequency, truncated: bool) -> list[Finding]:
    """gap (recent runs that find no file at all), missing-component (runs lacking a component: error; runs
    reading a neighbouring slot's file for want of one named for their own slot: warning).

    A run whose own file arrived late is left to late-files (one cause, one finding).
    """
    m = match
    if m is None or m.runs.empty or truncated:
        return []
    runs, own = m.runs, _own_files(m)
    gap = [r for r in runs.index[runs["files"] == 0] if not any((r, c) in own for c in m.components)]
    out = []
    if gap:
        below = _folder_below(keys, prefix)
        fix = (f"the files named for them are in {below!r}, a folder below the prefix {prefix!r} that the "
               f"scheduler does not read (it reads the files directly under its prefix): set the prefix to "
               f"{below!r}" if below else
               "upload one file per component for every slot (named with the slot start, local time)")
        out.append(Finding("gap", "warning", f"{len(gap)} of the {len(runs)} recent slots have no file at all "
                           f"({quote(slot_texts(runs.loc[gap, 'data_start']))}); the runs for them FAIL: {fix}"))
    missing = m.missing[~m.missing["run"].isin(gap)]
    missing = missing[pd.Series([(r, c) not in own for r, c in zip(missing["run"], missing["component"])],
                                index=missing.index, dtype=bool)]
    out += _missing_components(plan, m, [r for r in runs.index if r not in set(gap)], missing)
    out += _unnamed_findings(plan, m, own, set(zip(m.missing["run"], m.missing["component"])), keys=keys,
                             frequency=frequency)
    return out


def _folder_below(keys: pd.DataFrame, prefix: str) -> str | None:
    """The folder below the prefix that holds most correctly named files (the scheduler reads none of them), if any.

    >>> keys = pd.DataFrame({"key": ["inference/input/pump_20260105090000.csv"], "matches": [True]})
    >>> _folder_below(keys, "inference/")
    'inference/input/'
    """
    named = keys.loc[keys["matches"], "key"]
    folders = named.str.rpartition("/")[0] + "/"
    below = folders[(folders != (prefix or "/")) & folders.str.startswith(prefix or "")]
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
        slot = slot_texts([rows["data_start"].iloc[0]])[0]
        if (rows["reason"] == "no file").all():
            why = f"lacks the files of {quote(lacking)} (expected {quote(keys)}, or a neighbouring slot's)"
        else:
            why = (f"has no file of {quote(lacking)} that was there when its run woke at "
                   f"{rows['wake_time'].iloc[0]:%H:%M} UTC (expected {quote(keys)}; late files do not count)")
        out.append(Finding("missing-component", "error", f"slot {slot} {why}; its run FAILS: every component needs "
                           "a file for every slot", keys))
    return out


def _unnamed_findings(plan: pd.DataFrame, m: FileMatch, own: set, missing: set, *, keys: pd.DataFrame,
                      frequency) -> list[Finding]:
    """missing-component (warning): runs that find a component only in a file named for a neighbouring slot."""
    pairs = [(r, c) for r in m.runs.index for c in m.components if (r, c) not in own and (r, c) not in missing]
    if not pairs:
        return []
    runs = m.runs.loc[sorted({r for r, _ in pairs})]
    comps = sorted({c for _, c in pairs}, key=m.components.index)
    expected = tuple(_expected_key(plan, r, c) for r, c in pairs)
    step = infer_frequency(keys)
    hint = (f", or set DataUploadFrequency to {frequencies()[step]!r}, the step between the files' names"
            if step is not None and step > frequency else "")
    return [Finding("missing-component", "warning", f"{len(runs)} of the {len(m.runs)} recent slots have no file of "
                    f"{quote(comps)} named for them ({quote(slot_texts(runs['data_start']))}; expected e.g. "
                    f"{quote(expected[:1])}): their runs read a neighbouring slot's file instead (names are searched "
                    "from one slot before the window to one slot after) and FAIL unless it holds rows of their "
                    f"window: upload one file per component for every slot, named with the slot start{hint}",
                    expected)]


def late_findings(match: FileMatch | None, *, delay: pd.Timedelta, offset_configured: bool) -> list[Finding]:
    """late-files: recent files modified after the wake-up of the run they are named for (``FileMatch.late``).

    Without a request the delay and offset are assumed (0, +00:00), so the finding is only information then.
    """
    if match is None or match.late.empty:
        return []
    late, files = match.late, match.files
    named = int((files["run"].notna() & files["last_modified"].notna()).sum())  # files after `now` are not judged
    worst = late["after_wake"].max()
    needed = math.ceil((delay + worst).total_seconds() / 60)
    fix = (f"set DataDelayOffsetInMinutes to at least {needed}" if needed <= 60
           else "upload sooner: the delay cannot exceed 60 minutes")
    level = "warning" if offset_configured else "info"
    assumed = "" if offset_configured else " (no request: delay 0 and names in UTC assumed)"
    return [Finding("late-files", level, f"{len(late)} of {named} recent files arrived after the run that reads "
                    f"them woke up (window end + {int(delay.total_seconds() // 60)} min), up to "
                    f"{minutes(worst)} late{assumed}: {quote(late['key'])}; those runs FAIL or miss the data: "
                    f"upload each file before its window ends, or {fix}", tuple(late["key"]))]


def clock_findings(keys: pd.DataFrame, now) -> list[Finding]:
    """clock-skew: files modified after ``now`` (a ``now`` given before the uploads), left out of late-files."""
    future = keys.loc[from_the_future(keys, now), "key"]
    if future.empty:
        return []
    return [Finding("clock-skew", "info", f"{len(future)} files were modified after now ({now:%Y-%m-%d %H:%M} "
                    f"UTC), e.g. {quote(future[:1])}: the S3 clock and `now` disagree (was `now` given earlier than "
                    "the uploads?), so late-files does not judge them", tuple(future))]


def frequency_findings(request: SchedulerRequest | None, frequency, rate: str | None) -> list[Finding]:
    """frequency-too-fine: the request's own DataUploadFrequency problem against the model's TargetSamplingRate.

    Without a request (or when its frequency is unset or invalid) the frequency inferred from the file names is put
    in a ``SchedulerRequest`` and asked the same question, so the rule lives in request.py alone.
    """
    if not rate:
        return []
    req, inferred = request, ""
    if req is None or req.frequency is None:
        name = frequencies().get(frequency)
        if name is None:
            return []
        req, inferred = SchedulerRequest(upload_frequency=name), f"the files arrive every {name}: "
    field = "DataUploadFrequency"
    before = {p.message for p in req.problems() if p.field == field}
    found = [p for p in req.problems(target_sampling_rate=rate) if p.field == field and p.message not in before]
    return [Finding("frequency-too-fine", "error", f"{inferred}DataUploadFrequency {p.message}: otherwise each "
                    "run finds too few rows") for p in found]
