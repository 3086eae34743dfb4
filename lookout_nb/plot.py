"""Pictures of a schedule (windows, delays, wake-ups, files, executions) and of inference results.

Every function draws with collections (one artist per kind of mark, whatever the number of runs), takes ``ax=``
and returns what it drew on. Times on the x axis are UTC; the schedule adds a top axis in the file names' local
time when the offset is not zero. Each lane of the schedule and each panel of the results has its own function;
colours come from :mod:`lookout_nb._palette`.

>>> import matplotlib; matplotlib.use("Agg")
>>> from lookout_nb import SchedulerRequest
>>> from lookout_nb.contract.timing import plan_schedule
>>> plan = plan_schedule(SchedulerRequest(upload_frequency="PT10M", delay_offset_minutes=5),
...                      start="2024-05-01 09:08", periods=3)
>>> ax = plot_schedule(plan, now="2024-05-01 09:20")
>>> ax.get_xlabel()
'Time (UTC)'
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import NamedTuple

import numpy as np
import pandas as pd

from ._palette import (
    DELAY_COLOR,
    FILE_COLOR,
    LATE_COLOR,
    MISSING_COLOR,
    OTHER_COLOR,
    REST_COLOR,
    SCORE_COLOR,
    STATUS_COLORS,
    WAKE_COLOR,
    WINDOW_COLORS,
)
from .contract import servicetime
from .contract._nanos import NAT, SECOND, to_ns
from .contract.naming import format_offset, to_utc

__all__ = ["DENSE_RUNS", "EXECUTION_COLUMNS", "MAX_TICKS", "STATUS_COLORS", "ResultAxes", "plot_results",
           "plot_schedule", "plot_versions"]

#: Above this many runs (or executions) the picture aggregates: merged windows, binned statuses, no per-run marks.
DENSE_RUNS = 400
#: Above this many file ticks of one kind, they are drawn as a histogram instead.
MAX_TICKS = 5000
#: Bins of a histogram lane or of binned statuses; dense results are reduced to twice as many time bins.
_BINS = 600
#: The contributions panel stacks at most this many time bins (the mean share in each): row by row, hundreds of
#: rows of shares that change at every row are noise, not a picture.
CONTRIBUTION_BINS = 48
_DAY_NS = 86_400 * SECOND
#: The columns of an executions table, and the boto3 names they may come under.
EXECUTION_COLUMNS = {
    "scheduled_start": "ScheduledStartTime",
    "data_start": "DataStartTime",
    "data_end": "DataEndTime",
    "status": "Status",
}
_LANE_LABELS = {"executions": "Executions", "windows": "Data window", "wake": "Delay → wake-up", "files": "Files"}
_LEGEND = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "fontsize": "small", "frameon": False}


def _mpl() -> SimpleNamespace:
    """matplotlib's modules, imported on first drawing (importing this module does not load matplotlib)."""
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from matplotlib import collections, patches
    from matplotlib.lines import Line2D

    return SimpleNamespace(plt=plt, mdates=mdates, collections=collections, patches=patches, Line2D=Line2D)


# -- shared helpers ----------------------------------------------------------------------------------------------


def _x(ns: np.ndarray) -> np.ndarray:
    """Matplotlib date numbers (days since its epoch) of int64 UTC nanoseconds."""
    import matplotlib.dates as mdates

    return np.asarray(ns, dtype=np.int64) / _DAY_NS + mdates.date2num(np.datetime64("1970-01-01T00:00:00"))


def _rects(x0, x1, y0, y1) -> np.ndarray:
    """Vertices (n, 4, 2) of rectangles, vectorised."""
    x0, x1 = np.asarray(x0, float), np.asarray(x1, float)
    y0, y1 = np.broadcast_to(y0, x0.shape).astype(float), np.broadcast_to(y1, x0.shape).astype(float)
    corners = [np.stack([x0, y0], -1), np.stack([x0, y1], -1), np.stack([x1, y1], -1), np.stack([x1, y0], -1)]
    return np.stack(corners, 1)


def _merge(start: np.ndarray, end: np.ndarray):
    """Merge sorted intervals that touch or overlap into spans (vectorised)."""
    if len(start) == 0:
        return start, end
    order = np.argsort(start, kind="stable")
    start, end = start[order], np.maximum.accumulate(end[order])
    brk = np.flatnonzero(start[1:] > end[:-1]) + 1
    return start[np.concatenate([[0], brk])], end[np.concatenate([brk - 1, [len(start) - 1]])]


def _edges(lo: float, hi: float) -> np.ndarray:
    """The edges of ``_BINS`` equal bins from ``lo`` to just past ``hi`` (histograms, binned statuses)."""
    return np.linspace(lo, hi + 1e-9, _BINS + 1)


def _per_time_bin(x: np.ndarray, values, how: str, bins: int = 2 * _BINS):
    """Results too dense to draw row by row (over ``2 * bins`` rows of sorted ``x``), reduced to ``bins`` equal
    time bins: the first ``x`` of each bin and ``how`` ("max", "mean") of ``values`` (Series or DataFrame)."""
    if len(x) <= 2 * bins:
        return x, values
    b = np.minimum(((x - x[0]) / max(x[-1] - x[0], 1e-12) * bins).astype(int), bins - 1)
    return pd.Series(x).groupby(b).first().to_numpy(), values.groupby(b).agg(how)


def _duration(td) -> str:
    minutes = int(pd.Timedelta(td).total_seconds() // 60)
    return f"{minutes // 60} h" if minutes >= 60 and minutes % 60 == 0 else f"{minutes} min"


def _date_axis(axis, mdates):
    locator = mdates.AutoDateLocator(tz=dt.timezone.utc)
    axis.set_major_locator(locator)
    axis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=dt.timezone.utc))


def _executions(executions) -> pd.DataFrame:
    ex = pd.DataFrame(executions).rename(columns={v: k for k, v in EXECUTION_COLUMNS.items()})
    missing = [c for c in ("data_start", "data_end", "status") if c not in ex.columns]
    if missing:
        raise ValueError(
            f"executions needs the columns scheduled_start, data_start, data_end, status (missing {', '.join(missing)})"
        )
    return ex


def _ticks(ax, collections, x, lane, color, label, gid, width=1.0, bins=None):
    """File ticks in a lane: one LineCollection, or a histogram (PolyCollection) when there are too many.

    ``bins``: ``(edges, largest count)`` shared by the histograms of one lane, so that their heights compare.
    """
    if len(x) > MAX_TICKS or (bins is not None and len(x)):
        edges, most = bins if bins is not None else (_edges(x.min(), x.max()), None)
        counts, _ = np.histogram(x, bins=edges)
        keep = counts > 0
        h = 0.7 * counts[keep] / (most or counts.max())
        coll = collections.PolyCollection(_rects(edges[:-1][keep], edges[1:][keep], lane - 0.35, lane - 0.35 + h),
                                          facecolors=color, edgecolors="none", label=label)
    else:
        low, high = np.full_like(x, lane - 0.3), np.full_like(x, lane + 0.3)
        segs = np.stack([np.stack([x, low], -1), np.stack([x, high], -1)], 1)
        coll = collections.LineCollection(segs, colors=color, linewidths=width, label=label)
    coll.set_gid(gid)
    ax.add_collection(coll)
    return coll


# -- the schedule ------------------------------------------------------------------------------------------------


def plot_schedule(plan, executions=None, files=None, ax=None, now=None, dense=None, client=None):
    """A timeline of a plan: data windows, delay up to each wake-up, file arrivals and executions by status.

    ``executions``: a DataFrame with ``scheduled_start, data_start, data_end, status`` (boto3 names accepted).
    ``files``: a :class:`~lookout_nb.contract.filematch.FileMatch` (ticks at each file's LastModified, late files
    orange, runs missing a component marked red at their wake-up) or its ``files`` table. ``now``: a time for the "now"
    line (default the time of the service ``client`` talks to, :func:`lookout_nb.contract.servicetime.now`, drawn when
    inside the picture; ``False`` for none). Above
    ``DENSE_RUNS`` runs (or with ``dense=True``) windows are merged, statuses and file ticks binned, and the
    per-run delay lane left out (the title gives the delay). Returns the Axes.

    >>> import matplotlib; matplotlib.use("Agg")
    >>> from lookout_nb import SchedulerRequest
    >>> from lookout_nb.contract.timing import plan_schedule
    >>> req = SchedulerRequest(upload_frequency="PT5M", delay_offset_minutes=2)
    >>> plan = plan_schedule(req, start="2024-05-01", periods=10_000)
    >>> [c.get_gid() for c in plot_schedule(plan, now=False).collections]  # one merged span, not 10,000 bars
    ['windows']
    """
    mpl = _mpl()
    if not isinstance(plan, pd.DataFrame) or not {"wake_time", "data_start", "data_end"} <= set(plan.columns):
        raise ValueError("plan must be a DataFrame from plan_schedule (wake_time, data_start, data_end)")
    if ax is None:
        _, ax = mpl.plt.subplots(figsize=(12, 3.6), layout="constrained")
    match = files if hasattr(files, "runs") and hasattr(files, "files") else None
    file_table = match.files if match is not None else (pd.DataFrame(files) if files is not None else None)
    ex = _executions(executions) if executions is not None else None
    dense = len(plan) > DENSE_RUNS if dense is None else bool(dense)
    ds, de, wake = to_ns(plan["data_start"]), to_ns(plan["data_end"]), to_ns(plan["wake_time"])
    # Dense pictures drop the per-run delay lane: a few minutes per run are invisible at that scale (the title
    # says the delay), and thousands of hatched spans would only slow the drawing down.
    lanes = (["executions"] if ex is not None else []) + ["windows"] + ([] if dense else ["wake"])
    lanes += ["files"] if file_table is not None else []
    y = {name: len(lanes) - 1 - i for i, name in enumerate(lanes)}
    delay = plan.attrs.get("delay")
    delay = pd.Timedelta(int(np.median(wake - de)) if len(plan) else 0, unit="ns") if delay is None else (
        pd.Timedelta(delay))

    handles = _windows_lane(ax, mpl, ds, de, y["windows"], dense)
    if not dense and len(plan):
        handles += _wake_lane(ax, mpl, de, wake, y["wake"], delay)
    xs = [ds, wake]
    if file_table is not None:
        handles += _files_lane(ax, mpl, file_table, match, y["files"], xs)
    if ex is not None:
        handles += _executions_lane(ax, mpl, ex, y["executions"], dense, xs)
    handles += _limits_and_now(ax, mpl, xs, now, client)
    _schedule_labels(ax, mpl, plan, lanes, y, dense, delay, ds, de)
    ax.legend(handles=handles, **_LEGEND)
    return ax


def _windows_lane(ax, mpl, ds, de, lane, dense) -> list:
    """Data windows: alternating shades so that adjacent windows stay distinct; merged spans when dense."""
    if dense:
        s0, s1 = _merge(ds, de)
        coll = mpl.collections.PolyCollection(_rects(_x(s0), _x(s1), lane - 0.3, lane + 0.3),
                                              facecolors=WINDOW_COLORS[1], edgecolors="none")
    else:
        coll = mpl.collections.PolyCollection(_rects(_x(ds), _x(de), lane - 0.3, lane + 0.3),
                                              facecolors=np.array(WINDOW_COLORS)[np.arange(len(ds)) % 2],
                                              edgecolors="white", linewidths=0.5)
    coll.set_gid("windows")
    ax.add_collection(coll)
    return [mpl.patches.Patch(facecolor=WINDOW_COLORS[1], label="data window (start, end]")]


def _wake_lane(ax, mpl, de, wake, lane, delay) -> list:
    """The delay between each window's end and its wake-up (hatched), and the wake-up itself (a marker)."""
    handles = []
    if np.any(wake > de):
        coll = mpl.collections.PolyCollection(_rects(_x(de), _x(wake), lane - 0.25, lane + 0.25),
                                              facecolors=DELAY_COLOR, edgecolors="none", hatch="////", alpha=0.8)
        coll.set_gid("delay")
        ax.add_collection(coll)
        handles.append(mpl.patches.Patch(facecolor=DELAY_COLOR, hatch="////", label=f"delay ({_duration(delay)})"))
    (marks,) = ax.plot(_x(wake), np.full(len(wake), lane), ls="none", marker="v", color=WAKE_COLOR, markersize=7)
    marks.set_gid("wake-ups")
    handles.append(mpl.Line2D([], [], ls="none", marker="v", color=WAKE_COLOR, label="wake-up"))
    return handles


def _arrivals(file_table: pd.DataFrame):
    """``(arrival ns, usable, late)`` of a files table: LastModified, or the time its name says without one."""
    arrive = to_ns(file_table["last_modified"]) if "last_modified" in file_table else np.array([], dtype=np.int64)
    named = to_ns(file_table["file_time_utc"]) if "file_time_utc" in file_table else arrive
    if len(arrive) == 0:
        arrive = named
    arrive = np.where(arrive == NAT, named, arrive)
    usable = arrive != NAT
    if "reason" in file_table:
        usable &= file_table["reason"].isna().to_numpy()
    late = file_table["late"].to_numpy(dtype=bool) if "late" in file_table else np.zeros(len(arrive), bool)
    return arrive, usable, late


def _files_lane(ax, mpl, file_table, match, lane, xs: list) -> list:
    """Ticks where each file arrived (late ones orange) and, with a FileMatch, runs missing a component."""
    arrive, usable, late = _arrivals(file_table)
    on_x, late_x = _x(arrive[usable & ~late]), _x(arrive[usable & late])
    bins = None
    if len(on_x) + len(late_x) > MAX_TICKS:  # one histogram scale for the lane
        both = np.concatenate([on_x, late_x])
        edges = _edges(both.min(), both.max())
        bins = (edges, np.histogram(both, bins=edges)[0].max())
    _ticks(ax, mpl.collections, on_x, lane, FILE_COLOR, "file arrived", "files-on-time", 0.8, bins)
    _ticks(ax, mpl.collections, late_x, lane, LATE_COLOR, "late file", "files-late", 2.0, bins)
    handles = [mpl.Line2D([], [], color=FILE_COLOR, label="file arrived")]
    if len(late_x):
        handles.append(mpl.Line2D([], [], color=LATE_COLOR, lw=2, label="file after its run woke"))
    xs.append(arrive[usable])
    if match is not None:
        handles += _missing_marks(ax, mpl, match, lane)
    return handles


def _missing_marks(ax, mpl, match, lane) -> list:
    """A red cross at the wake-up of each run missing a component (a histogram when there are too many)."""
    bad = np.flatnonzero(~match.runs["ok"].to_numpy())
    miss_x = _x(to_ns(match.runs["wake_time"].iloc[bad])) if len(bad) else np.array([])
    if len(miss_x) > MAX_TICKS:
        _ticks(ax, mpl.collections, miss_x, lane, MISSING_COLOR, "component missing", "missing")
    else:
        (mk,) = ax.plot(miss_x, np.full(len(miss_x), lane), ls="none", marker="x", color=MISSING_COLOR,
                        markersize=8, markeredgewidth=2)
        mk.set_gid("missing")
    if not len(miss_x):
        return []
    return [mpl.Line2D([], [], ls="none", marker="x", color=MISSING_COLOR, markeredgewidth=2,
                       label="run missing a component")]


def _executions_lane(ax, mpl, ex, lane, dense, xs: list) -> list:
    """Executions by status: one bar per run, or stacked status shares per time bin when dense."""
    es, ee = to_ns(ex["data_start"]), to_ns(ex["data_end"])
    status = ex["status"].astype(str).to_numpy()
    names = list(STATUS_COLORS) + sorted(set(status) - set(STATUS_COLORS))
    code = pd.Index(names).get_indexer(status)
    colors = np.array([STATUS_COLORS.get(s, OTHER_COLOR) for s in names])
    if len(ex) > DENSE_RUNS or dense:
        verts, which = _status_shares(_x(es), _x(ee), code, len(names), lane)
        coll = mpl.collections.PolyCollection(verts, facecolors=colors[which], edgecolors="none")
    else:
        coll = mpl.collections.PolyCollection(_rects(_x(es), _x(ee), lane - 0.3, lane + 0.3),
                                              facecolors=colors[code], edgecolors="white", linewidths=0.5)
    coll.set_gid("executions")
    ax.add_collection(coll)
    if "scheduled_start" in ex:
        xs.append(to_ns(ex["scheduled_start"]))
    xs += [es, ee]
    return [mpl.patches.Patch(facecolor=STATUS_COLORS.get(s, OTHER_COLOR), label=s) for s in names
            if (status == s).any()]


def _status_shares(xs, xe, code, n_names, lane):
    """``(vertices, status of each)``: per time bin, one bar per status stacked by its share of the bin's runs."""
    edges = _edges(xs.min() if len(xs) else 0, xe.max() if len(xe) else 1)
    b = np.clip(np.searchsorted(edges, xs, side="right") - 1, 0, _BINS - 1)
    counts = np.bincount(b * n_names + code, minlength=_BINS * n_names).reshape(_BINS, n_names)
    share = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    top = np.cumsum(share, axis=1)
    bi, si = np.nonzero(counts)
    bottom = lane - 0.3 + 0.6 * (top[bi, si] - share[bi, si])
    return _rects(edges[bi], edges[bi + 1], bottom, lane - 0.3 + 0.6 * top[bi, si]), si


def _limits_and_now(ax, mpl, xs: list, now, client) -> list:
    """x limits around everything drawn, and the "now" line (an explicit "now" stays in the picture)."""
    allx = np.concatenate([a for a in xs if len(a)]) if any(len(a) for a in xs) else np.array([0], dtype=np.int64)
    allx = allx[allx != NAT]
    lo, hi = (allx.min(), allx.max()) if len(allx) else (0, _DAY_NS)
    pad = max((hi - lo) * 0.03, 60 * SECOND)
    ax.set_xlim(_x(np.array([lo - pad]))[0], _x(np.array([hi + pad]))[0])
    if now is False:
        return []
    now_ts = servicetime.now(client) if now is None else to_utc(now, "now")
    now_ns = now_ts.as_unit("ns").value
    if now is None and not lo - pad <= now_ns <= hi + pad:
        return []
    if now is not None and not lo - pad <= now_ns <= hi + pad:
        lo, hi = min(lo, now_ns), max(hi, now_ns)
        pad = max((hi - lo) * 0.03, 60 * SECOND)
        ax.set_xlim(_x(np.array([lo - pad]))[0], _x(np.array([hi + pad]))[0])
    line = ax.axvline(_x(np.array([now_ns]))[0], color="black", ls="--", lw=1.2)
    line.set_gid("now")
    return [mpl.Line2D([], [], color="black", ls="--", label=f"now ({now_ts:%Y-%m-%d %H:%M} UTC)")]


def _schedule_labels(ax, mpl, plan, lanes, y, dense, delay, ds, de) -> None:
    """Lane names, the UTC time axis, the title (frequency and delay) and, for local file names, a top axis."""
    ax.set_yticks([y[k] for k in lanes], [_LANE_LABELS[k] for k in lanes])
    ax.set_ylim(-0.6, len(lanes) - 0.4)
    ax.xaxis_date(tz="UTC")
    _date_axis(ax.xaxis, mpl.mdates)
    ax.set_xlabel("Time (UTC)")
    ax.grid(axis="x", alpha=0.3)
    n = len(plan)
    freq = plan.attrs.get("frequency")
    if freq is None and n:
        freq = pd.Timedelta(int(np.median(de - ds)), unit="ns")
    what = f"every {_duration(freq)}, wake-up {_duration(delay)} after each window" if freq is not None else ""
    ax.set_title(f"Schedule: {n:,} runs {what}{' (aggregated)' if dense else ''}; times in UTC", loc="left", wrap=True)
    offset = plan.attrs.get("offset")
    if offset is not None and pd.Timedelta(offset) != pd.Timedelta(0):
        shift = pd.Timedelta(offset) / pd.Timedelta(days=1)
        top = ax.secondary_xaxis("top", functions=(lambda v: v + shift, lambda v: v - shift))
        _date_axis(top.xaxis, mpl.mdates)
        top.set_xlabel(f"File-name time (local, UTC{format_offset(offset)})")


# -- results -----------------------------------------------------------------------------------------------------


class ResultAxes(NamedTuple):
    """The Axes of :func:`plot_results`: the anomaly score and, when there are diagnostics, the contributions."""

    score: object
    contributions: object | None


def plot_results(results, ax=None, top: int = 5):
    """Anomaly score over time with detected events shaded, and the top sensors' contributions below it.

    ``results``: columns ``timestamp`` (UTC), ``prediction``, ``anomaly_score``, ``prediction_reason`` and one
    ``component\\sensor`` column per diagnostic. ``ax``: None (a new figure), one Axes (the contributions panel is
    added below it) or a pair. The ``top`` sensors by mean contribution during events (all rows without events)
    are stacked, the rest summed as "other". Returns ``ResultAxes(score, contributions)``.

    >>> import matplotlib; matplotlib.use("Agg")
    >>> df = pd.DataFrame({"timestamp": pd.date_range("2024-05-01", periods=4, freq="min", tz="UTC"),
    ...                    "prediction": [0, 1, 1, 0], "anomaly_score": [.1, .8, .9, .2],
    ...                    "prediction_reason": ["NO_ANOMALY_DETECTED", "ANOMALY_DETECTED", "ANOMALY_DETECTED",
    ...                                          "NO_ANOMALY_DETECTED"],
    ...                    "pump\\\\Sensor0": [.5, .9, .8, .5], "pump\\\\Sensor1": [.5, .1, .2, .5]})
    >>> axes = plot_results(df)
    >>> axes.score.get_ylabel(), axes.contributions.get_ylabel()
    ('Anomaly score', 'Contribution (share)')
    """
    mpl = _mpl()
    if not isinstance(results, pd.DataFrame) or "timestamp" not in results:
        raise ValueError("results must be a DataFrame with a timestamp column (and prediction, anomaly_score, ...)")
    df = results.assign(timestamp=pd.to_datetime(results["timestamp"], utc=True)).sort_values("timestamp")
    contrib = [c for c in df.columns if isinstance(c, str) and "\\" in c]
    a_score, a_contrib = _result_axes(mpl.plt, ax, bool(contrib))
    _score_panel(a_score, mpl, df)
    if a_contrib is not None and contrib:
        _contributions_panel(a_contrib, mpl, df, contrib, top)
        a_score.tick_params(axis="x", labelbottom=False)  # the shared time axis is labelled once, at the bottom
    else:
        a_score.set_xlabel("Time (UTC)")
    return ResultAxes(a_score, a_contrib)


def _result_axes(plt, ax, contrib: bool):
    """``(score Axes, contributions Axes or None)``: a new figure, a given pair, or a panel added below ``ax``."""
    if ax is None:
        if not contrib:
            return plt.subplots(figsize=(12, 3), layout="constrained")[1], None
        _, (a_score, a_contrib) = plt.subplots(2, 1, sharex=True, figsize=(12, 6), layout="constrained",
                                               height_ratios=[1, 1.3])
        return a_score, a_contrib
    if isinstance(ax, (tuple, list, np.ndarray)):
        a_score, a_contrib = ax
        return a_score, a_contrib
    if not contrib:
        return ax, None
    from mpl_toolkits.axes_grid1 import make_axes_locatable

    return ax, make_axes_locatable(ax).append_axes("bottom", size="120%", pad=0.35, sharex=ax)


def _predictions(df: pd.DataFrame) -> np.ndarray:
    """Whether each row is anomalous (prediction 1)."""
    if "prediction" not in df:
        return np.zeros(len(df), bool)
    return df["prediction"].fillna(0).to_numpy(dtype=float) > 0


def _score_panel(a_score, mpl, df: pd.DataFrame) -> None:
    """The anomaly score (or, without one, the prediction) with detected events shaded."""
    t = to_ns(df["timestamp"])
    x = _x(t)
    pred = _predictions(df)
    step = int(np.median(np.diff(t))) if len(t) > 1 else 60 * SECOND
    # Events: runs of consecutive anomalous rows, each shaded from its first row to one step after its last.
    edges = np.diff(np.concatenate([[0], pred.astype(np.int8), [0]]))
    first, last = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    events = mpl.collections.PolyCollection(_rects(_x(t[first]), _x(t[last] + step), 0, 1),
                                            facecolors=MISSING_COLOR, alpha=0.18, edgecolors="none",
                                            transform=a_score.get_xaxis_transform())
    events.set_gid("events")
    a_score.add_collection(events)
    if "anomaly_score" in df and df["anomaly_score"].notna().any():
        score = df["anomaly_score"].to_numpy(dtype=float)
        xs, ys = _per_time_bin(x, pd.Series(score), "max")  # keep peaks visible: the maximum per bin
        (line,) = a_score.plot(xs, np.asarray(ys), color=SCORE_COLOR, lw=1.2, label="anomaly score")
        a_score.set_ylim(0, max(1.0, float(np.nanmax(score)) * 1.05))
    else:  # models trained before 2022-03-28 have no anomaly_score
        (line,) = a_score.step(x, pred.astype(float), where="post", color=SCORE_COLOR, lw=1.2, label="prediction")
        a_score.set_ylim(-0.05, 1.1)
    line.set_gid("score")
    a_score.set_ylabel("Anomaly score")
    events_text = f"{len(first):,} detected event{'' if len(first) == 1 else 's'}"
    a_score.set_title(f"Inference results: {len(df):,} rows, {events_text}; times in UTC", loc="left")
    event_patch = mpl.patches.Patch(facecolor=MISSING_COLOR, alpha=0.18, label="detected event")
    a_score.legend(handles=[line, event_patch], **_LEGEND)
    a_score.xaxis_date(tz="UTC")
    _date_axis(a_score.xaxis, mpl.mdates)
    if len(x):
        a_score.set_xlim(x.min(), max(x.max(), _x(np.array([t.max() + step]))[0]))


def _contributions_panel(a_contrib, mpl, df: pd.DataFrame, contrib: list, top: int) -> None:
    """The ``top`` sensors' contributions stacked (mean per time bin when dense), the rest summed as "other"."""
    pred = _predictions(df)
    values = df[contrib].astype(float).fillna(0.0)
    rank_rows = values[pred] if pred.any() else values
    order = rank_rows.mean().sort_values(ascending=False, kind="stable").index
    keep = list(order[:top])
    stacked = values[keep].copy()
    if len(order) > top:
        stacked["other"] = values[list(order[top:])].sum(axis=1)
    cx, stacked = _per_time_bin(_x(to_ns(df["timestamp"])), stacked, "mean", bins=CONTRIBUTION_BINS)
    colors = [mpl.plt.get_cmap("tab10")(i % 10) for i in range(len(keep))]
    colors += [REST_COLOR] if "other" in stacked else []
    polys = a_contrib.stackplot(cx, stacked.to_numpy().T, labels=[str(c).replace("\\", " \\ ") for c in stacked],
                                colors=colors, alpha=0.85)
    for p in polys:
        p.set_gid("contribution")
    a_contrib.set_ylabel("Contribution (share)")
    a_contrib.set_xlabel("Time (UTC)")
    binned = f", mean of each of {len(cx)} time bins" if len(cx) < len(df) else ""
    a_contrib.set_title(f"Top {len(keep)} of {len(contrib)} sensors by contribution"
                        f"{' during events' if pred.any() else ''}{binned}", loc="left", fontsize="medium")
    a_contrib.legend(**_LEGEND)
    a_contrib.xaxis_date(tz="UTC")
    _date_axis(a_contrib.xaxis, mpl.mdates)


def plot_versions(versions: pd.DataFrame, ax=None, until=None):
    """A model's versions over time (:func:`lookout_nb.calls.versions.model_versions`' table): each version a
    mark at the end of its training (coloured by status; labelled with its evaluation: labelled ranges found and
    predicted events, and its promotion), and a bar along its row for each span in which it was active
    (``versions.attrs["spans"]``), up to ``until`` (default: the latest time of the table)."""
    mpl = _mpl()
    if ax is None:
        _, ax = mpl.plt.subplots(figsize=(10, 1.2 + 0.5 * max(len(versions), 1)))
    spans = versions.attrs.get("spans")
    when = versions["trained_at"].fillna(versions["created_at"])
    end = to_utc(until) if until is not None else max([*when.dropna(), *(spans["since"] if spans is not None
                                                                         else [])], default=None)
    if spans is not None and len(spans) and end is not None:
        last = spans["since"].iloc[-1]
        tail = max(end - last, (last - min(when.min(), spans["since"].iloc[0])) / 10)  # the current span shows
        stops = [*spans["since"].iloc[1:], last + tail]
        bars = [[(mpl.mdates.date2num(a), v - 0.18), (mpl.mdates.date2num(b), v - 0.18),
                 (mpl.mdates.date2num(b), v + 0.18), (mpl.mdates.date2num(a), v + 0.18)]
                for a, b, v in zip(spans["since"], stops, spans["version"].astype(int))]
        ax.add_collection(mpl.collections.PolyCollection(bars, facecolors=WINDOW_COLORS[0], edgecolors=WAKE_COLOR,
                                                         label="active", gid="active"))
    colors = [STATUS_COLORS.get(s, OTHER_COLOR) for s in versions["status"].fillna("")]
    ax.scatter([mpl.mdates.date2num(t) for t in when], versions["version"].astype(float), c=colors, zorder=3,
               s=40, gid="versions", label="trained (colour: status)")
    for t, row in zip(when, versions.itertuples()):
        found = f"found {row.found}/{row.labelled}" if not pd.isna(row.labelled) and row.labelled else "no labels"
        events = f", {row.events} events" if not pd.isna(row.events) else ""
        promoted = {"MODEL_PROMOTED": ", promoted", "MODEL_NOT_PROMOTED": ", not promoted"}.get(row.promotion, "")
        ax.annotate(f"v{row.version} {row.source.lower() if isinstance(row.source, str) else ''}: {found}{events}"
                    f"{promoted}", (mpl.mdates.date2num(t), row.version), xytext=(6, 6), textcoords="offset points",
                    fontsize=8)
    ax.set_yticks(versions["version"].astype(int).tolist())
    ax.set_ylim(0.4, max(versions["version"].max() if len(versions) else 1, 1) + 0.8)
    ax.set_ylabel("Version")
    ax.set_xlabel("Time (UTC)")
    _date_axis(ax.xaxis, mpl.mdates)
    ax.autoscale_view(scaley=False)
    ax.legend(loc="upper left", fontsize=8)
    return ax
