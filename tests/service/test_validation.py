"""Bad inputs of the model-building half are refused at once with a ValidationException naming the member (or
FAIL a job with a reason naming the file), never accepted to break later: windows out of range or overlapping,
unsafe or repeated names, empty schemas, a year-9999 row, a label bucket that does not exist."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from botocore.exceptions import ClientError
from datakit import ROLE, create_dataset, csv_of, ingest, schema_json, upload
from test_models import wait_model

from lookout_nb.service import start
from lookout_nb.service.demo import synth

START = synth.DEFAULT_START
DAY = pd.Timedelta(days=1)


@pytest.fixture(scope="module")
def ep():
    with start(port=0, clock="manual", demo=False) as endpoint:
        machine = synth.generate(days=6, seed=4)
        s3, lookout = endpoint.s3(), endpoint.lookout()
        s3.create_bucket(Bucket="valid")
        upload(s3, "valid", machine.frames)
        create_dataset(lookout, "pump-data", machine.schema)
        assert ingest(lookout, "pump-data", "valid")["Status"] == "SUCCESS"
        endpoint.machine = machine
        yield endpoint


def _create_model(ep, name, **changes):
    kwargs = {"ModelName": name, "DatasetName": "pump-data", "ClientToken": name, "RoleArn": ROLE,
              "TrainingDataStartTime": START, "TrainingDataEndTime": START + 4 * DAY,
              "EvaluationDataStartTime": START + 4 * DAY, "EvaluationDataEndTime": START + 6 * DAY,
              "DataPreProcessingConfiguration": {"TargetSamplingRate": "PT5M"}}
    kwargs.update(changes)
    return ep.lookout().create_model(**{k: v for k, v in kwargs.items() if v is not None})


def _refused(call, *words):
    with pytest.raises(ClientError) as info:
        call()
    error = info.value.response["Error"]
    assert error["Code"] == "ValidationException", error
    for word in words:
        assert word in error["Message"], error["Message"]
    return error["Message"]


def test_a_training_window_before_1970_or_beyond_2262_is_refused(ep):
    _refused(lambda: _create_model(ep, "m-1969", TrainingDataStartTime=pd.Timestamp("1969-12-31T00:00Z")),
             "TrainingDataStartTime 1969-12-31", "1970-01-01 to 2262-01-01")
    _refused(lambda: _create_model(ep, "m-2300", EvaluationDataEndTime=pd.Timestamp("2300-01-01T00:00Z")),
             "EvaluationDataEndTime 2300-01-01")
    assert ep.lookout().list_models()["ModelSummaries"] == []


def test_windows_that_overlap_or_end_before_they_start_are_refused(ep):
    _refused(lambda: _create_model(ep, "m-overlap", EvaluationDataStartTime=START + 3 * DAY),
             "evaluation window", "overlaps the training window", "EvaluationDataStartTime")
    _refused(lambda: _create_model(ep, "m-backwards", TrainingDataEndTime=START - DAY, EvaluationDataStartTime=None),
             "TrainingDataEndTime", "is not after TrainingDataStartTime")
    assert ep.lookout().list_models()["ModelSummaries"] == []


@pytest.mark.parametrize("component", ["../etc", "a/b", ".hidden", "pump\\1", "x" * 201])
def test_a_component_that_is_no_safe_path_segment_is_refused(ep, component):
    schema = schema_json({component: ["Flow"]})
    _refused(lambda: ep.lookout().create_dataset(DatasetName="bad-name", ClientToken="t",
                                                 DatasetSchema={"InlineDataSchema": schema}),
             "DatasetSchema.InlineDataSchema", f"ComponentName {component!r} is not allowed", "letters, digits")
    _refused(lambda: _create_model(ep, "m-bad-name", DatasetSchema={"InlineDataSchema": schema}),
             f"ComponentName {component!r}")


def test_empty_components_and_repeated_columns_in_a_schema_are_refused(ep):
    _refused(lambda: ep.lookout().create_dataset(DatasetName="empty", ClientToken="t",
                                                 DatasetSchema={"InlineDataSchema": '{"Components": []}'}),
             "Components is empty")
    repeated = json.dumps({"Components": [{"ComponentName": "pump", "Columns": [
        {"Name": "Timestamp", "Type": "DATETIME"}, {"Name": "Flow", "Type": "DOUBLE"},
        {"Name": "Flow", "Type": "DOUBLE"}]}]})
    _refused(lambda: ep.lookout().create_dataset(DatasetName="twice", ClientToken="t",
                                                 DatasetSchema={"InlineDataSchema": repeated}),
             "component pump has the column name Flow more than once")
    assert [d["DatasetName"] for d in ep.lookout().list_datasets()["DatasetSummaries"]] == ["pump-data"]


def test_a_data_file_with_a_repeated_column_fails_its_ingestion_naming_it(ep):
    s3, lookout = ep.s3(), ep.lookout()
    rows = b"Timestamp,Flow,Flow\n2026-01-01T00:00:00,1,2\n2026-01-01T00:01:00,3,4\n"
    s3.put_object(Bucket="valid", Key="twice/pump/pump.csv", Body=rows)
    create_dataset(lookout, "twice-data")
    job = ingest(lookout, "twice-data", "valid", prefix="twice/")
    assert job["Status"] == "FAILED"
    assert "twice/pump/pump.csv has the column name Flow more than once" in job["FailedReason"]


def test_a_row_in_year_9999_is_an_unsupported_timestamp_not_a_time_wrapped_round(ep):
    s3, lookout = ep.s3(), ep.lookout()
    frames = {c: f.copy() for c, f in ep.machine.frames.items()}
    first = next(iter(frames))
    far_row = b"9999-01-01T00:00:00.000000" + b",1" * frames[first].shape[1]
    body = csv_of(frames[first]).replace(b"\n", b"\n" + far_row + b"\n", 1)
    s3.put_object(Bucket="valid", Key=f"far/{first}/{first}.csv", Body=body)
    for c in list(frames)[1:]:
        s3.put_object(Bucket="valid", Key=f"far/{c}/{c}.csv", Body=csv_of(frames[c]))
    create_dataset(lookout, "far-data", ep.machine.schema)
    job = ingest(lookout, "far-data", "valid", prefix="far/")
    assert job["Status"] == "SUCCESS", job.get("FailedReason")
    assert job["DataQualitySummary"]["UnsupportedTimestamps"]["TotalNumberOfUnsupportedTimestamps"] == 1
    assert (job["DataStartTime"].year, job["DataEndTime"].year) == (START.year, START.year)
    _create_model(ep, "m-far", DatasetName="far-data", TrainingDataStartTime=None, TrainingDataEndTime=None,
                  EvaluationDataStartTime=None, EvaluationDataEndTime=None)
    model = wait_model(lookout, "m-far")
    assert model["TrainingDataStartTime"].year == START.year and model["EvaluationDataEndTime"].year == START.year
    assert model["Status"] == "SUCCESS", model.get("FailedReason")


def test_a_missing_label_bucket_is_named_as_the_labels_place(ep):
    _create_model(ep, "m-labels", LabelsInputConfiguration={"S3InputConfiguration": {"Bucket": "no-such-labels",
                                                                                     "Prefix": "labels/"}})
    model = wait_model(ep.lookout(), "m-labels")
    assert model["Status"] == "FAILED"
    reason = model["FailedReason"]
    assert "s3://no-such-labels/labels/" in reason and "NoSuchBucket" in reason, reason
    assert "LabelsInputConfiguration.S3InputConfiguration" in reason and "Internal error" not in reason, reason
    assert "IngestionInputConfiguration" not in reason
