"""Schedule timing: the reference's table and examples, window edges, time zones, DST, matching files to runs."""

from __future__ import annotations

import datetime as dt
import json
import uuid
import warnings

import numpy as np
import pandas as pd
import pytest

from lookout_nb.errors import InvalidArgument
from hypothesis import given, settings
from hypothesis import strategies as st

from lookout_nb import LookoutNbWarning, RequestInvalid, SchedulerRequest
from lookout_nb.naming import Naming
from lookout_nb.timing import (
    REASONS,
    TimingError,
    check_zone,
    components_from,
    expected_files,
    match_files,
    next_runs,
    offset_for_zone,
    plan_schedule,
    window_for,
    windows_for,
)

UTC = "UTC"


def T(text):
    return pd.Timestamp(text, tz=UTC)


def req(freq="PT5M", delay=None, **kw):
    return SchedulerRequest(upload_frequency=freq, delay_offset_minutes=delay, **kw)


def hm(series):
    return series.dt.strftime("%H:%M").tolist()


# -- the user guide's table (reference §2.1) and the API example ------------------------------------------------

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
    """§2.2: PT5M, +05:30: ScheduledStart 11:05, window (11:00, 11:05], names searched 16:25 ~ 16:40 local."""
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


# -- matching files to runs ---------------------------------------------------------------------------------------


@pytest.fixture
def pump_plan():
    """Three PT5M runs of a two-component model, file names in +05:30 local time, delay 2 min."""
    r = req("PT5M", 2, timezone_offset="+05:30", input_prefix="in/")
    return plan_schedule(r, start="2022-03-30 11:00", periods=3, components=["pump", "fan"])


def listing(rows):
    return pd.DataFrame(rows, columns=["Key", "LastModified"])


def test_all_files_present_and_on_time(pump_plan):
    rows = [(k, wake - pd.Timedelta(minutes=1))
            for _, run in pump_plan.iterrows() for k, wake in ((run["file:pump"], run["wake_time"]),
                                                                (run["file:fan"], run["wake_time"]))]
    m = match_files(pump_plan, listing(rows))
    assert m.ok and m.missing.empty and m.late.empty and m.unread.empty
    assert m.runs["named"].tolist() == [2, 2, 2]
    # Each run searches from the previous slot's name to the name one slot after its window end, both included (four
    # names); a neighbour's file uploaded after this run woke up does not count for it: run 0 sees its own 2 files,
    # later runs also the previous slot's 2.
    assert m.runs["files"].tolist() == [2, 4, 4]
    assert m.runs.columns.tolist() == ["wake_time", "data_start", "data_end", "files", "missing", "named", "late", "ok"]
    reads = m.reads
    assert set(reads.loc[reads["run"] == 1, "key"]) == {pump_plan.loc[i, f"file:{c}"] for i in range(3)
                                                        for c in ("pump", "fan")}
    # The later slots' files, uploaded after the run woke: the next two slots' for run 0, the next one's for run 1.
    assert sorted(reads.loc[reads["late"], "run"].tolist()) == [0, 0, 0, 0, 1, 1]


def test_the_search_range_includes_both_ends(pump_plan):
    """A file named exactly at search_end_local is read by that run (the service: "'..._162500' ~ '..._164000'")."""
    run0 = pump_plan.loc[0]
    assert (run0["search_start_local"], run0["search_end_local"]) == (pd.Timestamp("2022-03-30 16:25"),
                                                                      pd.Timestamp("2022-03-30 16:40"))
    at_start, at_end = "in/pump_20220330162500.csv", "in/pump_20220330164000.csv"
    m = match_files(pump_plan, [at_start, at_end], components=["pump"])
    reads = m.reads
    assert reads.loc[reads["key"] == at_start, "run"].tolist() == [0]
    assert sorted(reads.loc[reads["key"] == at_end, "run"]) == [0, 1, 2]  # run 0's end, run 2's own slot
    assert m.runs["files"].tolist() == [2, 1, 1] and m.ok and m.unread.empty


def test_a_missing_component_names_the_run_and_the_component(pump_plan):
    keys = pump_plan["file:pump"].tolist() + [pump_plan.loc[0, "file:fan"]]
    m = match_files(pump_plan, keys)
    assert not m.ok
    assert m.missing[["run", "component", "reason"]].values.tolist() == [[2, "fan", "no file"]]
    assert m.missing["data_start"].iloc[0] == T("2022-03-30 11:10")
    assert m.runs["ok"].tolist() == [True, True, False]
    assert m.runs["named"].tolist() == [2, 1, 1]


def test_a_file_uploaded_after_the_wake_up_is_late(pump_plan):
    wake0 = pump_plan.loc[0, "wake_time"]
    rows = [(pump_plan.loc[0, "file:pump"], wake0 - pd.Timedelta(seconds=30)),
            (pump_plan.loc[0, "file:fan"], wake0 + pd.Timedelta(minutes=3))]
    m = match_files(pump_plan, listing(rows))
    assert m.late[["run", "component"]].values.tolist() == [[0, "fan"]]
    assert m.late["after_wake"].iloc[0] == pd.Timedelta(minutes=3)
    miss0 = m.missing[m.missing["run"] == 0]
    assert miss0[["component", "reason"]].values.tolist() == [["fan", "arrived late"]]
    # Run 1 woke after the upload, so the same file counts for it (it is in its search range).
    assert "fan" not in m.missing.loc[m.missing["run"] == 1, "component"].tolist()
    assert m.files.set_index("key").loc[pump_plan.loc[0, "file:fan"], "late"]


def test_files_no_run_reads_say_why(pump_plan):
    keys = {
        "in/pump_20220330163000.csv": None,
        "in/pump_2022-03-30-16-35-00.csv": REASONS["name"],
        "in/pump_20220330163000.csv.tmp": REASONS["name"],
        "in/pump_20220231163000.csv": REASONS["name"],  # no 31 February
        "in/valve_20220330163000.csv": REASONS["component"],
        "in/pump_20220330120000.csv": REASONS["range"],  # written in UTC instead of local time
        "in/pump_20220330163000.CSV": None,
        "other/pump_20220330163000.csv": REASONS["prefix"],
        "in/old/pump_20220330163000.csv": REASONS["subfolder"],
        "pump_20220330163500.csv": None,  # a bare name counts as inside the prefix
    }
    m = match_files(pump_plan, list(keys))
    assert dict(zip(m.files["key"], [None if pd.isna(r) else r for r in m.files["reason"]])) == keys
    assert m.unread.columns.tolist() == ["key", "component", "file_time_utc", "reason"]
    assert len(m.unread) == sum(v is not None for v in keys.values())
    assert f"{len(m.unread)} of 10 files read by no run" in m.summary()


def test_listing_formats_are_equivalent(pump_plan):
    key, lm = pump_plan.loc[0, "file:pump"], dt.datetime(2022, 3, 30, 11, 10)  # naive = UTC: after the 11:07 wake
    as_frame = match_files(pump_plan, pd.DataFrame({"Key": [key], "LastModified": [lm]}))
    as_dicts = match_files(pump_plan, [{"Key": key, "LastModified": lm, "Size": 10}])
    as_response = match_files(pump_plan, {"Contents": [{"Key": key, "LastModified": lm}]})
    for m in (as_frame, as_dicts, as_response):
        assert m.late["run"].tolist() == [0]
        assert m.files["last_modified"].iloc[0] == T("2022-03-30 11:10")
    names_only = match_files(pump_plan, pd.Series([key]))
    assert names_only.late.empty and pd.isna(names_only.files["last_modified"].iloc[0])
    with pytest.raises(TimingError, match="Key"):
        match_files(pump_plan, pd.DataFrame({"Name": [key]}))
    with pytest.raises(TimingError, match="keys"):
        match_files(pump_plan, key)
    with pytest.raises(TimingError, match="string"):
        match_files(pump_plan, [key, 3])


def test_match_files_needs_the_request_when_the_plan_lost_it(pump_plan):
    bare = pd.DataFrame(pump_plan)
    bare.attrs = {}
    with pytest.raises(TimingError, match="request="):
        match_files(bare, ["in/pump_20220330163000.csv"])
    r = req("PT5M", 2, timezone_offset="+05:30", input_prefix="in/")
    m = match_files(bare, ["in/pump_20220330163000.csv"], request=r)
    assert m.components == ["pump", "fan"]  # from the plan's file: columns
    assert m.runs["named"].tolist() == [1, 0, 0]


def test_without_components_the_listing_tells_them(pump_plan):
    r = req("PT5M", timezone_offset="+05:30")
    plan = plan_schedule(r, start="2022-03-30 11:00", periods=2)
    m = match_files(plan, ["pump_20220330163000.csv", "fan_20220330163000.csv", "fan_20220330163500.csv"])
    assert m.components == ["fan", "pump"]
    assert m.missing[["run", "component"]].values.tolist() == []  # the 16:30 pump file is in run 1's range too
    m = match_files(plan, ["fan_20220330163000.csv"], components=["fan", "pump"])
    assert sorted(m.missing["component"].unique()) == ["pump"]


@pytest.mark.parametrize("fmt, delimiter", [("EPOCH", "_"), ("yyyy-MM-dd-HH-mm-ss", "-"), ("yyyyMMddHHmmss", "")])
def test_matching_works_for_every_naming(fmt, delimiter):
    r = req("PT15M", timezone_offset="-03:30", timestamp_format=fmt, delimiter=delimiter, input_prefix="x/")
    plan = plan_schedule(r, start="2024-02-29 23:00", periods=8, components=["motor-1", "motor 2"])
    keys = expected_files(plan)["key"].tolist()
    m = match_files(plan, keys)
    assert m.ok and m.unread.empty
    assert m.runs["named"].tolist() == [2] * 8
    assert (m.files["file_time_utc"] == expected_files(plan).merge(plan.reset_index()[["run", "data_start"]])[
        "data_start"].to_numpy()).all()


def test_matching_is_the_same_in_any_listing_order(pump_plan):
    keys = expected_files(pump_plan)["key"].tolist()[:-1]
    a = match_files(pump_plan, keys)
    b = match_files(pump_plan, keys[::-1])
    pd.testing.assert_frame_equal(a.runs, b.runs)
    pd.testing.assert_frame_equal(a.missing, b.missing)


def test_an_empty_listing_misses_everything(pump_plan):
    m = match_files(pump_plan, [])
    assert len(m.missing) == 6 and not m.runs["ok"].any()
    assert len(m.reads) == 0 and len(m.files) == 0


def test_file_match_displays_a_summary(pump_plan):
    m = match_files(pump_plan, [pump_plan.loc[0, "file:pump"]])
    assert "3 runs, 3 missing a component" in repr(m)
    assert "Missing (" in m._repr_html_()


# -- match_files reads keys as the naming module does ------------------------------------------------------------

PIECES = st.sampled_from(["in/", "", "in/sub/", "other/", "pump", "fan-2", "motor 3", "Ünï", "_", "-", " ", "\n",
                          "2022", "0330", "1630", "00", "13", "31", "2022-03-30-16-30-00", "20220330163000",
                          "20220229000000", "20240229235959", "1648638000", "9999999999", ".csv", ".CSV", ".txt"])


@settings(max_examples=300, deadline=None)
@given(keys=st.lists(st.lists(PIECES, min_size=1, max_size=6).map("".join), min_size=1, max_size=20),
       fmt=st.sampled_from(["yyyyMMddHHmmss", "yyyy-MM-dd-HH-mm-ss", "EPOCH"]),
       delimiter=st.sampled_from(["_", "-", "", " "]))
def test_match_files_accounts_for_any_key_as_naming_parse_many_reads_it(keys, fmt, delimiter):
    """Odd keys (unicode, newlines, short names, bad dates) never break matching; each gets parse_many's reading."""
    r = req("PT5M", timezone_offset="+05:30", timestamp_format=fmt, delimiter=delimiter, input_prefix="in/")
    plan = plan_schedule(r, start="2022-03-30 10:50", periods=3, components=["pump"])
    files = match_files(plan, keys).files
    slow = Naming(fmt, delimiter, "+05:30").parse_many(keys)
    assert files["key"].tolist() == keys
    for key, f, s in zip(keys, files.itertuples(), slow.itertuples()):
        folder = key[: key.rfind("/") + 1]
        where = (None if folder in ("", "in/") else REASONS["subfolder"] if folder.startswith("in/")
                 else REASONS["prefix"])
        if where is not None:
            assert f.reason == where
        elif not s.matches:
            assert f.reason == REASONS["name"]
        else:
            reachable = pd.Timestamp.min.tz_localize(UTC) <= s.time_utc <= pd.Timestamp.max.tz_localize(UTC)
            assert f.component == s.component
            assert f.file_time_utc == s.time_utc if reachable else pd.isna(f.file_time_utc)  # years 1677-2262
            reason = None if pd.isna(f.reason) else f.reason
            assert reason == REASONS["component"] if s.component != "pump" else reason in (None, REASONS["range"])


@pytest.mark.parametrize("fmt, key, reason", [
    ("EPOCH", "pump_9999999999.csv", REASONS["range"]),  # 2286: a valid name that no plan can reach
    ("yyyyMMddHHmmss", "pump_99991231000000.csv", REASONS["range"]),  # a valid name that no plan can reach
])
def test_a_name_beyond_2262_is_read_by_no_run(fmt, key, reason):
    plan = plan_schedule(req(timestamp_format=fmt), start="2022-03-30", periods=2, components=["pump"])
    m = match_files(plan, [key])
    assert m.unread["reason"].tolist() == [reason]
    assert pd.isna(m.files["file_time_utc"].iloc[0]) and len(m.missing) == 2


# -- plan versus actual on the embedded endpoint --------------------------------------------------------------------


def _executions(lookout, name) -> pd.DataFrame:
    """The scheduler's executions, oldest first: wake_time, data_start, data_end, status, reason."""
    rows, token = [], None
    while True:
        page = lookout.list_inference_executions(InferenceSchedulerName=name, **({"NextToken": token} if token else {}))
        rows += [(e["ScheduledStartTime"], e["DataStartTime"], e["DataEndTime"], e["Status"], e.get("FailedReason", ""))
                 for e in page["InferenceExecutionSummaries"]]
        token = page.get("NextToken")
        if not token:
            break
    frame = pd.DataFrame(rows, columns=["wake_time", "data_start", "data_end", "status", "reason"])
    for col in ("wake_time", "data_start", "data_end"):
        frame[col] = pd.to_datetime(frame[col], utc=True).dt.as_unit("ns")
    return frame.sort_values("wake_time", ignore_index=True)


def _listing(s3, bucket, prefix) -> list:
    """Keys only: the endpoint's S3 stamps LastModified with the wall clock, not the manual clock (all "late")."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [obj["Key"] for page in pages for obj in page.get("Contents", [])]


def test_plan_matches_the_endpoints_executions_of_the_demo_scheduler(endpoint, lookout, s3):
    """PT10M, delay 3, the demo input (+00:00): wake-ups and windows as planned, every run ok and SUCCESS."""
    from lookout_nb.local import demo

    name = f"timing-demo-{uuid.uuid4().hex[:8]}"
    kwargs = demo.scheduler_kwargs(name, frequency="PT10M", delay=3)
    created = endpoint.clock.now()
    lookout.create_inference_scheduler(**kwargs, ClientToken=name)
    endpoint.clock.advance(pd.Timedelta(minutes=45))
    actual = _executions(lookout, name)
    plan = plan_schedule(kwargs, start=created, end=endpoint.clock.now(), components=list(demo.DEMO_COMPONENTS))
    assert hm(plan["wake_time"]) == ["09:13", "09:23", "09:33", "09:43"]
    pd.testing.assert_frame_equal(actual[["wake_time", "data_start", "data_end"]],
                                  plan[["wake_time", "data_start", "data_end"]].reset_index(drop=True))
    m = match_files(plan, _listing(s3, demo.DEMO_BUCKET, demo.DEMO_INPUT_PREFIX))
    assert actual["status"].tolist() == ["SUCCESS"] * 4
    assert m.runs["ok"].tolist() == [True] * 4 and m.runs["named"].tolist() == [2] * 4


def test_plan_matches_the_endpoints_executions_with_local_names_and_a_deleted_file(endpoint, lookout, s3,
                                                                                  unique_bucket):
    """+05:30 names on their own prefix; the motor files of 09:20-09:50 UTC deleted.

    The runs that SUCCEED are exactly those match_files finds complete (ok, and every component's file named for its
    own slot there: the demo files hold only their own slot's rows); the one run with no motor file anywhere in its
    search range FAILS naming motor, as match_files' missing table does."""
    from lookout_nb.local import demo

    name = f"timing-ist-{uuid.uuid4().hex[:8]}"
    prefix = f"{name}/input/"
    naming = Naming("yyyyMMddHHmmss", "_", "+05:30")
    created = endpoint.clock.now()  # 2026-01-05 09:00 UTC
    keys = demo.write_input_files(s3, unique_bucket, prefix, demo.DEMO_COMPONENTS, created - pd.Timedelta("30min"),
                                  created + pd.Timedelta("90min"), naming=naming, frequency="PT10M")
    deleted = [naming.key("motor", created + pd.Timedelta(minutes=m), prefix) for m in (20, 30, 40, 50)]
    assert set(deleted) <= set(keys) and deleted[1] == f"{prefix}motor_20260105150000.csv"
    for key in deleted:
        s3.delete_object(Bucket=unique_bucket, Key=key)
    kwargs = demo.scheduler_kwargs(
        name, frequency="PT10M", delay=3,
        DataInputConfiguration={
            "S3InputConfiguration": {"Bucket": unique_bucket, "Prefix": prefix},
            "InputTimeZoneOffset": naming.timezone_offset,
            "InferenceInputNameConfiguration": {"TimestampFormat": naming.timestamp_format,
                                                "ComponentTimestampDelimiter": naming.delimiter},
        },
        DataOutputConfiguration={"S3OutputConfiguration": {"Bucket": unique_bucket, "Prefix": f"{name}/output/"}},
    )
    lookout.create_inference_scheduler(**kwargs, ClientToken=name)
    endpoint.clock.advance(pd.Timedelta(minutes=75))
    actual = _executions(lookout, name)
    plan = plan_schedule(kwargs, start=created, end=endpoint.clock.now(), components=list(demo.DEMO_COMPONENTS))
    assert len(plan) == 7
    pd.testing.assert_frame_equal(actual[["wake_time", "data_start", "data_end"]],
                                  plan[["wake_time", "data_start", "data_end"]].reset_index(drop=True))

    m = match_files(plan, _listing(s3, unique_bucket, prefix))
    succeeded = (actual["status"] == "SUCCESS").to_numpy()
    complete = (m.runs["ok"] & (m.runs["named"] == 2)).to_numpy()
    assert succeeded.tolist() == complete.tolist() == [True, True, False, False, False, False, True]
    # The run of 09:40 finds no motor file in its search range 14:50 ~ 15:20 local: both sides say so.
    no_file = actual["reason"].str.startswith("Could not find data file for sensor motor")
    assert actual.loc[no_file, "data_end"].tolist() == [T("2026-01-05 09:40")]
    assert f"'{prefix}motor_20260105145000' ~ '{prefix}motor_20260105152000'" in actual.loc[no_file, "reason"].iloc[0]
    assert (plan.loc[3, "search_start_local"], plan.loc[3, "search_end_local"]) == (
        pd.Timestamp("2026-01-05 14:50"), pd.Timestamp("2026-01-05 15:20"))
    assert m.missing[["run", "component", "reason"]].values.tolist() == [[3, "motor", "no file"]]
    assert m.runs["ok"].tolist() == (~no_file).tolist()
    # The other failures had motor files in range but none holding their window's rows (their own slot's is gone).
    data = actual["status"].eq("FAILED") & ~no_file
    assert actual.loc[data, "reason"].str.startswith("Could not find data for sensor motor").all()
    assert (m.runs.loc[data.to_numpy(), "named"] == 1).all()
