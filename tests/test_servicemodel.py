"""The service-model checker agrees with botocore's own model: bounds, patterns, enums, recursion."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lookout_nb.contract import servicemodel
from lookout_nb.contract.servicemodel import check, check_input, compile_pattern, enum, shape

STRING_SHAPES = ["ModelName", "InferenceSchedulerName", "S3Bucket", "S3Prefix", "TimeZoneOffset", "IamRoleArn",
                 "NameOrArn", "TagKey", "TagValue", "ComponentTimestampDelimiter", "FileNameTimestampFormat",
                 "IdempotenceToken"]


def test_the_model_is_botocores():
    assert servicemodel.service_model().metadata["targetPrefix"] == "AWSLookoutEquipmentFrontendService"
    assert enum("DataUploadFrequency") == ("PT5M", "PT10M", "PT15M", "PT30M", "PT1H")
    assert shape("DataDelayOffsetInMinutes").metadata == {"min": 0, "max": 60}


@pytest.mark.parametrize("name", ["IdempotenceToken", "NextToken", "S3Key", "BoundedLengthString"])
def test_java_only_patterns_compile(name):
    pattern = compile_pattern(shape(name).metadata["pattern"])
    assert pattern.fullmatch("abc")


def test_ascii_class_rejects_non_ascii():
    assert check("é", "IdempotenceToken")
    assert check("plain-token", "IdempotenceToken") == []


def test_full_string_match_not_search():
    # The model's alternation ^EPOCH|...|yyyyMMddHHmmss$ matches "EPOCHxyz" with re.search.
    pattern = shape("FileNameTimestampFormat").metadata["pattern"]
    assert re.search(pattern, "EPOCHxyz")
    assert check("EPOCHxyz", "FileNameTimestampFormat")


def test_paths_name_nested_members_and_list_items():
    problems = check_input("CreateInferenceScheduler", {
        "Tags": [{"Key": "ok", "Value": "v"}] * 3 + [{"Key": "aws:no", "Value": "v"}],
        "DataInputConfiguration": {"S3InputConfiguration": {"Bucket": "bucket", "Prefix": "p"}},
    })
    fields = {p.field for p in problems}
    assert "Tags[3].Key" in fields
    assert "DataInputConfiguration.S3InputConfiguration.Prefix" in fields


def test_other_operations_are_checked_too():
    listing = {"InferenceSchedulerName": "s"}
    assert check_input("ListInferenceExecutions", {**listing, "MaxResults": 501})[0].field == "MaxResults"
    assert check_input("ListInferenceExecutions", {**listing, "Status": "DONE"})[0].field == "Status"


def _bounds(name):
    meta = shape(name).metadata
    return meta.get("min", 0), meta.get("max", 10_000)


@pytest.mark.parametrize("name", [n for n in STRING_SHAPES if shape(n).metadata.get("pattern")])
def test_generated_matching_values_pass_and_overlong_fail(name):
    low, high = _bounds(name)
    pattern = compile_pattern(shape(name).metadata["pattern"])

    @settings(max_examples=60, deadline=None)
    @given(st.from_regex(pattern, fullmatch=True))
    def agrees(value):
        expected = low <= len(value) <= high
        assert (check(value, name) == []) == expected, (value, check(value, name))

    agrees()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_any_text_is_judged_like_the_model_says(value):
    for name in ["ModelName", "S3Bucket", "TimeZoneOffset", "TagKey", "S3Prefix"]:
        low, high = _bounds(name)
        ok = low <= len(value) <= high and bool(compile_pattern(shape(name).metadata["pattern"]).fullmatch(value))
        assert (check(value, name) == []) == ok


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=-1000, max_value=1000))
def test_integer_bounds(n):
    assert (check(n, "DataDelayOffsetInMinutes") == []) == (0 <= n <= 60)


@given(st.lists(st.fixed_dictionaries({"Key": st.just("k"), "Value": st.just("v")}), max_size=210))
@settings(max_examples=30, deadline=None)
def test_list_bounds(tags):
    problems = check_input("CreateInferenceScheduler", {"Tags": tags})
    assert any(p.field == "Tags" for p in problems) == (len(tags) > 200)


@given(st.text(min_size=1, max_size=6))
def test_enums_reject_everything_else(value):
    assert (check(value, "DataUploadFrequency") == []) == (value in enum("DataUploadFrequency"))
