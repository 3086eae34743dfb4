"""The evaluation table and picture, from a real ModelMetrics: the endpoint's training run on a generated machine.

``lookout_nb.service.learning.training.train`` is what CreateModel runs; calling it directly gives the same
ModelMetrics JSON without an endpoint. The machine has two in-range faults in the evaluation window, one of them
labelled.
"""

from __future__ import annotations

import json

import matplotlib
import pandas as pd
import pytest

import lookout_nb as lnb
from lookout_nb.service.demo import synth
from lookout_nb.service.learning import training

matplotlib.use("Agg")
import matplotlib.pyplot as plt

EVALUATION = (pd.Timestamp("2026-01-21", tz="UTC"), pd.Timestamp("2026-01-31", tz="UTC"))


@pytest.fixture(scope="module")
def machine():
    return synth.generate(days=30, seed=4, rate="PT5M", faults=[("frozen", "2026-01-23T10:00Z", "8h"),
                                                                ("current_rise", "2026-01-27T10:00Z", "10h")])


@pytest.fixture(scope="module")
def described(machine):
    """A DescribeModel response as the endpoint gives it for this training (only the members read here)."""
    model = training.train(machine.frames, machine.schema, "PT5M", ("2026-01-01", "2026-01-21"), EVALUATION,
                           labels=[(lb.start, lb.end) for lb in machine.labels[:1]],
                           off_condition=machine.off_condition)
    return {"ModelName": "pump-model", "Status": "SUCCESS", "ModelMetrics": model.model_metrics,
            "EvaluationDataStartTime": EVALUATION[0], "EvaluationDataEndTime": EVALUATION[1]}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_the_table_pairs_labelled_and_predicted_ranges(described):
    metrics = json.loads(described["ModelMetrics"])
    table = lnb.evaluation_table(described)
    assert list(table.columns) == ["kind", "number", "start", "end", "duration", "found", "overlaps", "lead_time",
                                   "top_sensors"]
    assert str(table["start"].dtype) == "datetime64[ns, UTC]" and str(table["lead_time"].dtype) == "timedelta64[ns]"
    labelled, predicted = table[table.kind == "labelled"], table[table.kind == "predicted"]
    assert len(labelled) == metrics["labeled_event_metrics"]["num_labeled"] == 1
    assert len(predicted) == len(metrics["predicted_ranges"]) == 2
    # The frozen-pressure fault was labelled and found; the current rise was not labelled: an unknown event.
    (label,) = labelled.itertuples()
    assert label.found and label.overlaps == "predicted 1" and label.start == pd.Timestamp("2026-01-23T10:00Z")
    assert label.lead_time.total_seconds() == metrics["labeled_event_metrics"]["total_warning_time_in_seconds"]
    first, second = predicted.itertuples()
    assert first.found and first.overlaps == "labelled 1" and "hx-pump\\Pressure" in first.top_sensors
    assert not second.found and pd.isna(second.overlaps) and second.top_sensors.startswith("motor\\Current")
    assert (predicted.duration > pd.Timedelta(0)).all()
    summary = lnb.evaluation_summary(described)
    assert (summary["labelled"], summary["found"], summary["predicted"], summary["unknown"]) == (1, 1, 2, 1)
    assert metrics["unknown_event_metrics"]["num_identified"] == summary["unknown"]


def test_the_table_reads_the_metrics_json_and_a_model_info_alike(described):
    from lookout_nb.calls.models import ModelInfo

    by_json = lnb.evaluation_table(described["ModelMetrics"])
    by_info = lnb.evaluation_table(ModelInfo.from_describe(described))
    pd.testing.assert_frame_equal(by_json, lnb.evaluation_table(described))
    pd.testing.assert_frame_equal(by_info, by_json)
    assert ModelInfo.from_describe(described).events == 2


def test_a_model_without_an_evaluation_says_why():
    with pytest.raises(lnb.InvalidArgument, match=r"pump has no ModelMetrics \(its status is IN_PROGRESS: only a "
                                                  r"trained model has an evaluation\)"):
        lnb.evaluation_table({"ModelName": "pump", "Status": "IN_PROGRESS"})
    with pytest.raises(lnb.InvalidArgument, match="the ModelMetrics of pump is not JSON"):
        lnb.evaluation_table({"ModelName": "pump", "ModelMetrics": "{oops"})


def test_the_picture_draws_the_chosen_sensor_over_the_evaluation_window(described, machine):
    ax = lnb.plot_evaluation(described, machine.frames, sensor="hx-pump\\Pressure")
    (line,) = ax.get_lines()[:1]
    assert line.get_label() == "hx-pump\\Pressure" and ax.get_ylabel() == "hx-pump\\Pressure"
    x = pd.to_datetime(line.get_xdata(), utc=True)
    assert x[0] == EVALUATION[0] - pd.Timedelta("1D") and x[-1] == machine.frames["hx-pump"].index[-1]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["hx-pump\\Pressure", "labelled range", "predicted range", "evaluation starts"]
    spans = [p for p in ax.patches]
    assert len(spans) == 1 + 2  # one labelled range shaded, two predicted ranges along the bottom
    assert ax.get_title(loc="left") == "pump-model: 1 of 1 labelled range(s) found, 1 other predicted range(s)"


def test_the_picture_takes_a_sensor_by_its_short_name_an_axes_and_a_folder(described, machine, tmp_path):
    machine.write_csv(tmp_path / "csvs")
    _, given = plt.subplots()
    ax = lnb.plot_evaluation(described, tmp_path / "csvs", sensor="Current", ax=given)
    assert ax is given and ax.get_lines()[0].get_label() == "motor\\Current"
    # Without a sensor: the one with the largest share of the predicted anomalies.
    assert lnb.plot_evaluation(described, machine.wide()).get_ylabel() == "motor\\Current"


def test_a_sensor_that_is_not_in_the_data_is_named_with_the_choices(described, machine):
    with pytest.raises(lnb.InvalidArgument, match=r"sensor: 'Temperature' is not a column of the data; choose one "
                                                  r"of hx-pump\\Speed, "):
        lnb.plot_evaluation(described, machine.frames, sensor="Temperature")
    early = {c: f[f.index < "2026-01-10"] for c, f in machine.frames.items()}
    with pytest.raises(lnb.InvalidArgument, match=r"data: hx-pump\\Flow has no value between"):
        lnb.plot_evaluation(described, early, sensor="hx-pump\\Flow")
