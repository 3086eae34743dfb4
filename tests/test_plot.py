"""The timing pictures: structure (artists, labels, colours per status), not pixels."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from lookout_nb import SchedulerRequest
from lookout_nb.contract.filematch import match_files
from lookout_nb.contract.timing import expected_files, plan_schedule
from lookout_nb.plot import STATUS_COLORS, plot_results, plot_schedule


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def plan_of(n, delay=5, freq="PT10M", **kw):
    r = SchedulerRequest(upload_frequency=freq, delay_offset_minutes=delay, input_prefix="in/", **kw)
    return plan_schedule(r, start="2024-05-01 09:08", periods=n, components=["pump", "fan"])


def executions_of(plan, statuses):
    return pd.DataFrame({"scheduled_start": plan["wake_time"], "data_start": plan["data_start"],
                         "data_end": plan["data_end"], "status": statuses})


def by_gid(ax, gid):
    found = [a for a in ax.get_children() if a.get_gid() == gid]
    assert len(found) <= 1, gid
    return found[0] if found else None


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def hexes(coll):
    return [mcolors.to_hex(c) for c in coll.get_facecolors()]


def test_three_runs_show_windows_delays_wake_ups_and_labels_in_utc_and_local_time():
    plan = plan_of(3, timezone_offset="+05:30")
    ax = plot_schedule(plan, now="2024-05-01 09:20")
    assert len(by_gid(ax, "windows").get_paths()) == 3
    assert len(by_gid(ax, "delay").get_paths()) == 3
    wake = by_gid(ax, "wake-ups")
    assert len(wake.get_xdata()) == 3
    # The delay ends where the wake-up marker is.
    delay_ends = [p.vertices[:, 0].max() for p in by_gid(ax, "delay").get_paths()]
    np.testing.assert_allclose(delay_ends, wake.get_xdata())
    assert ax.get_xlabel() == "Time (UTC)"
    title = ax.get_title(loc="left")
    assert "UTC" in title and "every 10 min" in title and "5 min" in title
    top = [c for c in ax.child_axes if c.get_xlabel()]
    assert top and top[0].get_xlabel() == "File-name time (local, UTC+05:30)"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Data window", "Delay → wake-up"]
    texts = legend_texts(ax)
    assert "delay (5 min)" in texts and "wake-up" in texts and "now (2024-05-01 09:20 UTC)" in texts
    # Adjacent windows alternate shades so that they stay distinct.
    colors = hexes(by_gid(ax, "windows"))
    assert colors[0] != colors[1] and colors[0] == colors[2]


def test_no_local_axis_when_names_are_utc_and_no_delay_lane_without_delay():
    ax = plot_schedule(plan_of(3, delay=0), now=False)
    assert not [c for c in ax.child_axes if c.get_xlabel()]
    assert by_gid(ax, "delay") is None and by_gid(ax, "now") is None


def test_executions_are_coloured_by_status():
    plan = plan_of(3)
    ax = plot_schedule(plan, executions=executions_of(plan, ["SUCCESS", "FAILED", "IN_PROGRESS"]), now=False)
    assert hexes(by_gid(ax, "executions")) == [STATUS_COLORS[s] for s in ("SUCCESS", "FAILED", "IN_PROGRESS")]
    assert {"SUCCESS", "FAILED", "IN_PROGRESS"} <= set(legend_texts(ax))
    assert ax.get_yticklabels()[0].get_text() == "Executions"


def test_boto3_execution_columns_are_accepted_and_bad_ones_are_named():
    plan = plan_of(2)
    boto = pd.DataFrame({"ScheduledStartTime": plan["wake_time"], "DataStartTime": plan["data_start"],
                         "DataEndTime": plan["data_end"], "Status": ["SUCCESS", "FAILED"]})
    ax = plot_schedule(plan, executions=boto, now=False)
    assert hexes(by_gid(ax, "executions")) == [STATUS_COLORS["SUCCESS"], STATUS_COLORS["FAILED"]]
    with pytest.raises(ValueError, match="status"):
        plot_schedule(plan, executions=boto.drop(columns="Status"))


def test_late_files_and_missing_components_are_highlighted():
    plan = plan_of(3)
    files = expected_files(plan)
    last_modified = files["wake_time"] - pd.Timedelta(minutes=1)
    last_modified.iloc[0] += pd.Timedelta(minutes=4)  # run 0's pump file arrives after run 0 woke up
    listing = pd.DataFrame({"Key": files["key"], "LastModified": last_modified}).drop(index=[2, 3, 4, 5])
    match = match_files(plan, listing)
    ax = plot_schedule(plan, files=match, now=False)
    assert len(by_gid(ax, "files-on-time").get_segments()) == 1
    late = by_gid(ax, "files-late")
    assert len(late.get_segments()) == 1 and mcolors.to_hex(late.get_colors()[0]) != mcolors.to_hex(
        by_gid(ax, "files-on-time").get_colors()[0])
    missing = by_gid(ax, "missing")
    assert len(missing.get_xdata()) == int((~match.runs["ok"]).sum()) == 2  # run 0 (late pump) and run 2
    assert "run missing a component" in legend_texts(ax) and "file after its run woke" in legend_texts(ax)
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == "Files"


@pytest.mark.parametrize("sizes", [(3, 300), (500, 10_000)])
def test_the_number_of_artists_does_not_grow_with_the_number_of_runs(sizes):
    counts = []
    for n in sizes:
        plan = plan_of(n, freq="PT5M")
        statuses = np.array(["SUCCESS", "FAILED", "IN_PROGRESS"], dtype=object)[np.arange(n) % 3]
        files = expected_files(plan)
        match = match_files(plan, pd.DataFrame({"Key": files["key"], "LastModified": files["wake_time"]}))
        ax = plot_schedule(plan, executions=executions_of(plan, statuses), files=match, now="2024-05-02")
        counts.append((len(ax.collections), len(ax.lines), len(ax.patches)))
    assert counts[0] == counts[1]
    assert counts[0][0] <= 5


def test_a_long_schedule_title_stays_inside_a_narrow_picture():
    from lookout_nb.wizard.render import FIGSIZE

    plan = plan_of(10_000, freq="PT5M")
    fig, ax = plt.subplots(figsize=FIGSIZE, layout="constrained")
    plot_schedule(plan, executions=executions_of(plan, np.array(["SUCCESS"] * 10_000, dtype=object)), ax=ax,
                  now=pd.Timestamp("2024-06-01", tz="UTC"))
    fig.canvas.draw()
    title = next(t for t in ax.get_children() if isinstance(t, plt.Text) and t.get_text() == ax.get_title(loc="left"))
    box = title.get_window_extent(fig.canvas.get_renderer())
    assert box.x0 >= 0 and box.x1 <= fig.bbox.x1 + 1, "the title runs out of the picture (cut in the wizard)"
    plt.close(fig)


def test_dense_plans_merge_windows_and_bin_statuses():
    plan = plan_of(10_000, freq="PT5M")
    statuses = np.where(np.arange(10_000) % 10 == 0, "FAILED", "SUCCESS").astype(object)
    ax = plot_schedule(plan, executions=executions_of(plan, statuses), now=False)
    assert len(by_gid(ax, "windows").get_paths()) == 1  # one contiguous span
    ex = by_gid(ax, "executions")
    assert len(ex.get_paths()) <= 2 * 600
    assert set(hexes(ex)) == {STATUS_COLORS["SUCCESS"], STATUS_COLORS["FAILED"]}
    assert "aggregated" in ax.get_title(loc="left") and "wake-up 5 min" in ax.get_title(loc="left")
    assert by_gid(ax, "wake-ups") is None


def test_a_gap_in_the_plan_shows_as_a_gap_when_dense():
    plan = plan_of(2_000, freq="PT5M")
    gappy = pd.concat([plan.iloc[:800], plan.iloc[900:]])
    assert len(by_gid(plot_schedule(gappy, now=False), "windows").get_paths()) == 2


def test_plot_schedule_draws_on_the_given_axes_and_returns_it():
    _, ax = plt.subplots()
    assert plot_schedule(plan_of(2), ax=ax, now=False) is ax
    with pytest.raises(ValueError, match="plan_schedule"):
        plot_schedule(pd.DataFrame({"x": [1]}))


def results_frame(n=120, sensors=8, seed=0):
    rng = np.random.default_rng(seed)
    score = rng.uniform(0, 0.4, n)
    score[30:40] = 0.9
    score[80:83] = 0.8
    df = pd.DataFrame({"timestamp": pd.date_range("2024-05-01", periods=n, freq="min", tz="UTC"),
                       "prediction": (score > 0.6).astype(int), "anomaly_score": score})
    df["prediction_reason"] = np.where(df["prediction"] == 1, "ANOMALY_DETECTED", "NO_ANOMALY_DETECTED")
    shares = rng.dirichlet(np.ones(sensors), n)
    shares[30:40] = 0.01
    shares[30:40, sensors - 2] = 1 - 0.01 * (sensors - 1)  # Sensor6 (of 8) drives the first event
    for i in range(sensors):
        df[f"pump\\Sensor{i}"] = shares[:, i]
    return df


def test_plot_results_shows_score_events_and_top_contributions():
    axes = plot_results(results_frame(), top=3)
    assert axes.score.get_ylabel() == "Anomaly score"
    assert len(by_gid(axes.score, "events").get_paths()) == 2
    assert "2 detected events" in axes.score.get_title(loc="left") and "UTC" in axes.score.get_title(loc="left")
    polys = [c for c in axes.contributions.collections if c.get_gid() == "contribution"]
    assert len(polys) == 4  # top 3 and "other"
    labels = legend_texts(axes.contributions)
    assert labels[0] == "pump \\ Sensor6" and labels[-1] == "other"
    assert axes.contributions.get_xlabel() == "Time (UTC)"


def test_plot_results_on_one_given_axes_adds_the_contributions_panel():
    fig, ax = plt.subplots()
    axes = plot_results(results_frame(), ax=ax)
    assert axes.score is ax and axes.contributions is not None and axes.contributions in fig.axes


def test_plot_results_without_score_or_diagnostics():
    df = results_frame()[["timestamp", "prediction"]]
    axes = plot_results(df)
    assert axes.contributions is None
    assert by_gid(axes.score, "score").get_label() == "prediction"
    assert axes.score.get_xlabel() == "Time (UTC)"


def test_plot_results_of_a_long_series_stays_bounded():
    axes = plot_results(results_frame(n=100_000, sensors=4))
    assert len(by_gid(axes.score, "score").get_xdata()) <= 1200
