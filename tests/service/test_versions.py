"""Model versions and retraining schedulers through boto3 on a manual clock: a MANAGED retraining makes and
promotes version 2, DescribeModel reports it, UpdateActiveModelVersion rolls back, the scheduler stops and deletes;
MANUAL leaves the version for the user; versions survive a restart."""

from __future__ import annotations

import gzip
import json
import sqlite3
import time
from datetime import datetime, timezone

import pandas as pd
import pytest

from lookout_nb.service import start
from lookout_nb.service.demo import demo

DAY = pd.Timedelta(days=1)


def wait_version(lookout, name, version, timeout=90.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        d = lookout.describe_model_version(ModelName=name, ModelVersion=version)
        if d["Status"] != "IN_PROGRESS":
            return d
        assert time.monotonic() < deadline, f"version {version} of {name} still IN_PROGRESS"
        time.sleep(0.05)


def retrain(endpoint, lookout, name="fan", mode="MANAGED"):
    """Model ``name`` trained on generated data, a retraining scheduler on it, the clock moved to its first run."""
    endpoint.add_model(name, {"fan": ["Speed", "Temp"]}, "PT5M")
    created = lookout.create_retraining_scheduler(
        ModelName=name, RetrainingStartDate=datetime(2026, 1, 6, 13, tzinfo=timezone.utc),
        RetrainingFrequency="P1M", LookbackWindow="P180D", PromoteMode=mode)
    assert created["Status"] == "PENDING"
    endpoint.advance(DAY)  # past 2026-01-06T00:00, the start date truncated to its UTC day
    return wait_version(lookout, name, 2)


def test_a_managed_retraining_makes_and_promotes_a_version_then_rolls_back_stops_and_deletes(endpoint, lookout):
    v2 = retrain(endpoint, lookout)
    assert v2["Status"] == "SUCCESS" and v2["SourceType"] == "RETRAINING"
    assert v2["AutoPromotionResult"] == "MODEL_PROMOTED", v2.get("AutoPromotionResultReason")
    assert v2["PriorModelMetrics"] and v2["RetrainingAvailableDataInDays"] >= 6
    versions = lookout.list_model_versions(ModelName="fan")["ModelVersionSummaries"]
    assert [v["ModelVersion"] for v in versions] == [2, 1]
    model = lookout.describe_model(ModelName="fan")
    assert model["ActiveModelVersion"] == 2 and model["PreviousActiveModelVersion"] == 1
    assert model["LatestScheduledRetrainingStatus"] == "SUCCESS"
    assert model["LatestScheduledRetrainingModelVersion"] == 2
    summary = lookout.list_models(ModelNameBeginsWith="fan")["ModelSummaries"][0]
    assert (summary["ActiveModelVersion"], summary["LatestScheduledRetrainingModelVersion"]) == (2, 2)
    assert model["RetrainingSchedulerStatus"] == "RUNNING"
    assert model["NextScheduledRetrainingStartDate"] == datetime(2026, 2, 6, tzinfo=timezone.utc).astimezone(
        model["NextScheduledRetrainingStartDate"].tzinfo)
    assert model["PriorModelMetrics"]

    back = lookout.update_active_model_version(ModelName="fan", ModelVersion=1)
    assert (back["CurrentActiveVersion"], back["PreviousActiveVersion"]) == (1, 2)
    assert back["PreviousActiveVersionArn"].endswith("/model-version/2")
    model = lookout.describe_model(ModelName="fan")
    assert (model["ActiveModelVersion"], model["PreviousActiveModelVersion"]) == (1, 2)
    assert endpoint.backend.models.model("fan").trained is endpoint.backend.versions.version("fan", 1).trained

    with pytest.raises(lookout.exceptions.ConflictException, match="stop it"):
        lookout.delete_retraining_scheduler(ModelName="fan")
    with pytest.raises(lookout.exceptions.ConflictException, match="retraining scheduler"):
        lookout.delete_model(ModelName="fan")
    assert lookout.stop_retraining_scheduler(ModelName="fan")["Status"] == "STOPPING"
    endpoint.advance("1min")
    assert lookout.describe_retraining_scheduler(ModelName="fan")["Status"] == "STOPPED"
    lookout.delete_retraining_scheduler(ModelName="fan")
    assert lookout.list_retraining_schedulers()["RetrainingSchedulerSummaries"] == []
    with pytest.raises(lookout.exceptions.ResourceNotFoundException):
        lookout.describe_retraining_scheduler(ModelName="fan")


def test_manual_mode_leaves_the_new_version_for_update_active_model_version(endpoint, lookout):
    v2 = retrain(endpoint, lookout, mode="MANUAL")
    assert v2["Status"] == "SUCCESS" and v2["AutoPromotionResult"] == "MODEL_NOT_PROMOTED"
    assert "MANUAL" in v2["AutoPromotionResultReason"]
    assert lookout.describe_model(ModelName="fan")["ActiveModelVersion"] == 1
    with pytest.raises(lookout.exceptions.ValidationException, match="already the active"):
        lookout.update_active_model_version(ModelName="fan", ModelVersion=1)
    assert lookout.update_active_model_version(ModelName="fan", ModelVersion=2)["PreviousActiveVersion"] == 1


def test_list_model_versions_filters_and_pages(endpoint, lookout):
    retrain(endpoint, lookout)
    first = lookout.list_model_versions(ModelName="fan", MaxResults=1)
    assert [v["ModelVersion"] for v in first["ModelVersionSummaries"]] == [2]
    rest = lookout.list_model_versions(ModelName="fan", MaxResults=1, NextToken=first["NextToken"])
    assert [v["ModelVersion"] for v in rest["ModelVersionSummaries"]] == [1] and "NextToken" not in rest
    assert [v["ModelVersion"] for v in lookout.list_model_versions(
        ModelName="fan", SourceType="TRAINING")["ModelVersionSummaries"]] == [1]
    assert lookout.list_model_versions(ModelName="fan", MinModelVersion=3)["ModelVersionSummaries"] == []
    with pytest.raises(lookout.exceptions.ValidationException, match="MinModelVersion"):
        lookout.list_model_versions(ModelName="fan", MinModelVersion=3, MaxModelVersion=1)
    with pytest.raises(lookout.exceptions.ResourceNotFoundException, match="no version 9"):
        lookout.describe_model_version(ModelName="fan", ModelVersion=9)


@pytest.mark.parametrize("frequency, message", [("P7D", "shorter than 30 days"), ("P2Y", "longer than one year")])
def test_a_retraining_frequency_outside_p30d_p1y_is_refused(endpoint, lookout, frequency, message):
    endpoint.add_model("fan", {"fan": ["Speed"]}, "PT5M")
    with pytest.raises(lookout.exceptions.ValidationException, match=message):
        lookout.create_retraining_scheduler(ModelName="fan", RetrainingFrequency=frequency, LookbackWindow="P180D")


def test_versions_and_retraining_schedulers_survive_a_restart(tmp_path):
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        lookout = ep.lookout()
        retrain(ep, lookout)
        lookout.update_active_model_version(ModelName="fan", ModelVersion=1)
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        lookout = ep.lookout()
        assert [v["ModelVersion"] for v in lookout.list_model_versions(ModelName="fan")["ModelVersionSummaries"]] \
            == [2, 1]
        model = lookout.describe_model(ModelName="fan")
        assert (model["ActiveModelVersion"], model["PreviousActiveModelVersion"]) == (1, 2)
        assert lookout.describe_retraining_scheduler(ModelName="fan")["PromoteMode"] == "MANAGED"
        assert ep.backend.models.model("fan").trained == ep.backend.versions.version("fan", 1).trained


def test_a_training_with_a_diagnostics_output_writes_the_pointwise_diagnostics_there(endpoint, lookout, s3):
    endpoint.add_model("fan", {"fan": ["Speed", "Temp"]}, "PT5M")
    output = {"S3OutputConfiguration": {"Bucket": "lookout-demo", "Prefix": "diagnostics/"}}
    lookout.update_model(ModelName="fan", ModelDiagnosticsOutputConfiguration=output)
    lookout.create_retraining_scheduler(ModelName="fan", RetrainingFrequency="P30D", LookbackWindow="P180D")
    endpoint.advance(DAY)
    wait_version(lookout, "fan", 2)
    deadline = time.monotonic() + 60
    while "ModelDiagnosticsResultsObject" not in (v2 := lookout.describe_model_version(ModelName="fan",
                                                                                        ModelVersion=2)):
        assert time.monotonic() < deadline, "no diagnostics written"
        time.sleep(0.05)
    where = v2["ModelDiagnosticsResultsObject"]
    key = "diagnostics/fan/model-version/2/model_diagnostics_results.json.gz"
    assert where == {"Bucket": "lookout-demo", "Key": key}
    body = gzip.decompress(s3.get_object(**where)["Body"].read()).decode().splitlines()
    rows = [json.loads(line) for line in body]
    assert len(rows) > 100 and {"timestamp", "prediction", "anomaly_score", "diagnostics"} <= set(rows[0])
    assert pd.Timestamp(rows[0]["timestamp"], tz="UTC") >= pd.Timestamp(v2["EvaluationDataStartTime"])
    described = lookout.describe_model(ModelName="fan")["ModelDiagnosticsOutputConfiguration"]
    assert described["S3OutputConfiguration"]["Prefix"] == where["Key"]


def test_a_version_row_that_cannot_be_read_is_left_out_and_named(tmp_path):
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        retrain(ep, ep.lookout())
    db = sqlite3.connect(tmp_path / "state.db")
    db.execute("UPDATE records SET doc = ? WHERE kind = 'modelversion' AND name = 'fan/00000002'",
               (json.dumps({"model_name": "fan", "version": "two"}),))
    db.commit()
    db.close()
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        assert any("modelversion fan/00000002" in p and "'version'" in p for p in ep.problems)
        versions = ep.lookout().list_model_versions(ModelName="fan")["ModelVersionSummaries"]
        assert [v["ModelVersion"] for v in versions] == [1]


def test_inference_schedulers_score_with_the_active_version(endpoint, lookout):
    lookout.create_retraining_scheduler(ModelName=demo.DEMO_MODEL, RetrainingFrequency="P30D",
                                        LookbackWindow="P180D", PromoteMode="MANAGED")
    endpoint.advance(DAY)
    assert wait_version(lookout, demo.DEMO_MODEL, 2)["AutoPromotionResult"] == "MODEL_PROMOTED"
    lookout.create_inference_scheduler(**demo.scheduler_kwargs("versions-check"), ClientToken="versions-check")
    endpoint.advance("10min")
    lookout.update_active_model_version(ModelName=demo.DEMO_MODEL, ModelVersion=1)
    endpoint.advance("10min")
    runs = lookout.list_inference_executions(InferenceSchedulerName="versions-check")["InferenceExecutionSummaries"]
    runs = sorted(runs, key=lambda r: r["ScheduledStartTime"])
    assert [r["Status"] for r in runs] == ["SUCCESS"] * len(runs) and len(runs) >= 2
    assert (runs[0]["ModelVersion"], runs[-1]["ModelVersion"]) == (2, 1)
    assert runs[-1]["ModelVersionArn"].endswith("/model-version/1")
