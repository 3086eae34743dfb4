"""A trained model's evaluation: labelled versus predicted ranges as a table, and a picture over a chosen sensor.

DescribeModel's ``ModelMetrics`` (a JSON string) lists the labelled ranges inside the evaluation window and the
ranges the model predicted as anomalous there, each with its sensors' shares of the anomaly (diagnostics). A
labelled range is *found* when a predicted range overlaps it; its ``lead_time`` is the time from the start of the
first such range (or the label's start, if that is later) to the label's end, the per-label part of the service's
``total_warning_time_in_seconds``. A predicted range overlapping no label is an *unknown* event: an anomaly
nobody labelled, or a false alarm.

>>> metrics = {"labeled_ranges": [{"start": "2026-01-24T06:00:00", "end": "2026-01-24T14:00:00"}],
...            "predicted_ranges": [{"start": "2026-01-24T11:00:00", "end": "2026-01-24T15:00:00",
...                                  "diagnostics": [{"name": "pump\\\\Flow", "value": 0.7},
...                                                  {"name": "pump\\\\Speed", "value": 0.3}]}]}
>>> table = evaluation_table(metrics)
>>> table[["kind", "found", "lead_time", "top_sensors"]].values.tolist()   # doctest: +NORMALIZE_WHITESPACE
[['labelled', True, Timedelta('0 days 03:00:00'), <NA>],
 ['predicted', True, NaT, 'pump\\\\Flow 70%, pump\\\\Speed 30%']]
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ..contract._display import whole
from ..errors import InvalidArgument
from ._service import utc

__all__ = ["evaluation_summary", "evaluation_table", "model_metrics", "plot_evaluation"]

COLUMNS = ["kind", "number", "start", "end", "duration", "found", "overlaps", "lead_time", "top_sensors"]


def _describe(model, client=None, session=None) -> dict:
    """A DescribeModel response from a model name, a response, an object with ``.raw``, or ModelMetrics alone
    (then ``{"ModelMetrics": ...}``)."""
    if hasattr(model, "raw") and isinstance(model.raw, Mapping):
        return dict(model.raw)
    if isinstance(model, Mapping):
        return dict(model) if "ModelName" in model or "ModelMetrics" in model else {"ModelMetrics": dict(model)}
    if isinstance(model, str) and model.lstrip().startswith("{"):
        return {"ModelMetrics": model}
    if isinstance(model, str):
        from ..contract._aws import lookout_client
        from ._service import call

        return call(lookout_client(client, session), "describe_model", ModelName=model)
    raise InvalidArgument(f"model: expected a model name, a DescribeModel response or ModelMetrics, not "
                          f"{type(model).__name__}")


def model_metrics(model, client=None, session=None) -> dict:
    """The decoded ``ModelMetrics`` of ``model`` (a name, a DescribeModel response, or the metrics themselves).

    >>> model_metrics('{"labeled_ranges": [], "predicted_ranges": []}')
    {'labeled_ranges': [], 'predicted_ranges': []}
    """
    raw = _describe(model, client, session)
    metrics = raw.get("ModelMetrics")
    name = raw.get("ModelName", "the model")
    if metrics is None:
        status = raw.get("Status")
        raise InvalidArgument(f"model: {name} has no ModelMetrics" + (f" (its status is {status}: only a trained "
                              "model has an evaluation)" if status and status != "SUCCESS" else ""))
    if isinstance(metrics, str):
        try:
            metrics = json.loads(metrics)
        except json.JSONDecodeError as exc:
            raise InvalidArgument(f"model: the ModelMetrics of {name} is not JSON ({exc})") from exc
    if not isinstance(metrics, Mapping):
        raise InvalidArgument(f"model: the ModelMetrics of {name} is not a JSON object")
    return dict(metrics)


def _ranges(items) -> list[tuple[pd.Timestamp, pd.Timestamp, list]]:
    out = []
    for item in items or ():
        diagnostics = [(d.get("name"), float(d.get("value", 0.0))) for d in item.get("diagnostics") or ()]
        out.append((utc(item["start"]), utc(item["end"]), diagnostics))
    return out


def _top(diagnostics, top: int) -> str | None:
    ranked = sorted(diagnostics, key=lambda d: -d[1])[:top]
    return ", ".join(f"{name} {value:.0%}" for name, value in ranked) or None


def evaluation_table(model, top: int = 3, client=None, session=None) -> pd.DataFrame:
    """One row per labelled and per predicted range of the evaluation (see the module docstring).

    Columns: ``kind`` (``labelled`` or ``predicted``), ``number`` (1, 2, ... within its kind, by start), ``start``,
    ``end`` (tz-aware UTC), ``duration``, ``found`` (a labelled range overlapped by a prediction; a predicted range
    overlapping a label), ``overlaps`` (the numbers of the ranges of the other kind it overlaps), ``lead_time``
    (labelled ranges found) and ``top_sensors`` (a predicted range's ``top`` sensors by share).

    Example
    -------
    >>> evaluation_table("pump-model")                     # doctest: +SKIP
    """
    metrics = model_metrics(model, client, session)
    labelled = sorted(_ranges(metrics.get("labeled_ranges")), key=lambda r: r[0])
    predicted = sorted(_ranges(metrics.get("predicted_ranges")), key=lambda r: r[0])
    hits = lambda a, b: a[0] <= b[1] and a[1] >= b[0]  # noqa: E731
    rows = []
    for i, lb in enumerate(labelled, start=1):
        over = [j for j, pr in enumerate(predicted, start=1) if hits(pr, lb)]
        lead = lb[1] - min(max(predicted[over[0] - 1][0], lb[0]), lb[1]) if over else pd.NaT
        rows.append({"kind": "labelled", "number": i, "start": lb[0], "end": lb[1], "found": bool(over),
                     "overlaps": ", ".join(f"predicted {j}" for j in over) or None, "lead_time": lead,
                     "top_sensors": None})
    for j, pr in enumerate(predicted, start=1):
        over = [i for i, lb in enumerate(labelled, start=1) if hits(pr, lb)]
        rows.append({"kind": "predicted", "number": j, "start": pr[0], "end": pr[1], "found": bool(over),
                     "overlaps": ", ".join(f"labelled {i}" for i in over) or None, "lead_time": pd.NaT,
                     "top_sensors": _top(pr[2], top)})
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["start"] = pd.to_datetime(frame["start"], utc=True).astype("datetime64[ns, UTC]")
    frame["end"] = pd.to_datetime(frame["end"], utc=True).astype("datetime64[ns, UTC]")
    frame["duration"] = frame["end"] - frame["start"]
    frame["lead_time"] = pd.Series([pd.Timedelta(v) if pd.notna(v) else pd.NaT for v in frame["lead_time"]],
                                   index=frame.index, dtype="timedelta64[ns]")
    return whole(frame.astype({"kind": "string", "number": "int64", "found": "bool", "overlaps": "string",
                               "top_sensors": "string"}))


def evaluation_summary(model, client=None, session=None) -> dict:
    """The evaluation in a few numbers: labelled ranges and how many were found, predicted ranges, unknown events,
    and the total lead time.

    >>> evaluation_summary({"labeled_ranges": [], "predicted_ranges": [{"start": "2026-01-02", "end": "2026-01-03"}]})
    {'labelled': 0, 'found': 0, 'predicted': 1, 'unknown': 1, 'lead_time': Timedelta('0 days 00:00:00')}
    """
    table = evaluation_table(model, client=client, session=session)
    lab, pred = table[table.kind == "labelled"], table[table.kind == "predicted"]
    return {"labelled": len(lab), "found": int(lab.found.sum()), "predicted": len(pred),
            "unknown": int((~pred.found).sum()), "lead_time": lab.lead_time.sum()}


# -- the picture ----------------------------------------------------------------------------------------------------
def _wide(data) -> pd.DataFrame:
    """Sensor data as one frame of ``component\\sensor`` columns on a UTC index, from a frame of such columns,
    ``{component: frame}``, an object with ``.frames`` (a generated machine), or a folder of CSVs."""
    if isinstance(data, (str, Path)):
        data = _read_folder(data)
    if hasattr(data, "frames") and isinstance(data.frames, Mapping):
        data = data.frames
    if isinstance(data, Mapping):
        data = pd.concat([f.add_prefix(f"{c}\\") for c, f in data.items()], axis=1)
    if not isinstance(data, pd.DataFrame):
        raise InvalidArgument("data: give the sensor data as a DataFrame with component\\sensor columns and a time "
                              "index, as {component: DataFrame}, or as the folder of CSVs the dataset came from")
    index = pd.DatetimeIndex(data.index)
    return data.set_axis(index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")).sort_index()


def _read_folder(folder) -> dict:
    from ..contract.inputfiles import read_input
    from .datafolder import component_files

    frames = {}
    for component, paths in component_files(folder).items():
        parts = [read_input(p.read_bytes(), str(p)).table for p in paths if p.suffix.lower() == ".csv"]
        parts = [p for p in parts if p is not None and len(p)]
        if parts:
            frame = pd.concat(parts)
            frames[component] = frame[~frame.index.isna()]
    return frames


def _pick_sensor(sensor, columns, predicted) -> str:
    if sensor is None:
        weight: dict = {}
        for start, end, diagnostics in predicted:
            for name, value in diagnostics:
                weight[name] = weight.get(name, 0.0) + value * max((end - start).total_seconds(), 1.0)
        ranked = [n for n in sorted(weight, key=lambda n: -weight[n]) if n in columns]
        if ranked:
            return ranked[0]
        return columns[0]
    if sensor in columns:
        return sensor
    named = [c for c in columns if c.split("\\", 1)[-1] == sensor]
    if len(named) == 1:
        return named[0]
    raise InvalidArgument(f"sensor: {sensor!r} is not a column of the data; choose one of {', '.join(columns)}")


def plot_evaluation(model, data, sensor: str | None = None, ax=None, margin="1D", window=None, client=None,
                    session=None):
    """Draw ``sensor`` of ``data`` over the model's evaluation window, labelled ranges shaded, predicted ranges
    as a band along the bottom; returns the matplotlib Axes.

    ``model`` is a model name, a DescribeModel response or a :class:`~lookout_nb.calls.models.ModelInfo`; ``data`` is
    the sensor data (see :func:`_wide`: a frame of ``component\\sensor`` columns, ``{component: frame}`` or the
    folder of CSVs); ``sensor`` is ``component\\sensor`` (or a sensor name found in one component only),
    by default the sensor with the largest share of the predicted anomalies. ``margin`` of data before the window
    is shown too, so the picture starts in normal operation; ``window=(start, end)`` shows that span instead (to
    look closely at one range).

    Example
    -------
    >>> ax = plot_evaluation("pump-model", data="pump-csvs/", sensor="hx-pump\\\\Pressure")   # doctest: +SKIP
    """
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    raw = _describe(model, client, session)
    metrics = model_metrics(raw)
    labelled, predicted = _ranges(metrics.get("labeled_ranges")), _ranges(metrics.get("predicted_ranges"))
    frame = _wide(data)
    chosen = _pick_sensor(sensor, list(frame.columns), predicted)
    start = utc(raw.get("EvaluationDataStartTime")) or min([r[0] for r in labelled + predicted], default=None)
    end = utc(raw.get("EvaluationDataEndTime")) or max([r[1] for r in labelled + predicted], default=None)
    start = (start or frame.index[0]) - pd.Timedelta(margin)
    end = end or frame.index[-1]
    if window is not None:
        try:
            start, end = (utc(t) for t in window)
        except (TypeError, ValueError) as exc:
            raise InvalidArgument(f"window: expected (start, end) times, got {window!r}") from exc
    series = frame[chosen][(frame.index >= start) & (frame.index <= end)]
    if series.dropna().empty:
        raise InvalidArgument(f"data: {chosen} has no value between {start} and {end} (the evaluation window); give "
                              "the data the model was evaluated on")
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 3.8))
    ax.plot(series.index, series.to_numpy(), color="C0", lw=0.7, label=chosen)
    for i, (a, b, _) in enumerate(labelled):
        ax.axvspan(a, b, color="C1", alpha=0.25, lw=0, label="labelled range" if i == 0 else None)
    for i, (a, b, _) in enumerate(predicted):
        ax.axvspan(a, b, ymin=0, ymax=0.07, color="C3", alpha=0.9, lw=0, label="predicted range" if i == 0 else None)
    window = utc(raw.get("EvaluationDataStartTime"))
    if window is not None and window > series.index[0]:
        ax.axvline(window, color="0.4", ls="--", lw=1, label="evaluation starts")
    found = sum(any(p[0] <= lb[1] and p[1] >= lb[0] for p in predicted) for lb in labelled)
    unknown = sum(not any(p[0] <= lb[1] and p[1] >= lb[0] for lb in labelled) for p in predicted)
    name = raw.get("ModelName", "model")
    ax.set_title(f"{name}: {found} of {len(labelled)} labelled range(s) found, {unknown} other predicted range(s)",
                 loc="left", fontsize=10)
    ax.set_ylabel(chosen)
    ax.set_xlim(series.index[0], series.index[-1])
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    ax.legend(loc="upper left", fontsize=8, ncol=4, framealpha=0.9)
    ax.margins(y=0.15)
    return ax
