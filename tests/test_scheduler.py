"""Scheduler operations against the embedded endpoint, plus botocore's Stubber for errors only AWS produces."""

from __future__ import annotations

import json
import socket

import pandas as pd
import pytest

from lookout_nb.calls import scheduler as sch
from lookout_nb.contract._aws import lookout_client
from lookout_nb.contract.request import SchedulerRequest
from lookout_nb.errors import (
    AccessDenied,
    LookoutNbError,
    RequestInvalid,
    ResourceNotFound,
    SchedulerConflict,
    ServiceUnavailable,
    Throttled,
    WaitTimeout,
)
from lookout_nb.service.demo import demo

NAME = "pump-5min"
SENSORS = [f"{c}\\{s}" for c, names in demo.DEMO_COMPONENTS.items() for s in names]
EXECUTION_COLUMNS = ["scheduled_start", "data_start", "data_end", "status", "failed_reason", "result_bucket",
                     "result_key"]
RESULT_COLUMNS = ["timestamp", "prediction", "prediction_reason", "anomaly_score", "scheduled_start"]


@pytest.fixture
def req() -> SchedulerRequest:
    return SchedulerRequest.from_boto3(demo.scheduler_kwargs(NAME))


@pytest.fixture
def clock_wait(endpoint):
    """A WaitClock whose sleep moves the endpoint's manual clock (and a fake monotonic time) instead of sleeping."""
    fake = {"now": 0.0}

    def sleep(seconds):
        fake["now"] += seconds
        endpoint.clock.advance(pd.Timedelta(seconds=seconds))

    return sch.WaitClock(monotonic=lambda: fake["now"], sleep=sleep)


@pytest.fixture
def running(lookout, req, clock_wait):
    """A submitted demo scheduler, RUNNING at 09:00 on the manual clock."""
    return sch.submit(req, client=lookout, clock=clock_wait)


@pytest.fixture
def offline_client():
    """A lookoutequipment client for Stubber tests: dummy credentials, never reaches a network."""
    import boto3

    session = boto3.session.Session(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    return session.client("lookoutequipment", endpoint_url="http://127.0.0.1:9")


def stubbed(client):
    from botocore.stub import Stubber

    return Stubber(client)


# -- errors only AWS produces (Stubber) ------------------------------------------------------------------------------
def test_access_denied_on_submit_is_typed_and_keeps_the_service_message(offline_client, req):
    with stubbed(offline_client) as stub:
        stub.add_client_error("create_inference_scheduler", "AccessDeniedException",
                              "User: arn:aws:iam::1:user/ana is not authorized to perform CreateInferenceScheduler")
        with pytest.raises(AccessDenied) as caught:
            sch.submit(req, client=offline_client)
    assert "ana is not authorized" in str(caught.value)
    assert caught.value.code == "AccessDeniedException"
    assert caught.value.operation == "CreateInferenceScheduler"


def test_throttling_on_a_listing_is_typed(offline_client):
    with stubbed(offline_client) as stub:
        stub.add_client_error("list_inference_executions", "ThrottlingException", "Rate exceeded")
        with pytest.raises(Throttled, match="Rate exceeded"):
            sch.executions(NAME, client=offline_client)


def test_internal_server_error_is_service_unavailable(offline_client):
    with stubbed(offline_client) as stub:
        stub.add_client_error("describe_inference_scheduler", "InternalServerException",
                              "We encountered an internal error", http_status_code=500)
        with pytest.raises(ServiceUnavailable, match="internal error") as caught:
            sch.describe(NAME, client=offline_client)
    assert caught.value.code == "InternalServerException"


def test_unreachable_endpoint_is_service_unavailable():
    import boto3
    from botocore.config import Config

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = boto3.session.Session(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y").client(
        "lookoutequipment", endpoint_url=f"http://127.0.0.1:{port}", config=Config(retries={"max_attempts": 1}))
    with pytest.raises(ServiceUnavailable, match="could not be reached"):
        sch.list_schedulers(client=client)


def test_service_validation_error_names_the_field(offline_client):
    with stubbed(offline_client) as stub:
        stub.add_client_error("list_inference_schedulers", "ValidationException",
                              "1 validation error detected: Value 'x' at 'dataUploadFrequency' failed to satisfy "
                              "constraint")
        with pytest.raises(RequestInvalid) as caught:
            sch.list_schedulers(client=offline_client)
    assert caught.value.problems[0].field == "DataUploadFrequency"


def test_invalid_request_is_refused_before_any_call(offline_client, req):
    bad = req.replace(input_prefix="no-slash", upload_frequency="PT2M")
    with stubbed(offline_client) as stub:  # nothing queued: any call would fail the test with a stub error
        with pytest.raises(RequestInvalid) as caught:
            sch.submit(bad, client=offline_client)
        stub.assert_no_pending_responses()
    fields = {p.field for p in caught.value.problems}
    assert {"DataUploadFrequency", "DataInputConfiguration.S3InputConfiguration.Prefix"} <= fields


def test_frequency_finer_than_the_model_sampling_rate_is_refused_before_any_call(offline_client, req):
    with stubbed(offline_client), pytest.raises(RequestInvalid, match="finer than the model's sampling rate"):
        sch.submit(req, client=offline_client, target_sampling_rate="PT10M")


def test_listings_follow_next_token_across_pages(offline_client):
    page = {"InferenceSchedulerName": NAME, "Status": "SUCCESS",
            "ScheduledStartTime": pd.Timestamp("2026-01-05 09:05Z"), "DataStartTime": pd.Timestamp("2026-01-05 09:00Z"),
            "DataEndTime": pd.Timestamp("2026-01-05 09:05Z")}
    with stubbed(offline_client) as stub:
        stub.add_response("list_inference_executions", {"InferenceExecutionSummaries": [page], "NextToken": "t2"},
                          {"InferenceSchedulerName": NAME, "MaxResults": 500})
        second = dict(page, ScheduledStartTime=pd.Timestamp("2026-01-05 09:10Z"))
        stub.add_response("list_inference_executions", {"InferenceExecutionSummaries": [second]},
                          {"InferenceSchedulerName": NAME, "MaxResults": 500, "NextToken": "t2"})
        table = sch.executions(NAME, client=offline_client)
        stub.assert_no_pending_responses()
    assert table.scheduled_start.dt.minute.tolist() == [5, 10]


# -- submit ------------------------------------------------------------------------------------------------------------
def test_submit_waits_until_running_and_reports_the_scheduler(lookout, req, clock_wait):
    result = sch.submit(req, client=lookout, clock=clock_wait)
    assert (result.name, result.status, result.model_quality) == (NAME, "RUNNING", "QUALITY_THRESHOLD_MET")
    assert result.arn.startswith("arn:aws:lookoutequipment:") and NAME in result.arn
    assert NAME in result._repr_html_() and "RUNNING" in result._repr_html_()
    assert clock_wait.monotonic() > 0  # it really waited through PENDING


def test_submit_without_wait_returns_pending(lookout, req):
    assert sch.submit(req, client=lookout, wait=False).status == "PENDING"


def test_double_submit_creates_one_scheduler(lookout, req, clock_wait):
    first = sch.submit(req, client=lookout, clock=clock_wait)
    again = sch.submit(SchedulerRequest.from_boto3(demo.scheduler_kwargs(NAME)), client=lookout, clock=clock_wait)
    assert again.arn == first.arn
    assert sch.list_schedulers(client=lookout).name.tolist() == [NAME]


def test_submit_retried_after_dropped_connection_creates_exactly_one_scheduler(endpoint, monkeypatch, req, clock_wait):
    """The server creates the scheduler but the response is lost; botocore retries with the same token."""
    from botocore.exceptions import ConnectionClosedError
    from botocore.httpsession import URLLib3Session

    for key, value in endpoint.env().items():
        monkeypatch.setenv(key, value)
    client = lookout_client()  # boto3 defaults + the toolkit's standard retry mode
    tokens, delivered = [], []

    def drop_first_response(request, **kwargs):
        tokens.append(json.loads(request.body)["ClientToken"])
        if delivered:
            return None  # later attempts go through normally
        delivered.append(URLLib3Session().send(request).status_code)  # the server processes it...
        raise ConnectionClosedError(endpoint_url=request.url)  # ...and the connection drops before the reply

    client.meta.events.register("before-send.lookoutequipment.CreateInferenceScheduler", drop_first_response)
    result = sch.submit(req, client=client, clock=clock_wait)
    assert delivered == [200] and len(tokens) == 2 and tokens[0] == tokens[1]
    schedulers = sch.list_schedulers(client=client)
    assert schedulers.name.tolist() == [NAME]
    assert result.arn == schedulers.arn[0] and result.status == "RUNNING"


def test_conflict_lists_every_differing_field_old_to_new(lookout, req, running):
    changed = req.replace(upload_frequency="PT10M", input_prefix="elsewhere/")
    with pytest.raises(SchedulerConflict) as caught:
        sch.submit(changed, client=lookout)
    message = str(caught.value)
    assert "upload_frequency (DataUploadFrequency): 'PT5M' -> 'PT10M'" in message
    prefix = "input_prefix (DataInputConfiguration.S3InputConfiguration.Prefix)"
    assert f"{prefix}: 'inference/input/' -> 'elsewhere/'" in message
    assert "update('pump-5min', ...)" in message
    assert {d.field for d in caught.value.differences} == {"upload_frequency", "input_prefix"}
    assert sch.describe(NAME, client=lookout).request.upload_frequency == "PT5M"  # the existing one is untouched


def test_conflict_on_a_field_update_cannot_change_says_so(lookout, req, running):
    with pytest.raises(SchedulerConflict, match="tags cannot be updated") as caught:
        sch.submit(req.replace(tags={"team": "reliability"}), client=lookout)
    assert [d.field for d in caught.value.differences] == ["tags"]


def test_unknown_model_is_resource_not_found_with_the_service_message(lookout, req):
    with pytest.raises(ResourceNotFound, match="no-such-model"):
        sch.submit(req.replace(model_name="no-such-model"), client=lookout)
    assert sch.list_schedulers(client=lookout).empty


# -- wait, describe, lifecycle -----------------------------------------------------------------------------------------
def test_wait_for_status_times_out_with_the_last_status(lookout, running, clock_wait):
    with pytest.raises(WaitTimeout, match=r"still RUNNING after 30 s \(waiting for STOPPED\)") as caught:
        sch.wait_for_status(NAME, "STOPPED", timeout=30, poll=10, client=lookout, clock=clock_wait)
    assert caught.value.last_status == "RUNNING"


def standing_wait():
    """A WaitClock that records its pauses and never moves the endpoint's manual clock."""
    slept = []
    return slept, sch.WaitClock(monotonic=lambda: sum(slept), sleep=slept.append)


def test_wait_for_status_on_a_standing_clock_says_so_at_once(lookout, req):
    sch.submit(req, client=lookout, wait=False)
    slept, clock = standing_wait()
    standing = r"still PENDING while the service's clock stands still.*clock\.advance"
    with pytest.raises(WaitTimeout, match=standing) as caught:
        sch.wait_for_status(NAME, "RUNNING", timeout=300, poll=10, client=lookout, clock=clock)
    assert caught.value.last_status == "PENDING" and sum(slept) < 1


def test_submit_on_a_standing_clock_returns_pending_at_once_and_says_why(endpoint, lookout, req):
    slept, clock = standing_wait()
    result = sch.submit(req, client=lookout, clock=clock)
    assert result.status == "PENDING" and sum(slept) < 1
    assert "clock moves" in result._repr_html_() and "endpoint.clock.advance" in result.note
    endpoint.clock.advance("1min")
    assert sch.describe(NAME, client=lookout).status == "RUNNING"
    assert sch.stop(NAME, client=lookout, clock=clock).status == "STOPPING"   # start/stop do not wait either


def test_wait_for_status_rejects_a_status_that_does_not_exist(lookout):
    with pytest.raises(ValueError, match="RUNING"):
        sch.wait_for_status(NAME, "RUNING", client=lookout)


def test_describe_returns_the_submitted_request_and_status(lookout, req, running):
    info = sch.describe(NAME, client=lookout)
    assert info.request.to_boto3(token=False) == req.replace(tags=[]).to_boto3(token=False)
    assert (info.status, info.arn, info.latest_result) == ("RUNNING", running.arn, None)
    assert str(info.created_at.tz) == "UTC" and info.updated_at >= info.created_at
    assert "RUNNING" in info._repr_html_() and "DataUploadFrequency" in info._repr_html_()


def test_describe_unknown_scheduler_is_resource_not_found(lookout):
    with pytest.raises(ResourceNotFound, match="nope"):
        sch.describe("nope", client=lookout)


def test_stop_then_start(lookout, running, clock_wait):
    assert sch.stop(NAME, wait=False, client=lookout).status == "STOPPING"
    assert sch.wait_for_status(NAME, "STOPPED", client=lookout, clock=clock_wait).status == "STOPPED"
    assert sch.start(NAME, client=lookout, clock=clock_wait).status == "RUNNING"


def test_start_a_running_scheduler_is_a_conflict(lookout, running):
    with pytest.raises(SchedulerConflict, match="only a STOPPED scheduler can start"):
        sch.start(NAME, client=lookout)


def test_update_changes_only_the_given_fields(lookout, running):
    info = sch.update(NAME, client=lookout, upload_frequency="PT10M", input_prefix="other/", delay_offset_minutes=5)
    assert (info.request.upload_frequency, info.request.delay_offset_minutes) == ("PT10M", 5)
    assert info.request.input_prefix == "other/"
    assert (info.request.input_bucket, info.request.timezone_offset) == (demo.DEMO_BUCKET, "+00:00")  # kept
    assert info.request.output_prefix == demo.DEMO_OUTPUT_PREFIX


def test_update_validates_the_merged_request_before_the_call(lookout, running):
    with pytest.raises(RequestInvalid, match="DataDelayOffsetInMinutes"):
        sch.update(NAME, client=lookout, delay_offset_minutes=61)
    assert sch.describe(NAME, client=lookout).request.delay_offset_minutes == 0


def test_update_says_which_fields_cannot_be_updated(lookout, running):
    with pytest.raises(RequestInvalid) as caught:
        sch.update(NAME, client=lookout, model_name="other", tags={"a": "b"})
    assert [p.field for p in caught.value.problems] == ["ModelName", "Tags"]
    assert "cannot be updated" in str(caught.value) and "request_from_scheduler('pump-5min')" in str(caught.value)
    with pytest.raises(TypeError, match="upload_freq"):
        sch.update(NAME, client=lookout, upload_freq="PT10M")


def test_delete_running_scheduler_says_to_stop_first(lookout, running):
    with pytest.raises(SchedulerConflict, match=r"stop it first.*stop_first=True"):
        sch.delete(NAME, client=lookout)
    assert sch.describe(NAME, client=lookout).status == "RUNNING"


def test_delete_with_stop_first_removes_it(lookout, running, clock_wait):
    sch.delete(NAME, stop_first=True, client=lookout, clock=clock_wait)
    with pytest.raises(ResourceNotFound):
        sch.describe(NAME, client=lookout)
    assert sch.list_schedulers(client=lookout).empty


def test_request_from_scheduler_clones_with_tags_and_a_fresh_token(lookout, req, clock_wait):
    sch.submit(req.replace(tags={"team": "reliability"}), client=lookout, clock=clock_wait)
    clone = sch.request_from_scheduler(NAME, client=lookout)
    assert clone.client_token is None and clone.tags == [{"Key": "team", "Value": "reliability"}]
    clone = clone.replace(scheduler_name="pump-10min", upload_frequency="PT10M")
    copy = sch.submit(clone, client=lookout, clock=clock_wait)
    assert copy.status == "RUNNING"
    table = sch.list_schedulers(client=lookout)
    assert table.name.tolist() == ["pump-10min", NAME]
    assert table.set_index("name").upload_frequency.to_dict() == {"pump-10min": "PT10M", NAME: "PT5M"}


# -- tables ----------------------------------------------------------------------------------------------------------
def test_list_schedulers_filters_and_has_typed_columns(lookout, req, clock_wait):
    empty = sch.list_schedulers(client=lookout)
    assert empty.empty and str(empty.delay_offset_minutes.dtype) == "Int64"
    sch.submit(req, client=lookout, clock=clock_wait)
    sch.submit(req.replace(scheduler_name="fan-10min", upload_frequency="PT10M"), client=lookout, clock=clock_wait)
    sch.stop("fan-10min", client=lookout, clock=clock_wait)
    assert sch.list_schedulers(name_prefix="pump", client=lookout).name.tolist() == [NAME]
    assert sch.list_schedulers(status="STOPPED", client=lookout).name.tolist() == ["fan-10min"]
    assert sch.list_schedulers(model_name=demo.DEMO_MODEL, client=lookout).name.tolist() == ["fan-10min", NAME]


def test_list_schedulers_reads_every_page(lookout, req, clock_wait, monkeypatch):
    from lookout_nb.calls import _service

    for i in range(5):
        sch.submit(req.replace(scheduler_name=f"s{i}"), client=lookout, wait=False)
    monkeypatch.setattr(_service, "PAGE_SIZE", 2)  # three real NextToken round trips
    assert sch.list_schedulers(client=lookout).name.tolist() == [f"s{i}" for i in range(5)]


def test_executions_are_one_row_per_run_with_utc_windows(endpoint, lookout, running):
    endpoint.clock.advance(pd.Timedelta(minutes=30))
    table = sch.executions(NAME, client=lookout)
    assert list(table.columns) == EXECUTION_COLUMNS
    assert len(table) == 6 and (table.status == "SUCCESS").all()
    assert str(table.scheduled_start.dt.tz) == "UTC"
    assert table.scheduled_start.is_monotonic_increasing
    assert (table.data_end - table.data_start == pd.Timedelta(minutes=5)).all()
    assert table.scheduled_start.iloc[0] == pd.Timestamp("2026-01-05 09:05", tz="UTC")
    assert table.result_key.str.endswith("results.jsonl").all() and (table.result_bucket == demo.DEMO_BUCKET).all()


def test_executions_filter_by_window_and_status(endpoint, lookout, running):
    endpoint.clock.advance(pd.Timedelta(minutes=30))
    # naive times are UTC; aware ones are converted (14:50+05:30 is 09:20 UTC)
    window = sch.executions(NAME, start="2026-01-05 09:10", end=pd.Timestamp("2026-01-05 14:50+05:30"), client=lookout)
    assert window.data_start.tolist() == [pd.Timestamp("2026-01-05 09:10Z"), pd.Timestamp("2026-01-05 09:15Z")]
    assert sch.executions(NAME, status="FAILED", client=lookout).empty


def test_failed_runs_show_the_reason_and_no_result(endpoint, lookout, req, clock_wait):
    sch.submit(req.replace(input_prefix="nothing-here/"), client=lookout, clock=clock_wait)
    endpoint.clock.advance(pd.Timedelta(minutes=10))
    table = sch.executions(NAME, client=lookout)
    assert (table.status == "FAILED").all() and len(table) == 2
    assert table.failed_reason.str.contains("centrifugal-pump").all()
    assert table.result_key.isna().all()
    assert sch.results(NAME, client=lookout, s3=endpoint.s3()).empty


def test_results_are_rows_in_each_window_with_one_column_per_sensor(endpoint, lookout, s3, running):
    endpoint.clock.advance(pd.Timedelta(minutes=110))  # past the demo pump's 10:30-10:45 anomaly
    table = sch.results(NAME, client=lookout, s3=s3)
    assert list(table.columns) == RESULT_COLUMNS + SENSORS
    assert len(table) == 110 and table.timestamp.is_unique and str(table.timestamp.dt.tz) == "UTC"
    assert ((table.scheduled_start - table.timestamp) < pd.Timedelta(minutes=5)).all()
    anomalous = table[table.prediction == 1].timestamp
    assert anomalous.min() >= pd.Timestamp("2026-01-05 10:30", tz="UTC")
    # the detector holds an episode until its 10-row average has passed: at most 10 minutes after 10:45
    assert anomalous.max() <= pd.Timestamp("2026-01-05 10:55", tz="UTC") and len(anomalous) >= 10
    spike = table[table.prediction == 1][SENSORS].mean()
    assert spike.idxmax().startswith("centrifugal-pump\\")  # the pump, not the motor, explains it


def test_results_of_a_scheduler_without_runs_is_an_empty_typed_table(lookout, s3, running):
    table = sch.results(NAME, client=lookout, s3=s3)
    assert table.empty and list(table.columns) == RESULT_COLUMNS
    assert str(table.timestamp.dtype) == "datetime64[ns, UTC]" and str(table.anomaly_score.dtype) == "float64"


def _stub_one_success(stub, bucket, key):
    stub.add_response("list_inference_executions", {"InferenceExecutionSummaries": [{
        "InferenceSchedulerName": NAME, "Status": "SUCCESS",
        "ScheduledStartTime": pd.Timestamp("2026-01-05 09:05Z"), "DataStartTime": pd.Timestamp("2026-01-05 09:00Z"),
        "DataEndTime": pd.Timestamp("2026-01-05 09:05Z"), "CustomerResultObject": {"Bucket": bucket, "Key": key}}]})


def test_results_tolerate_missing_diagnostics_and_score_and_the_empty_last_line(offline_client, s3, unique_bucket):
    lines = [
        {"timestamp": "2026-01-05T09:01:00.000000", "prediction": 0, "prediction_reason": "NO_ANOMALY_DETECTED"},
        {"timestamp": "2026-01-05T09:02:00.000000", "prediction": 1, "prediction_reason": "ANOMALY_DETECTED",
         "anomaly_score": 0.9,
         "diagnostics": [{"name": "pump\\Flow", "value": 0.7}, {"name": "pump\\Temp", "value": 0.3}]},
    ]
    s3.put_object(Bucket=unique_bucket, Key="old/results.jsonl", Body="\n".join(map(json.dumps, lines)) + "\n\n")
    with stubbed(offline_client) as stub:
        _stub_one_success(stub, unique_bucket, "old/results.jsonl")
        table = sch.results(NAME, client=offline_client, s3=s3)
    assert list(table.columns) == RESULT_COLUMNS + ["pump\\Flow", "pump\\Temp"]
    assert table.prediction.tolist() == [0, 1]
    assert pd.isna(table.anomaly_score[0]) and table.anomaly_score[1] == 0.9
    assert pd.isna(table["pump\\Flow"][0]) and table["pump\\Flow"][1] == 0.7


def test_results_never_evaluate_the_file(offline_client, s3, unique_bucket):
    s3.put_object(Bucket=unique_bucket, Key="evil/results.jsonl", Body=b"{'timestamp': __import__('os').getcwd()}\n")
    with stubbed(offline_client) as stub:
        _stub_one_success(stub, unique_bucket, "evil/results.jsonl")
        with pytest.raises(LookoutNbError, match=rf"s3://{unique_bucket}/evil/results.jsonl line 1 is not JSON"):
            sch.results(NAME, client=offline_client, s3=s3)


def test_events_decode_diagnostics(endpoint, lookout, running):
    endpoint.clock.advance(pd.Timedelta(minutes=110))
    table = sch.events(NAME, "2026-01-05 09:00", "2026-01-05 12:00", client=lookout)
    assert list(table.columns) == ["event_start", "event_end", "duration_seconds", "diagnostics"] + SENSORS
    assert len(table) == 1
    event = table.iloc[0]
    assert pd.Timestamp("2026-01-05 10:30", tz="UTC") <= event.event_start < event.event_end
    assert event.duration_seconds == (event.event_end - event.event_start).total_seconds()
    assert isinstance(event.diagnostics, list) and event.diagnostics[0]["name"] == SENSORS[0]
    assert sch.events(NAME, "2026-01-05 09:00", "2026-01-05 10:00", client=lookout).empty


def test_defaults_follow_aws_endpoint_url(endpoint, monkeypatch, req, clock_wait):
    """No client given: boto3's defaults, so AWS_ENDPOINT_URL picks the embedded endpoint."""
    import boto3

    for key, value in endpoint.env().items():
        monkeypatch.setenv(key, value)
    sch.submit(req, clock=clock_wait)
    assert sch.list_schedulers().name.tolist() == [NAME]
    assert sch.describe(NAME, session=boto3.session.Session()).status == "RUNNING"
    endpoint.clock.advance(pd.Timedelta(minutes=5))
    assert len(sch.results(NAME)) == 5


# -- comparing a request with an existing scheduler ------------------------------------------------------------------
def test_unset_members_equal_the_service_defaults_and_kms_ids_match_their_arn(req):
    existing = req.replace(delay_offset_minutes=0, input_prefix="", timezone_offset="+00:00",
                           server_side_kms_key_id="arn:aws:kms:us-east-1:123456789012:key/abcd-1234", tags=[])
    new = req.replace(delay_offset_minutes=None, input_prefix=None, timezone_offset=None,
                      server_side_kms_key_id="abcd-1234", tags=None)
    assert sch.differences(existing, new) == []
    assert [str(d) for d in sch.differences(existing, new.replace(delay_offset_minutes=5))] == [
        "delay_offset_minutes (DataDelayOffsetInMinutes): 0 -> 5"]


def test_same_configuration_under_another_token_is_explained(lookout, req, running):
    with pytest.raises(SchedulerConflict, match="same visible configuration") as caught:
        sch.submit(req.replace(client_token="my-own-token-1"), client=lookout)
    assert caught.value.differences == []


def test_tags_the_caller_may_not_read_are_unknown_not_empty(offline_client):
    arn = "arn:aws:lookoutequipment:us-east-1:123456789012:inference-scheduler/pump-5min/abc"
    described = {"InferenceSchedulerName": NAME, "InferenceSchedulerArn": arn, "Status": "RUNNING",
                 "ModelName": demo.DEMO_MODEL, "DataUploadFrequency": "PT5M"}
    with stubbed(offline_client) as stub:
        stub.add_response("describe_inference_scheduler", described)
        stub.add_client_error("list_tags_for_resource", "AccessDeniedException", "not allowed")
        info = sch.describe(NAME, client=offline_client)
    assert info.request.tags is None and info.request.upload_frequency == "PT5M"


def test_update_refused_by_the_service_for_a_running_scheduler_says_to_stop(offline_client, req):
    arn = "arn:aws:lookoutequipment:us-east-1:123456789012:inference-scheduler/pump-5min/abc"
    described = {**req.to_boto3(token=False), "InferenceSchedulerArn": arn, "Status": "RUNNING"}
    with stubbed(offline_client) as stub:
        stub.add_response("describe_inference_scheduler", described)
        stub.add_client_error("update_inference_scheduler", "ConflictException", "Scheduler is running")
        with pytest.raises(SchedulerConflict, match=r"Scheduler is running.*stop\('pump-5min'\)"):
            sch.update(NAME, client=offline_client, upload_frequency="PT10M")


def test_list_models_and_describe_model(lookout):
    from lookout_nb.calls.models import ModelInfo, model_info
    from lookout_nb.contract.schema import ModelSchema

    table = sch.list_models(client=lookout)
    assert list(table.columns) == ["name", "status", "quality", "dataset", "created_at", "arn"]
    demo = table[table["name"] == "pump-demo"].iloc[0]
    assert demo["status"] == "SUCCESS" and str(table["created_at"].dtype) == "datetime64[ns, UTC]"
    assert sch.list_models(status="FAILED", client=lookout).empty
    described = sch.describe_model("pump-demo", client=lookout)
    assert ModelSchema.parse(described).names == ("centrifugal-pump", "motor")
    assert isinstance(described, ModelInfo) and described == model_info("pump-demo", client=lookout)
    assert (described.sampling_rate, described.status, described["Status"]) == ("PT1M", "SUCCESS", "SUCCESS")
    with pytest.raises(ResourceNotFound):
        sch.describe_model("no-such-model", client=lookout)
