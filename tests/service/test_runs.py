"""The runner's contract: wake-ups, windows, file-name search in local time, failures, results.jsonl, events."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from lookout_nb.contract.naming import Naming
from lookout_nb.service.demo import demo
from lookout_nb.service.learning.detector import Detector
from lookout_nb.service.runner.runner import Runner

T0 = pd.Timestamp("2026-01-05T09:00:00Z")
M = pd.Timedelta(minutes=1)


def ts(value) -> pd.Timestamp:
    return pd.Timestamp(value).tz_convert("UTC")


def csv(rows, header=("Timestamp", "P1", "P2")) -> bytes:
    lines = [",".join(header)] + [",".join([t.strftime("%Y-%m-%dT%H:%M:%S.%f"), *map(str, v)]) for t, v in rows]
    return ("\n".join(lines) + "\n").encode()


def results(s3, execution) -> list[dict]:
    obj = execution["CustomerResultObject"]
    body = s3.get_object(Bucket=obj["Bucket"], Key=obj["Key"])["Body"].read().decode()
    return [json.loads(line) for line in body.splitlines()]


# -- the documentation's timing table --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "frequency, offset, first_wake",
    [
        ("PT5M", 0, "09:05"), ("PT10M", 0, "09:10"), ("PT15M", 0, "09:15"), ("PT30M", 0, "09:30"), ("PT1H", 0, "10:00"),
        ("PT5M", 5, "09:10"), ("PT10M", 5, "09:15"), ("PT15M", 5, "09:20"), ("PT30M", 5, "09:35"), ("PT1H", 5, "10:05"),
    ],
)
def test_first_inference_after_nine_follows_the_docs_table(endpoint, create, executions, frequency, offset, first_wake):
    name = create(frequency=frequency, delay=offset)
    wake = pd.Timestamp(f"2026-01-05T{first_wake}:00Z")
    endpoint.clock.set(wake - pd.Timedelta(seconds=1))
    assert executions(name) == []
    endpoint.clock.set(wake)
    [run] = executions(name)
    freq = pd.Timedelta(frequency.replace("PT", "").lower().replace("m", "min"))
    boundary = wake - pd.Timedelta(minutes=offset)
    assert ts(run["ScheduledStartTime"]) == wake
    assert (ts(run["DataStartTime"]), ts(run["DataEndTime"])) == (boundary - freq, boundary)
    assert run["Status"] == "SUCCESS"


def test_no_run_for_boundaries_before_creation(endpoint, create, executions):
    endpoint.clock.set("2026-01-05T09:08Z")  # the docs' example: PT10M, offset 5, created at 09:08
    name = create(frequency="PT10M", delay=5)
    endpoint.clock.set("2026-01-05T09:40Z")
    runs = executions(name)
    assert [ts(r["ScheduledStartTime"]).strftime("%H:%M") for r in runs] == ["09:15", "09:25", "09:35"]
    assert ts(runs[0]["DataStartTime"]).strftime("%H:%M") == "09:00"


def test_every_boundary_runs_once_in_order(endpoint, create, executions):
    name = create()
    endpoint.clock.advance(pd.Timedelta(hours=1))
    starts = [ts(r["ScheduledStartTime"]) for r in executions(name)]
    assert starts == list(pd.date_range("2026-01-05T09:05Z", "2026-01-05T10:00Z", freq="5min"))


def test_a_stopped_scheduler_does_not_run_and_restarts_after_its_start(endpoint, lookout, create, executions):
    name = create()
    endpoint.clock.advance(pd.Timedelta(minutes=11))
    lookout.stop_inference_scheduler(InferenceSchedulerName=name)
    endpoint.clock.advance(pd.Timedelta(minutes=30))
    assert len(executions(name)) == 2  # 09:05 and 09:10
    lookout.start_inference_scheduler(InferenceSchedulerName=name)  # at 09:41
    endpoint.clock.set("2026-01-05T09:50Z")
    assert [ts(r["ScheduledStartTime"]).strftime("%H:%M") for r in executions(name)] == [
        "09:05", "09:10", "09:45", "09:50"]


# -- windows and rows ------------------------------------------------------------------------------------------
def test_window_is_left_open_right_closed(endpoint, s3, machine, executions):
    naming = Naming()
    rows = [(T0 + i * M, (50 + i, 50)) for i in range(0, 7)]  # 09:00 .. 09:06
    s3.put_object(Bucket=machine.bucket, Key=naming.key("press", T0, "in/"), Body=csv(rows))
    s3.put_object(Bucket=machine.bucket, Key=naming.key("fan", T0, "in/"), Body=csv(rows, ("Timestamp", "Speed", "X")))
    name = machine.schedule("bounds")
    endpoint.clock.set("2026-01-05T09:05Z")
    [run] = executions(name)
    assert run["Status"] == "SUCCESS", run.get("FailedReason")
    stamps = [r["timestamp"] for r in results(s3, run)]
    assert stamps == [f"2026-01-05T09:0{i}:00.000000" for i in range(1, 6)]  # 09:00 excluded, 09:05 included


def test_rows_outside_the_window_fail_the_run_naming_the_window(endpoint, s3, machine, executions):
    naming = Naming()
    early = [(T0 - pd.Timedelta(minutes=20) + i * M, (50, 50)) for i in range(5)]  # 08:40 .. 08:44
    for component, header in (("press", ("Timestamp", "P1", "P2")), ("fan", ("Timestamp", "Speed"))):
        s3.put_object(Bucket=machine.bucket, Key=naming.key(component, T0, "in/"),
                      Body=csv([(t, v[:len(header) - 1]) for t, v in early], header))
    name = machine.schedule("outside")
    endpoint.clock.set("2026-01-05T09:05Z")
    [run] = executions(name)
    assert run["Status"] == "FAILED"
    assert run["FailedReason"].startswith(
        "Could not find data for sensor press within expected time range of "
        "(2026-01-05T09:00:00Z, 2026-01-05T09:05:00Z] while searching in the given data range of "
        "(2026-01-05T08:40:00Z, 2026-01-05T08:44:00Z)"
    )
    assert "CustomerResultObject" not in run


def test_repeated_timestamps_are_averaged_not_an_internal_error(endpoint, s3, machine, executions):
    naming = Naming()
    # press: the boundary row 09:05 is in two files; fan: the row of 09:03 was logged twice
    first = [(T0 + i * M, (50, 50)) for i in range(1, 6)]
    second = [(T0 + i * M, (52, 52)) for i in range(5, 11)]
    s3.put_object(Bucket=machine.bucket, Key=naming.key("press", T0, "in/"), Body=csv(first))
    s3.put_object(Bucket=machine.bucket, Key=naming.key("press", T0 + 5 * M, "in/"), Body=csv(second))
    fan = [(T0 + i * M, (50,)) for i in (1, 2, 3, 3, 4, 5)]
    s3.put_object(Bucket=machine.bucket, Key=naming.key("fan", T0, "in/"), Body=csv(fan, ("Timestamp", "Speed")))
    name = machine.schedule("repeated")
    endpoint.clock.set("2026-01-05T09:05Z")
    [run] = executions(name)
    assert run["Status"] == "SUCCESS", run.get("FailedReason")
    assert [r["timestamp"][11:16] for r in results(s3, run)] == ["09:01", "09:02", "09:03", "09:04", "09:05"]


# -- the file-name search --------------------------------------------------------------------------------------
@pytest.mark.parametrize("slot_shift, found", [(-2, False), (-1, True), (0, True), (1, True), (2, True), (3, False)])
def test_files_are_searched_one_slot_around_the_window(endpoint, s3, machine, executions, slot_shift, found):
    # window (09:00, 09:05]: names from 08:55 (one slot before the start) to 09:10 (one slot after the end)
    slot = T0 + slot_shift * pd.Timedelta(minutes=5)
    demo.write_input_files(s3, machine.bucket, "in/", machine.components, slot, slot + pd.Timedelta(minutes=5),
                           create_bucket=False)
    # the rows of the window itself go into that file, whatever its name
    for component, sensors in machine.components.items():
        rows = [(T0 + i * M, (50,) * len(sensors)) for i in range(1, 6)]
        s3.put_object(Bucket=machine.bucket, Key=Naming().key(component, slot, "in/"),
                      Body=csv(rows, ("Timestamp", *sensors)))
    name = machine.schedule(f"search{slot_shift + 2}")
    endpoint.clock.set("2026-01-05T09:05Z")
    [run] = executions(name)
    if found:
        assert run["Status"] == "SUCCESS", run.get("FailedReason")
    else:
        assert run["FailedReason"].startswith("Could not find data file for sensor")


def test_file_names_carry_local_time(endpoint, s3, machine, executions):
    local = Naming("yyyyMMddHHmmss", "_", "+05:30")
    keys = demo.write_input_files(s3, machine.bucket, "in/", machine.components, T0, T0 + pd.Timedelta(minutes=5),
                                  naming=local, create_bucket=False)
    assert "in/press_20260105143000.csv" in keys  # 09:00Z is 14:30 in +05:30
    name = machine.schedule("kolkata", offset="+05:30")
    endpoint.clock.set("2026-01-05T09:05Z")
    [run] = executions(name)
    assert run["Status"] == "SUCCESS", run.get("FailedReason")


def test_utc_names_with_an_offset_fail_with_the_reason_of_the_service(endpoint, s3, machine, executions):
    demo.write_input_files(s3, machine.bucket, "in/", machine.components, T0, T0 + pd.Timedelta(minutes=5),
                           naming=Naming("yyyyMMddHHmmss", "_", "+05:30"), mistakes={"utc_names"}, create_bucket=False)
    name = machine.schedule("utc-names", offset="+05:30")
    endpoint.clock.set("2026-01-05T09:05Z")
    [run] = executions(name)
    assert run["FailedReason"] == (
        "Could not find data file for sensor press within expected range of (2026-01-05T09:00:00Z, "
        "2026-01-05T09:05:00Z]. Please ensure data is present for all sensors of the machine under prefix "
        "'in/press_20260105142500' ~ 'in/press_20260105144000'"
    )


@pytest.mark.parametrize("fmt, delimiter", [("yyyy-MM-dd-HH-mm-ss", "-"), ("EPOCH", "_"), ("yyyyMMddHHmmss", "")])
def test_every_timestamp_format_and_delimiter(endpoint, s3, machine, executions, fmt, delimiter):
    naming = Naming(fmt, delimiter, "+00:00")
    demo.write_input_files(s3, machine.bucket, "in/", machine.components, T0, T0 + pd.Timedelta(minutes=5),
                           naming=naming, create_bucket=False)
    name = machine.schedule(f"fmt-{fmt[:4].lower()}-{len(delimiter)}", fmt=fmt, delimiter=delimiter)
    endpoint.clock.set("2026-01-05T09:05Z")
    [run] = executions(name)
    assert run["Status"] == "SUCCESS", run.get("FailedReason")


def test_runner_lists_only_the_key_range_it_needs(endpoint, s3, machine, executions, monkeypatch):
    demo.write_input_files(s3, machine.bucket, "in/", machine.components, T0 - pd.Timedelta(hours=2),
                           T0 + pd.Timedelta(hours=1), create_bucket=False)
    listed, read = [], []
    runner_s3 = endpoint.runner.s3  # the endpoint's S3 in-process: the calls a boto3 client would make
    list_objects_v2, get_object = runner_s3.list_objects_v2, runner_s3.get_object
    monkeypatch.setattr(runner_s3, "list_objects_v2",
                        lambda **params: listed.append(params) or list_objects_v2(**params))
    monkeypatch.setattr(runner_s3, "get_object", lambda **params: read.append(params["Key"]) or get_object(**params))
    name = machine.schedule("ranged")
    endpoint.clock.set("2026-01-05T09:05Z")
    assert executions(name)[0]["Status"] == "SUCCESS"
    runs = [p for p in listed if p["Bucket"] == machine.bucket]
    # the window's range (one slot around it), and the detector's 23 rows of history before it (from 08:30)
    assert {(p["Prefix"], p["StartAfter"]) for p in runs} == {
        ("in/press_", "in/press_20260105085500"), ("in/fan_", "in/fan_20260105085500"),
        ("in/press_", "in/press_20260105083000"), ("in/fan_", "in/fan_20260105083000"),
    }
    mine = [k for k in read if k.startswith("in/")]
    assert mine and all("20260105083000" <= k.split("_")[1][:14] <= "20260105091000" for k in mine)
    assert len(mine) == len(set(mine))  # a file read for the window is not read again for the history


# -- failures the generator's mistakes cause -------------------------------------------------------------------
@pytest.mark.parametrize(
    "mistake, reason",
    [
        ("missing_component", "Could not find data file for sensor fan within expected range of "
                              "(2026-01-05T09:00:00Z, 2026-01-05T09:05:00Z]"),
        ("wrong_delimiter", "Could not find data file for sensor press within expected range"),
        ("missing_column", "lacks the column P2"),
        ("semicolon_csv", "separated by commas"),
    ],
)
def test_mistakes_fail_the_run_with_a_reason(endpoint, s3, machine, executions, mistake, reason):
    demo.write_input_files(s3, machine.bucket, "in/", machine.components, T0 - pd.Timedelta(minutes=5),
                           T0 + pd.Timedelta(minutes=10), mistakes={mistake}, create_bucket=False)
    name = machine.schedule(f"mistake-{mistake.replace('_', '-')}")
    endpoint.clock.set("2026-01-05T09:05Z")
    [run] = executions(name)
    assert run["Status"] == "FAILED"
    assert reason in run["FailedReason"]


def test_rows_in_local_time_miss_the_window(endpoint, s3, machine, executions):
    naming = Naming("yyyyMMddHHmmss", "_", "+05:30")
    demo.write_input_files(s3, machine.bucket, "in/", machine.components, T0 - pd.Timedelta(minutes=5),
                           T0 + pd.Timedelta(minutes=10), naming=naming, mistakes={"local_time_rows"},
                           create_bucket=False)
    name = machine.schedule("local-rows", offset="+05:30")
    endpoint.clock.set("2026-01-05T09:05Z")
    [run] = executions(name)
    assert run["FailedReason"].startswith(
        "Could not find data for sensor press within expected time range of (2026-01-05T09:00:00Z")


# -- results ---------------------------------------------------------------------------------------------------
def test_results_jsonl_lines_and_customer_result_object(endpoint, s3, create, executions):
    name = create()
    endpoint.clock.set("2026-01-05T09:05Z")
    [run] = executions(name)
    assert run["CustomerResultObject"] == {"Bucket": demo.DEMO_BUCKET,
                                           "Key": "inference/output/2026-01-05T09:05:00Z/results.jsonl"}
    lines = results(s3, run)
    assert [line["timestamp"] for line in lines] == [f"2026-01-05T09:0{i}:00.000000" for i in range(1, 6)]
    sensors = {f"{c}\\{s}" for c, names in demo.DEMO_COMPONENTS.items() for s in names}
    for line in lines:
        assert set(line) == {"timestamp", "prediction", "prediction_reason", "anomaly_score", "diagnostics"}
        assert (line["prediction"], line["prediction_reason"]) in ((0, "NO_ANOMALY_DETECTED"), (1, "ANOMALY_DETECTED"))
        assert 0 <= line["anomaly_score"] < 1
        assert {d["name"] for d in line["diagnostics"]} == sensors
        assert sum(d["value"] for d in line["diagnostics"]) == pytest.approx(1, abs=1e-3)


def test_results_are_deterministic(endpoint, s3, create, executions):
    first, second = create(), create()
    endpoint.clock.set("2026-01-05T09:05Z")
    a, b = executions(first)[0], executions(second)[0]
    assert results(s3, a) == results(s3, b)


def test_anomalies_are_detected_and_reported(endpoint, lookout, s3, create, executions):
    name = create()
    endpoint.clock.set("2026-01-05T10:00Z")
    assert lookout.describe_inference_scheduler(InferenceSchedulerName=name)["LatestInferenceResult"] == "NORMAL"
    endpoint.clock.set("2026-01-05T10:35Z")  # the demo pump misbehaves 10:30-10:45
    d = lookout.describe_inference_scheduler(InferenceSchedulerName=name)
    assert d["LatestInferenceResult"] == "ANOMALOUS"
    lines = results(s3, executions(name)[-1])
    assert [line["prediction"] for line in lines] == [0, 0, 1, 1, 1]  # held for 3 rows (10:31-10:33) first
    top = max(lines[0]["diagnostics"], key=lambda x: x["value"])
    assert top["name"].startswith("centrifugal-pump\\")
    summary = lookout.list_inference_schedulers(InferenceSchedulerNameBeginsWith=name)["InferenceSchedulerSummaries"][0]
    assert summary["LatestInferenceResult"] == "ANOMALOUS"


def test_events_aggregate_consecutive_anomalous_rows(endpoint, lookout, create):
    name = create()
    endpoint.clock.set("2026-01-05T11:00Z")
    events = lookout.list_inference_events(
        InferenceSchedulerName=name, IntervalStartTime=T0.to_pydatetime(),
        IntervalEndTime=(T0 + pd.Timedelta(hours=3)).to_pydatetime(),
    )["InferenceEventSummaries"]
    assert len(events) == 1
    [event] = events
    # from the third row of the episode (10:31-10:45) until its 10-row window has passed
    assert (ts(event["EventStartTime"]), ts(event["EventEndTime"])) == (ts("2026-01-05T10:33Z"),
                                                                        ts("2026-01-05T10:54Z"))
    assert event["EventDurationInSeconds"] == 21 * 60
    diagnostics = json.loads(event["Diagnostics"])
    assert sum(d["value"] for d in diagnostics) == pytest.approx(1, abs=1e-3)
    assert max(diagnostics, key=lambda d: d["value"])["name"].startswith("centrifugal-pump\\")
    outside = lookout.list_inference_events(
        InferenceSchedulerName=name, IntervalStartTime=T0.to_pydatetime(),
        IntervalEndTime=(T0 + pd.Timedelta(hours=1)).to_pydatetime(),
    )
    assert outside["InferenceEventSummaries"] == []


def test_list_executions_filters_and_pages(endpoint, lookout, create, executions):
    name = create()
    endpoint.clock.set("2026-01-05T10:00Z")
    page = lookout.list_inference_executions(InferenceSchedulerName=name, MaxResults=5)
    assert len(page["InferenceExecutionSummaries"]) == 5 and "NextToken" in page
    assert ts(page["InferenceExecutionSummaries"][0]["ScheduledStartTime"]) == ts("2026-01-05T10:00Z")  # newest first
    assert len(executions(name)) == 12
    window = executions(name, DataStartTimeAfter=ts("2026-01-05T09:30Z").to_pydatetime(),
                        DataEndTimeBefore=ts("2026-01-05T09:45Z").to_pydatetime())
    assert [(ts(r["DataStartTime"]).strftime("%H:%M"), ts(r["DataEndTime"]).strftime("%H:%M")) for r in window] == [
        ("09:30", "09:35"), ("09:35", "09:40"), ("09:40", "09:45")]
    assert executions(name, Status="FAILED") == []


def test_failed_runs_are_listed_with_status_filter(endpoint, lookout, machine, executions):
    name = machine.schedule("nothing-there")
    endpoint.clock.set("2026-01-05T09:15Z")
    assert len(executions(name, Status="FAILED")) == 3
    assert executions(name, Status="SUCCESS") == []
    assert "LatestInferenceResult" not in lookout.describe_inference_scheduler(InferenceSchedulerName=name)


def test_an_update_applies_from_the_next_boundary(endpoint, lookout, create, executions):
    name = create()
    endpoint.clock.set("2026-01-05T09:10Z")
    lookout.update_inference_scheduler(InferenceSchedulerName=name, DataUploadFrequency="PT10M")
    endpoint.clock.set("2026-01-05T09:30Z")
    windows = [(ts(r["DataStartTime"]).strftime("%H:%M"), ts(r["DataEndTime"]).strftime("%H:%M"))
               for r in executions(name)]
    assert windows == [("09:00", "09:05"), ("09:05", "09:10"), ("09:10", "09:20"), ("09:20", "09:30")]


def test_an_update_keeps_a_run_whose_boundary_passed_but_whose_wake_up_has_not(endpoint, lookout, create, executions):
    u1, u2 = create(delay=3), create(delay=3)
    endpoint.clock.set("2026-01-05T09:06Z")  # boundary 09:05 has passed, its wake-up (09:08) has not
    lookout.update_inference_scheduler(InferenceSchedulerName=u1, DataDelayOffsetInMinutes=3)
    endpoint.clock.set("2026-01-05T09:20Z")
    ends = {n: [ts(r["DataEndTime"]).strftime("%H:%M") for r in executions(n)] for n in (u1, u2)}
    assert ends == {u1: ["09:05", "09:10", "09:15"], u2: ["09:05", "09:10", "09:15"]}


def test_a_pending_run_then_realigns_to_a_changed_frequency(endpoint, lookout, create, executions):
    name = create(delay=3)
    endpoint.clock.set("2026-01-05T09:06Z")
    lookout.update_inference_scheduler(InferenceSchedulerName=name, DataUploadFrequency="PT10M")
    endpoint.clock.set("2026-01-05T09:35Z")
    ends = [ts(r["DataEndTime"]).strftime("%H:%M") for r in executions(name)]
    assert ends == ["09:05", "09:10", "09:20", "09:30"]  # after 09:05, the boundaries of PT10M


def test_a_missing_output_bucket_fails_the_run_naming_it(endpoint, create, executions):
    name = create(
        DataOutputConfiguration={"S3OutputConfiguration": {"Bucket": "no-such-output-bucket", "Prefix": "o/"}})
    endpoint.clock.set("2026-01-05T09:05Z")
    [run] = executions(name)
    assert run["Status"] == "FAILED"
    assert run["FailedReason"] == (
        "Could not write the results to s3://no-such-output-bucket/o/2026-01-05T09:05:00Z/results.jsonl: NoSuchBucket: "
        "The specified bucket does not exist"
    )


def test_a_run_executed_late_sees_only_the_files_there_at_its_wake_up(endpoint, s3, machine, executions,
                                                                      monkeypatch):
    """The runner executes the 09:05 run late (as under heavy load): files uploaded at 09:06 are not the run's,
    as the service reads at the wake-up; the 09:10 run reads them."""
    from types import SimpleNamespace

    from lookout_nb.service.storage.inprocess import InProcessS3

    naming, reading = Naming(), endpoint.runner.read_window
    uploads = InProcessS3(SimpleNamespace(now=lambda: ts("2026-01-05T09:06Z")))  # the same S3, stamped 09:06

    def upload_then_read(run):
        if run.wake == ts("2026-01-05T09:05Z"):
            for slot in (T0, T0 + 5 * M):
                for component, header in (("press", ("Timestamp", "P1", "P2")), ("fan", ("Timestamp", "Speed"))):
                    rows = [(slot + i * M, (50,) * (len(header) - 1)) for i in range(1, 6)]
                    uploads.put_object(Bucket=machine.bucket, Key=naming.key(component, slot, "in/"),
                                       Body=csv(rows, header))
        return reading(run)

    monkeypatch.setattr(endpoint.runner, "read_window", upload_then_read)
    name = machine.schedule("late")
    endpoint.clock.set("2026-01-05T09:10Z")
    runs = sorted(executions(name), key=lambda r: r["ScheduledStartTime"])
    assert [r["Status"] for r in runs] == ["FAILED", "SUCCESS"], runs[-1].get("FailedReason")
    assert runs[0]["FailedReason"].startswith("Could not find data file for sensor")


def test_a_runner_bug_fails_the_execution_instead_of_leaving_it_in_progress(endpoint, create, executions, monkeypatch):
    def broken(run):
        raise KeyError("surprise")

    monkeypatch.setattr(endpoint.runner, "read_window", broken)
    name = create()
    endpoint.clock.set("2026-01-05T09:05Z")
    [run] = executions(name)
    assert (run["Status"], run["FailedReason"]) == (
        "FAILED", "Internal error of the embedded endpoint: KeyError: 'surprise'")


def test_a_parallel_runner_gives_the_same_results(endpoint, s3, create, executions, monkeypatch):
    from lookout_nb.service.runner.runner import Runner

    serial = create()
    endpoint.clock.set("2026-01-05T09:05Z")
    parallel_runner = Runner(endpoint.s3(), workers=4)
    monkeypatch.setattr(endpoint, "runner", parallel_runner)
    parallel = create()
    endpoint.clock.set("2026-01-05T09:10Z")
    parallel_runner.close()
    assert results(s3, executions(serial)[-1]) == results(s3, executions(parallel)[-1])


@pytest.mark.parametrize("rate, since", [("PT1M", "08:37"), ("PT5M", "08:20")])
def test_the_history_a_run_reads_spans_the_detectors_lookback_in_time(rate, since):
    """At PT1M the detector looks back 23 rows (23 minutes), at PT5M 8 rows (40 minutes): the runner asks for the
    files of the slots that cover that span before the window (09:00), not a fixed count of rows."""
    step = pd.Timedelta(rate).total_seconds()
    values = np.random.default_rng(0).normal(size=(2000, 2)).cumsum(axis=0)
    detector = Detector.fit(values, ["press\\P1", "press\\P2"], step=step)
    model = SimpleNamespace(trained_model=SimpleNamespace(detector=detector), sampling_rate=rate,
                            components={"press": ["P1", "P2"]}, sensors=["press\\P1", "press\\P2"], name="m")
    run = SimpleNamespace(model=model, window=(ts("2026-01-05T09:00Z"), ts("2026-01-05T09:05Z")),
                          frequency=pd.Timedelta(minutes=5), wake=ts("2026-01-05T09:05Z"),
                          input_config={"S3InputConfiguration": {"Bucket": "b", "Prefix": "in/"}})
    asked = []
    runner = Runner(s3=None)
    runner.slot_files = lambda bucket, prefix, naming, component, keys, as_of=None: asked.extend(keys) or []
    assert runner.read_history(run) is None  # no files: no history, never a failure
    span = pd.Timedelta(seconds=detector.lookback_seconds)
    assert span == pd.Timedelta(minutes=23 if rate == "PT1M" else 40)
    stamps = sorted(k.split("_")[1][:12] for k in asked)
    first = ts(f"2026-01-05T{since}Z").floor("5min") - pd.Timedelta(minutes=5)  # one slot before, as for the window
    assert stamps[0] == first.strftime("%Y%m%d%H%M") and stamps[-1] == "202601050900"


def test_the_history_a_run_reads_holds_only_files_there_at_its_wake_up():
    """A file of an earlier slot uploaded after a run's wake-up is not in that run's history (the service reads at
    the wake-up), also when the runner listed it before for another run; a later run sees it."""
    naming, listings = Naming(), []
    on_time, late = naming.key("press", T0 - 10 * M, "in/"), naming.key("press", T0 - 5 * M, "in/")

    class Listing:
        def list_objects_v2(self, **kwargs):
            listings.append(kwargs)
            return {"Contents": [{"Key": on_time, "ETag": '"a"', "LastModified": ts("2026-01-05T08:52Z")},
                                 {"Key": late, "ETag": '"b"', "LastModified": ts("2026-01-05T09:07Z")}]}

    runner = Runner(Listing())
    keys = [on_time, late]
    assert runner.slot_files("b", "in/", naming, "press", keys, as_of=ts("2026-01-05T09:10Z")) == [
        (on_time, '"a"'), (late, '"b"')]
    assert runner.slot_files("b", "in/", naming, "press", keys, as_of=ts("2026-01-05T09:05Z")) == [(on_time, '"a"')]
    assert len(listings) == 1  # the second run's answer came from the first listing
