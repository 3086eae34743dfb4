"""The wire protocol: one port for both services, JSON errors boto3 understands, ARNs, timestamps, regions."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request

import boto3
import pytest
from botocore.config import Config

from lookout_nb.service.demo import demo


def test_s3_and_lookout_share_one_port(endpoint, lookout, s3):
    assert lookout.meta.endpoint_url == s3.meta.endpoint_url == endpoint.url
    assert demo.DEMO_BUCKET in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert lookout.describe_model(ModelName=demo.DEMO_MODEL)["Status"] == "SUCCESS"


def test_default_session_with_only_the_endpoint_variable(endpoint, monkeypatch, tmp_path):
    for name in list(__import__("os").environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    for name, value in endpoint.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    client = boto3.client("lookoutequipment")
    names = [m["ModelName"] for m in client.list_models()["ModelSummaries"]]
    assert demo.DEMO_MODEL in names
    keys = boto3.client("s3").list_objects_v2(Bucket=demo.DEMO_BUCKET, Prefix=demo.DEMO_INPUT_PREFIX)
    assert keys["KeyCount"] > 0


def test_any_credentials_and_the_clients_region_appear_in_arns(endpoint):
    client = boto3.client(
        "lookoutequipment",
        endpoint_url=endpoint.url,
        region_name="eu-west-1",
        aws_access_key_id="AKIAANYTHING",
        aws_secret_access_key="whatever",
    )
    arn = client.describe_model(ModelName=demo.DEMO_MODEL)["ModelArn"]
    assert arn.startswith("arn:aws:lookoutequipment:eu-west-1:123456789012:model/pump-demo/")
    created = client.create_inference_scheduler(**demo.scheduler_kwargs("eu-one"), ClientToken="eu")
    assert created["InferenceSchedulerArn"].startswith(
        "arn:aws:lookoutequipment:eu-west-1:123456789012:inference-scheduler/eu-one/"
    )


def test_schedulers_are_kept_per_region(endpoint, lookout):
    lookout.create_inference_scheduler(**demo.scheduler_kwargs("regional"), ClientToken="r")
    other = endpoint.lookout(region="ap-northeast-2")
    assert other.list_inference_schedulers()["InferenceSchedulerSummaries"] == []
    with pytest.raises(other.exceptions.ResourceNotFoundException):
        other.describe_inference_scheduler(InferenceSchedulerName="regional")


def test_timestamps_travel_as_epoch_seconds(endpoint, lookout):
    lookout.create_inference_scheduler(**demo.scheduler_kwargs("epoch"), ClientToken="e")
    body = json.dumps({"InferenceSchedulerName": "epoch"}).encode()
    request = urllib.request.Request(
        endpoint.url,
        data=body,
        headers={
            "X-Amz-Target": "AWSLookoutEquipmentFrontendService.DescribeInferenceScheduler",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    with urllib.request.urlopen(request) as response:
        assert response.headers["Content-Type"] == "application/x-amz-json-1.0"
        raw = json.loads(response.read())
    assert raw["CreatedAt"] == dt.datetime(2026, 1, 5, 9, tzinfo=dt.timezone.utc).timestamp()
    described = lookout.describe_inference_scheduler(InferenceSchedulerName="epoch")
    assert described["CreatedAt"] == dt.datetime(2026, 1, 5, 9, tzinfo=dt.timezone.utc)


def test_validation_exception_names_every_bad_field(lookout):
    kwargs = demo.scheduler_kwargs("bad name!", frequency="PT2M", delay=61)
    kwargs["DataInputConfiguration"]["S3InputConfiguration"]["Prefix"] = "no-slash"
    unchecked = boto3.client(
        "lookoutequipment",
        endpoint_url=lookout.meta.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(parameter_validation=False),
    )
    with pytest.raises(unchecked.exceptions.ValidationException) as err:
        unchecked.create_inference_scheduler(**kwargs, ClientToken="v")
    message = err.value.response["Error"]["Message"]
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    for field in (
        "InferenceSchedulerName",
        "DataUploadFrequency",
        "DataDelayOffsetInMinutes",
        "DataInputConfiguration.S3InputConfiguration.Prefix",
    ):
        assert field in message
    assert message.startswith("4 validation errors detected")


def test_frequency_finer_than_the_models_sampling_rate_is_refused(endpoint, lookout):
    endpoint.add_model("slow-model", {"pump": ["Flow"]}, sampling_rate="PT15M")
    kwargs = demo.scheduler_kwargs("too-fast", ModelName="slow-model", DataUploadFrequency="PT5M")
    with pytest.raises(lookout.exceptions.ValidationException, match=r"DataUploadFrequency.*PT15M"):
        lookout.create_inference_scheduler(**kwargs, ClientToken="f")


def test_unknown_model_and_scheduler_are_resource_not_found(lookout):
    with pytest.raises(lookout.exceptions.ResourceNotFoundException, match="Model nope"):
        lookout.create_inference_scheduler(**demo.scheduler_kwargs("x", ModelName="nope"), ClientToken="n")
    with pytest.raises(lookout.exceptions.ResourceNotFoundException, match="ghost"):
        lookout.describe_inference_scheduler(InferenceSchedulerName="ghost")
    with pytest.raises(lookout.exceptions.ResourceNotFoundException, match="ghost"):
        lookout.list_inference_executions(InferenceSchedulerName="ghost")
    with pytest.raises(lookout.exceptions.ResourceNotFoundException, match="nope"):
        lookout.describe_model(ModelName="nope")


def test_unsupported_operation_is_an_error_not_a_crash(endpoint):
    import urllib.error
    import urllib.request

    request = urllib.request.Request(endpoint.url + "/", data=b"{}", method="POST", headers={
        "X-Amz-Target": "AWSLookoutEquipmentFrontendService.ListWidgets",
        "Content-Type": "application/x-amz-json-1.0"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=10)
    assert err.value.code == 400
    body = json.loads(err.value.read())
    assert body["__type"].endswith("UnknownOperationException") and "ListWidgets" in body["message"]


def test_describe_model_has_a_real_format_schema(lookout):
    model = lookout.describe_model(ModelName=demo.DEMO_MODEL)
    schema = json.loads(model["Schema"])
    components = {c["ComponentName"]: c["Columns"] for c in schema["Components"]}
    assert set(components) == set(demo.DEMO_COMPONENTS)
    for columns in components.values():
        assert columns[0] == {"Name": "Timestamp", "Type": "DATETIME"}
        assert len(columns) >= 3 and all(c["Type"] == "DOUBLE" for c in columns[1:])
    assert model["DataPreProcessingConfiguration"] == {"TargetSamplingRate": "PT1M"}


def test_list_models_filters(lookout):
    assert [m["ModelName"] for m in lookout.list_models(ModelNameBeginsWith="pump")["ModelSummaries"]] == ["pump-demo"]
    assert lookout.list_models(ModelNameBeginsWith="zzz")["ModelSummaries"] == []
    assert lookout.list_models(Status="FAILED")["ModelSummaries"] == []


def test_tags_of_a_scheduler(lookout):
    arn = lookout.create_inference_scheduler(
        **demo.scheduler_kwargs("tagged"), ClientToken="tg", Tags=[{"Key": "team", "Value": "reliability"}]
    )["InferenceSchedulerArn"]
    lookout.tag_resource(ResourceArn=arn, Tags=[{"Key": "site", "Value": "plant-2"}])
    lookout.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert lookout.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "site", "Value": "plant-2"}]


def test_an_endpoint_bug_is_an_internal_server_exception(endpoint, lookout, monkeypatch):
    def broken(region, params):
        raise RuntimeError("boom")

    monkeypatch.setattr(endpoint.backend, "list_models", broken)
    with pytest.raises(lookout.exceptions.InternalServerException, match="RuntimeError: boom"):
        lookout.list_models()


@pytest.mark.parametrize("value", ["NaT", float("nan"), "soon"])
def test_a_timestamp_that_is_no_time_is_a_validation_error_naming_it(value):
    from lookout_nb.service.api.backend import Backend
    from lookout_nb.service.api.exceptions import ValidationException
    from lookout_nb.service.clock import ManualClock
    from lookout_nb.service.http.protocol import TARGET_PREFIX, LookoutApp

    app = LookoutApp(Backend(ManualClock()))
    body = {"InferenceSchedulerName": "x", "IntervalStartTime": value, "IntervalEndTime": 1767603600}
    with pytest.raises(ValidationException, match="IntervalStartTime"):
        app.handle(TARGET_PREFIX + "ListInferenceEvents", json.dumps(body).encode())


def test_a_scheduler_without_s3_input_is_refused_naming_the_bucket(lookout):
    kwargs = demo.scheduler_kwargs("no-input")
    del kwargs["DataInputConfiguration"]["S3InputConfiguration"]
    with pytest.raises(lookout.exceptions.ValidationException,
                       match=r"DataInputConfiguration\.S3InputConfiguration\.Bucket"):
        lookout.create_inference_scheduler(**kwargs, ClientToken="no-input")


@pytest.mark.parametrize("forged", [{"offset": -5}, {"offset": 2}, {"offset": 2, "sig": "0" * 32}])
def test_a_forged_next_token_is_refused(lookout, create, forged):
    import base64
    import json

    for _ in range(3):
        create()
    page = lookout.list_inference_schedulers(MaxResults=2)
    following = lookout.list_inference_schedulers(MaxResults=2, NextToken=page["NextToken"])
    assert len(following["InferenceSchedulerSummaries"]) >= 1
    token = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode()
    with pytest.raises(lookout.exceptions.ValidationException, match="NextToken"):
        lookout.list_inference_schedulers(MaxResults=2, NextToken=token)


def test_motos_admin_routes_are_off_unless_asked_for(endpoint, s3, unique_bucket):
    import urllib.error
    import urllib.request

    from lookout_nb.service import start

    s3.put_object(Bucket=unique_bucket, Key="keep.csv", Body=b"x")
    for method, path in (("GET", "/moto-api/data.json"), ("POST", "/moto-api/reset")):
        request = urllib.request.Request(endpoint.url + path, method=method, data=b"" if method == "POST" else None)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 403 and b"start(admin=True)" in refused.value.read()
    assert s3.get_object(Bucket=unique_bucket, Key="keep.csv")["Body"].read() == b"x"  # nothing was reset
    with (start(port=0, clock="manual", demo=False, admin=True) as admin,  # moto's own dashboard answers then
          urllib.request.urlopen(admin.url + "/moto-api/", timeout=30) as answer):
        assert answer.status == 200 and b"<html" in answer.read()
