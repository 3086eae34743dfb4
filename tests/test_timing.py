"""Schedule timing: the user guide's table and examples, window edges, time zones and DST."""

from __future__ import annotations

import datetime as dt
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from lookout_nb import LookoutNbWarning, RequestInvalid, SchedulerRequest
from lookout_nb.contract.timing import (
    TimingError,
    check_zone,
    components_from,
    expected_files,
    next_runs,
    offset_for_zone,
    plan_schedule,
    window_for,
    windows_for,
)
from lookout_nb.errors import InvalidArgument
from timing_support import UTC, T, hm, req

# -- the user guide's table (scheduling inference) and the API example ---------------------------------------------

TABLE = [  # interval, inferences per hour, first after 09:00 without offset, with a 5-minute offset
    ("PT5M", 12, "09:05", "09:10"),
    ("PT10M", 6, "09:10", "09:15"),
    ("PT15M", 4, "09:15", "09:20"),
    ("PT30M", 2, "09:30", "09:35"),
    ("PT1H", 1, "10:00", "10:05"),
]


@pytest.mark.parametrize("freq, per_hour, first, first_delayed", TABLE)
def test_user_guide_table(freq, per_hour, first, first_delayed):
    plain = plan_schedule(req(freq), start="2024-05-01 09:00", periods=3)
    delayed = plan_schedule(req(freq, 5), start="2024-05-01 09:00", periods=3)
    assert plain["wake_time"].iloc[0] == T(f"2024-05-01 {first}")
    assert delayed["wake_time"].iloc[0] == T(f"2024-05-01 {first_delayed}")
    hour = plan_schedule(req(freq), start="2024-05-01 09:00", end="2024-05-01 10:00")
    assert len(hour) == per_hour
    # The delay moves the wake-up, not the data window.
    pd.testing.assert_series_equal(plain["data_end"], delayed["data_end"])
    assert (delayed["wake_time"] - delayed["data_end"] == pd.Timedelta(minutes=5)).all()


def test_api_example_0908_every_ten_minutes_delay_five_wakes_at_0915():
    plan = plan_schedule(req("PT10M", 5), start="2024-05-01 09:08", periods=3)
    assert hm(plan["wake_time"]) == ["09:15", "09:25", "09:35"]
    assert hm(plan["data_start"]) == ["09:00", "09:10", "09:20"]
    assert hm(plan["data_end"]) == ["09:10", "09:20", "09:30"]


def test_sample_notebook_execution_and_failure_message():
    """The user guide's sample: PT5M, +05:30: ScheduledStart 11:05, window (11:00, 11:05], names searched
    16:25 ~ 16:40 local."""
    r = req("PT5M", timezone_offset="+05:30", input_prefix="input/")
    plan = plan_schedule(r, start="2022-03-30 11:01", periods=1, components=["centrifugal-pump"])
    row = plan.iloc[0]
    assert (row["wake_time"], row["data_start"], row["data_end"]) == (
        T("2022-03-30 11:05"), T("2022-03-30 11:00"), T("2022-03-30 11:05"))
    assert row["search_start_local"] == pd.Timestamp("2022-03-30 16:25")
    assert row["search_end_local"] == pd.Timestamp("2022-03-30 16:40")
    assert row["file_time_local"] == pd.Timestamp("2022-03-30 16:30")
    assert row["file:centrifugal-pump"] == "input/centrifugal-pump_20220330163000.csv"
    assert str(plan["wake_time"].dtype) == "datetime64[ns, UTC]"


@pytest.mark.parametrize(
    "delimiter, fmt, offset, name",
    [
        ("_", "yyyyMMddHHmmss", "+00:00", "centrifugal-pump_20220330110000.csv"),
        ("_", "yyyyMMddHHmmss", "+05:30", "centrifugal-pump_20220330163000.csv"),
        ("-", "yyyy-MM-dd-HH-mm-ss", "+00:00", "centrifugal-pump-2022-03-30-11-00-00.csv"),
        ("_", "EPOCH", None, "centrifugal-pump_1648638000.csv"),
    ],
)
def test_expected_names_use_the_window_start_in_local_time(delimiter, fmt, offset, name):
    r = req(timestamp_format=fmt, delimiter=delimiter, timezone_offset=offset)
    plan = plan_schedule(r, start="2022-03-30 11:00", periods=1, components=["centrifugal-pump"])
    assert plan["data_start"].iloc[0] == T("2022-03-30 11:00")
    assert plan["file:centrifugal-pump"].iloc[0] == name


def test_start_on_a_boundary_plans_from_the_next_one():
    plan = plan_schedule(req("PT5M"), start="2024-05-01 09:10", periods=1)
    assert hm(plan["wake_time"]) == ["09:15"]


def test_boundaries_align_to_the_utc_hour_whatever_the_start():
    plan = plan_schedule(req("PT15M"), start="2024-05-01 09:07:31.5", periods=5)
    assert hm(plan["data_end"]) == ["09:15", "09:30", "09:45", "10:00", "10:15"]
    assert (plan["data_end"] - plan["data_start"] == pd.Timedelta(minutes=15)).all()


def test_delay_longer_than_the_frequency_keeps_windows_contiguous():
    plan = plan_schedule(req("PT5M", 60), start="2024-05-01 09:00", periods=3)
    assert hm(plan["wake_time"]) == ["10:05", "10:10", "10:15"]
    assert hm(plan["data_start"]) == ["09:00", "09:05", "09:10"]


def test_end_is_the_last_wake_up_inclusive_and_periods_caps_it():
    plan = plan_schedule(req("PT10M", 5), start="2024-05-01 09:00", end="2024-05-01 09:45")
    assert hm(plan["wake_time"]) == ["09:15", "09:25", "09:35", "09:45"]
    assert len(plan_schedule(req("PT10M", 5), start="2024-05-01 09:00", end="2024-05-01 09:45", periods=2)) == 2
    assert plan_schedule(req("PT10M", 5), start="2024-05-01 09:00", end="2024-05-01 09:14").empty
    assert plan_schedule(req(), start="2024-05-01", periods=0).empty


@pytest.mark.parametrize(
    "start",
    [
        "2024-05-01 09:08",
        "2024-05-01T11:08+02:00",
        dt.datetime(2024, 5, 1, 9, 8),
        dt.datetime(2024, 5, 1, 9, 8, tzinfo=dt.timezone.utc),
        pd.Timestamp("2024-05-01 05:08", tz="America/New_York"),
        np.datetime64("2024-05-01T09:08"),
    ],
)
def test_start_accepts_strings_datetimes_and_timestamps_naive_is_utc(start):
    plan = plan_schedule(req("PT10M", 5), start=start, periods=1)
    assert plan["wake_time"].iloc[0] == T("2024-05-01 09:15")


def test_the_plan_index_is_the_run_number():
    plan = plan_schedule(req(), start="2024-05-01", periods=4)
    assert plan.index.name == "run" and plan.index.tolist() == [0, 1, 2, 3]


# -- errors -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_kw, field",
    [
        (dict(upload_frequency="PT7M"), "DataUploadFrequency"),
        (dict(upload_frequency=None), "DataUploadFrequency"),
        (dict(upload_frequency="PT5M", delay_offset_minutes=61), "DataDelayOffsetInMinutes"),
        (dict(upload_frequency="PT5M", timezone_offset="+5:30"), "DataInputConfiguration.InputTimeZoneOffset"),
    ],
)
def test_an_invalid_timing_field_raises_request_invalid_naming_it(request_kw, field):
    with pytest.raises(RequestInvalid) as err:
        plan_schedule(SchedulerRequest(**request_kw), start="2024-05-01", periods=1)
    assert [p.field for p in err.value.problems] == [field]


def test_problems_outside_timing_do_not_stop_a_plan():
    r = SchedulerRequest(upload_frequency="PT5M", model_name="bad name!", role_arn="nope", input_prefix="in")
    assert r.problems()  # invalid to submit ...
    assert len(plan_schedule(r, start="2024-05-01", periods=2)) == 2  # ... but its timing is known


def test_boto3_kwargs_are_accepted_as_the_request():
    kwargs = {"DataUploadFrequency": "PT10M", "DataDelayOffsetInMinutes": 5}
    assert plan_schedule(kwargs, start="2024-05-01 09:08", periods=1)["wake_time"].iloc[0] == T("2024-05-01 09:15")


@pytest.mark.parametrize(
    "kw, words",
    [
        (dict(start="soon", periods=1), ["start=", "ISO"]),
        (dict(start=None, periods=1), ["start"]),
        (dict(start="2024-05-01"), ["end=", "periods="]),
        (dict(start="2024-05-01", periods=-1), ["periods=-1"]),
        (dict(start="2024-05-01", periods=2.5), ["periods=2.5"]),
        (dict(start="2024-05-02", end="2024-05-01"), ["end=", "before start"]),
        (dict(start="2024-05-01", periods=10_000_000), ["end=", "periods="]),
        (dict(start="2024-05-01", periods=1, components="pump"), ["components", "list"]),
        (dict(start="2024-05-01", periods=1, components=["a", "a"]), ["components", "a repeated"]),
        (dict(start="2024-05-01", periods=1, zone="Mars/Olympus"), ["zone=", "Europe/Paris"]),
    ],
)
def test_bad_arguments_name_the_argument_and_the_fix(kw, words):
    with pytest.raises(InvalidArgument) as err:  # TimingError, or naming.to_utc's error for a time
        plan_schedule(req(), **kw)
    for w in words:
        assert w in str(err.value)
    assert isinstance(err.value, ValueError)


# -- components ---------------------------------------------------------------------------------------------------


def test_components_from_a_schema_its_json_or_a_describe_model_response():
    schema = {"Components": [{"ComponentName": "pump", "Columns": [{"Name": "Timestamp"}]},
                             {"ComponentName": "fan", "Columns": []}]}
    assert components_from(schema) == ["pump", "fan"]
    assert components_from(json.dumps(schema)) == ["pump", "fan"]
    assert components_from({"ModelName": "m", "Schema": json.dumps(schema)}) == ["pump", "fan"]
    assert components_from(("pump",)) == ["pump"]
    with pytest.raises(TimingError, match="Components"):
        components_from({"Components": 3})


def test_plan_has_one_file_column_per_component_and_a_long_form():
    plan = plan_schedule(req("PT1H", input_prefix="in/"), start="2024-01-01", periods=2, components=["b", "a"])
    assert [c for c in plan.columns if c.startswith("file:")] == ["file:b", "file:a"]
    long = expected_files(plan)
    assert long.columns.tolist() == ["run", "wake_time", "component", "key", "file_time_local"]
    assert long["key"].tolist() == ["in/b_20240101000000.csv", "in/a_20240101000000.csv",
                                    "in/b_20240101010000.csv", "in/a_20240101010000.csv"]
    with pytest.raises(TimingError, match="components="):
        expected_files(plan_schedule(req(), start="2024-01-01", periods=1))


# -- window edges -------------------------------------------------------------------------------------------------


def test_a_row_exactly_at_the_slot_start_belongs_to_the_previous_window():
    r = req("PT5M", 2)
    w = window_for(r, "2022-03-30 11:00")
    assert (w.data_start, w.data_end, w.wake_time) == (T("2022-03-30 10:55"), T("2022-03-30 11:00"),
                                                       T("2022-03-30 11:02"))
    after = window_for(r, "2022-03-30 11:00:00.001")
    assert (after.data_start, after.data_end) == (T("2022-03-30 11:00"), T("2022-03-30 11:05"))
    assert window_for(r, "2022-03-30 11:05").data_start == T("2022-03-30 11:00")


def test_windows_for_maps_rows_to_the_planned_run_that_scores_them():
    r = req("PT10M", 5, timezone_offset="+05:30")
    plan = plan_schedule(r, start="2024-05-01 09:00", periods=6)
    rows = pd.date_range("2024-05-01 09:00:01", "2024-05-01 10:00", freq="37s", tz=UTC)
    w = windows_for(r, rows)
    assert ((w["data_start"] < w["timestamp"]) & (w["timestamp"] <= w["data_end"])).all()
    merged = w.merge(plan.reset_index(), on=["data_start", "data_end", "wake_time", "file_time_local"], how="left")
    assert merged["run"].notna().all()
    assert merged.groupby("run").size().sum() == len(rows)
    assert w["file_time_local"].iloc[0] == pd.Timestamp("2024-05-01 14:30")


def test_windows_for_reads_naive_strings_as_utc_and_keeps_nat():
    w = windows_for(req(), ["2024-05-01 09:03", None])
    assert w["data_end"].iloc[0] == T("2024-05-01 09:05")
    assert pd.isna(w["data_end"].iloc[1])


# -- next runs ----------------------------------------------------------------------------------------------------


def test_next_runs_of_a_new_and_of_a_running_scheduler():
    r = req("PT10M", 5)
    assert hm(next_runs(r, now="2024-05-01 09:12", n=2)["wake_time"]) == ["09:25", "09:35"]
    assert hm(next_runs(r, now="2024-05-01 09:12", n=2, running=True)["wake_time"]) == ["09:15", "09:25"]
    assert hm(next_runs(r, now="2024-05-01 09:15", n=1, running=True)["wake_time"]) == ["09:25"]


# -- time zones and daylight saving ------------------------------------------------------------------------------


def test_offset_for_zone():
    assert offset_for_zone("Europe/Paris", at="2024-01-15") == "+01:00"
    assert offset_for_zone("Europe/Paris", at="2024-07-15") == "+02:00"
    assert offset_for_zone("Asia/Kolkata", at="2026-01-05") == "+05:30"
    assert offset_for_zone("America/St_Johns", at="2024-01-15") == "-03:30"
    assert offset_for_zone("UTC", at="2026-01-05") == "+00:00"
    with pytest.raises(TimingError, match="IANA"):
        offset_for_zone("Paris")


def test_a_zone_that_changes_offset_during_the_plan_warns():
    r = req("PT1H", timezone_offset="+01:00")
    with pytest.warns(LookoutNbWarning) as caught:
        plan_schedule(r, start="2024-03-30", end="2024-04-02", zone="Europe/Paris")
    text = str(caught[0].message)
    assert "UTC+02:00 from 2024-03-31 01:00" in text and "+01:00" in text and "runs" in text


def test_a_zone_that_agrees_with_the_offset_is_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plan_schedule(req("PT1H", timezone_offset="+01:00"), start="2024-01-01", periods=200, zone="Europe/Paris")
        plan_schedule(req("PT1H", timezone_offset="+05:30"), start="2024-01-01", periods=200, zone="Asia/Kolkata")


def test_check_zone_returns_the_spans_that_differ():
    r = req("PT5M", timezone_offset="+01:00")
    with pytest.warns(LookoutNbWarning, match="Europe/Paris"):
        spans = check_zone(r, "Europe/Paris", "2024-01-01", "2025-01-01")
    assert spans.columns.tolist() == ["from_utc", "to_utc", "zone_offset", "request_offset"]
    assert spans["zone_offset"].tolist() == ["+02:00"]
    assert spans["from_utc"].iloc[0] == T("2024-03-31 01:00")
    assert spans["to_utc"].iloc[0] == T("2024-10-27 00:00")  # last hourly sample still at +02:00
    assert check_zone(r, "Europe/Paris", "2024-11-01", "2025-02-01").empty
