"""Models over real HTTP with boto3: the SDK's flow from sensor CSVs to a trained model and a scheduler on it."""

from __future__ import annotations

import json
import sqlite3
import time

import pandas as pd
import pytest
from datakit import ROLE, create_dataset, csv_of, ingest, upload

from lookout_nb.contract.naming import Naming
from lookout_nb.contract.schema import ModelSchema
from lookout_nb.service import start
from lookout_nb.service.api.records import Model
from lookout_nb.service.api.restore import TRAINING_INTERRUPTED
from lookout_nb.service.demo import synth
from lookout_nb.service.learning import training

START = synth.DEFAULT_START
DAY = pd.Timedelta(days=1)
TRAIN = (START, START + 4 * DAY)
EVAL = (START + 4 * DAY, START + 6 * DAY)
FAULT = ("frozen", START + 4.5 * DAY, "8h")


@pytest.fixture(scope="module")
def machine():
    """Six days of the synthetic pump (with stops); one fault in the evaluation window."""
    return synth.generate(days=6, seed=4, faults=[FAULT])


def _dataset(lookout, s3, bucket, machine, name="pump-data"):
    upload(s3, bucket, machine.frames)
    create_dataset(lookout, name, machine.schema)
    assert ingest(lookout, name, bucket)["Status"] == "SUCCESS"
    return name


def _create(lookout, name, dataset="pump-data", token=None, **changes):
    kwargs = {"ModelName": name, "DatasetName": dataset, "ClientToken": token or name, "RoleArn": ROLE,
              "TrainingDataStartTime": TRAIN[0].to_pydatetime(), "TrainingDataEndTime": TRAIN[1].to_pydatetime(),
              "EvaluationDataStartTime": EVAL[0].to_pydatetime(), "EvaluationDataEndTime": EVAL[1].to_pydatetime(),
              "DataPreProcessingConfiguration": {"TargetSamplingRate": "PT1M"}, "OffCondition": synth.OFF_CONDITION}
    kwargs.update(changes)
    return lookout.create_model(**{k: v for k, v in kwargs.items() if v is not None})


def wait_model(lookout, name, timeout=60.0) -> dict:
    """Poll DescribeModel while it is IN_PROGRESS (as the SDK's train(wait=True) does)."""
    deadline = time.monotonic() + timeout
    while True:
        d = lookout.describe_model(ModelName=name)
        if d["Status"] != "IN_PROGRESS":
            return d
        assert time.monotonic() < deadline, f"model {name} still IN_PROGRESS after {timeout}s"
        time.sleep(0.05)


def _input_files(s3, bucket, machine, first, last, prefix="in/"):
    """One input file per component per 5-minute slot in [first, last), rows of (slot, slot + 5 min]."""
    naming, freq = Naming(), pd.Timedelta(minutes=5)
    for slot in pd.date_range(first, last, freq=freq, inclusive="left"):
        for component, frame in machine.frames.items():
            rows = frame[(frame.index > slot) & (frame.index <= slot + freq)]
            s3.put_object(Bucket=bucket, Key=naming.key(component, slot, prefix), Body=csv_of(rows))


def _scheduler(lookout, name, model, bucket):
    lookout.create_inference_scheduler(
        ModelName=model, InferenceSchedulerName=name, DataUploadFrequency="PT5M", RoleArn=ROLE, ClientToken=name,
        DataInputConfiguration={"S3InputConfiguration": {"Bucket": bucket, "Prefix": "in/"}},
        DataOutputConfiguration={"S3OutputConfiguration": {"Bucket": bucket, "Prefix": "out/"}})


def _results(s3, execution) -> list[dict]:
    obj = execution["CustomerResultObject"]
    return [json.loads(line) for line in s3.get_object(**obj)["Body"].read().decode().splitlines()]


# -- the SDK's flow --------------------------------------------------------------------------------------------
def test_sdk_flow_trains_on_ingested_csvs_with_labels_and_finds_the_fault(endpoint, lookout, s3, unique_bucket,
                                                                          machine):
    _dataset(lookout, s3, unique_bucket, machine)
    lookout.create_label_group(LabelGroupName="pump-faults", ClientToken="g")
    for lb in machine.labels:
        lookout.create_label(LabelGroupName="pump-faults", StartTime=lb.start, EndTime=lb.end, Rating="ANOMALY",
                             ClientToken=f"lb-{lb.start}")
    created = _create(lookout, "pump-model", LabelsInputConfiguration={"LabelGroupName": "pump-faults"},
                      Tags=[{"Key": "team", "Value": "reliability"}])
    assert created["Status"] == "IN_PROGRESS" and created["ModelArn"].endswith(created["ModelArn"].split("/")[-1])
    d = wait_model(lookout, "pump-model")
    assert d["Status"] == "SUCCESS", d.get("FailedReason")
    assert (d["DatasetName"], d["OffCondition"], d["ModelQuality"]) == ("pump-data", synth.OFF_CONDITION,
                                                                        "QUALITY_THRESHOLD_MET")
    assert pd.Timestamp(d["TrainingDataStartTime"]) == TRAIN[0] and pd.Timestamp(d["EvaluationDataEndTime"]) == EVAL[1]
    assert d["TrainingExecutionStartTime"] <= d["TrainingExecutionEndTime"]  # the service clock (manual: 09:00)
    assert pd.Timestamp(d["TrainingExecutionEndTime"]) == pd.Timestamp("2026-01-05T09:00Z")
    assert json.loads(d["Schema"]) == json.loads(ModelSchema.parse(machine.schema).to_json())
    metrics = json.loads(d["ModelMetrics"])  # what the SDK's LookoutEquipmentAnalysis reads
    [label] = machine.labels
    assert metrics["labeled_ranges"] == [{"start": label.start.strftime("%Y-%m-%dT%H:%M:%S.%f"),
                                          "end": label.end.strftime("%Y-%m-%dT%H:%M:%S.%f")}]
    assert metrics["labeled_event_metrics"]["num_identified"] == 1
    found = [r for r in metrics["predicted_ranges"] if r["start"] <= metrics["labeled_ranges"][0]["end"]
             and r["end"] >= metrics["labeled_ranges"][0]["start"]]
    assert found and max(found[0]["diagnostics"], key=lambda x: x["value"])["name"] == label.sensor
    for r in metrics["predicted_ranges"]:
        assert sum(x["value"] for x in r["diagnostics"]) == pytest.approx(1, abs=1e-3)
    tags = lookout.list_tags_for_resource(ResourceArn=d["ModelArn"])["Tags"]
    assert tags == [{"Key": "team", "Value": "reliability"}]
    listed = lookout.list_models(DatasetNameBeginsWith="pump-d")["ModelSummaries"]
    assert [(m["ModelName"], m["Status"]) for m in listed] == [("pump-model", "SUCCESS")]
    assert lookout.list_models(Status="FAILED", ModelNameBeginsWith="pump-m")["ModelSummaries"] == []


def test_windows_and_sampling_rate_left_out_take_the_documented_defaults(endpoint, lookout, s3, unique_bucket, machine):
    _dataset(lookout, s3, unique_bucket, machine)
    diagnostics = {"S3OutputConfiguration": {"Bucket": unique_bucket, "Prefix": "diag/"}}
    lookout.create_model(ModelName="defaults", DatasetName="pump-data", ClientToken="d",
                         ServerSideKmsKeyId="alias/lookout", ModelDiagnosticsOutputConfiguration=diagnostics)
    d = wait_model(lookout, "defaults")
    assert d["Status"] == "SUCCESS", d.get("FailedReason")
    assert d["ServerSideKmsKeyId"] == "arn:aws:kms:us-east-1:123456789012:alias/lookout"
    assert d["ModelDiagnosticsOutputConfiguration"] == diagnostics
    assert d["ModelQuality"] == "CANNOT_DETERMINE_QUALITY"  # no labels to judge it by
    assert d["DataPreProcessingConfiguration"] == {"TargetSamplingRate": "PT1M"}  # the rows' spacing
    first, last = machine.wide().index[[0, -1]]
    assert pd.Timestamp(d["TrainingDataStartTime"]) == first
    assert pd.Timestamp(d["EvaluationDataEndTime"]) == last + pd.Timedelta(minutes=1)
    split = pd.Timestamp(d["TrainingDataEndTime"])
    assert split == pd.Timestamp(d["EvaluationDataStartTime"])
    assert abs((split - first) / (last - first) - 0.8) < 0.01


def test_training_failures_are_failed_statuses_naming_the_cause(endpoint, lookout, s3, unique_bucket, machine):
    _dataset(lookout, s3, unique_bucket, machine)
    cases = {
        "outside": ({"TrainingDataStartTime": pd.Timestamp("2025-01-01", tz="UTC").to_pydatetime(),
                     "TrainingDataEndTime": pd.Timestamp("2025-02-01", tz="UTC").to_pydatetime()},
                    "The training window 2025-01-01T00:00:00.000000 to 2025-02-01T00:00:00.000000 holds no data"),
        "little": ({"TrainingDataEndTime": (START + pd.Timedelta(hours=3)).to_pydatetime(),
                    "EvaluationDataStartTime": (START + pd.Timedelta(hours=3)).to_pydatetime()},
                   "Too little data to train"),
        "subset": ({"DatasetSchema": {"InlineDataSchema": ModelSchema.parse({"hx-pump": ["Speed", "Nope"]}).to_json()},
                    "OffCondition": None},
                   "DatasetSchema names sensor hx-pump\\Nope, which dataset pump-data does not have"),
        "offcond": ({"OffCondition": "hx-pump\\Sped < 100"}, "names 'hx-pump\\\\Sped', which is not a sensor"),
    }
    for name, (changes, _) in cases.items():
        assert _create(lookout, name, **changes)["Status"] == "IN_PROGRESS"
    for name, (_, reason) in cases.items():
        d = wait_model(lookout, name)
        assert d["Status"] == "FAILED" and reason in d["FailedReason"], (name, d.get("FailedReason"))
        assert "ModelMetrics" not in d and "TrainingExecutionEndTime" in d
    failed = lookout.list_models(Status="FAILED")["ModelSummaries"]
    assert sorted(m["ModelName"] for m in failed) == sorted(cases)
    with pytest.raises(lookout.exceptions.ValidationException, match="Model outside is FAILED"):
        _scheduler(lookout, "on-failed", "outside", unique_bucket)


def test_a_label_file_with_its_end_before_its_start_fails_the_model_naming_the_file(
        endpoint, lookout, s3, unique_bucket, machine):
    _dataset(lookout, s3, unique_bucket, machine)
    s3.put_object(Bucket=unique_bucket, Key="labels/l.csv", Body=b"2026-01-05T10:00:00,2026-01-05T08:00:00\n")
    _create(lookout, "bad-labels", LabelsInputConfiguration={"S3InputConfiguration": {"Bucket": unique_bucket,
                                                                                      "Prefix": "labels/"}})
    d = wait_model(lookout, "bad-labels")
    assert d["Status"] == "FAILED" and f"s3://{unique_bucket}/labels/l.csv row 1" in d["FailedReason"]


def test_create_answers_at_once_for_what_it_can_check(endpoint, lookout, s3, unique_bucket, machine):
    with pytest.raises(lookout.exceptions.ResourceNotFoundException, match="Dataset nothing does not exist"):
        _create(lookout, "m", dataset="nothing")
    create_dataset(lookout, "empty", machine.schema)
    with pytest.raises(lookout.exceptions.ValidationException, match="Dataset empty has no ingested data yet"):
        _create(lookout, "m", dataset="empty")
    _dataset(lookout, s3, unique_bucket, machine)
    with pytest.raises(lookout.exceptions.ResourceNotFoundException, match="Label group missing does not exist"):
        _create(lookout, "m", LabelsInputConfiguration={"LabelGroupName": "missing"})
    with pytest.raises(lookout.exceptions.ValidationException, match=r"DatasetSchema.InlineDataSchema"):
        _create(lookout, "m", DatasetSchema={"InlineDataSchema": "{not json"})


def test_a_name_is_taken_once_and_the_same_token_is_idempotent(endpoint, lookout, s3, unique_bucket, machine):
    _dataset(lookout, s3, unique_bucket, machine)
    arn = _create(lookout, "twice", token="t1")["ModelArn"]
    assert _create(lookout, "twice", token="t1")["ModelArn"] == arn  # botocore's retry of a dropped call
    with pytest.raises(lookout.exceptions.ConflictException, match="Model twice already exists"):
        _create(lookout, "twice", token="t2")
    with pytest.raises(lookout.exceptions.ConflictException, match="Model twice already exists"):
        _create(lookout, "twice", token="t1", OffCondition="hx-pump\\Speed < 50")
    assert wait_model(lookout, "twice")["Status"] == "SUCCESS"


def test_a_dataset_in_use_is_kept_and_delete_model_frees_it(endpoint, lookout, s3, unique_bucket, machine):
    _dataset(lookout, s3, unique_bucket, machine)
    _create(lookout, "user")
    wait_model(lookout, "user")
    with pytest.raises(lookout.exceptions.ConflictException, match="Dataset pump-data is used by model user"):
        lookout.delete_dataset(DatasetName="pump-data")
    lookout.delete_model(ModelName="user")
    with pytest.raises(lookout.exceptions.ResourceNotFoundException, match="Model user does not exist"):
        lookout.describe_model(ModelName="user")
    with pytest.raises(lookout.exceptions.ResourceNotFoundException, match="Model user does not exist"):
        lookout.delete_model(ModelName="user")
    lookout.delete_dataset(DatasetName="pump-data")


def test_deleting_a_model_in_training_is_a_conflict_and_a_scheduler_on_a_deleted_model_fails_its_runs(
        endpoint, lookout, s3, unique_bucket, machine, monkeypatch):
    _dataset(lookout, s3, unique_bucket, machine)
    gate = __import__("threading").Event()
    real = training.train
    monkeypatch.setattr("lookout_nb.service.api.models.train", lambda *a, **k: gate.wait(30) and real(*a, **k))
    _create(lookout, "slow")
    with pytest.raises(lookout.exceptions.ConflictException, match="Model slow is training"):
        lookout.delete_model(ModelName="slow")
    gate.set()
    assert wait_model(lookout, "slow")["Status"] == "SUCCESS"
    _input_files(s3, unique_bucket, machine, "2026-01-05T08:30Z", "2026-01-05T09:10Z")
    _scheduler(lookout, "orphan", "slow", unique_bucket)
    lookout.delete_model(ModelName="slow")  # allowed, as the service documents
    endpoint.clock.set("2026-01-05T09:05Z")
    [run] = lookout.list_inference_executions(InferenceSchedulerName="orphan")["InferenceExecutionSummaries"]
    assert run["Status"] == "FAILED" and "no longer exists" in run["FailedReason"]


# -- scheduled inference on a trained model --------------------------------------------------------------------
def test_a_scheduler_writes_what_training_score_gives_on_the_same_rows(endpoint, lookout, s3, unique_bucket, machine):
    _dataset(lookout, s3, unique_bucket, machine)
    _create(lookout, "scored")
    assert wait_model(lookout, "scored")["Status"] == "SUCCESS"
    _input_files(s3, unique_bucket, machine, "2026-01-05T08:00Z", "2026-01-05T09:30Z")
    _scheduler(lookout, "scoring", "scored", unique_bucket)
    endpoint.clock.set("2026-01-05T09:30Z")
    runs = lookout.list_inference_executions(InferenceSchedulerName="scoring")["InferenceExecutionSummaries"]
    assert len(runs) == 6 and {r["Status"] for r in runs} == {"SUCCESS"}
    model = endpoint.backend.model("scored").trained_model
    wide = machine.wide()
    lookback = model.detector.lookback * pd.Timedelta(minutes=1)
    for run in runs:
        start, end = pd.Timestamp(run["DataStartTime"]), pd.Timestamp(run["DataEndTime"])
        window = wide[(wide.index > start) & (wide.index <= end)]
        history = wide[(wide.index > start - lookback) & (wide.index <= start)]
        assert _results(s3, run) == training.score(model, window, history=history)


def test_restart_keeps_the_trained_model_and_a_scheduler_on_it_runs(tmp_path, machine):
    bucket = f"models-{tmp_path.name.lower().replace('_', '-')}"[:60]
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        lookout, s3 = ep.lookout(), ep.s3()
        s3.create_bucket(Bucket=bucket)
        _dataset(lookout, s3, bucket, machine)
        _create(lookout, "kept")
        before = wait_model(lookout, "kept")
        _input_files(s3, bucket, machine, "2026-01-05T08:30Z", "2026-01-05T09:20Z")
        _scheduler(lookout, "after-restart", "kept", bucket)
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        lookout = ep.lookout()
        after = lookout.describe_model(ModelName="kept")
        assert {k: after[k] for k in ("Status", "ModelMetrics", "Schema", "TrainingExecutionEndTime")} == {
            k: before[k] for k in ("Status", "ModelMetrics", "Schema", "TrainingExecutionEndTime")}
        ep.clock.set("2026-01-05T09:10Z")
        runs = lookout.list_inference_executions(InferenceSchedulerName="after-restart")["InferenceExecutionSummaries"]
        assert [r["Status"] for r in runs] == ["SUCCESS", "SUCCESS"]
        with pytest.raises(lookout.exceptions.ConflictException, match="Dataset pump-data is used by model kept"):
            lookout.delete_dataset(DatasetName="pump-data")


def test_a_model_cut_by_a_stop_or_a_kill_comes_back_failed(tmp_path, machine, monkeypatch):
    bucket = f"cut-{tmp_path.name.lower().replace('_', '-')}"[:60]
    real = training.train
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        lookout, s3 = ep.lookout(), ep.s3()
        s3.create_bucket(Bucket=bucket)
        _dataset(lookout, s3, bucket, machine)
        work = ep.backend.core.work  # the training goes on until the endpoint stops
        monkeypatch.setattr("lookout_nb.service.api.models.train",
                            lambda *a, **k: work.wait_for_stop(30) and real(*a, **k))
        _create(lookout, "stopped")
        assert lookout.describe_model(ModelName="stopped")["Status"] == "IN_PROGRESS"
        # a record as a killed process leaves it: IN_PROGRESS with no thread to end it
        ep.backend.put_model(Model("killed", machine.schema, dataset_name="pump-data", status="IN_PROGRESS"))
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        lookout = ep.lookout()
        stopped = lookout.describe_model(ModelName="stopped")
        assert stopped["Status"] == "FAILED" and "stopped while this model was training" in stopped["FailedReason"]
        killed = lookout.describe_model(ModelName="killed")
        assert (killed["Status"], killed["FailedReason"]) == ("FAILED", TRAINING_INTERRUPTED)


def test_a_broken_model_record_is_named_at_start_and_the_others_load(tmp_path):
    with start(port=0, clock="manual", demo=True, state_dir=tmp_path) as ep:
        ep.add_model("fan", {"fan": ["Speed"]}, "PT5M")
    with sqlite3.connect(tmp_path / "state.db") as db:
        doc = json.loads(db.execute("SELECT doc FROM records WHERE kind='model' AND name='fan'").fetchone()[0])
        doc["trained"]["detector"]["relation"] = "garbled"
        db.execute("UPDATE records SET doc=? WHERE kind='model' AND name='fan'", (json.dumps(doc),))
    with start(port=0, clock="manual", demo=True, state_dir=tmp_path) as ep:
        lookout = ep.lookout()
        assert any(line.startswith("model fan: field 'trained'") for line in ep.problems)
        with pytest.raises(lookout.exceptions.InternalServerException, match="Model fan could not be restored"):
            lookout.describe_model(ModelName="fan")
        assert lookout.describe_model(ModelName="pump-demo")["Status"] == "SUCCESS"
        lookout.delete_model(ModelName="fan")  # how to get rid of it
        with pytest.raises(lookout.exceptions.ResourceNotFoundException, match="Model fan does not exist"):
            lookout.describe_model(ModelName="fan")
    with start(port=0, clock="manual", demo=True, state_dir=tmp_path) as ep:
        assert not ep.problems
