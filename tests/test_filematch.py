"""Matching an input listing to a plan: files read per run, missing components, late and unread files, and the
plan versus the embedded endpoint's executions."""

from __future__ import annotations

import datetime as dt
import uuid

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lookout_nb.contract.filematch import REASONS, match_files
from lookout_nb.contract.naming import Naming
from lookout_nb.contract.timing import TimingError, expected_files, plan_schedule
from timing_support import UTC, T, hm, req

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
        "other/pump_20220330163000.csv": REASONS["outside"],
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
                 else REASONS["outside"])
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
    from lookout_nb.service.demo import demo

    name = f"timing-demo-{uuid.uuid4().hex[:8]}"
    kwargs = demo.scheduler_kwargs(name, frequency="PT10M", delay=3)
    created = endpoint.clock.now()
    lookout.create_inference_scheduler(**kwargs, ClientToken=name)
    endpoint.clock.advance(pd.Timedelta(minutes=45))
    actual = _executions(lookout, name)
    plan = plan_schedule(kwargs, start=created, end=endpoint.clock.now(), components=list(demo.DEMO_COMPONENTS))
    assert hm(plan["wake_time"]) == ["09:13", "09:23", "09:33", "09:43"]
    pd.testing.assert_frame_equal(actual[["wake_time", "data_start", "data_end"]],
                                  pd.DataFrame(plan[["wake_time", "data_start", "data_end"]]).reset_index(drop=True))
    m = match_files(plan, _listing(s3, demo.DEMO_BUCKET, demo.DEMO_INPUT_PREFIX))
    assert actual["status"].tolist() == ["SUCCESS"] * 4
    assert m.runs["ok"].tolist() == [True] * 4 and m.runs["named"].tolist() == [2] * 4


def test_plan_matches_the_endpoints_executions_with_local_names_and_a_deleted_file(endpoint, lookout, s3,
                                                                                  unique_bucket):
    """+05:30 names on their own prefix; the motor files of 09:20-09:50 UTC deleted.

    The runs that SUCCEED are exactly those match_files finds complete (ok, and every component's file named for its
    own slot there: the demo files hold only their own slot's rows); the one run with no motor file anywhere in its
    search range FAILS naming motor, as match_files' missing table does."""
    from lookout_nb.service.demo import demo

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
                                  pd.DataFrame(plan[["wake_time", "data_start", "data_end"]]).reset_index(drop=True))

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
