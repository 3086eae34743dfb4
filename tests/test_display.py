"""Tables a user reads in a notebook show their cells whole: file names, the quality checks' meaning, top sensors."""

from __future__ import annotations

import json

import pandas as pd

import lookout_nb as lnb
from lookout_nb.calls.datasets import quality_table

ROLE = "arn:aws:iam::123456789012:role/LookoutEquipmentAccess"


def shown(frame) -> str:
    """What a notebook shows of ``frame`` (its HTML), with pandas' default options."""
    with pd.option_context("display.max_colwidth", 50):
        return frame._repr_html_()


def test_a_plan_shows_its_file_names_whole():
    req = lnb.SchedulerRequest(model_name="pump-demo", scheduler_name="pump-5min", upload_frequency="PT5M",
                               input_bucket="lookout-demo", input_prefix="inference/input/",
                               output_bucket="lookout-demo", output_prefix="inference/output/", role_arn=ROLE)
    plan = lnb.plan_schedule(req, start="2026-01-05 09:00", periods=2, components=["centrifugal-pump"])
    name = plan["file:centrifugal-pump"].iloc[0]
    assert len(name) > 50 and name in shown(plan) and name in repr(plan)
    assert name in shown(plan[["wake_time", "file:centrifugal-pump"]].head())  # as a notebook picks columns
    assert plan.attrs["components"] == ["centrifugal-pump"]


def test_the_quality_table_shows_each_meaning_whole():
    table = quality_table({})
    longest = max(table["meaning"], key=len)
    assert len(longest) > 50 and longest in shown(table)


def test_the_evaluation_table_shows_its_top_sensors_whole():
    diagnostics = [{"name": f"centrifugal-pump\\Sensor{i}", "value": 0.25} for i in range(4)]
    metrics = {"labeled_ranges": [], "predicted_ranges": [
        {"start": "2026-01-05T09:00:00Z", "end": "2026-01-05T10:00:00Z", "diagnostics": diagnostics}]}
    table = lnb.evaluation_table(json.dumps(metrics))
    top = table["top_sensors"].iloc[0]
    assert len(top) > 50 and top in shown(table)
