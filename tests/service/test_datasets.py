"""Datasets over real HTTP with boto3: create, describe, list, delete, their errors, and a restart."""

from __future__ import annotations

import json
import sqlite3

import pandas as pd
import pytest
from datakit import create_dataset, frame, ingest, upload

from lookout_nb.contract.schema import ModelSchema
from lookout_nb.service import start
from lookout_nb.service.api.datasets import IngestedData
from lookout_nb.service.api.exceptions import ResourceNotFoundException, ValidationException
from lookout_nb.service.demo import demo


def test_create_is_idempotent_for_its_token_and_a_conflict_for_another(lookout):
    first = create_dataset(lookout, "ds-a", {"pump": ["Flow"]})
    assert first["Status"] == "CREATED" and first["DatasetArn"].endswith(first["DatasetArn"].split("/")[-1])
    assert create_dataset(lookout, "ds-a", {"pump": ["Flow"]})["DatasetArn"] == first["DatasetArn"]
    with pytest.raises(lookout.exceptions.ConflictException, match="Dataset ds-a already exists"):
        lookout.create_dataset(DatasetName="ds-a", ClientToken="another")


@pytest.mark.parametrize("schema, message", [
    ("not json", "DatasetSchema.InlineDataSchema: .*not JSON"),
    (json.dumps({"Components": [{"ComponentName": "pump", "Columns": [{"Name": "Timestamp", "Type": "DATETIME"}]}]}),
     "component pump must have a first column of Type DATETIME .* at least one sensor column of Type DOUBLE"),
    (json.dumps({"Components": [{"ComponentName": "pump", "Columns": [{"Name": "Flow", "Type": "DOUBLE"},
                                                                       {"Name": "T", "Type": "DATETIME"}]}]}),
     "first column of Type DATETIME"),
])
def test_a_schema_the_service_cannot_read_is_refused_naming_the_field(lookout, schema, message):
    with pytest.raises(lookout.exceptions.ValidationException, match=message):
        lookout.create_dataset(DatasetName="bad-schema", ClientToken="t", DatasetSchema={"InlineDataSchema": schema})


def test_describe_returns_the_schema_text_and_unknown_names_are_named(lookout):
    create_dataset(lookout, "ds-s", {"pump": ["Flow", "Speed"]})
    d = lookout.describe_dataset(DatasetName="ds-s")
    assert ModelSchema.parse(d["Schema"]).sensors == {"pump": ("Flow", "Speed")}
    assert d["CreatedAt"] == d["LastUpdatedAt"] == pd.Timestamp("2026-01-05T09:00Z")
    with pytest.raises(lookout.exceptions.ResourceNotFoundException, match="Dataset nope does not exist"):
        lookout.describe_dataset(DatasetName="nope")
    with pytest.raises(lookout.exceptions.ResourceNotFoundException, match="Dataset nope does not exist"):
        lookout.start_data_ingestion_job(
            DatasetName="nope", RoleArn="arn:aws:iam::123456789012:role/x", ClientToken="t",
            IngestionInputConfiguration={"S3InputConfiguration": {"Bucket": "some-bucket"}})
    with pytest.raises(lookout.exceptions.ResourceNotFoundException, match="Data ingestion job 0123 does not exist"):
        lookout.describe_data_ingestion_job(JobId="0123")


def test_list_filters_by_name_and_pages(lookout):
    for name in ["pump-1", "pump-2", "pump-3", "fan-1"]:
        create_dataset(lookout, name)
    page = lookout.list_datasets(DatasetNameBeginsWith="pump", MaxResults=2)
    assert [d["DatasetName"] for d in page["DatasetSummaries"]] == ["pump-1", "pump-2"]
    rest = lookout.list_datasets(DatasetNameBeginsWith="pump", MaxResults=2, NextToken=page["NextToken"])
    assert [d["DatasetName"] for d in rest["DatasetSummaries"]] == ["pump-3"] and "NextToken" not in rest
    assert {d["Status"] for d in page["DatasetSummaries"]} == {"CREATED"}
    names, token = [], None
    while True:  # botocore has no paginator for ListDatasets: follow NextToken as the SDK does
        page = lookout.list_datasets(MaxResults=1, **({"NextToken": token} if token else {}))
        names += [d["DatasetName"] for d in page["DatasetSummaries"]]
        token = page.get("NextToken")
        if not token:
            break
    assert names == sorted(["fan-1", "pump-1", "pump-2", "pump-3", demo.DEMO_DATASET])  # the demo model's too


def test_delete_refuses_while_models_use_it_and_removes_it_and_its_jobs(endpoint, lookout, s3, unique_bucket,
                                                                        monkeypatch):
    upload(s3, unique_bucket, {"pump": frame("2026-01-01", 3, {"Flow": [1.0, 2, 3]})})
    create_dataset(lookout, "used", {"pump": ["Flow"]})
    job = ingest(lookout, "used", unique_bucket)
    monkeypatch.setattr(endpoint.backend.models, "dataset_in_use", lambda region, name: ["m-1", "m-2"])
    with pytest.raises(lookout.exceptions.ConflictException,
                       match="Dataset used is used by models m-1, m-2; delete them"):
        lookout.delete_dataset(DatasetName="used")
    monkeypatch.setattr(endpoint.backend.models, "dataset_in_use", lambda region, name: [])
    lookout.delete_dataset(DatasetName="used")
    with pytest.raises(lookout.exceptions.ResourceNotFoundException, match="Dataset used does not exist"):
        lookout.delete_dataset(DatasetName="used")
    with pytest.raises(lookout.exceptions.ResourceNotFoundException, match=job["JobId"]):
        lookout.describe_data_ingestion_job(JobId=job["JobId"])
    create_dataset(lookout, "used", {"pump": ["Flow"]})  # the name can be used again, without the old data
    assert lookout.describe_dataset(DatasetName="used")["Status"] == "CREATED"


def test_list_ingestion_jobs_filters_by_dataset_and_status(lookout, s3, unique_bucket):
    upload(s3, unique_bucket, {"pump": frame("2026-01-01", 3, {"Flow": [1.0, 2, 3]})})
    create_dataset(lookout, "j-1", {"pump": ["Flow"]})
    create_dataset(lookout, "j-2", {"motor": ["Current"]})
    ok = ingest(lookout, "j-1", unique_bucket)["JobId"]
    failed = ingest(lookout, "j-2", unique_bucket)["JobId"]  # no motor files
    jobs = lookout.list_data_ingestion_jobs()["DataIngestionJobSummaries"]
    assert {j["JobId"] for j in jobs} >= {ok, failed}
    of_j1 = lookout.list_data_ingestion_jobs(DatasetName="j-1")["DataIngestionJobSummaries"]
    assert [j["JobId"] for j in of_j1] == [ok]
    failed_ones = lookout.list_data_ingestion_jobs(Status="FAILED")["DataIngestionJobSummaries"]
    assert [(j["JobId"], j["DatasetName"]) for j in failed_ones] == [(failed, "j-2")]


def test_the_contract_seams_dataset_data_and_put_dataset_data(endpoint):
    backend = endpoint.backend
    with pytest.raises(ResourceNotFoundException, match="Dataset absent does not exist"):
        backend.dataset_data("us-east-1", "absent")
    backend.create_dataset("us-east-1", {"DatasetName": "empty", "ClientToken": "t"})
    with pytest.raises(ValidationException, match="Dataset empty has no ingested data yet"):
        backend.dataset_data("us-east-1", "empty")
    data = IngestedData(ModelSchema.parse({"pump": ["Flow"]}), {"pump": frame("2026-01-01", 2, {"Flow": [1.0, 2.0]})})
    backend.put_dataset_data("us-east-1", "made", data)
    assert backend.describe_dataset("us-east-1", {"DatasetName": "made"})["Status"] == "ACTIVE"
    assert backend.dataset_data("us-east-1", "made").frames["pump"]["Flow"].tolist() == [1.0, 2.0]


def test_a_restart_with_state_dir_keeps_datasets_jobs_and_the_ingested_data(tmp_path):
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        lookout, s3 = ep.lookout(), ep.s3()
        s3.create_bucket(Bucket="restart-data")
        upload(s3, "restart-data", {"pump": frame("2026-01-01", 3, {"Flow": [1.0, 2, 3]})})
        create_dataset(lookout, "kept", {"pump": ["Flow"]})
        create_dataset(lookout, "no-data")
        job = ingest(lookout, "kept", "restart-data")
        before = lookout.describe_dataset(DatasetName="kept")
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        lookout = ep.lookout()
        assert ep.problems == []
        after = lookout.describe_dataset(DatasetName="kept")
        assert {k: v for k, v in after.items() if k != "ResponseMetadata"} == \
               {k: v for k, v in before.items() if k != "ResponseMetadata"}
        assert lookout.describe_data_ingestion_job(JobId=job["JobId"])["Status"] == "SUCCESS"
        assert lookout.describe_dataset(DatasetName="no-data")["Status"] == "CREATED"
        got = ep.backend.dataset_data("us-east-1", "kept").frames["pump"]
        assert got["Flow"].tolist() == [1.0, 2.0, 3.0] and str(got.index.tz) == "UTC" and got.index.name == "Timestamp"


def test_a_broken_saved_dataset_is_named_and_the_others_restore(tmp_path):
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        create_dataset(ep.lookout(), "good", {"pump": ["Flow"]})
        create_dataset(ep.lookout(), "bad", {"pump": ["Flow"]})
    with sqlite3.connect(tmp_path / "state.db") as db:
        doc = json.loads(db.execute("SELECT doc FROM records WHERE kind='dataset' AND name='bad'").fetchone()[0])
        doc["has_data"] = "maybe"
        db.execute("UPDATE records SET doc=? WHERE kind='dataset' AND name='bad'", (json.dumps(doc),))
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        assert [p for p in ep.problems if "bad" in p] == [
            "dataset bad (us-east-1): field 'has_data' has an invalid value 'maybe'"]
        assert ep.lookout().describe_dataset(DatasetName="good")["Status"] == "CREATED"


def test_a_missing_data_file_is_named_at_restart_and_by_reading_the_data(tmp_path):
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        data = IngestedData(ModelSchema.parse({"pump": ["Flow"]}),
                            {"pump": frame("2026-01-01", 2, {"Flow": [1.0, 2.0]})})
        ep.backend.put_dataset_data("us-east-1", "lost", data)
    for path in (tmp_path / "datasets").iterdir():
        path.unlink()
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        assert any("dataset lost" in p and "is missing" in p for p in ep.problems)
        with pytest.raises(Exception, match=r"Dataset lost: its data file .* cannot be read"):
            ep.backend.dataset_data("us-east-1", "lost")


def test_a_job_cut_by_a_stop_or_a_crash_is_failed_and_the_data_before_it_kept(tmp_path):
    import test_ingest

    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        lookout, s3 = ep.lookout(), ep.s3()
        s3.create_bucket(Bucket="cut-data")
        upload(s3, "cut-data", {"pump": frame("2026-01-01", 3, {"Flow": [1.0, 2, 3]})})
        create_dataset(lookout, "cut", {"pump": ["Flow"]})
        ingest(lookout, "cut", "cut-data")
        held = ep.backend.core.data_reader = test_ingest._HeldReader(ep.backend.core.data_reader)
        job = lookout.start_data_ingestion_job(
            DatasetName="cut", RoleArn="arn:aws:iam::123456789012:role/x", ClientToken="cut-2",
            IngestionInputConfiguration={"S3InputConfiguration": {"Bucket": "cut-data", "Prefix": "train/"}})
        ep.backend.core.work.request_stop()  # what stop() does first
        held.release.set()
        stopped = test_ingest.datakit.wait_job(lookout, job["JobId"])
        assert stopped["Status"] == "FAILED" and "The endpoint stopped" in stopped["FailedReason"]
    with sqlite3.connect(tmp_path / "state.db") as db:  # as if the process died while the job ran
        row = db.execute("SELECT doc FROM records WHERE kind='ingestion' AND name=?", (job["JobId"],)).fetchone()
        doc = json.loads(row[0])
        doc["status"], doc["failed_reason"] = "IN_PROGRESS", None
        db.execute("UPDATE records SET doc=? WHERE kind='ingestion' AND name=?", (json.dumps(doc), job["JobId"]))
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        restored = ep.lookout().describe_data_ingestion_job(JobId=job["JobId"])
        assert restored["Status"] == "FAILED"
        assert "stopped while this ingestion was in progress" in restored["FailedReason"]
        assert ep.lookout().describe_dataset(DatasetName="cut")["Status"] == "ACTIVE"
        assert ep.backend.dataset_data("us-east-1", "cut").frames["pump"]["Flow"].tolist() == [1.0, 2.0, 3.0]
