"""The synthetic machine and the relations detector against the per-sensor z-score baseline."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lookout_nb.service.demo import synth
from lookout_nb.service.learning.detector import Detector, ZScoreBaseline, events

START = synth.DEFAULT_START
EVAL = START + pd.Timedelta(days=4)


@pytest.fixture(scope="module")
def machine():
    """4 days of normal running, then 5 days with one 8-hour fault of each kind."""
    faults = synth.spread_faults(synth.FAULT_KINDS, EVAL, EVAL + pd.Timedelta(days=5), "8h")
    return synth.generate(days=9, seed=7, off_periods=False, faults=faults)


@pytest.fixture(scope="module")
def split(machine):
    wide = machine.wide()
    train = wide.index < EVAL
    return wide, wide.to_numpy()[train], wide.to_numpy()[~train], wide.index[~train]


@pytest.fixture(scope="module")
def fitted(split):
    wide, train, _, _ = split
    return Detector.fit(train, list(wide.columns))


def _events_on(found, label):
    return [e for e in found if e["end"] >= label.start and e["start"] < label.end]


# -- the generator -------------------------------------------------------------------------------------------
def test_the_generator_is_deterministic_per_seed():
    a, b, c = (synth.generate(days=1, seed=s) for s in (5, 5, 6))
    assert all(a.frames[k].equals(b.frames[k]) for k in a.frames)
    assert not a.frames["hx-pump"].equals(c.frames["hx-pump"])
    assert str(a.frames["motor"].index.tz) == "UTC" and a.schema == synth.COMPONENTS


def test_faults_keep_every_sensor_inside_its_normal_running_range(machine):
    wide = machine.wide()
    normal = synth.generate(days=9, seed=7, off_periods=False).wide()  # the same machine without faults
    normal = normal[normal["hx-pump\\Speed"] > 300]
    assert not wide.equals(normal)
    for label in machine.labels:
        rows = wide[(wide.index >= label.start) & (wide.index < label.end)]
        assert ((rows >= normal.min() - 1e-9) & (rows <= normal.max() + 1e-9)).all().all(), label.kind
    assert [lb.kind for lb in machine.labels] == list(synth.FAULT_KINDS)


def test_the_machine_stops_and_starts_with_speed_near_zero_when_off():
    speed = synth.generate(days=10, seed=3).frames["hx-pump"]["Speed"]
    assert (speed < 100).mean() > 0.01 and speed[speed < 100].max() < 100 and speed.max() > 1000


def test_bad_faults_are_refused_with_the_choices():
    with pytest.raises(ValueError, match=r"unknown fault kind 'melt'.*flow_loss"):
        synth.generate(days=1, faults=[("melt", START, "1h")])
    with pytest.raises(ValueError, match="no sensor 'pump\\\\\\\\Nope'"):
        synth.generate(days=1, faults=[("frozen", START, "1h", "pump\\Nope")])


# -- detection -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", list(synth.FAULT_KINDS))
def test_each_in_range_fault_is_found_where_the_zscore_baseline_sees_nothing(kind, machine, split, fitted):
    wide, train, evaluation, times = split
    label = next(lb for lb in machine.labels if lb.kind == kind)
    found = events(times, *fitted.scores(evaluation)[1:])
    baseline = ZScoreBaseline.fit(train, list(wide.columns))
    missed = events(times, *baseline.scores(evaluation)[1:])
    assert _events_on(found, label), f"{kind} not found"
    assert not _events_on(missed, label), f"the z-score baseline found {kind}"


@pytest.mark.parametrize("kind", list(synth.FAULT_KINDS))
def test_diagnostics_point_at_the_broken_sensor(kind, machine, split, fitted):
    wide, _, evaluation, times = split
    label = next(lb for lb in machine.labels if lb.kind == kind)
    for event in _events_on(events(times, *fitted.scores(evaluation)[1:]), label):
        # a frozen Pressure breaks its relation with Flow, which explains the break as well as Pressure does (their
        # shares are within 1% of each other): the frozen sensor is among the top two, the others on top
        top = list(wide.columns[np.argsort(event["shares"])[::-1][: 2 if kind == "frozen" else 1]])
        assert label.sensor in top
        assert event["shares"].sum() == pytest.approx(1.0)


def test_normal_running_raises_no_event(split, fitted):
    _, _, evaluation, _ = split
    scores = fitted.scores(evaluation[: 7 * 60])  # the 7 hours before the first fault
    assert not scores.anomalous.any() and (scores.score < 0.5).all()
    assert np.allclose(scores.shares.sum(axis=1), 1.0)


def test_the_zscore_baseline_splits_evenly_on_its_mean_and_grows_with_the_deviation():
    base = ZScoreBaseline.fit(np.array([[0.0, 0.0], [2.0, 2.0]]), ["a\\x", "a\\y"])
    scores = base.scores(np.array([[1.0, 1.0], [3.0, 1.0], [9.0, 1.0]]))
    assert scores.shares[0].tolist() == [0.5, 0.5] and scores.shares[2].tolist() == [1.0, 0.0]
    assert scores.score[0] < scores.score[1] < scores.score[2]
    assert scores.anomalous.tolist() == [False, False, True]


def test_fitting_twice_gives_the_same_detector_and_scores(split, fitted):
    wide, train, evaluation, _ = split
    again = Detector.fit(train, list(wide.columns))
    assert json.dumps(again.to_dict()) == json.dumps(fitted.to_dict())
    assert np.array_equal(again.scores(evaluation).score, fitted.scores(evaluation).score)


def test_a_detector_round_trips_through_json_and_scores_identically(split, fitted):
    _, _, evaluation, _ = split
    loaded = Detector.from_dict(json.loads(json.dumps(fitted.to_dict(), allow_nan=False)))
    a, b = fitted.scores(evaluation), loaded.scores(evaluation)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_a_window_scored_with_its_history_matches_the_long_run(split, fitted):
    _, _, evaluation, _ = split
    whole = fitted.scores(evaluation)
    k = fitted.lookback
    for start in (100, 2000, 5000):
        part = fitted.scores(evaluation[start : start + 5], history=evaluation[start - k : start])
        assert np.array_equal(part.score, whole.score[start : start + 5])
        assert np.array_equal(part.shares, whole.shares[start : start + 5])


def test_a_short_window_without_history_scores_every_row(split, fitted):
    _, _, evaluation, _ = split
    for rows in (1, 3, 5):
        scores = fitted.scores(evaluation[100 : 100 + rows])
        assert len(scores.score) == rows and np.allclose(scores.shares.sum(axis=1), 1.0)
        assert not scores.anomalous.any()


def test_missing_and_infinite_values_give_finite_scores_and_no_false_freeze(split, fitted):
    _, _, evaluation, _ = split
    rows = evaluation[:600].copy()
    rows[100:160, 2] = np.nan  # Pressure missing for an hour: not a frozen sensor
    rows[300, 1], rows[301, 4] = np.inf, -np.inf
    scores = fitted.scores(rows)
    assert np.isfinite(scores.score).all() and np.isfinite(scores.shares).all()
    assert not scores.anomalous[100:170].any()


def test_off_rows_are_never_anomalous(split, fitted):
    _, _, evaluation, _ = split
    off = np.zeros(len(evaluation), bool)
    off[: len(off) // 2] = True
    scores = fitted.scores(evaluation, off=off)
    assert not scores.anomalous[off].any() and (scores.score[off] == 0).all()
    assert scores.anomalous[~off].any()


def test_a_constant_sensor_cannot_be_learned(split):
    wide, train, _, _ = split
    train = train.copy()
    train[:, 3] = 2.0
    with pytest.raises(ValueError, match=r"sensor hx-pump\\Vibration is constant"):
        Detector.fit(train, list(wide.columns))
