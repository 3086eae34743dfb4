"""Data ingestion jobs over real HTTP with boto3: the SDK's flow, KeyPatterns, bad files, quality counts."""

from __future__ import annotations

import threading

import datakit
import numpy as np
import pandas as pd
import pytest
from datakit import create_dataset, csv_of, frame, ingest, upload

from lookout_nb.service.demo import synth


def test_the_sdk_flow_ingests_every_component_and_describes_the_job(endpoint, lookout, s3, unique_bucket):
    machine = synth.generate(days=3, seed=4)
    keys = upload(s3, unique_bucket, machine.frames)
    create_dataset(lookout, "pump-ds", machine.schema)
    assert lookout.describe_dataset(DatasetName="pump-ds")["Status"] == "CREATED"
    job = ingest(lookout, "pump-ds", unique_bucket)  # Bucket and Prefix only, like the SDK's ingest_data
    assert job["Status"] == "SUCCESS", job.get("FailedReason")
    assert job["CreatedAt"] == pd.Timestamp("2026-01-05T09:00Z")  # the service clock (manual, never advanced)
    assert job["IngestedFilesSummary"] == {"TotalNumberOfFiles": 2, "IngestedNumberOfFiles": 2, "DiscardedFiles": []}
    sizes = sum(s3.head_object(Bucket=unique_bucket, Key=k)["ContentLength"] for k in keys)
    assert job["IngestedDataSize"] == sizes
    assert job["DataStartTime"] == machine.frames["motor"].index[0]
    assert job["DataEndTime"] == machine.frames["motor"].index[-1]
    quality = job["DataQualitySummary"]
    assert quality["DuplicateTimestamps"]["TotalNumberOfDuplicateTimestamps"] == 0
    assert quality["InsufficientSensorData"]["SensorsWithShortDateRange"]["AffectedSensorCount"] == 8  # 3 days < 14
    dataset = lookout.describe_dataset(DatasetName="pump-ds")
    assert dataset["Status"] == "ACTIVE"
    assert dataset["IngestionInputConfiguration"]["S3InputConfiguration"]["Bucket"] == unique_bucket
    assert dataset["DataQualitySummary"] == quality and dataset["DataEndTime"] == job["DataEndTime"]
    data = endpoint.backend.dataset_data("us-east-1", "pump-ds")
    for c, expected in machine.frames.items():
        got = data.frames[c]
        assert got.index.name == "Timestamp" and str(got.index.tz) == "UTC" and got.index.is_unique
        assert list(got.columns) == list(expected.columns) and (got.dtypes == "float64").all()
        np.testing.assert_allclose(got.to_numpy(), expected.to_numpy())


@pytest.mark.parametrize("delimiter", ["/", "_", " ", ".", "-"])
def test_each_key_pattern_picks_its_components_files_only(lookout, s3, unique_bucket, delimiter):
    f1 = frame("2026-01-01", 4, {"Flow": [1.0, 2, 3, 4]})
    f2 = frame("2026-01-01T00:04", 2, {"Flow": [5.0, 6]})
    s3.put_object(Bucket=unique_bucket, Key=f"in/pump{delimiter}a.csv", Body=csv_of(f1))
    s3.put_object(Bucket=unique_bucket, Key=f"in/pump{delimiter}b.csv", Body=csv_of(f2))
    other = "_" if delimiter != "_" else "-"
    s3.put_object(Bucket=unique_bucket, Key=f"in/pump{other}x.csv", Body=b"not,read\n")  # another pattern's key
    create_dataset(lookout, "kp", {"pump": ["Flow"]})
    job = ingest(lookout, "kp", unique_bucket, prefix="in/", key_pattern="{prefix}/{component_name}" + delimiter + "*")
    assert job["Status"] == "SUCCESS", job.get("FailedReason")
    assert job["IngestedFilesSummary"]["TotalNumberOfFiles"] == 2
    assert job["DataEndTime"] == pd.Timestamp("2026-01-01T00:05Z")


def test_a_key_pattern_the_service_does_not_read_is_refused_naming_the_field(lookout, unique_bucket):
    create_dataset(lookout, "kp-bad", {"pump": ["Flow"]})
    with pytest.raises(lookout.exceptions.ValidationException,
                       match=r"KeyPattern '\{prefix\}/\*'.*\{component_name\}_\*"):
        lookout.start_data_ingestion_job(
            DatasetName="kp-bad", RoleArn=datakit.ROLE, ClientToken="x",
            IngestionInputConfiguration={"S3InputConfiguration": {"Bucket": unique_bucket, "KeyPattern": "{prefix}/*"}})


def test_without_a_schema_the_first_ingestion_gives_it(lookout, s3, unique_bucket):
    upload(s3, unique_bucket, {"fan": frame("2026-01-01", 3, {"Speed": [1.0, 2, 3], "Temp": [4.0, 5, 6]})})
    create_dataset(lookout, "free")
    assert "Schema" not in lookout.describe_dataset(DatasetName="free")
    assert ingest(lookout, "free", unique_bucket)["Status"] == "SUCCESS"
    schema = datakit.ModelSchema.parse(lookout.describe_dataset(DatasetName="free")["Schema"])
    assert schema.sensors == {"fan": ("Speed", "Temp")}


def test_ragged_and_non_csv_files_are_discarded_and_named(lookout, s3, unique_bucket):
    good = frame("2026-01-01", 3, {"Flow": [1.0, 2, 3]})
    s3.put_object(Bucket=unique_bucket, Key="train/pump/a.csv", Body=csv_of(good))
    s3.put_object(Bucket=unique_bucket, Key="train/pump/ragged.csv",
                  Body=b"Timestamp,Flow\n2026-01-02T00:00:00,1\n2026-01-02T00:01:00,2,7\n")
    s3.put_object(Bucket=unique_bucket, Key="train/pump/notes.txt", Body=b"hello")
    s3.put_object(Bucket=unique_bucket, Key="train/pump/image.csv", Body=b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    create_dataset(lookout, "rag", {"pump": ["Flow"]})
    job = ingest(lookout, "rag", unique_bucket)
    assert job["Status"] == "SUCCESS", job.get("FailedReason")
    files = job["IngestedFilesSummary"]
    assert (files["TotalNumberOfFiles"], files["IngestedNumberOfFiles"]) == (4, 1)
    assert sorted(d["Key"] for d in files["DiscardedFiles"]) == [
        "train/pump/image.csv", "train/pump/notes.txt", "train/pump/ragged.csv"]
    assert "File train/pump/ragged.csv is not well-formed CSV" in job["StatusDetail"]
    assert "line 3" in job["StatusDetail"]
    assert "train/pump/notes.txt: not a .csv file" in job["StatusDetail"]


def test_a_component_whose_files_are_all_discarded_fails_naming_them(lookout, s3, unique_bucket):
    s3.put_object(Bucket=unique_bucket, Key="train/pump/x.csv", Body=b"Timestamp;Flow\n2026-01-01T00:00:00;1\n")
    create_dataset(lookout, "semi", {"pump": ["Flow"]})
    job = ingest(lookout, "semi", unique_bucket)
    assert job["Status"] == "FAILED"
    assert "Component pump: no file could be ingested" in job["FailedReason"]
    assert "train/pump/x.csv separates its columns with ';'" in job["FailedReason"]
    assert lookout.describe_dataset(DatasetName="semi")["Status"] == "CREATED"


def test_no_file_for_a_component_fails_saying_where_to_put_it(lookout, s3, unique_bucket):
    upload(s3, unique_bucket, {"pump": frame("2026-01-01", 3, {"Flow": [1.0, 2, 3]})})
    create_dataset(lookout, "two", {"pump": ["Flow"], "motor": ["Current"]})
    job = ingest(lookout, "two", unique_bucket)
    assert job["Status"] == "FAILED"
    assert "Component motor" in job["FailedReason"] and "train/motor/<name>.csv" in job["FailedReason"]


def test_a_file_that_lacks_a_schema_column_fails_naming_the_file_and_column(lookout, s3, unique_bucket):
    upload(s3, unique_bucket, {"pump": frame("2026-01-01", 3, {"Flow": [1.0, 2, 3]})})
    create_dataset(lookout, "mismatch", {"pump": ["Flow", "Pressure"]})
    job = ingest(lookout, "mismatch", unique_bucket)
    assert job["Status"] == "FAILED"
    assert "File train/pump/pump.csv lacks the column Pressure" in job["FailedReason"]
    assert "schema" in job["FailedReason"]


def test_a_missing_bucket_fails_naming_it(lookout):
    create_dataset(lookout, "nobucket", {"pump": ["Flow"]})
    job = ingest(lookout, "nobucket", "no-such-bucket-here")
    assert job["Status"] == "FAILED" and "s3://no-such-bucket-here/train/" in job["FailedReason"]


def test_unsupported_timestamps_are_dropped_and_counted_and_the_documented_forms_read(endpoint, lookout, s3,
                                                                                      unique_bucket):
    body = (b"Timestamp,Flow\n2026-01-01 00:00:00,1\nyesterday,2\n2026/01/01 00:02:00,3\n"
            b"2026-01-01T00:03:00.500000,4\n,5\n")
    s3.put_object(Bucket=unique_bucket, Key="train/pump/a.csv", Body=body)
    s3.put_object(Bucket=unique_bucket, Key="train/pump/b.csv", Body=b"Timestamp,Flow\n1767226200,6\n")  # epoch s
    create_dataset(lookout, "stamps", {"pump": ["Flow"]})
    job = ingest(lookout, "stamps", unique_bucket)
    assert job["Status"] == "SUCCESS", job.get("FailedReason")
    assert job["DataQualitySummary"]["UnsupportedTimestamps"]["TotalNumberOfUnsupportedTimestamps"] == 2
    got = endpoint.backend.dataset_data("us-east-1", "stamps").frames["pump"]["Flow"]
    assert got.to_dict() == {pd.Timestamp("2026-01-01T00:00Z"): 1.0, pd.Timestamp("2026-01-01T00:02Z"): 3.0,
                             pd.Timestamp("2026-01-01T00:03:00.5Z"): 4.0, pd.Timestamp("2026-01-01T00:10Z"): 6.0}


def test_duplicate_timestamps_across_files_are_counted_and_the_first_kept(endpoint, lookout, s3, unique_bucket):
    s3.put_object(Bucket=unique_bucket, Key="train/pump/1.csv",
                  Body=csv_of(frame("2026-01-01", 3, {"Flow": [1.0, 2, 3]})))
    s3.put_object(Bucket=unique_bucket, Key="train/pump/2.csv",
                  Body=csv_of(frame("2026-01-01T00:01", 3, {"Flow": [9.0, 9, 4]})))
    create_dataset(lookout, "dups", {"pump": ["Flow"]})
    job = ingest(lookout, "dups", unique_bucket)
    assert job["DataQualitySummary"]["DuplicateTimestamps"]["TotalNumberOfDuplicateTimestamps"] == 2
    assert endpoint.backend.dataset_data("us-east-1", "dups").frames["pump"]["Flow"].tolist() == [1.0, 2, 3, 4]


def test_missing_invalid_and_empty_sensors_are_counted_on_the_data(lookout, s3, unique_bucket):
    body = (b"Timestamp,A,B,C\n2026-01-01T00:00:00,1,,\n2026-01-01T00:01:00,abc,2,\n"
            b"2026-01-01T00:02:00,inf,,\n2026-01-01T00:03:00,4,5,\n")
    s3.put_object(Bucket=unique_bucket, Key="train/pump/a.csv", Body=body)
    create_dataset(lookout, "quality", {"pump": ["A", "B", "C"]})
    job = ingest(lookout, "quality", unique_bucket)
    assert job["Status"] == "SUCCESS", job.get("FailedReason")
    q = job["DataQualitySummary"]
    assert q["InvalidSensorData"] == {"AffectedSensorCount": 1, "TotalNumberOfInvalidValues": 2}
    assert q["MissingSensorData"] == {"AffectedSensorCount": 2, "TotalNumberOfMissingValues": 6}
    assert q["InsufficientSensorData"]["MissingCompleteSensorData"]["AffectedSensorCount"] == 1


def test_a_second_ingestion_replaces_the_data(endpoint, lookout, s3, unique_bucket):
    create_dataset(lookout, "again", {"pump": ["Flow"]})
    upload(s3, unique_bucket, {"pump": frame("2026-01-01", 3, {"Flow": [1.0, 2, 3]})}, prefix="v1/")
    upload(s3, unique_bucket, {"pump": frame("2026-02-01", 2, {"Flow": [7.0, 8]})}, prefix="v2/")
    assert ingest(lookout, "again", unique_bucket, prefix="v1/")["Status"] == "SUCCESS"
    assert ingest(lookout, "again", unique_bucket, prefix="v2/")["Status"] == "SUCCESS"
    assert endpoint.backend.dataset_data("us-east-1", "again").frames["pump"]["Flow"].tolist() == [7.0, 8.0]
    assert lookout.describe_dataset(DatasetName="again")["DataStartTime"] == pd.Timestamp("2026-02-01T00:00Z")


def test_a_failed_second_ingestion_keeps_the_first_data(endpoint, lookout, s3, unique_bucket):
    create_dataset(lookout, "keep", {"pump": ["Flow"]})
    upload(s3, unique_bucket, {"pump": frame("2026-01-01", 3, {"Flow": [1.0, 2, 3]})}, prefix="v1/")
    upload(s3, unique_bucket, {"pump": frame("2026-02-01", 2, {"Other": [7.0, 8]})}, prefix="v2/")
    first = ingest(lookout, "keep", unique_bucket, prefix="v1/")
    assert ingest(lookout, "keep", unique_bucket, prefix="v2/")["Status"] == "FAILED"
    dataset = lookout.describe_dataset(DatasetName="keep")
    assert dataset["Status"] == "ACTIVE" and dataset["DataEndTime"] == first["DataEndTime"]
    assert dataset["IngestedFilesSummary"] == first["IngestedFilesSummary"]
    assert endpoint.backend.dataset_data("us-east-1", "keep").frames["pump"]["Flow"].tolist() == [1.0, 2.0, 3.0]


class _HeldReader:
    """Wraps the endpoint's reader: every body waits until ``release`` is set (a job stays IN_PROGRESS)."""

    def __init__(self, inner):
        self.inner, self.release = inner, threading.Event()

    def keys(self, bucket, prefix):
        return self.inner.keys(bucket, prefix)

    def body(self, bucket, key):
        assert self.release.wait(30)
        return self.inner.body(bucket, key)


def test_while_a_job_runs_the_dataset_is_in_progress_and_another_job_or_a_delete_conflicts(endpoint, lookout, s3,
                                                                                            unique_bucket):
    upload(s3, unique_bucket, {"pump": frame("2026-01-01", 3, {"Flow": [1.0, 2, 3]})})
    create_dataset(lookout, "busy", {"pump": ["Flow"]})
    held = endpoint.backend.core.data_reader = _HeldReader(endpoint.backend.core.data_reader)
    config = {"S3InputConfiguration": {"Bucket": unique_bucket, "Prefix": "train/"}}
    job = lookout.start_data_ingestion_job(DatasetName="busy", IngestionInputConfiguration=config, RoleArn=datakit.ROLE,
                                           ClientToken="first")
    try:
        assert lookout.describe_dataset(DatasetName="busy")["Status"] == "INGESTION_IN_PROGRESS"
        again = lookout.start_data_ingestion_job(DatasetName="busy", IngestionInputConfiguration=config,
                                                 RoleArn=datakit.ROLE, ClientToken="first")
        assert again["JobId"] == job["JobId"]  # the same ClientToken: the same job
        with pytest.raises(lookout.exceptions.ConflictException, match=f"job {job['JobId']} in progress"):
            lookout.start_data_ingestion_job(DatasetName="busy", IngestionInputConfiguration=config,
                                             RoleArn=datakit.ROLE, ClientToken="second")
        with pytest.raises(lookout.exceptions.ConflictException, match="Dataset busy has data ingestion job"):
            lookout.delete_dataset(DatasetName="busy")
    finally:
        held.release.set()
    assert datakit.wait_job(lookout, job["JobId"])["Status"] == "SUCCESS"
    assert lookout.describe_dataset(DatasetName="busy")["Status"] == "ACTIVE"


def test_ingest_folder_reads_a_folder_as_a_job_reads_s3_and_infers_components_by_key_pattern(tmp_path):
    from lookout_nb.service.learning.ingest import ingest_folder

    machine = synth.generate(days=2, seed=2, faults=[("frozen", "2026-01-01T12:00Z", "2h")])
    machine.write_csv(tmp_path)  # <component>/<component>.csv and labels.csv at the top (not a component's)
    result = ingest_folder(tmp_path)
    assert result.schema.sensors == {c: tuple(f.columns) for c, f in machine.frames.items()}
    assert result.files["TotalNumberOfFiles"] == 2
    np.testing.assert_allclose(result.frames["motor"].to_numpy(), machine.frames["motor"].to_numpy())
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "fan_2026.csv").write_bytes(csv_of(frame("2026-01-01", 2, {"Speed": [1.0, 2.0]})))
    (flat / "fan-pump_2026.csv").write_bytes(csv_of(frame("2026-01-01", 2, {"Flow": [3.0, 4.0]})))
    found = ingest_folder(flat, key_pattern="{prefix}/{component_name}_*")
    assert found.schema.sensors == {"fan": ("Speed",), "fan-pump": ("Flow",)}  # the name up to the first "_"
