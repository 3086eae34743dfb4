"""SchedulerRequest: every constraint of every CreateInferenceScheduler member, round trips and exports."""

import json

import pytest

from lookout_nb import RequestInvalid, SchedulerRequest
from lookout_nb.contract.request import FIELDS, parse_duration

VALID = dict(
    model_name="pump-model",
    scheduler_name="pump_5min",
    upload_frequency="PT5M",
    delay_offset_minutes=5,
    input_bucket="my-input-bucket",
    input_prefix="inference/input/",
    timezone_offset="+05:30",
    timestamp_format="yyyyMMddHHmmss",
    delimiter="_",
    output_bucket="my-output-bucket",
    output_prefix="inference/output/",
    output_kms_key_id="alias/my-key",
    role_arn="arn:aws:iam::123456789012:role/LookoutAccess",
    server_side_kms_key_id="arn:aws:kms:us-east-1:123456789012:key/abcd-1234",
    tags={"team": "reliability", "site": "plant-7"},
)

IN = "DataInputConfiguration"
OUT = "DataOutputConfiguration"

# (python field, a good value, a bad value, the API path named, words the message must contain)
CASES = [
    ("model_name", "a", "", "ModelName", "at least 1"),
    ("model_name", "m" * 200, "m" * 201, "ModelName", "at most 200"),
    ("model_name", "Pump-1_a", "pump 1", "ModelName", "letters, digits"),
    ("model_name", "pump", 17, "ModelName", "must be a string"),
    ("model_name", "pump", None, "ModelName", "is required"),
    ("scheduler_name", "s" * 200, "s" * 201, "InferenceSchedulerName", "at most 200"),
    ("scheduler_name", "ok-name", "bad/name", "InferenceSchedulerName", "letters, digits"),
    ("scheduler_name", "ok", None, "InferenceSchedulerName", "is required"),
    ("upload_frequency", "PT1H", "PT2M", "DataUploadFrequency", "one of PT5M, PT10M, PT15M, PT30M, PT1H"),
    ("upload_frequency", "PT10M", "pt10m", "DataUploadFrequency", "one of PT5M"),
    ("upload_frequency", "PT5M", None, "DataUploadFrequency", "is required"),
    ("delay_offset_minutes", 0, -1, "DataDelayOffsetInMinutes", "at least 0"),
    ("delay_offset_minutes", 60, 61, "DataDelayOffsetInMinutes", "at most 60"),
    ("delay_offset_minutes", 10, "10", "DataDelayOffsetInMinutes", "whole number"),
    ("delay_offset_minutes", 10, 1.5, "DataDelayOffsetInMinutes", "whole number"),
    ("input_bucket", "abc", "ab", f"{IN}.S3InputConfiguration.Bucket", "at least 3"),
    ("input_bucket", "b" * 63, "b" * 64, f"{IN}.S3InputConfiguration.Bucket", "at most 63"),
    ("input_bucket", "my.bucket-1", "My_Bucket", f"{IN}.S3InputConfiguration.Bucket", "lowercase"),
    ("input_bucket", "my-bucket", None, f"{IN}.S3InputConfiguration.Bucket", "is required"),
    ("input_prefix", "", "input", f"{IN}.S3InputConfiguration.Prefix", "end it with '/'"),
    ("input_prefix", "a/" * 512, "a/" * 512 + "b/", f"{IN}.S3InputConfiguration.Prefix", "at most 1024"),
    ("input_prefix", "été/", "snow\u2603/", f"{IN}.S3InputConfiguration.Prefix", "end it with '/'"),
    ("timezone_offset", "-08:00", "0530", f"{IN}.InputTimeZoneOffset", "+HH:MM"),
    ("timezone_offset", "+14:00", "+99:99", f"{IN}.InputTimeZoneOffset", "real UTC offset"),
    ("timestamp_format", "EPOCH", "epoch", f"{IN}.InferenceInputNameConfiguration.TimestampFormat", "one of EPOCH"),
    ("timestamp_format", "yyyy-MM-dd-HH-mm-ss", "EPOCHxyz", f"{IN}.InferenceInputNameConfiguration.TimestampFormat", "one of EPOCH"),
    ("timestamp_format", "yyyyMMddHHmmss", "foo-yyyy-MM-dd-HH-mm-ss-bar", f"{IN}.InferenceInputNameConfiguration.TimestampFormat", "one of"),
    ("delimiter", "-", "ab", f"{IN}.InferenceInputNameConfiguration.ComponentTimestampDelimiter", "at most 1"),
    ("delimiter", "\t", "+", f"{IN}.InferenceInputNameConfiguration.ComponentTimestampDelimiter", "one whitespace"),
    ("delimiter", "", 1, f"{IN}.InferenceInputNameConfiguration.ComponentTimestampDelimiter", "must be a string"),
    ("output_bucket", "out", "o", f"{OUT}.S3OutputConfiguration.Bucket", "at least 3"),
    ("output_bucket", "out-1", "-out", f"{OUT}.S3OutputConfiguration.Bucket", "lowercase"),
    ("output_bucket", "out", None, f"{OUT}.S3OutputConfiguration.Bucket", "is required"),
    ("output_prefix", "results/", "results", f"{OUT}.S3OutputConfiguration.Prefix", "end it with '/'"),
    ("output_kms_key_id", "k", "", f"{OUT}.KmsKeyId", "at least 1"),
    ("output_kms_key_id", "alias/k", "-alias", f"{OUT}.KmsKeyId", "KMS key"),
    ("output_kms_key_id", "k" * 2048, "k" * 2049, f"{OUT}.KmsKeyId", "at most 2048"),
    ("role_arn", "arn:aws-cn:iam::123456789012:role/x", "arn:aws:iam::1234:role/short", "RoleArn", "IAM role ARN"),
    ("role_arn", "arn:aws:iam::123456789012:role/x", "arn:aws:iam::1", "RoleArn", "at least 20"),
    ("role_arn", "arn:aws:iam::123456789012:role/" + "r" * 2017, "arn:aws:iam::123456789012:role/" + "r" * 2018, "RoleArn", "at most 2048"),
    ("role_arn", "arn:aws:iam::123456789012:role/x", None, "RoleArn", "is required"),
    ("server_side_kms_key_id", "1234abcd-12ab", "", "ServerSideKmsKeyId", "at least 1"),
    ("server_side_kms_key_id", "key:x/y", "key with space", "ServerSideKmsKeyId", "KMS key"),
    ("client_token", "t" * 256, "t" * 257, "ClientToken", "at most 256"),
    ("client_token", "token-1", "tökén", "ClientToken", "ASCII"),
    ("client_token", "token-1", "", "ClientToken", "at least 1"),
    ("tags", {"k": "v"}, {"aws:owner": "me"}, "Tags[0].Key", "not starting with 'aws:'"),
    ("tags", {"a,b<c": "v"}, {"has space": "v"}, "Tags[0].Key", "letters, digits"),
    ("tags", {"k" * 128: "v"}, {"k" * 129: "v"}, "Tags[0].Key", "at most 128"),
    ("tags", {"k": "v" * 256}, {"k": "v" * 257}, "Tags[0].Value", "at most 256"),
    ("tags", {"k": "a b@c"}, {"k": "no#hash"}, "Tags[0].Value", "letters, digits"),
    ("tags", {f"k{i}": "v" for i in range(200)}, {f"k{i}": "v" for i in range(201)}, "Tags", "at most 200 items"),
    ("tags", [{"Key": "k", "Value": "v"}], [{"Key": "k"}], "Tags[0].Value", "is required"),
    ("tags", [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}], [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}], "Tags[1].Key", "unique"),
    ("tags", [], "team=x", "Tags", "must be a list"),
]


def fields_of(problems):
    return {p.field: p.message for p in problems}


def test_the_reference_request_is_valid():
    assert SchedulerRequest(**VALID).problems() == []


@pytest.mark.parametrize("name, good, bad, path, words", CASES, ids=[f"{c[3]}-{c[4]}" for c in CASES])
def test_each_constraint_passes_good_and_names_bad(name, good, bad, path, words):
    assert SchedulerRequest(**{**VALID, name: good}).problems() == []
    found = fields_of(SchedulerRequest(**{**VALID, name: bad}).problems())
    assert path in found, found
    assert words in found[path]


def test_every_member_is_covered_by_a_case():
    assert {c[0] for c in CASES} == set(FIELDS)


def test_all_problems_come_at_once():
    req = SchedulerRequest(model_name="bad name", upload_frequency="PT2M", delay_offset_minutes=99)
    found = fields_of(req.problems())
    assert {"ModelName", "DataUploadFrequency", "DataDelayOffsetInMinutes", "InferenceSchedulerName", "RoleArn",
            "DataInputConfiguration", "DataOutputConfiguration"} <= set(found)
    with pytest.raises(RequestInvalid) as err:
        req.validate()
    assert len(err.value.problems) == len(found)
    assert "DataUploadFrequency: must be one of PT5M, PT10M, PT15M, PT30M, PT1H" in str(err.value)


def test_an_input_location_is_required_although_the_model_leaves_it_optional():
    found = fields_of(SchedulerRequest(**{**VALID, "input_bucket": None, "input_prefix": None}).problems())
    assert "S3 bucket that holds the input files" in found["DataInputConfiguration.S3InputConfiguration.Bucket"]
    kwargs = {**SchedulerRequest(**VALID).to_boto3(), "DataInputConfiguration": {"InputTimeZoneOffset": "+00:00"}}
    found = fields_of(SchedulerRequest.from_boto3(kwargs).problems())
    assert "DataInputConfiguration.S3InputConfiguration.Bucket" in found


def test_frequency_finer_than_the_models_sampling_rate():
    req = SchedulerRequest(**VALID)
    assert req.problems(target_sampling_rate="PT5M") == []
    found = fields_of(req.problems(target_sampling_rate="PT10M"))
    assert "finer than the model's sampling rate PT10M" in found["DataUploadFrequency"]
    assert "PT10M, PT15M, PT30M, PT1H" in found["DataUploadFrequency"]


def test_field_problems_filters_one_field():
    req = SchedulerRequest(**{**VALID, "input_prefix": "x", "tags": {"aws:a": "b"}})
    prefix = "DataInputConfiguration.S3InputConfiguration.Prefix"
    assert [p.field for p in req.field_problems("input_prefix")] == [prefix]
    assert [p.field for p in req.field_problems("tags")] == ["Tags[0].Key"]
    assert req.field_problems("model_name") == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"ModelName": 12, "InferenceSchedulerName": ["x"], "DataDelayOffsetInMinutes": "5"},
        {"DataInputConfiguration": "s3://bucket/prefix", "Tags": "a=b"},
        {"ModelName": None, "DataOutputConfiguration": None, "Tags": [None, 3]},
        {"Unknown": 1, "DataInputConfiguration": {"S3InputConfiguration": {"Bucket": "abc", "Nope": 1}}},
        {"DataDelayOffsetInMinutes": True, "ClientToken": 5},
        {},
    ],
)
def test_from_boto3_never_raises_and_reports_problems(kwargs):
    req = SchedulerRequest.from_boto3(kwargs)
    problems = req.problems()
    assert problems
    for key in kwargs:
        if kwargs[key] is not None:
            assert any(p.field == key or p.field.startswith(key) for p in problems), (key, problems)
    req._repr_html_()  # the notebook view renders whatever the input
    req.to_python()


def test_unknown_members_are_named():
    found = fields_of(SchedulerRequest.from_boto3({"Unknown": 1}).problems())
    assert "is not a member" in found["Unknown"]
    assert "ModelName" in found["Unknown"]


def test_from_boto3_of_not_a_mapping():
    assert SchedulerRequest.from_boto3("nope").problems()[0].field == "request"


def test_round_trip_of_valid_kwargs():
    kwargs = SchedulerRequest(**VALID).to_boto3()
    assert SchedulerRequest.from_boto3(kwargs).to_boto3() == kwargs
    assert kwargs["DataInputConfiguration"] == {
        "S3InputConfiguration": {"Bucket": "my-input-bucket", "Prefix": "inference/input/"},
        "InputTimeZoneOffset": "+05:30",
        "InferenceInputNameConfiguration": {"TimestampFormat": "yyyyMMddHHmmss", "ComponentTimestampDelimiter": "_"},
    }
    assert kwargs["Tags"] == [{"Key": "team", "Value": "reliability"}, {"Key": "site", "Value": "plant-7"}]


def test_unset_optional_members_are_left_out():
    req = SchedulerRequest(model_name="m", scheduler_name="s", upload_frequency="PT5M", input_bucket="in-b",
                           output_bucket="out-b", role_arn=VALID["role_arn"])
    kwargs = req.to_boto3()
    assert set(kwargs) == {"ModelName", "InferenceSchedulerName", "DataUploadFrequency", "DataInputConfiguration",
                           "DataOutputConfiguration", "RoleArn", "ClientToken"}
    assert kwargs["DataInputConfiguration"] == {"S3InputConfiguration": {"Bucket": "in-b"}}
    assert req.problems() == []


def test_the_client_token_is_stable_and_follows_content():
    a, b = SchedulerRequest(**VALID), SchedulerRequest(**VALID)
    assert a.to_boto3()["ClientToken"] == b.to_boto3()["ClientToken"]
    assert a.to_boto3()["ClientToken"] != a.replace(delay_offset_minutes=6).to_boto3()["ClientToken"]
    assert a.replace(client_token="mine").to_boto3()["ClientToken"] == "mine"
    assert "ClientToken" not in a.to_boto3(token=False)


def test_json_round_trip_keeps_an_unfinished_request():
    draft = SchedulerRequest(model_name="m", input_prefix="no-slash", tags={"k": "v"})
    again = SchedulerRequest.from_json(draft.to_json())
    assert again.to_boto3() == draft.to_boto3()
    assert again.problems() == draft.problems()
    assert "ClientToken" not in json.loads(draft.to_json())


def test_from_json_rejects_a_list():
    with pytest.raises(ValueError, match="must be an object"):
        SchedulerRequest.from_json("[1, 2]")


def test_to_python_is_the_exact_call():
    code = SchedulerRequest(**VALID).to_python()
    calls = {}

    class FakeClient:
        def create_inference_scheduler(self, **kwargs):
            calls.update(kwargs)

    namespace = {"boto3": type("B", (), {"client": staticmethod(lambda name: FakeClient())})}
    exec(code.replace("import boto3\n", ""), namespace)
    assert calls == SchedulerRequest(**VALID).to_boto3()


def test_cloudformation_export():
    template = SchedulerRequest(**VALID).to_cloudformation()
    (logical, resource), = template["Resources"].items()
    assert logical == "Pump5min"
    assert resource["Type"] == "AWS::LookoutEquipment::InferenceScheduler"
    props = resource["Properties"]
    assert "ClientToken" not in props
    assert props["DataInputConfiguration"]["InputTimeZoneOffset"] == "+05:30"
    assert props["Tags"][0] == {"Key": "team", "Value": "reliability"}


@pytest.mark.parametrize("name", [5, 3.5, ["pump"], {"a": 1}, b"pump", object(), "", "---"])
@pytest.mark.parametrize("logical_id", [None, 7, [], "", "!!"])
def test_cloudformation_export_never_raises_for_an_odd_name(name, logical_id):
    template = SchedulerRequest(**{**VALID, "scheduler_name": name}).to_cloudformation(logical_id)
    assert list(template["Resources"]) == ["InferenceScheduler"]
    assert template["Resources"]["InferenceScheduler"]["Properties"]["ModelName"] == VALID["model_name"]


def test_cloudformation_logical_id_keeps_only_letters_and_digits():
    assert list(SchedulerRequest(**VALID).to_cloudformation("pump-5min_v2")["Resources"]) == ["pump5minv2"]


def test_html_view_shows_fields_and_problems():
    page = SchedulerRequest(**{**VALID, "input_prefix": "x"})._repr_html_()
    assert "1 problem" in page
    assert "DataInputConfiguration.S3InputConfiguration.Prefix" in page
    assert "end it with &#x27;/&#x27;" in page
    assert "valid" in SchedulerRequest(**VALID)._repr_html_()


def test_derived_durations():
    req = SchedulerRequest(**VALID)
    assert req.frequency == parse_duration("PT5M")
    assert str(req.delay) == "0 days 00:05:00"
    assert req.replace(upload_frequency="PT2M").frequency is None
    assert req.naming.timezone_offset == "+05:30"
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_duration("5 minutes")
