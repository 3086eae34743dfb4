"""Training on a dataset's frames: ModelMetrics, off-time and labels left out, FAILED reasons, scoring rows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lookout_nb.service.demo import synth
from lookout_nb.service.learning.training import (
    TrainedModel,
    TrainingFailed,
    parse_off_condition,
    score,
    to_grid,
    train,
)

START = synth.DEFAULT_START
DAY = pd.Timedelta(days=1)
TRAIN = (START, START + 4 * DAY)
EVAL = (START + 4 * DAY, START + 7 * DAY)


@pytest.fixture(scope="module")
def machine():
    """7 days with stops; a fault in the training window (labelled) and two in the evaluation window."""
    faults = [("flow_loss", START + 2 * DAY, "10h"), ("frozen", START + 4.5 * DAY, "8h"),
              ("current_rise", START + 5.5 * DAY, "8h")]
    return synth.generate(days=7, seed=4, faults=faults)


@pytest.fixture(scope="module")
def model(machine):
    return train(machine.frames, machine.schema, "PT1M", TRAIN, EVAL, labels=machine.labels,
                 off_condition=machine.off_condition)


def _train(machine, **changes):
    kwargs = dict(frames=machine.frames, schema=machine.schema, sampling_rate="PT1M", training_window=TRAIN,
                  evaluation_window=EVAL, labels=machine.labels, off_condition=machine.off_condition)
    kwargs.update(changes)
    return train(**kwargs)


# -- ModelMetrics ----------------------------------------------------------------------------------------------
def test_model_metrics_list_the_evaluation_labels_and_find_them(model, machine):
    metrics = json.loads(model.model_metrics)
    assert metrics["labeled_ranges"] == [  # the training window's label is not listed
        {"start": lb.start.strftime("%Y-%m-%dT%H:%M:%S.000000"), "end": lb.end.strftime("%Y-%m-%dT%H:%M:%S.000000")}
        for lb in machine.labels[1:]
    ]
    assert metrics["labeled_event_metrics"]["num_labeled"] == 2
    assert metrics["labeled_event_metrics"]["num_identified"] == 2
    assert 0 < metrics["labeled_event_metrics"]["total_warning_time_in_seconds"] <= 16 * 3600
    assert metrics["unknown_event_metrics"]["num_identified"] <= 2


def test_predicted_ranges_carry_diagnostics_that_sum_to_one_and_name_the_broken_sensor(model, machine):
    ranges = model.metrics["predicted_ranges"]
    assert ranges
    for r in ranges:
        assert r["start"] <= r["end"] and sum(d["value"] for d in r["diagnostics"]) == pytest.approx(1, abs=1e-4)
        assert [d["name"] for d in r["diagnostics"]] == [f"{c}\\{s}" for c, ss in machine.schema.items() for s in ss]
    for label in machine.labels[1:]:
        on = [r for r in ranges if pd.Timestamp(r["end"], tz="UTC") >= label.start
              and pd.Timestamp(r["start"], tz="UTC") < label.end]
        top = max(on[0]["diagnostics"], key=lambda d: d["value"])["name"]
        assert top == label.sensor


def test_the_model_round_trips_through_json_and_scores_identically(model, machine):
    loaded = TrainedModel.from_dict(json.loads(json.dumps(model.to_dict(), allow_nan=False)))
    rows = machine.wide().iloc[6000:6400]
    assert score(loaded, rows) == score(model, rows)
    assert loaded.model_metrics == model.model_metrics


def test_a_model_saved_before_the_step_was_kept_looks_back_at_its_own_rate(model):
    """A detector saved without ``step`` (its windows were rows) reads its sampling rate's span of history."""
    saved = json.loads(json.dumps(model.to_dict()))
    del saved["detector"]["step"]
    saved["sampling_rate"] = "PT5M"
    loaded = TrainedModel.from_dict(saved)
    assert loaded.detector.lookback == 23 and loaded.detector.lookback_seconds == 23 * 300


def test_a_scheduled_window_scores_as_the_evaluation_did(model, machine):
    wide = machine.wide()
    first = model.metrics["predicted_ranges"][0]
    end = pd.Timestamp(first["end"], tz="UTC")
    window = wide[(wide.index > end - pd.Timedelta(minutes=5)) & (wide.index <= end)]
    history = wide[wide.index <= end - pd.Timedelta(minutes=5)].iloc[-model.detector.lookback:]
    rows = score(model, window, history=history)
    assert [r["prediction"] for r in rows] == [1] * 5
    assert rows[-1]["timestamp"] == first["end"] and all(r["prediction_reason"] == "ANOMALY_DETECTED" for r in rows)


def _scheduled(model, wide, first, last, every):
    """results.jsonl rows of a scheduler that scores each ``every`` window from ``first`` to ``last`` with the
    rows of the detector's lookback before it (the span the runner reads from the earlier slots' files)."""
    span = pd.Timedelta(seconds=model.detector.lookback_seconds)
    rows = []
    for end in pd.date_range(first + every, last, freq=every):
        window = wide[(wide.index > end - every) & (wide.index <= end)]
        history = wide[(wide.index > end - every - span) & (wide.index <= end - every)]
        rows += score(model, window, history=history)
    return pd.Series([r["prediction"] for r in rows], pd.DatetimeIndex([r["timestamp"] for r in rows], tz="UTC"))


def test_a_pt5m_scheduler_lets_go_within_15_minutes_of_a_fault_ending():
    """Windows are spans of time: at PT5M an episode ends within one window (15 minutes) of the fault, not 10 rows
    (50 minutes) later."""
    train_end, end = START + 14 * DAY, START + 17 * DAY
    machine = synth.generate(days=17, seed=3, faults=synth.spread_faults(synth.FAULT_KINDS, train_end, end, "1h"))
    model = train(machine.frames, machine.schema, "PT5M", (START, train_end), (train_end, end),
                  labels=machine.labels, off_condition=machine.off_condition)
    flags = _scheduled(model, machine.wide(), train_end, end, pd.Timedelta(minutes=5))
    late = np.zeros(len(flags), bool)
    for lb in machine.labels:
        late |= (flags.index > lb.end + pd.Timedelta(minutes=15)) & (flags.index <= lb.end + pd.Timedelta(hours=1))
        assert flags[(flags.index >= lb.start) & (flags.index <= lb.end)].any() or lb.kind == "lag", lb.kind
    assert late.sum() >= 45 and flags[late].mean() <= 0.05


@pytest.mark.parametrize("seed", [2, 4])
def test_a_model_trained_on_two_days_does_not_alarm_on_the_next_week_of_normal_running(seed):
    """The threshold comes from rows the model did not learn from, so the ordinary variation of the following
    days raises at most 2 false ranges (with a threshold from the training rows themselves: 14 and 23)."""
    machine = synth.generate(days=9, seed=seed)
    model = train(machine.frames, machine.schema, "PT1M", (START, START + 2 * DAY), (START + 2 * DAY, START + 9 * DAY),
                  off_condition=machine.off_condition)
    assert model.metrics["unknown_event_metrics"]["num_identified"] <= 2


def test_the_zscore_baseline_trains_through_the_same_path_and_misses_the_in_range_faults():
    running = synth.generate(days=7, seed=4, off_periods=False, faults=[("frozen", START + 4.5 * DAY, "8h"),
                                                                       ("current_rise", START + 5.5 * DAY, "8h")])
    kwargs = dict(frames=running.frames, schema=running.schema, sampling_rate="PT1M", training_window=TRAIN,
                  evaluation_window=EVAL, labels=running.labels)
    base = train(**kwargs, method="zscore")
    assert base.metrics["labeled_event_metrics"]["num_identified"] == 0
    assert train(**kwargs).metrics["labeled_event_metrics"]["num_identified"] == 2
    assert TrainedModel.from_dict(json.loads(json.dumps(base.to_dict()))).metrics == base.metrics


# -- what is learned -------------------------------------------------------------------------------------------
def test_labelled_and_off_rows_are_left_out_of_what_is_learned(model, machine):
    wide = machine.wide()
    keep = np.ones(len(wide), bool)
    for lb in machine.labels:
        keep &= ~((wide.index >= lb.start) & (wide.index <= lb.end))
    unlabelled = {c: f[keep] for c, f in machine.frames.items()}
    alone = train(unlabelled, machine.schema, "PT1M", TRAIN, EVAL, off_condition=machine.off_condition)
    assert np.allclose(alone.detector.mean, model.detector.mean)  # as if the labelled rows were not there
    assert np.allclose(alone.detector.relation, model.detector.relation)
    running = wide[(wide.index < TRAIN[1]) & keep & (wide["hx-pump\\Speed"] >= 100)]["hx-pump\\Speed"]
    with_off = _train(machine, off_condition=None)
    assert model.detector.mean[0] == pytest.approx(running.mean(), rel=2e-3)  # learned from running rows only
    assert with_off.detector.mean[0] < running.mean() - 5 and with_off.detector.std[0] > model.detector.std[0]


def test_off_rows_score_as_no_anomaly(model, machine):
    wide = machine.wide()
    rows = score(model, wide)
    off = wide["hx-pump\\Speed"].to_numpy() < 100
    assert off.any()
    assert all(r["prediction"] == 0 and r["anomaly_score"] == 0 for r, o in zip(rows, off) if o)


def test_rows_are_resampled_to_the_sampling_rate_labelled_by_the_interval_end():
    frame = pd.DataFrame({"a": [1.0, 3.0, 5.0]},
                         index=pd.to_datetime(["2026-01-01T00:00:30Z", "2026-01-01T00:01:00Z", "2026-01-01T00:01:20Z"]))
    grid = to_grid(frame, "PT1M")
    assert grid.index.strftime("%H:%M:%S").tolist() == ["00:01:00", "00:02:00"] and grid["a"].tolist() == [2.0, 5.0]


def test_scores_are_strict_json_whatever_the_inputs(model, machine):
    rows = machine.wide().iloc[6000:6100].copy()
    rows.iloc[10:20, 1] = np.nan
    rows.iloc[30, 2], rows.iloc[31, 5] = np.inf, -np.inf
    records = score(model, rows)
    text = "".join(json.dumps(r, allow_nan=False) + "\n" for r in records)
    assert len(text.splitlines()) == 100
    assert set(records[0]) == {"timestamp", "prediction", "prediction_reason", "anomaly_score", "diagnostics"}


# -- FAILED reasons --------------------------------------------------------------------------------------------
def test_off_conditions_are_read_and_bad_ones_named():
    sensors = ["hx-pump\\Speed", "motor\\Current"]
    cond = parse_off_condition(" hx-pump\\Speed<=1.5e2", sensors)
    assert (cond.sensor, cond.op, cond.value) == ("hx-pump\\Speed", "<=", 150.0)
    with pytest.raises(ValueError, match=r"'hx-pump\\\\Speed ~ 100' cannot be read: write component\\sensor"):
        parse_off_condition("hx-pump\\Speed ~ 100", sensors)
    with pytest.raises(ValueError, match=r"names 'pump\\\\Speed', which is not a sensor of the model; use one of"):
        parse_off_condition("pump\\Speed < 100", sensors)


@pytest.mark.parametrize("changes, reason", [
    ({"training_window": (START + 3 * DAY, START + 2 * DAY)},
     r"The training window ends \(2026-01-03T00:00:00.000000\) before it starts"),
    ({"evaluation_window": (START + 7 * DAY, START + 7 * DAY)}, "The evaluation window ends"),
    ({"labels": [(START + 3 * DAY, START + 2 * DAY)]}, r"Label 1 ends .* before it starts .*: swap its start and end"),
    ({"training_window": (START - 9 * DAY, START - 8 * DAY)}, r"The training window 2025-12-23T00:00:00.000000 to "
                                                              r"2025-12-24T00:00:00.000000 holds no data \(the data is "
                                                              r"from 2026-01-01T00:00:00.000000 to 2026-01-07T23:59"),
    ({"evaluation_window": (START + 8 * DAY, START + 9 * DAY)}, "The evaluation window .* holds no data"),
    ({"training_window": (START, START + pd.Timedelta(hours=10))}, r"Too little data to train: .* has 600 usable rows "
                                                                   r"at PT1M .* at least 720 are needed"),
    ({"off_condition": "hx-pump\\Speed < fast"}, r"OffCondition 'hx-pump\\\\Speed < fast' cannot be read"),
    ({"sampling_rate": "PT2M"}, "TargetSamplingRate 'PT2M' is not supported: use one of PT1S"),
])
def test_each_failed_reason_says_what_is_wrong(machine, changes, reason):
    with pytest.raises(TrainingFailed, match=reason):
        _train(machine, **changes)


def test_a_sensor_with_no_values_in_a_window_is_named(machine):
    frames = {c: f.copy() for c, f in machine.frames.items()}
    frames["motor"].loc[frames["motor"].index < START + 4 * DAY, "Current"] = np.nan
    with pytest.raises(TrainingFailed, match=r"Sensor motor\\Current has no values in the training window "
                                             r"2026-01-01T00:00:00.000000 to 2026-01-05T00:00:00.000000"):
        _train(machine, frames=frames)


def test_a_constant_sensor_or_a_missing_column_is_named(machine):
    frames = {c: f.copy() for c, f in machine.frames.items()}
    frames["motor"]["Power"] = 7.0
    with pytest.raises(TrainingFailed, match=r"Sensor motor\\Power is constant or empty .* in the training window"):
        _train(machine, frames=frames)
    frames["motor"] = frames["motor"].drop(columns="Power")
    with pytest.raises(TrainingFailed, match=r"Component motor's data has no column Power"):
        _train(machine, frames=frames)
    with pytest.raises(TrainingFailed, match=r"The data has no component motor"):
        _train(machine, frames={"hx-pump": machine.frames["hx-pump"]})
