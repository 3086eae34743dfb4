"""The runner: executes one scheduled inference run through the S3 API, like the service does.

It takes any S3 client (AWS, MinIO, the endpoint over HTTP); the endpoint gives it
:class:`.inprocess.InProcessS3`, the same calls answered from moto's backend without HTTP.

For the run of boundary ``b`` with upload frequency ``F`` (window ``(b - F, b]`` UTC):

1. for every component of the model's schema, list the keys named from one slot before the window start to
   one slot after its end (names in local time, via :class:`lookout_nb.contract.naming.Naming`), listing only that key
   range (``ListObjectsV2`` with the component's name prefix and ``StartAfter``), so it also works on real
   S3 or MinIO;
2. no such file for a component: the run FAILS (``Could not find data file for sensor <component> within
   expected range of (<start>Z, <end>Z]. ...``); files but no row inside the window: FAILS (``Could not find
   data for sensor <component> within expected time range of ...``);
3. each file is read by :func:`lookout_nb.contract.inputfiles.read_input`, the preview's reader (its first error FAILS
   the run with its message); a sensor without any value in the window FAILS the run naming it; rows are read as
   UTC; only rows inside the window count (rows repeating a timestamp are averaged); they are resampled to the
   model's TargetSamplingRate (mean per interval, each timestamp labelled by the end of its interval) and scored by
   the model's trained detector with :func:`..learning.training.score`, the code its evaluation used, the rows
   of the lookback before the window read from the earlier slots' files (:meth:`Runner.read_history`);
4. the results go to ``<output prefix><ScheduledStartTime as YYYY-MM-DDTHH:MM:SSZ>/results.jsonl``.

Parsed input files are cached by (bucket, key, ETag), so a file read by consecutive runs is fetched once and a
file that changes is read again; the resampled window too, by its files' keys and ETags, so the runs of many
schedulers reading the same files for the same window list them each but parse and resample them once, and
score them once per model (:meth:`Runner.score` is the one place that scores).

>>> runner = Runner(s3)                      # doctest: +SKIP
>>> outcome = runner.execute(run)            # doctest: +SKIP
>>> outcome.status, outcome.result_object    # doctest: +SKIP
('SUCCESS', {'Bucket': 'lookout-demo', 'Key': 'inference/output/2026-01-05T09:05:00Z/results.jsonl'})
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

import pandas as pd

from ...contract.inputfiles import read_input
from ...contract.naming import expected_keys
from ...contract.request import parse_duration
from ...contract.s3keys import s3_uri
from ...errors import NamingError
from ..api.records import Model
from ..api.schedulers import Run, naming_of
from ..learning import training
from ..learning.ingest import cause
from .once import put_once

T = TypeVar("T")
R = TypeVar("R")

#: How many parsed input files the runner keeps.
CACHE_FILES = 2048
#: How many resampled windows (and slot plans, and namings) the runner keeps.
CACHE_WINDOWS = 256
#: Keys in the first listing page of a range: a window's range (three slots and one) holds four files per
#: component when the files follow the slots, and every listed key costs time on both sides of the wire (moto
#: serialises about a key per millisecond). Ranges holding more files continue with pages of LIST_PAGE_MORE.
LIST_PAGE_FIRST = 4
LIST_PAGE_MORE = 100


@dataclass
class Outcome:
    """How a run ended: what :meth:`lookout_nb.service.api.schedulers.Schedulers.finish` records."""

    status: str
    failed_reason: str | None = None
    result_object: dict | None = None
    anomalies: list = field(default_factory=list)


class RunFailed(Exception):
    """A run cannot complete; the message is the execution's FailedReason."""


def zulu(ts: pd.Timestamp) -> str:
    """``2022-03-30T11:00:00Z``."""
    return ts.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


class Runner:
    """Executes runs with an S3 client (any S3: the endpoint's own, MinIO, AWS)."""

    def __init__(self, s3, workers: int = 1, service_stamps: bool = True):
        """``workers`` > 1 lists and reads the components in parallel threads: worth it against a remote S3
        (network latency), not against the endpoint's own in-process S3, where every request competes for the GIL.
        ``service_stamps``: the S3's LastModified is the service clock's time (the embedded S3), so a file is there
        at a wake-up when stamped not after it; False for the user's own S3, whose LastModified is its real time:
        a file is there when the run's listing finds it (docs/endpoint.md, "Your own S3").
        """
        self.s3 = s3
        self.service_stamps = service_stamps
        self._files = Kept(CACHE_FILES)  # parsed input files by (bucket, key, ETag, sensors)
        self._windows = Kept(CACHE_WINDOWS)  # resampled windows by their files' keys and ETags
        self._slots = Kept(CACHE_WINDOWS)  # the key names of a window's slots
        self._namings = Kept(CACHE_WINDOWS)
        self._scores = Kept(CACHE_WINDOWS)  # results of a kept window by model
        self._parsed: dict = {}
        self._listed: dict = {}  # (bucket, key) -> the object as last listed (None: absent then), see slot_files
        self._lock = threading.Lock()
        self._pool = (ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lookout-nb-read") if workers > 1
                      else None)

    def close(self) -> None:
        """Stop the reader threads."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def wake_of(self, run):
        """The time files must be there by for ``run`` (its wake-up), or None: whatever its listing finds."""
        return run.wake if self.service_stamps else None

    def _map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        items = list(items)
        if self._pool is None or len(items) < 2:
            return [fn(item) for item in items]
        return list(self._pool.map(fn, items))

    def execute(self, run: Run) -> Outcome:
        """Run one inference: read the window, score it, write results.jsonl; never raises for data problems."""
        try:
            frame = self.read_window(run)
            body, anomalies = self.scored(frame, run)
            result = self.write_results(run, body)
        except RunFailed as failure:
            return Outcome("FAILED", failed_reason=str(failure)[:5000])
        return Outcome("SUCCESS", result_object=result, anomalies=list(anomalies))

    def score(self, frame: pd.DataFrame, run: Run) -> list[dict]:
        """What scores a run: one results.jsonl record per row of the window ``frame`` (its own copy), by the
        model's trained detector with the rows before the window as its history (the evaluation's scoring)."""
        return training.score(_trained(run), frame, history=self.read_history(run))

    def scored(self, frame: pd.DataFrame, run: Run) -> tuple[bytes, list]:
        """``(results.jsonl bytes, anomalous rows)`` of a window frame from :meth:`read_window`: scored once per
        kept frame and model (the runs of many schedulers of one model share both)."""
        model = _model(run)
        key = (id(frame), model.name)
        kept = self._scores.get(key)
        if kept is None or kept[0] is not frame or kept[1] is not model:
            records = self.score(frame.copy(), run)
            body = "".join(json.dumps(r, allow_nan=False) + "\n" for r in records).encode()  # strict JSON
            anomalies = [
                [r["timestamp"] + "Z", {d["name"]: d["value"] for d in r["diagnostics"]}]
                for r in records
                if r["prediction"]
            ]
            kept = self._scores.put(key, (frame, model, body, anomalies))
        return kept[2], kept[3]

    # -- reading -----------------------------------------------------------------------------------------------
    def read_window(self, run: Run) -> pd.DataFrame:
        """The rows of every component inside the window, resampled and side by side (``component\\sensor``).

        The runs of many schedulers read the same files for the same window: the frame is kept by the files'
        keys and ETags (listed by every run), so only the first such run parses and resamples them."""
        model = _model(run)
        naming = self.naming(run.input_config)
        bucket, prefix = _location(run.input_config, "S3InputConfiguration")
        start, end = run.window
        components = model.components
        lo, hi = start - run.frequency, end + run.frequency
        known, bounds = self.slots(naming, components, prefix, lo, hi, run.frequency)
        listings = self._map(lambda c: self.list_range(bucket, prefix, naming, c, *bounds[c], as_of=self.wake_of(run)),
                             components)
        parsed = dict(known)
        parsed.update(self.parse_keys(naming, [k for listing in listings for k in listing if k not in known]))
        files: dict[str, tuple[tuple[str, str], ...]] = {}  # {component: ((key, ETag), ...)}
        for component, listing in zip(components, listings):
            files[component] = tuple(
                (key, etag)
                for key, etag in listing.items()
                if parsed.get(key) and parsed[key][0] == component and lo <= parsed[key][1] <= hi
            )
            if not files[component]:
                first, last = (key[: -len(".csv")] for key in bounds[component])
                raise RunFailed(
                    f"Could not find data file for sensor {component} within expected range of "
                    f"({zulu(start)}, {zulu(end)}]. Please ensure data is present for all sensors of the machine "
                    f"under prefix '{first}' ~ '{last}'"
                )
        key = (bucket, tuple((c, tuple(s)) for c, s in components.items()), start, end, model.sampling_rate,
               tuple(files.items()))
        frame = self._windows.get(key)
        if frame is None:  # a failure is not kept: it may be a file that could not be read this time
            frame = self._windows.put(key, self.combine(bucket, files, run))
        return frame  # kept and shared: not to be changed (the scoring gets a copy)

    def naming(self, input_config: dict):
        """The Naming of a DataInputConfiguration (kept per distinct naming members); FAILS the run when invalid."""
        names = input_config.get("InferenceInputNameConfiguration") or {}
        try:
            key = (input_config.get("InputTimeZoneOffset"), tuple(sorted(names.items())))
            hash(key)
        except (AttributeError, TypeError):  # members of unexpected types: not kept
            key = None
        naming = self._namings.get(key) if key is not None else None
        if naming is None:
            try:
                naming = naming_of(input_config)
            except NamingError as err:
                naming = RunFailed(f"Invalid DataInputConfiguration: {err}")
            if key is not None:
                self._namings.put(key, naming)
        if isinstance(naming, RunFailed):
            raise RunFailed(str(naming))
        return naming

    def slots(self, naming, components, prefix, lo, hi, frequency
              ) -> tuple[dict[str, tuple[str, pd.Timestamp]], dict[str, tuple[str, str]]]:
        """The names the slots from ``lo`` to ``hi`` would have: ``({key: (component, slot start)}, {component:
        (first key, last key)})``, the keys known without parsing and the bounds of each listing (kept)."""
        key = (naming, tuple(components), prefix, lo, hi, frequency)
        found = self._slots.get(key)
        if found is None:
            slots = expected_keys(naming, components, pd.date_range(lo, hi, freq=frequency), prefix)
            known = {k: (c, t) for k, c, t in zip(slots["key"], slots["component"], slots["window_start"])}
            groups = slots.groupby("component", sort=False)
            bounds = {c: (group["key"].iloc[0], group["key"].iloc[-1]) for c, group in groups}
            found = self._slots.put(key, (known, bounds))
        return found

    def combine(self, bucket: str, files: dict[str, tuple[tuple[str, str], ...]], run: Run) -> pd.DataFrame:
        """Read ``files`` (``{component: ((key, ETag), ...)}``) and give the window's rows, resampled."""
        start, end = run.window
        components = _model(run).components
        wanted = [(item, tuple(components[c])) for c, items in files.items() for item in items]
        tables = dict(zip(wanted, self._map(lambda w: self.read_file(bucket, *w[0], w[1]), wanted)))
        frames = []
        for component, sensors in components.items():
            tables_of = [tables[(item, tuple(sensors))] for item in files[component]]
            inside = [t.loc[(t.index > start) & (t.index <= end), sensors]
                      for t in tables_of if _overlaps(t, start, end)]
            inside = [t for t in inside if len(t)]
            if not inside:
                stamps = [t.index for t in tables_of if len(t)]
                seen = (f"({zulu(min(i.min() for i in stamps))}, {zulu(max(i.max() for i in stamps))})" if stamps
                        else "(no rows)")
                raise RunFailed(
                    f"Could not find data for sensor {component} within expected time range of "
                    f"({zulu(start)}, {zulu(end)}] while searching in the given data range of {seen}"
                )
            rows = inside[0] if len(inside) == 1 else pd.concat(inside)
            if not rows.index.is_unique:  # a boundary row in two files, a row logged twice: one mean row each
                rows = rows.groupby(level=0).mean()
            empty = [f"{component}\\{s}" for s in sensors if rows[s].isna().all()]
            if empty:
                raise RunFailed(
                    f"No values for sensor{'s' if len(empty) > 1 else ''} {', '.join(empty)} "
                    f"within ({zulu(start)}, {zulu(end)}] in {', '.join(k for k, _ in files[component])}: every "
                    "sensor of the schema needs at least one number in each window"
                )
            frames.append(rows.set_axis([f"{component}\\{s}" for s in sensors], axis=1))
        return self.resample(frames[0] if len(frames) == 1 else pd.concat(frames, axis=1), run)

    def list_range(self, bucket, prefix, naming, component, first_key, last_key, as_of=None) -> dict[str, str]:
        """``{key: ETag}`` of ``component``'s keys from ``first_key`` to ``last_key`` (lexicographic, both included),
        only those there at ``as_of`` when given (:func:`present_at`).

        Only that range is listed: ``Prefix`` is the component's name, ``StartAfter`` just before ``first_key``.
        """
        first, last = first_key[: -len(".csv")], last_key
        listed: dict[str, str] = {}
        token = None
        kwargs = {"Bucket": bucket, "Prefix": f"{prefix}{component}{naming.delimiter}", "StartAfter": first}
        while True:
            try:
                page = self.s3.list_objects_v2(
                    **kwargs,
                    MaxKeys=LIST_PAGE_MORE if token else LIST_PAGE_FIRST,
                    **({"ContinuationToken": token} if token else {}),
                )
            except Exception as err:  # noqa: BLE001 - any S3 client's error: the run FAILS naming it
                raise RunFailed(f"Could not list input files in {s3_uri(bucket, prefix)}: {_reason(err)}") from None
            contents = page.get("Contents", [])
            there = present_at(contents, as_of)
            listed.update((obj["Key"], obj.get("ETag", "")) for obj in there if obj["Key"] <= last)
            self._remember(bucket, [obj for obj in contents if obj["Key"] <= last])
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token or (contents and contents[-1]["Key"] >= last):
                return listed

    def _remember(self, bucket: str, contents: list) -> None:
        """Keep the listed objects (ETag and LastModified) for :meth:`slot_files` (at most 100,000; then it starts
        afresh)."""
        with self._lock:
            if len(self._listed) > 100_000:
                self._listed.clear()
            self._listed.update(((bucket, obj["Key"]), obj) for obj in contents)

    def parse_keys(self, naming, keys) -> dict:
        """``{key: (component, UTC time)}`` for the keys that follow ``naming`` (parsed once, then remembered)."""
        with self._lock:
            new = [k for k in keys if (naming, k) not in self._parsed]
        if new:
            table = naming.parse_many(new)
            with self._lock:
                if len(self._parsed) > 100_000:
                    self._parsed.clear()
                for key, ok, comp, time in zip(table["key"], table["matches"], table["component"], table["time_utc"]):
                    self._parsed[(naming, key)] = (comp, time) if ok else None
        with self._lock:
            return {k: self._parsed.get((naming, k)) for k in keys}

    def read_file(self, bucket: str, key: str, etag: str, sensors: tuple) -> pd.DataFrame:
        """One input file's sensor values indexed by UTC time, read by :func:`lookout_nb.contract.inputfiles.read_input`
        (the preview's reader); its first error FAILS the run. Cached by bucket, key, ETag and sensors."""
        cached = self._files.get((bucket, key, etag, sensors))
        if cached is None:
            try:
                body = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            except Exception as err:  # noqa: BLE001 - any S3 client's error: the run FAILS naming it
                raise RunFailed(f"Could not read {s3_uri(bucket, key)}: {_reason(err)}") from None
            read = read_input(body, key, sensors)
            if read.errors:
                raise RunFailed(read.errors[0].message)
            cached = read.table
            self._files.put((bucket, key, etag, sensors), cached)
        return cached

    def resample(self, frame: pd.DataFrame, run: Run) -> pd.DataFrame:
        """Rows on the model's sampling grid: the mean per interval, labelled by the interval's end."""
        rate = parse_duration(_model(run).sampling_rate)
        grid = frame.index.ceil(rate)
        if not (grid.equals(frame.index) and frame.index.is_unique):  # already one row per interval: keep it
            frame = frame.groupby(grid).mean()
        frame = frame.sort_index()
        return frame.ffill().bfill() if frame.isna().to_numpy().any() else frame

    def read_history(self, run: Run) -> pd.DataFrame | None:
        """The rows before the window that its first rows are scored with (the model's detector's lookback, a span
        of time set by its windows, as in its evaluation): read from the input files of the slots before the window,
        like the window itself (the files named for those slots). Missing or unreadable files give fewer rows (never
        a failure)."""
        detector = _trained(run).detector
        if not getattr(detector, "lookback", 0):
            return None
        start = run.window[0]
        span = pd.Timedelta(seconds=detector.lookback_seconds)
        naming = naming_of(run.input_config)
        bucket, prefix = _location(run.input_config, "S3InputConfiguration")
        slots = pd.date_range((start - span).floor(run.frequency) - run.frequency, start, freq=run.frequency)
        model = _model(run)
        expected = expected_keys(naming, model.components, slots, prefix)
        frames = []
        for component, sensors in model.components.items():
            keys = list(expected[expected["component"] == component]["key"])
            try:
                tables = [self.read_file(bucket, key, etag, tuple(sensors))
                          for key, etag in self.slot_files(bucket, prefix, naming, component, keys,
                                                            self.wake_of(run))]
            except RunFailed:
                tables = []
            rows = [_between(t, start - span, start, sensors) for t in tables if _overlaps(t, start - span, start)]
            rows = [r for r in rows if len(r)]
            if rows:
                rows = pd.concat(rows) if len(rows) > 1 else rows[0]
                rows = rows.groupby(level=0).mean() if not rows.index.is_unique else rows
                frames.append(rows.set_axis([f"{component}\\{s}" for s in sensors], axis=1))
        if not frames:
            return None
        rows = pd.concat(frames, axis=1) if len(frames) > 1 else frames[0]
        # a component without history rows (its files missing) has missing values there, not missing columns
        return self.resample(rows.reindex(columns=model.sensors), run)

    def slot_files(self, bucket, prefix, naming, component, keys: list, as_of=None) -> list[tuple[str, str]]:
        """``[(key, ETag)]`` of the ``keys`` (one component's, in order) that exist, as last listed, and were there
        at ``as_of`` when given (:func:`present_at`): a key this runner listed before (for an earlier window or
        history) is not listed again; the others are, in one range (also one found absent before: a late upload
        is seen)."""
        with self._lock:
            unknown = [k for k in keys if not self._listed.get((bucket, k))]
        if unknown:
            listing = self.list_range(bucket, prefix, naming, component, unknown[0], unknown[-1])
            with self._lock:
                self._listed.update(((bucket, k), None) for k in keys
                                    if unknown[0] <= k <= unknown[-1] and k not in listing)
        with self._lock:
            known = [self._listed[bucket, k] for k in keys if self._listed.get((bucket, k))]
        return [(obj["Key"], obj.get("ETag", "")) for obj in present_at(known, as_of)]

    # -- writing -----------------------------------------------------------------------------------------------
    def write_results(self, run: Run, body: bytes) -> dict:
        """Write results.jsonl under the output prefix; returns the CustomerResultObject."""
        bucket, prefix = _location(run.output_config, "S3OutputConfiguration")
        key = f"{prefix}{zulu(run.wake)}/results.jsonl"
        try:
            put_once(self.s3, bucket, key, body)  # a run executed again (taken over) leaves the same object as it is
        except Exception as err:  # noqa: BLE001 - any S3 client's error: the run FAILS naming it
            raise RunFailed(f"Could not write the results to {s3_uri(bucket, key)}: {_reason(err)}") from None
        return {"Bucket": bucket, "Key": key}

class Kept:
    """A small thread-safe LRU: ``get(key)`` (None when absent), ``put(key, value)`` returns the value.

    >>> kept = Kept(1)
    >>> kept.put("a", 1)
    1
    >>> _ = kept.put("b", 2)
    >>> kept.get("a"), kept.get("b")
    (None, 2)
    """

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key, value):
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


def present_at(contents: list, as_of: pd.Timestamp | None) -> list:
    """The listed objects already there at ``as_of`` (a run's wake-up): LastModified (the service clock's time of
    the write, :mod:`.s3clock`) not after it. The service reads a run's files at its wake-up, so a run the runner
    executes late (a busy machine, a clock jump) must not see files that arrived since; an object rewritten since
    counts as arriving then (no older version is kept to read). ``as_of`` None keeps all.

    >>> listed = [{"Key": "a", "LastModified": pd.Timestamp("2026-01-05T09:05Z")},
    ...           {"Key": "b", "LastModified": pd.Timestamp("2026-01-05T09:07Z")}]
    >>> [o["Key"] for o in present_at(listed, pd.Timestamp("2026-01-05T09:05Z"))]
    ['a']
    """
    if as_of is None:
        return contents
    kept = []
    for obj in contents:
        stamp = obj.get("LastModified")
        stamp = None if stamp is None else pd.Timestamp(stamp)
        if stamp is None or (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp) <= as_of:
            kept.append(obj)
    return kept


def _model(run: Run) -> Model:
    """The model a run scores with; RunFailed when it was deleted since the scheduler was created."""
    if run.model is None:
        raise RunFailed("The model of this inference scheduler no longer exists")
    return run.model


def _location(config: dict, member: str) -> tuple[str, str]:
    """``(bucket, prefix)`` of a run's Data{Input,Output}Configuration (``member``: its S3InputConfiguration or
    S3OutputConfiguration). Its Bucket is a string: SchedulerRequest.problems() requires it when a scheduler is
    created, updated or restored; a run built otherwise without one FAILS naming the member."""
    s3 = config.get(member) or {}
    bucket = s3.get("Bucket")
    if not isinstance(bucket, str):
        raise RunFailed(f"The inference scheduler's {member} has no Bucket")
    return bucket, s3.get("Prefix") or ""


def _trained(run: Run):
    """The trained model a run scores with; RunFailed naming the model when it has none."""
    trained = run.model.trained_model if run.model is not None else None
    if trained is None:
        raise RunFailed(f"Model {run.model.name if run.model else ''} has no trained detector (status "
                        f"{run.model.status if run.model else 'deleted'}); train it with CreateModel")
    return trained


def _between(table: pd.DataFrame, lo: pd.Timestamp, hi: pd.Timestamp, sensors) -> pd.DataFrame:
    """The ``sensors`` columns of ``table``'s rows in (lo, hi] (a slice when its index is sorted)."""
    index = table.index
    if index.is_monotonic_increasing:
        part = table.iloc[index.searchsorted(lo, "right") : index.searchsorted(hi, "right")]
    else:
        part = table[(index > lo) & (index <= hi)]
    return part if list(part.columns) == list(sensors) else part[list(sensors)]


def _overlaps(table: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> bool:
    """Whether any row of ``table`` may fall in (start, end] (a cheap test on the first and last timestamps)."""
    if not len(table):
        return False
    index = table.index
    if index.is_monotonic_increasing:
        return index[-1] > start and index[0] <= end
    return True


def _reason(err: Exception) -> str:
    """The cause of an S3 client's error, as ingestion names it (:func:`..learning.ingest.cause`)."""
    return cause(err)
