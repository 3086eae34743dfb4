"""Pictures of a schedule (windows, delays, wake-ups, files, executions) and of inference results.

Every function draws with collections (one artist per kind of mark, whatever the number of runs), takes ``ax=``
and returns what it drew on. Times on the x axis are UTC; the schedule adds a top axis in the file names' local
time when the offset is not zero.

>>> import matplotlib; matplotlib.use("Agg")
>>> from lookout_nb import SchedulerRequest
>>> from lookout_nb.timing import plan_schedule
>>> plan = plan_schedule(SchedulerRequest(upload_frequency="PT10M", delay_offset_minutes=5),
...                      start="2024-05-01 09:08", periods=3)
>>> ax = plot_schedule(plan, now="2024-05-01 09:20")
>>> ax.get_xlabel()
'Time (UTC)'
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from . import servicetime
from .naming import format_offset, to_utc
from ._nanos import to_ns as _ns

#: Colours of execution statuses (InferenceExecutionStatus); any other status is grey.
STATUS_COLORS = {"SUCCESS": "#2ca02c", "FAILED": "#d62728", "IN_PROGRESS": "#1f77b4"}
OTHER_COLOR = "#7f7f7f"
WINDOW_COLORS = ("#9ecae1", "#4292c6")
DELAY_COLOR = "#bdbdbd"
WAKE_COLOR = "#08306b"
FILE_COLOR = "#525252"
LATE_COLOR = "#ff7f0e"
MISSING_COLOR = "#d62728"
#: Above this many runs (or executions) the picture aggregates: merged windows, binned statuses, no per-run marks.
DENSE_RUNS = 400
#: Above this many file ticks of one kind, they are drawn as a histogram instead.
MAX_TICKS = 5000
_BINS = 600
_DAY_NS = 86_400 * 10**9
#: The columns of an executions table, and the boto3 names they may come under.
EXECUTION_COLUMNS = {
    "scheduled_start": "ScheduledStartTime",
    "data_start": "DataStartTime",
    "data_end": "DataEndTime",
    "status": "Status",
}


def _mpl():
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from matplotlib import collections, patches
    from matplotlib.lines import Line2D

    return plt, mdates, collections, patches, Line2D


def _x(ns: np.ndarray) -> np.ndarray:
    """Matplotlib date numbers (days since its epoch) of int64 UTC nanoseconds."""
    import matplotlib.dates as mdates

    return np.asarray(ns, dtype=np.int64) / _DAY_NS + mdates.date2num(np.datetime64("1970-01-01T00:00:00"))


def _rects(x0, x1, y0, y1) -> np.ndarray:
    """Vertices (n, 4, 2) of rectangles, vectorised."""
    x0, x1 = np.asarray(x0, float), np.asarray(x1, float)
    y0, y1 = np.broadcast_to(y0, x0.shape).astype(float), np.broadcast_to(y1, x0.shape).astype(float)
    return np.stack([np.stack([x0, y0], -1), np.stack([x0, y1], -1), np.stack([x1, y1], -1), np.stack([x1, y0], -1)], 1)


def _merge(start: np.ndarray, end: np.ndarray):
    """Merge sorted intervals that touch or overlap into spans (vectorised)."""
    if len(start) == 0:
        return start, end
    order = np.argsort(start, kind="stable")
    start, end = start[order], np.maximum.accumulate(end[order])
    brk = np.flatnonzero(start[1:] > end[:-1]) + 1
    return start[np.concatenate([[0], brk])], end[np.concatenate([brk - 1, [len(start) - 1]])]


def _duration(td) -> str:
    minutes = int(pd.Timedelta(td).total_seconds() // 60)
    return f"{minutes // 60} h" if minutes >= 60 and minutes % 60 == 0 else f"{minutes} min"


def _date_axis(axis, mdates):
    import datetime as dt

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
        edges, most = bins if bins is not None else (np.linspace(x.min(), x.max() + 1e-9, _BINS + 1), None)
        counts, _ = np.histogram(x, bins=edges)
        keep = counts > 0
        h = 0.7 * counts[keep] / (most or counts.max())
        coll = collections.PolyCollection(_rects(edges[:-1][keep], edges[1:][keep], lane - 0.35, lane - 0.35 + h),
                                          facecolors=color, edgecolors="none", label=label)
    else:
        segs = np.stack([np.stack([x, np.full_like(x, lane - 0.3)], -1), np.stack([x, np.full_like(x, lane + 0.3)], -1)], 1)
        coll = collections.LineCollection(segs, colors=color, linewidths=width, label=label)
    coll.set_gid(gid)
    ax.add_collection(coll)
    return coll


def plot_schedule(plan, executions=None, files=None, ax=None, now=None, dense=None, client=None):
    """A timeline of a plan: data windows, delay up to each wake-up, file arrivals and executions by status.

    ``executions``: a DataFrame with ``scheduled_start, data_start, data_end, status`` (boto3 names accepted).
    ``files``: a :class:`~lookout_nb.filematch.FileMatch` (ticks at each file's LastModified, late files orange,
    runs missing a component marked red at their wake-up) or its ``files`` table. ``now``: a time for the "now"
    line (default the time of the service ``client`` talks to, :func:`lookout_nb.servicetime.now`, drawn when
    inside the picture; ``False`` for none). Above
    ``DENSE_RUNS`` runs (or with ``dense=True``) windows are merged, statuses and file ticks binned, and the
    per-run delay lane left out (the title gives the delay). Returns the Axes.

    >>> import matplotlib; matplotlib.use("Agg")
    >>> from lookout_nb import SchedulerRequest
    >>> from lookout_nb.timing import plan_schedule
    >>> req = SchedulerRequest(upload_frequency="PT5M", delay_offset_minutes=2)
    >>> plan = plan_schedule(req, start="2024-05-01", periods=10_000)
    >>> [c.get_gid() for c in plot_schedule(plan, now=False).collections]  # one merged span, not 10,000 bars
    ['windows']
    """
    plt, mdates, collections, patches, Line2D = _mpl()
    if not isinstance(plan, pd.DataFrame) or not {"wake_time", "data_start", "data_end"} <= set(plan.columns):
        raise ValueError("plan must be a DataFrame from plan_schedule (wake_time, data_start, data_end)")
    if ax is None:
        _, ax = plt.subplots(figsize=(12, 3.6), layout="constrained")
    match = files if hasattr(files, "runs") and hasattr(files, "files") else None
    file_table = match.files if match is not None else (pd.DataFrame(files) if files is not None else None)
    ex = _executions(executions) if executions is not None else None

    n = len(plan)
    dense = n > DENSE_RUNS if dense is None else bool(dense)
    ds, de, wake = _ns(plan["data_start"]), _ns(plan["data_end"]), _ns(plan["wake_time"])
    # Dense pictures drop the per-run delay lane: a few minutes per run are invisible at that scale (the title
    # says the delay), and thousands of hatched spans would only slow the drawing down.
    lanes = (["executions"] if ex is not None else []) + ["windows"] + ([] if dense else ["wake"])
    lanes += ["files"] if file_table is not None else []
    y = {name: len(lanes) - 1 - i for i, name in enumerate(lanes)}
    handles = []
    xs = [ds, wake]

    # Data windows: alternating shades so that adjacent windows stay distinct; merged spans when dense.
    if dense:
        s0, s1 = _merge(ds, de)
        coll = collections.PolyCollection(_rects(_x(s0), _x(s1), y["windows"] - 0.3, y["windows"] + 0.3),
                                          facecolors=WINDOW_COLORS[1], edgecolors="none")
    else:
        coll = collections.PolyCollection(_rects(_x(ds), _x(de), y["windows"] - 0.3, y["windows"] + 0.3),
                                          facecolors=np.array(WINDOW_COLORS)[np.arange(n) % 2], edgecolors="white",
                                          linewidths=0.5)
    coll.set_gid("windows")
    ax.add_collection(coll)
    handles.append(patches.Patch(facecolor=WINDOW_COLORS[1], label="data window (start, end]"))

    # The delay between the window's end and the wake-up, and the wake-up itself.
    delay = plan.attrs.get("delay")
    delay = pd.Timedelta(int(np.median(wake - de)) if n else 0, unit="ns") if delay is None else pd.Timedelta(delay)
    if not dense and n and np.any(wake > de):
        coll = collections.PolyCollection(_rects(_x(de), _x(wake), y["wake"] - 0.25, y["wake"] + 0.25),
                                          facecolors=DELAY_COLOR, edgecolors="none", hatch="////", alpha=0.8)
        coll.set_gid("delay")
        ax.add_collection(coll)
        handles.append(patches.Patch(facecolor=DELAY_COLOR, hatch="////", label=f"delay ({_duration(delay)})"))
    if not dense and n:
        (marks,) = ax.plot(_x(wake), np.full(n, y["wake"]), ls="none", marker="v", color=WAKE_COLOR, markersize=7)
        marks.set_gid("wake-ups")
        handles.append(Line2D([], [], ls="none", marker="v", color=WAKE_COLOR, label="wake-up"))

    # Files: ticks where each arrived (or the time its name says, without LastModified).
    if file_table is not None:
        arrive = _ns(file_table["last_modified"]) if "last_modified" in file_table else np.array([], dtype=np.int64)
        named = _ns(file_table["file_time_utc"]) if "file_time_utc" in file_table else arrive
        if len(arrive) == 0:
            arrive = named
        nat = np.iinfo(np.int64).min
        arrive = np.where(arrive == nat, named, arrive)
        usable = arrive != nat
        if "reason" in file_table:
            usable &= file_table["reason"].isna().to_numpy()
        late = file_table["late"].to_numpy(dtype=bool) if "late" in file_table else np.zeros(len(arrive), bool)
        on_x, late_x = _x(arrive[usable & ~late]), _x(arrive[usable & late])
        bins = None
        if len(on_x) + len(late_x) > MAX_TICKS:  # one histogram scale for the lane
            both = np.concatenate([on_x, late_x])
            edges = np.linspace(both.min(), both.max() + 1e-9, _BINS + 1)
            bins = (edges, np.histogram(both, bins=edges)[0].max())
        _ticks(ax, collections, on_x, y["files"], FILE_COLOR, "file arrived", "files-on-time", 0.8, bins)
        _ticks(ax, collections, late_x, y["files"], LATE_COLOR, "late file", "files-late", 2.0, bins)
        handles.append(Line2D([], [], color=FILE_COLOR, label="file arrived"))
        if len(late_x):
            handles.append(Line2D([], [], color=LATE_COLOR, lw=2, label="file after its run woke"))
        xs.append(arrive[usable])
        if match is not None:
            bad = np.flatnonzero(~match.runs["ok"].to_numpy())
            miss_x = _x(_ns(match.runs["wake_time"].iloc[bad])) if len(bad) else np.array([])
            if len(miss_x) > MAX_TICKS:
                _ticks(ax, collections, miss_x, y["files"], MISSING_COLOR, "component missing", "missing")
            else:
                (mk,) = ax.plot(miss_x, np.full(len(miss_x), y["files"]), ls="none", marker="x", color=MISSING_COLOR,
                                markersize=8, markeredgewidth=2)
                mk.set_gid("missing")
            if len(miss_x):
                handles.append(Line2D([], [], ls="none", marker="x", color=MISSING_COLOR, markeredgewidth=2,
                                      label="run missing a component"))

    # Executions by status: one bar per run, or stacked status shares per time bin when dense.
    if ex is not None:
        es, ee = _ns(ex["data_start"]), _ns(ex["data_end"])
        status = ex["status"].astype(str).to_numpy()
        names = list(STATUS_COLORS) + sorted(set(status) - set(STATUS_COLORS))
        code = pd.Index(names).get_indexer(status)
        colors = np.array([STATUS_COLORS.get(s, OTHER_COLOR) for s in names])
        yl = y["executions"]
        if len(ex) > DENSE_RUNS or dense:
            lo, hi = _x(es).min() if len(es) else 0, (_x(ee).max() if len(ee) else 1) + 1e-9
            edges = np.linspace(lo, hi, _BINS + 1)
            b = np.clip(np.searchsorted(edges, _x(es), side="right") - 1, 0, _BINS - 1)
            counts = np.bincount(b * len(names) + code, minlength=_BINS * len(names)).reshape(_BINS, len(names))
            share = counts / np.maximum(counts.sum(1, keepdims=True), 1)
            top = np.cumsum(share, axis=1)
            bi, si = np.nonzero(counts)
            verts = _rects(edges[bi], edges[bi + 1], yl - 0.3 + 0.6 * (top[bi, si] - share[bi, si]), yl - 0.3 + 0.6 * top[bi, si])
            coll = collections.PolyCollection(verts, facecolors=colors[si], edgecolors="none")
        else:
            coll = collections.PolyCollection(_rects(_x(es), _x(ee), yl - 0.3, yl + 0.3), facecolors=colors[code],
                                              edgecolors="white", linewidths=0.5)
        coll.set_gid("executions")
        ax.add_collection(coll)
        for s in names:
            if (status == s).any():
                handles.append(patches.Patch(facecolor=STATUS_COLORS.get(s, OTHER_COLOR), label=s))
        if "scheduled_start" in ex:
            xs.append(_ns(ex["scheduled_start"]))
        xs += [es, ee]

    # Limits, the "now" line, axes and legend.
    allx = np.concatenate([a for a in xs if len(a)]) if any(len(a) for a in xs) else np.array([0], dtype=np.int64)
    allx = allx[allx != np.iinfo(np.int64).min]
    lo, hi = (allx.min(), allx.max()) if len(allx) else (0, _DAY_NS)
    pad = max((hi - lo) * 0.03, 60 * 10**9)
    ax.set_xlim(_x(np.array([lo - pad]))[0], _x(np.array([hi + pad]))[0])
    if now is not False:
        now_ts = servicetime.now(client) if now is None else to_utc(now, "now")
        now_ns = now_ts.as_unit("ns").value
        if now is not None or lo - pad <= now_ns <= hi + pad:
            if now is not None and not lo - pad <= now_ns <= hi + pad:  # an explicit "now" stays in the picture
                lo, hi = min(lo, now_ns), max(hi, now_ns)
                pad = max((hi - lo) * 0.03, 60 * 10**9)
                ax.set_xlim(_x(np.array([lo - pad]))[0], _x(np.array([hi + pad]))[0])
            line = ax.axvline(_x(np.array([now_ns]))[0], color="black", ls="--", lw=1.2)
            line.set_gid("now")
            handles.append(Line2D([], [], color="black", ls="--", label=f"now ({now_ts:%Y-%m-%d %H:%M} UTC)"))
    labels = {"executions": "Executions", "windows": "Data window", "wake": "Delay → wake-up", "files": "Files"}
    ax.set_yticks([y[k] for k in lanes], [labels[k] for k in lanes])
    ax.set_ylim(-0.6, len(lanes) - 0.4)
    ax.xaxis_date(tz="UTC")
    _date_axis(ax.xaxis, mdates)
    ax.set_xlabel("Time (UTC)")
    ax.grid(axis="x", alpha=0.3)
    freq = plan.attrs.get("frequency")
    if freq is None and n:
        freq = pd.Timedelta(int(np.median(de - ds)), unit="ns")
    what = f"every {_duration(freq)}, wake-up {_duration(delay)} after each window" if freq is not None else ""
    ax.set_title(f"Schedule: {n:,} runs {what}{' (aggregated)' if dense else ''}; times in UTC", loc="left")
    offset = plan.attrs.get("offset")
    if offset is not None and pd.Timedelta(offset) != pd.Timedelta(0):
        shift = pd.Timedelta(offset) / pd.Timedelta(days=1)
        top = ax.secondary_xaxis("top", functions=(lambda v: v + shift, lambda v: v - shift))
        _date_axis(top.xaxis, mdates)
        top.set_xlabel(f"File-name time (local, UTC{format_offset(offset)})")
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    return ax


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
    ...                    "prediction_reason": ["NO_ANOMALY_DETECTED"] + ["ANOMALY_DETECTED"] * 2 + ["NO_ANOMALY_DETECTED"],
    ...                    "pump\\\\Sensor0": [.5, .9, .8, .5], "pump\\\\Sensor1": [.5, .1, .2, .5]})
    >>> axes = plot_results(df)
    >>> axes.score.get_ylabel(), axes.contributions.get_ylabel()
    ('Anomaly score', 'Contribution (share)')
    """
    plt, mdates, collections, patches, Line2D = _mpl()
    if not isinstance(results, pd.DataFrame) or "timestamp" not in results:
        raise ValueError("results must be a DataFrame with a timestamp column (and prediction, anomaly_score, ...)")
    df = results.assign(timestamp=pd.to_datetime(results["timestamp"], utc=True)).sort_values("timestamp")
    contrib = [c for c in df.columns if isinstance(c, str) and "\\" in c]
    if ax is None:
        if contrib:
            _, (a_score, a_contrib) = plt.subplots(2, 1, sharex=True, figsize=(12, 6), layout="constrained",
                                                   height_ratios=[1, 1.3])
        else:
            _, a_score = plt.subplots(figsize=(12, 3), layout="constrained")
            a_contrib = None
    elif isinstance(ax, (tuple, list, np.ndarray)):
        a_score, a_contrib = ax
    else:
        a_score, a_contrib = ax, None
        if contrib:
            from mpl_toolkits.axes_grid1 import make_axes_locatable

            a_contrib = make_axes_locatable(ax).append_axes("bottom", size="120%", pad=0.35, sharex=ax)

    t = _ns(df["timestamp"])
    x = _x(t)
    pred = df["prediction"].fillna(0).to_numpy(dtype=float) > 0 if "prediction" in df else np.zeros(len(df), bool)
    step = int(np.median(np.diff(t))) if len(t) > 1 else 60 * 10**9
    # Events: runs of consecutive anomalous rows, each shaded from its first row to one step after its last.
    edges = np.diff(np.concatenate([[0], pred.astype(np.int8), [0]]))
    first, last = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    events = collections.PolyCollection(_rects(_x(t[first]), _x(t[last] + step), 0, 1), facecolors=MISSING_COLOR,
                                        alpha=0.18, edgecolors="none", transform=a_score.get_xaxis_transform())
    events.set_gid("events")
    a_score.add_collection(events)

    if "anomaly_score" in df and df["anomaly_score"].notna().any():
        score = df["anomaly_score"].to_numpy(dtype=float)
        xs, ys = x, score
        if len(x) > 4 * _BINS:  # keep peaks visible: the maximum per bin
            b = np.minimum(((x - x[0]) / max(x[-1] - x[0], 1e-12) * 2 * _BINS).astype(int), 2 * _BINS - 1)
            ys = pd.Series(score).groupby(b).max().to_numpy()
            xs = pd.Series(x).groupby(b).first().to_numpy()
        (line,) = a_score.plot(xs, ys, color="#08306b", lw=1.2, label="anomaly score")
        a_score.set_ylim(0, max(1.0, float(np.nanmax(score)) * 1.05))
    else:  # models trained before 2022-03-28 have no anomaly_score
        (line,) = a_score.step(x, pred.astype(float), where="post", color="#08306b", lw=1.2, label="prediction")
        a_score.set_ylim(-0.05, 1.1)
    line.set_gid("score")
    a_score.set_ylabel("Anomaly score")
    a_score.set_title(f"Inference results: {len(df):,} rows, {len(first):,} detected event{'' if len(first) == 1 else 's'}; times in UTC", loc="left")
    a_score.legend(handles=[line, patches.Patch(facecolor=MISSING_COLOR, alpha=0.18, label="detected event")],
                   loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    a_score.xaxis_date(tz="UTC")
    _date_axis(a_score.xaxis, mdates)
    if len(x):
        a_score.set_xlim(x.min(), max(x.max(), _x(np.array([t.max() + step]))[0]))

    if a_contrib is not None and contrib:
        values = df[contrib].astype(float).fillna(0.0)
        rank_rows = values[pred] if pred.any() else values
        order = rank_rows.mean().sort_values(ascending=False, kind="stable").index
        keep = list(order[:top])
        stacked = values[keep].copy()
        if len(order) > top:
            stacked["other"] = values[list(order[top:])].sum(axis=1)
        cx = x
        if len(x) > 4 * _BINS:  # mean per time bin
            b = np.minimum(((x - x[0]) / max(x[-1] - x[0], 1e-12) * 2 * _BINS).astype(int), 2 * _BINS - 1)
            stacked = stacked.groupby(b).mean()
            cx = pd.Series(x).groupby(b).first().to_numpy()
        colors = [plt.get_cmap("tab10")(i % 10) for i in range(len(keep))] + (["#d9d9d9"] if "other" in stacked else [])
        polys = a_contrib.stackplot(cx, stacked.to_numpy().T, labels=[str(c).replace("\\", " \\ ") for c in stacked],
                                    colors=colors, alpha=0.85)
        for p in polys:
            p.set_gid("contribution")
        a_contrib.set_ylabel("Contribution (share)")
        a_contrib.set_xlabel("Time (UTC)")
        a_contrib.set_title(f"Top {len(keep)} of {len(contrib)} sensors by contribution"
                            f"{' during events' if pred.any() else ''}", loc="left", fontsize="medium")
        a_contrib.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
        a_contrib.xaxis_date(tz="UTC")
        _date_axis(a_contrib.xaxis, mdates)
        a_score.tick_params(axis="x", labelbottom=False)  # the shared time axis is labelled once, at the bottom
    else:
        a_score.set_xlabel("Time (UTC)")
    return ResultAxes(a_score, a_contrib)
