"""Training and evaluating a model on a dataset's sensor data, and the scoring that scheduled runs share with it.

:func:`train` turns per-component frames into a :class:`TrainedModel`:

1. every component is resampled to the TargetSamplingRate (mean per interval, each row labelled by its
   interval's end, as the runner does) and the components are put side by side (``component\\sensor`` columns);
2. rows inside a label (start and end included) and rows where the OffCondition holds are left out of what the
   detector learns; it learns on the training window ``[start, end)``;
3. the evaluation window ``[start, end)`` is scored with :func:`score`'s code path and summarised as the
   service's ``ModelMetrics`` (:attr:`TrainedModel.metrics`).

Problems raise :class:`TrainingFailed` whose ``reason`` names the window, sensor, label or condition and says
how to fix it. Choices where the service documents nothing: ``labeled_ranges`` lists the labels that overlap the
evaluation window, clipped to it; a label is identified when a predicted range overlaps it, and its warning time
is from the start of the first such range (or the label's start, if earlier) to the label's end; an unknown event
is a predicted range overlapping no label, its duration ``end - start``.

>>> from lookout_nb.service.demo import synth
>>> m = synth.generate(days=4, seed=2, faults=[("frozen", "2026-01-04T06:00Z", "6h")])
>>> model = train(m.frames, m.schema, "PT1M", ("2026-01-01", "2026-01-03T12:00"), ("2026-01-03T12:00", "2026-01-05"),
...               labels=[(lb.start, lb.end) for lb in m.labels], off_condition=m.off_condition)  # doctest: +SKIP
>>> model.metrics["labeled_event_metrics"]                                    # doctest: +SKIP
{'num_labeled': 1, 'num_identified': 1, 'total_warning_time_in_seconds': ...}
>>> rows = score(model, m.wide().iloc[-5:], history=m.wide().iloc[-18:-5])      # doctest: +SKIP
"""

from __future__ import annotations

import functools
import json
import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from ...contract.request import parse_duration
from ...contract.schema import ModelSchema
from .detector import Detector, ZScoreBaseline, events

SAMPLING_RATES = ("PT1S", "PT5S", "PT10S", "PT15S", "PT30S", "PT1M", "PT5M", "PT10M", "PT15M", "PT30M", "PT1H")
#: The fewest usable training rows (after leaving out labels and off-time); more with many sensors, see
#: :func:`min_training_rows`.
MIN_TRAINING_ROWS = 720
FORMAT = "lookout-nb-model/1"
_STAMP = "%Y-%m-%dT%H:%M:%S.%f"
_OPS = {"<=": operator.le, ">=": operator.ge, "==": operator.eq, "<": operator.lt, ">": operator.gt}
_CONDITION = re.compile(r"^\s*(?P<sensor>[^<>=]+?)\s*(?P<op><=|>=|==|<|>)\s*"
                        r"(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")


class DetectorKind(Protocol):
    """A kind of detector :func:`train` fits by its ``method`` name and :meth:`TrainedModel.from_dict` reads back by
    its ``FORMAT``: the class itself (:class:`.detector.Detector`, :class:`.detector.ZScoreBaseline`)."""

    FORMAT: str

    def fit(self, values: np.ndarray, sensors: list, off: np.ndarray | None = None, use: np.ndarray | None = None,
            step: float = 60.0) -> Detector | ZScoreBaseline: ...

    def from_dict(self, data: dict) -> Detector | ZScoreBaseline: ...


_DETECTORS: dict[str, DetectorKind] = {"relations": Detector, "zscore": ZScoreBaseline}


class TrainingFailed(Exception):
    """Training could not produce a model; ``reason`` is the model's FailedReason."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class OffConditionError(ValueError):
    """An OffCondition that cannot be read; the message quotes it and says what is expected."""


# -- inputs ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OffCondition:
    """``component\\sensor <op> number``: the rows where it holds are off.

    >>> cond = parse_off_condition("hx-pump\\\\Speed < 100", ["hx-pump\\\\Speed"])
    >>> cond.mask(pd.DataFrame({"hx-pump\\\\Speed": [0.0, 1480.0]})).tolist()
    [True, False]
    """

    sensor: str
    op: str
    value: float

    @property
    def text(self) -> str:
        return f"{self.sensor} {self.op} {self.value:g}"

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        """True where the condition holds (a missing value is not off)."""
        return self.holds(frame[self.sensor].to_numpy(dtype=float))

    def holds(self, values: np.ndarray) -> np.ndarray:
        """True where the condition holds for the sensor's ``values`` (a missing value is not off)."""
        with np.errstate(invalid="ignore"):
            return _OPS[self.op](values, self.value) & np.isfinite(values)


def parse_off_condition(text: str, sensors) -> OffCondition:
    """Read an OffCondition such as ``hx-pump\\Speed < 100`` against the model's ``component\\sensor`` names."""
    sensors = list(sensors)
    match = _CONDITION.match(text or "")
    if not match:
        raise OffConditionError(
            f"OffCondition {text!r} cannot be read: write component\\sensor, one of < <= > >= ==, then a number, "
            f"for example '{sensors[0] if sensors else 'pump'+chr(92)+'Speed'} < 100'")
    sensor = match["sensor"]
    if sensor not in sensors:
        raise OffConditionError(f"OffCondition {text!r} names {sensor!r}, which is not a sensor of the model; use "
                                f"one of {', '.join(sensors)}")
    return OffCondition(sensor, match["op"], float(match["value"]))


def _utc(value, what: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise TrainingFailed(f"{what} {value!r} is not a time: give an ISO 8601 timestamp ({exc})") from exc
    if pd.isna(stamp):
        raise TrainingFailed(f"{what} is missing: give an ISO 8601 timestamp")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _window(window, name: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    try:
        start, end = window
    except (TypeError, ValueError):
        raise TrainingFailed(f"The {name} window must be (start, end), got {window!r}") from None
    start, end = _utc(start, f"The {name} window's start"), _utc(end, f"The {name} window's end")
    if end <= start:
        raise TrainingFailed(f"The {name} window ends ({_iso(end)}) before it starts ({_iso(start)}): its end must "
                             "come after its start")
    return start, end


def parse_labels(labels) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """``(start, end)`` UTC pairs from pairs, dicts (``start``/``end`` or ``StartTime``/``EndTime``), objects with
    ``start``/``end`` or a DataFrame whose first two columns are start and end."""
    if labels is None:
        return []
    if isinstance(labels, pd.DataFrame):
        labels = list(labels.iloc[:, :2].itertuples(index=False, name=None))
    out = []
    for i, label in enumerate(labels):
        if isinstance(label, Mapping):
            start, end = label.get("start", label.get("StartTime")), label.get("end", label.get("EndTime"))
        elif hasattr(label, "start") and hasattr(label, "end"):
            start, end = label.start, label.end
        else:
            start, end = tuple(label)[:2]
        start, end = _utc(start, f"Label {i + 1}'s start"), _utc(end, f"Label {i + 1}'s end")
        if end < start:
            raise TrainingFailed(f"Label {i + 1} ends ({_iso(end)}) before it starts ({_iso(start)}): swap its start "
                                 "and end")
        out.append((start, end))
    return out


@functools.lru_cache(maxsize=32)
def _step(rate: str) -> pd.Timedelta:
    return parse_duration(rate)


_NS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


def to_grid(frame: pd.DataFrame, rate) -> pd.DataFrame:
    """Rows on the sampling grid: the mean per interval, labelled by the interval's end (rows already on the
    grid, one per interval, in order, are kept as they are)."""
    step = _step(rate) if isinstance(rate, str) else pd.Timedelta(rate)
    index = frame.index if isinstance(frame.index, pd.DatetimeIndex) else pd.DatetimeIndex(frame.index)
    if index.tz is None or str(index.tz) != "UTC":
        index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
    ticks = index.asi8  # in the index's unit
    per = step.value // _NS.get(index.unit, 1)
    if len(ticks) and per and (ticks % per == 0).all() and (np.diff(ticks) > 0).all():
        return frame if index is frame.index else frame.set_axis(index)
    return frame.set_axis(index).groupby(index.ceil(step)).mean().sort_index()


def combine(frames, schema, rate) -> pd.DataFrame:
    """The schema's sensors of every component on the sampling grid, side by side as ``component\\sensor``.

    ``frames`` is ``{component: DataFrame}`` (sensor columns, time index) or one frame whose columns are already
    ``component\\sensor``.
    """
    sensors = ModelSchema.parse(schema).sensors
    if isinstance(frames, pd.DataFrame):
        wanted = [f"{c}\\{s}" for c, ss in sensors.items() for s in ss]
        missing = [w for w in wanted if w not in frames.columns]
        if missing:
            raise TrainingFailed(f"The data has no column {', '.join(missing)}: every sensor of the schema needs one")
        return to_grid(frames[wanted].astype(float), rate)
    parts = []
    for component, names in sensors.items():
        if component not in frames:
            raise TrainingFailed(f"The data has no component {component}: the schema's components are "
                                 f"{', '.join(sensors)}; ingest its files or leave it out of the model's schema")
        frame = frames[component]
        missing = [s for s in names if s not in frame.columns]
        if missing:
            raise TrainingFailed(f"Component {component}'s data has no column {', '.join(missing)}: its columns are "
                                 f"{', '.join(map(str, frame.columns))}")
        parts.append(to_grid(frame[list(names)].astype(float), rate).add_prefix(f"{component}\\"))
    return parts[0] if len(parts) == 1 else pd.concat(parts, axis=1).sort_index()


def min_training_rows(sensors: int) -> int:
    """The fewest usable training rows for a model of ``sensors`` sensors."""
    return max(MIN_TRAINING_ROWS, 10 * (2 * sensors + 1))


# -- the model -------------------------------------------------------------------------------------------------
@dataclass
class TrainedModel:
    """A trained detector with the settings that scoring needs and the evaluation's ``ModelMetrics``."""

    detector: Detector | ZScoreBaseline
    sensors: list
    sampling_rate: str
    off_condition: str | None
    training_window: tuple
    evaluation_window: tuple
    data_window: tuple
    metrics: dict

    @property
    def model_metrics(self) -> str:
        """``ModelMetrics`` as DescribeModel returns it (a JSON string)."""
        return json.dumps(self.metrics)

    def to_dict(self) -> dict:
        """Plain JSON-ready data; :meth:`from_dict` gives a model that scores identically."""
        return {
            "format": FORMAT, "sensors": self.sensors, "sampling_rate": self.sampling_rate,
            "off_condition": self.off_condition, "training_window": [_iso(t) for t in self.training_window],
            "evaluation_window": [_iso(t) for t in self.evaluation_window],
            "data_window": [_iso(t) for t in self.data_window], "detector": self.detector.to_dict(),
            "metrics": self.metrics,
        }

    @classmethod
    def from_dict(cls, data: dict) -> TrainedModel:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a trained model of format {FORMAT!r} (format: {data.get('format')!r})")
        kind = next((k for k, c in _DETECTORS.items() if data["detector"].get("format") == c.FORMAT), None)
        if kind is None:
            raise ValueError(f"unknown detector format {data['detector'].get('format')!r}")
        stamps = lambda pair: tuple(pd.Timestamp(t, tz="UTC") for t in pair)  # noqa: E731
        detector = _DETECTORS[kind].from_dict(data["detector"])
        # a relations detector saved before the step was kept: its rate's
        if isinstance(detector, Detector) and "step" not in data["detector"]:
            detector.step = _step(data["sampling_rate"]).total_seconds()
        return cls(detector, list(data["sensors"]), data["sampling_rate"],
                   data["off_condition"], stamps(data["training_window"]), stamps(data["evaluation_window"]),
                   stamps(data["data_window"]), data["metrics"])


def _iso(stamp) -> str:
    return pd.Timestamp(stamp).tz_convert("UTC").tz_localize(None).strftime(_STAMP)


def _in_labels(index: pd.DatetimeIndex, labels) -> np.ndarray:
    inside = np.zeros(len(index), bool)
    for start, end in labels:
        inside |= np.asarray((index >= start) & (index <= end))
    return inside


def _check_window(grid: pd.DataFrame, start, end, name: str) -> pd.DataFrame:
    rows = grid[(grid.index >= start) & (grid.index < end)]
    if rows.empty:
        span = f"from {_iso(grid.index[0])} to {_iso(grid.index[-1])}" if len(grid) else "empty"
        raise TrainingFailed(f"The {name} window {_iso(start)} to {_iso(end)} holds no data (the data is {span}): "
                             "choose a window inside the data")
    empty = [c for c in rows.columns if not np.isfinite(rows[c].to_numpy(dtype=float)).any()]
    if empty:
        raise TrainingFailed(f"Sensor {', '.join(empty)} has no values in the {name} window {_iso(start)} to "
                             f"{_iso(end)}: ingest its data for that time or leave it out of the model's schema")
    return rows


def train(frames, schema, sampling_rate: str, training_window, evaluation_window, labels=(),
          off_condition: str | None = None, method: str = "relations") -> TrainedModel:
    """Train on ``training_window`` and evaluate on ``evaluation_window`` (see the module docstring).

    ``method="zscore"`` trains the endpoint's per-sensor z-score baseline through the same path, for comparison.
    """
    if sampling_rate not in SAMPLING_RATES:
        raise TrainingFailed(f"TargetSamplingRate {sampling_rate!r} is not supported: use one of "
                             f"{', '.join(SAMPLING_RATES)}")
    if method not in _DETECTORS:
        raise ValueError(f"method must be one of {', '.join(_DETECTORS)}, not {method!r}")
    train_start, train_end = _window(training_window, "training")
    eval_start, eval_end = _window(evaluation_window, "evaluation")
    labels = parse_labels(labels)
    grid = combine(frames, schema, sampling_rate)
    sensors = list(grid.columns)
    try:
        condition = parse_off_condition(off_condition, sensors) if off_condition else None
    except OffConditionError as exc:
        raise TrainingFailed(str(exc)) from None
    training = _check_window(grid, train_start, train_end, "training")
    _check_window(grid, eval_start, eval_end, "evaluation")
    off = condition.mask(training) if condition else np.zeros(len(training), bool)
    labelled = _in_labels(training.index, labels)
    usable = ~off & ~labelled
    needed = min_training_rows(len(sensors))
    if usable.sum() < needed:
        raise TrainingFailed(
            f"Too little data to train: the training window {_iso(train_start)} to {_iso(train_end)} has "
            f"{int(usable.sum())} usable rows at {sampling_rate} ({int(off.sum())} off, {int((labelled & ~off).sum())} "
            f"labelled); at least {needed} are needed: widen the training window")
    values = training.to_numpy(dtype=float)
    try:
        detector = _DETECTORS[method].fit(values, sensors, off=off, use=usable,
                                          step=_step(sampling_rate).total_seconds())
    except ValueError as exc:
        raise TrainingFailed(f"{str(exc)[0].upper()}{str(exc)[1:]} in the training window {_iso(train_start)} to "
                             f"{_iso(train_end)}: leave it out of the model's schema") from None
    model = TrainedModel(detector, sensors, sampling_rate, off_condition.strip() if off_condition else None,
                         (train_start, train_end), (eval_start, eval_end), (grid.index[0], grid.index[-1]), {})
    model.metrics = evaluate(model, grid, labels)
    return model


# -- scoring and evaluation ------------------------------------------------------------------------------------
def _rows(model: TrainedModel, frame: pd.DataFrame, condition):
    """The times on the sampling grid, the values in the model's sensor order, and the off rows."""
    position = {c: i for i, c in enumerate(frame.columns)}
    columns = [position.get(s, -1) for s in model.sensors]
    if min(columns, default=0) < 0:
        missing = [s for s, c in zip(model.sensors, columns) if c < 0]
        raise ValueError(f"the rows to score have no column {', '.join(missing)}; the model's sensors are "
                         f"{', '.join(model.sensors)}")
    if columns != list(range(len(frame.columns))):
        frame = frame.iloc[:, columns]
    frame = to_grid(frame, model.sampling_rate)
    values = frame.to_numpy(dtype=float)
    off = condition.holds(values[:, model.sensors.index(condition.sensor)]) if condition else None
    return frame.index, values, off


@functools.lru_cache(maxsize=64)
def _condition(text: str, sensors: tuple) -> OffCondition:
    return parse_off_condition(text, sensors)


def _scores(model: TrainedModel, frame: pd.DataFrame, history: pd.DataFrame | None):
    condition = _condition(model.off_condition, tuple(model.sensors)) if model.off_condition else None
    times, values, off = _rows(model, frame, condition)
    h_values = h_off = None
    if history is not None and len(history):
        h_times, h_values, h_off = _rows(model, history, condition)
        if len(times) and len(h_times) and not h_times[-1] < times[0]:  # drop history rows the window holds
            keep = h_times < times[0]
            h_values, h_off = h_values[keep], (h_off[keep] if h_off is not None else None)
    return times, model.detector.scores(values, off=off, history=h_values, history_off=h_off)


def score(model: TrainedModel, frame: pd.DataFrame, history: pd.DataFrame | None = None) -> list[dict]:
    """results.jsonl records of ``frame``'s rows (``component\\sensor`` columns, UTC index), put on the model's
    sampling grid first; ``history`` holds rows before them (the last ``model.detector.lookback`` are enough) so
    that the first rows score exactly as they did in the evaluation. Non-finite inputs are missing values (see
    :mod:`.detector`); every number in the records is finite.
    """
    times, scores = _scores(model, frame, history)
    stamps = times.tz_localize(None).strftime(_STAMP)
    names = model.sensors
    records = []
    for stamp, value, flag, shares in zip(stamps, scores.score.tolist(), scores.anomalous.tolist(),
                                          scores.shares.tolist()):
        records.append({
            "timestamp": stamp,
            "prediction": int(flag),
            "prediction_reason": "ANOMALY_DETECTED" if flag else "NO_ANOMALY_DETECTED",
            "anomaly_score": round(value, 5),
            "diagnostics": [{"name": n, "value": round(v, 5)} for n, v in zip(names, shares)],
        })
    return records


def evaluate(model: TrainedModel, grid: pd.DataFrame, labels) -> dict:
    """``ModelMetrics`` of the model over its evaluation window of ``grid`` (rows on the sampling grid)."""
    start, end = model.evaluation_window
    inside = (grid.index >= start) & (grid.index < end)
    window = grid[inside]
    lookback = getattr(model.detector, "lookback", 0)
    before = grid[grid.index < start].iloc[-lookback:] if lookback else None
    times, scores = _scores(model, window, before)
    gap = getattr(model.detector, "window", 1)
    predicted = events(times, scores.anomalous, scores.shares, max_gap=gap)
    labelled = [(max(a, start), min(b, end)) for a, b in labels if a < end and b >= start]
    overlaps = lambda ev, lb: ev["start"] <= lb[1] and ev["end"] >= lb[0]  # noqa: E731
    warning, identified = 0.0, 0
    for lb in labelled:
        hits = [ev for ev in predicted if overlaps(ev, lb)]
        if hits:
            identified += 1
            warning += (lb[1] - min(max(hits[0]["start"], lb[0]), lb[1])).total_seconds()
    unknown = [ev for ev in predicted if not any(overlaps(ev, lb) for lb in labelled)]
    return {
        "labeled_ranges": [{"start": _iso(a), "end": _iso(b)} for a, b in labelled],
        "labeled_event_metrics": {"num_labeled": len(labelled), "num_identified": identified,
                                  "total_warning_time_in_seconds": warning},
        "predicted_ranges": [
            {"start": _iso(ev["start"]), "end": _iso(ev["end"]),
             "diagnostics": [{"name": n, "value": round(float(v), 5)} for n, v in zip(model.sensors, ev["shares"])]}
            for ev in predicted
        ],
        "unknown_event_metrics": {"num_identified": len(unknown),
                                  "total_duration_in_seconds": sum(((e["end"] - e["start"]).total_seconds()
                                                                   for e in unknown), 0.0)},
        "data_start_time": _iso(model.data_window[0]),
        "data_end_time": _iso(model.data_window[1]),
        "labels_present": bool(labels),
    }
