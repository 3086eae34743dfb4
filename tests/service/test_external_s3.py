"""The user's own S3 (``start(s3_endpoint_url=...)``): a moto_server in its own process holds every object; the
endpoint serves the Lookout API only and keeps no copy. Faults of that S3 fail the run or job with a reason naming
the bucket, the key and the cause."""

from __future__ import annotations

import os
import time
import uuid

import boto3
import pandas as pd
import pytest
from s3server import CHAIN, FaultProxy, UserS3

from lookout_nb.service import start
from lookout_nb.service.demo import demo
from lookout_nb.service.storage.moto import motos3

ROLE = demo.DEMO_ROLE_ARN


@pytest.fixture
def chain(monkeypatch):
    """The user's credential chain, as AWS_* variables (the endpoint's client of the user's S3 reads them)."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("LOOKOUT_NB_S3_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("LOOKOUT_NB_S3_TIMEOUT", "2")
    for name, value in CHAIN.items():
        monkeypatch.setenv(name, value)


def lookout_of(ep):
    """A plain boto3 Lookout client of the endpoint (what a user builds)."""
    return boto3.client("lookoutequipment", endpoint_url=ep.url, region_name="us-east-1",
                        aws_access_key_id="any", aws_secret_access_key="any")


def wait(describe, timeout=120.0):
    deadline = time.monotonic() + timeout
    while True:
        d = describe()
        if d["Status"] != "IN_PROGRESS":
            return d
        assert time.monotonic() < deadline, f"still IN_PROGRESS after {timeout}s"
        time.sleep(0.2)


def put_training_data(user_s3, bucket):
    user_s3.create_bucket(Bucket=bucket)
    for key, body in demo.training_files().items():
        user_s3.put_object(Bucket=bucket, Key=key, Body=body)


def train(lookout, bucket, name):
    """Dataset ingested from the user's bucket, then a model trained on it with the bucket's label file."""
    ingest(lookout, bucket, name)
    fit(lookout, bucket, name)


def ingest(lookout, bucket, name):
    """Dataset ``<name>-data`` ingested from the user's bucket (SUCCESS)."""
    schema = {"InlineDataSchema": demo.ModelSchema.parse(demo.DEMO_COMPONENTS).to_json()}
    lookout.create_dataset(DatasetName=f"{name}-data", DatasetSchema=schema, ClientToken=f"{name}-data")
    job = lookout.start_data_ingestion_job(
        DatasetName=f"{name}-data", RoleArn=ROLE, ClientToken=f"{name}-job",
        IngestionInputConfiguration={"S3InputConfiguration": {"Bucket": bucket, "Prefix": demo.DEMO_TRAINING_PREFIX}})
    ingested = wait(lambda: lookout.describe_data_ingestion_job(JobId=job["JobId"]))
    assert ingested["Status"] == "SUCCESS", ingested.get("FailedReason")


def fit(lookout, bucket, name):
    """Model ``name`` trained on dataset ``<name>-data`` with the bucket's label file (SUCCESS)."""
    start_, end = demo.DEMO_TRAINING_SPAN
    evaluation = end - pd.Timedelta(days=1)
    lookout.create_model(
        ModelName=name, DatasetName=f"{name}-data", ClientToken=name, RoleArn=ROLE,
        DataPreProcessingConfiguration={"TargetSamplingRate": demo.DEMO_SAMPLING_RATE},
        LabelsInputConfiguration={"S3InputConfiguration": {"Bucket": bucket, "Prefix": demo.DEMO_LABELS_PREFIX}},
        TrainingDataStartTime=start_.to_pydatetime(), TrainingDataEndTime=evaluation.to_pydatetime(),
        EvaluationDataStartTime=evaluation.to_pydatetime(),
        EvaluationDataEndTime=(end + pd.Timedelta(minutes=1)).to_pydatetime())
    model = wait(lambda: lookout.describe_model(ModelName=name))
    assert model["Status"] == "SUCCESS", model.get("FailedReason")


def schedule(lookout, name, model, bucket, out_bucket=None):
    kwargs = demo.scheduler_kwargs(name, ModelName=model)
    kwargs["DataInputConfiguration"]["S3InputConfiguration"] = {"Bucket": bucket, "Prefix": "in/"}
    kwargs["DataOutputConfiguration"] = {"S3OutputConfiguration": {"Bucket": out_bucket or bucket, "Prefix": "out/"}}
    lookout.create_inference_scheduler(**kwargs, ClientToken=name)


def runs(lookout, name):
    return sorted(lookout.list_inference_executions(InferenceSchedulerName=name)["InferenceExecutionSummaries"],
                  key=lambda e: e["ScheduledStartTime"])


def test_a_dataset_a_model_and_a_scheduler_live_in_the_users_s3_and_the_endpoint_keeps_no_copy(chain, tmp_path):
    with UserS3() as user:
        user_s3, bucket = user.client(), f"plant-{uuid.uuid4().hex[:8]}"
        put_training_data(user_s3, bucket)
        ep = start(port=0, clock="manual", demo=False, state_dir=tmp_path / "state", s3_endpoint_url=user.url)
        try:
            lookout = lookout_of(ep)
            train(lookout, bucket, "plant-model")
            schedule(lookout, "plant-sched", "plant-model", bucket)
            now = ep.clock.now()
            demo.write_input_files(user_s3, bucket, "in/", demo.DEMO_COMPONENTS, now - pd.Timedelta(minutes=10),
                                   now + pd.Timedelta(minutes=10), create_bucket=False)
            ep.clock.advance(pd.Timedelta(minutes=5))
            (run,) = runs(lookout, "plant-sched")
            assert run["Status"] == "SUCCESS", run.get("FailedReason")
            result = run["CustomerResultObject"]
            assert result["Bucket"] == bucket
            assert user_s3.get_object(Bucket=bucket, Key=result["Key"])["Body"].read()  # written into the user's S3

            # no copy: the endpoint's own S3 holds nothing of the bucket and has no objects folder, and answers
            # S3 requests by naming where the objects are
            assert bucket not in motos3.backend_of().buckets
            assert not (tmp_path / "state" / "objects").exists()
            own = boto3.client("s3", endpoint_url=ep.url, region_name="us-east-1", aws_access_key_id="a",
                               aws_secret_access_key="b")
            with pytest.raises(Exception) as refused:
                own.list_objects_v2(Bucket=bucket)
            assert "NotImplemented" in str(refused.value)
            assert ep.env()["AWS_ENDPOINT_URL_S3"] == user.url
            assert "AWS_ACCESS_KEY_ID" not in ep.env()  # the user's own chain stays in place

            # the S3 stopped mid-run: the next run FAILS naming the bucket and the cause; nothing hangs
            user.stop()
            ep.clock.advance(pd.Timedelta(minutes=5))
            failed = runs(lookout, "plant-sched")[-1]
            assert failed["Status"] == "FAILED"
            assert f"s3://{bucket}/in/" in failed["FailedReason"]
            assert "connect" in failed["FailedReason"].lower()
        finally:
            ep.stop()


@pytest.fixture(scope="module")
def faulty():
    """One user S3 behind a fault proxy, an endpoint on it, and a model trained from the user's bucket."""
    saved = {k: os.environ.get(k) for k in (*CHAIN, "LOOKOUT_NB_S3_TIMEOUT", "AWS_ENDPOINT_URL")}
    os.environ.update(CHAIN)
    os.environ["LOOKOUT_NB_S3_TIMEOUT"] = "2"
    os.environ.pop("AWS_ENDPOINT_URL", None)
    user = UserS3().start()
    proxy = FaultProxy(user.port)
    ep = start(port=0, clock="manual", demo=False, s3_endpoint_url=proxy.url)
    bucket = f"plant-{uuid.uuid4().hex[:8]}"
    try:
        put_training_data(user.client(), bucket)
        lookout = lookout_of(ep)
        train(lookout, bucket, "faulty-model")
        demo.write_input_files(user.client(), bucket, "in/", demo.DEMO_COMPONENTS,
                               ep.clock.now() - pd.Timedelta(minutes=10), ep.clock.now() + pd.Timedelta(days=1),
                               create_bucket=False)
        yield ep, lookout, proxy, bucket
    finally:
        ep.stop()
        proxy.stop()
        user.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.mark.parametrize("mode, cause", [("503", "ServiceUnavailable, HTTP 503"), ("403", "AccessDenied, HTTP 403"),
                                         ("hang", "timeout")])
def test_an_s3_that_refuses_or_hangs_fails_the_run_naming_the_place_and_the_cause(faulty, mode, cause):
    ep, lookout, proxy, bucket = faulty
    name = f"faults-{mode}"
    schedule(lookout, name, "faulty-model", bucket)
    try:
        proxy.mode, before = mode, proxy.requests
        t0 = time.monotonic()
        ep.clock.advance(pd.Timedelta(minutes=5))
        elapsed = time.monotonic() - t0
        (run,) = runs(lookout, name)
        assert run["Status"] == "FAILED"
        assert f"s3://{bucket}/in/" in run["FailedReason"], run["FailedReason"]
        assert cause.lower() in run["FailedReason"].lower(), run["FailedReason"]
        if mode == "503":
            assert proxy.requests - before >= 2  # botocore's standard mode retried (AWS_MAX_ATTEMPTS=2)
        assert elapsed < 60  # bounded by the timeouts, not a hang
        proxy.mode = "pass"
        ep.clock.advance(pd.Timedelta(minutes=5))
        assert runs(lookout, name)[-1]["Status"] == "SUCCESS"  # the S3 is back: the next run reads it again
    finally:
        proxy.mode = "pass"
        lookout.stop_inference_scheduler(InferenceSchedulerName=name)


def test_a_missing_bucket_fails_the_run_and_the_ingestion_naming_it(faulty):
    ep, lookout, _proxy, _bucket = faulty
    missing = f"gone-{uuid.uuid4().hex[:8]}"
    schedule(lookout, "faults-missing", "faulty-model", missing)
    try:
        ep.clock.advance(pd.Timedelta(minutes=5))
        (run,) = runs(lookout, "faults-missing")
        assert run["Status"] == "FAILED" and f"s3://{missing}/" in run["FailedReason"]
        assert "NoSuchBucket" in run["FailedReason"]
    finally:
        lookout.stop_inference_scheduler(InferenceSchedulerName="faults-missing")
    lookout.create_dataset(DatasetName="missing-data", ClientToken="missing-data")
    job = lookout.start_data_ingestion_job(
        DatasetName="missing-data", RoleArn=ROLE, ClientToken="missing-job",
        IngestionInputConfiguration={"S3InputConfiguration": {"Bucket": missing, "Prefix": "train/"}})
    failed = wait(lambda: lookout.describe_data_ingestion_job(JobId=job["JobId"]))
    assert failed["Status"] == "FAILED" and f"s3://{missing}/train/" in failed["FailedReason"]
    assert "NoSuchBucket" in failed["FailedReason"]


def test_a_training_file_the_s3_refuses_fails_the_ingestion_naming_the_key(faulty):
    ep, lookout, proxy, bucket = faulty
    lookout.create_dataset(DatasetName="refused-data", ClientToken="refused-data")
    real_get = ep.s3().get_object

    def refuse(**kwargs):  # listing passes, the read is refused: as S3 does for a key the role may not read
        proxy.mode = "403"
        try:
            return real_get(**kwargs)
        finally:
            proxy.mode = "pass"

    ep.backend.core.data_reader.s3.get_object = refuse
    try:
        job = lookout.start_data_ingestion_job(
            DatasetName="refused-data", RoleArn=ROLE, ClientToken="refused-job",
            IngestionInputConfiguration={"S3InputConfiguration": {"Bucket": bucket,
                                                                  "Prefix": demo.DEMO_TRAINING_PREFIX}})
        failed = wait(lambda: lookout.describe_data_ingestion_job(JobId=job["JobId"]))
    finally:
        del ep.backend.core.data_reader.s3.get_object
    assert failed["Status"] == "FAILED"
    assert f"s3://{bucket}/{demo.DEMO_TRAINING_PREFIX}" in failed["FailedReason"]
    assert "AccessDenied, HTTP 403" in failed["FailedReason"]


def test_a_bad_s3_endpoint_url_is_refused_naming_the_flag():
    with pytest.raises(ValueError, match=r"s3-endpoint-url 's3\.example\.com' is not an S3 endpoint URL"):
        start(port=0, demo=False, s3_endpoint_url="s3.example.com")
