"""preview_input on real S3 semantics (moto's S3 server over HTTP): one test per finding code, and more.

The input of a healthy PT5M scheduler with a 2-minute delay and names in local time (+05:30): components
``pump`` and ``motor``, one file per slot, rows at 1-minute cadence inside the slot's window (s, s+5min], each file
uploaded one minute after its window ends (before the run wakes up at window end + 2 min).
"""

from __future__ import annotations

import io
import json
import socket
import uuid
from unittest import mock

import boto3
import pandas as pd
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from lookout_nb import SchedulerRequest
from lookout_nb._palette import LEVELS as LEVELS_COLOUR
from lookout_nb.contract.inputfiles import complete_lines
from lookout_nb.contract.naming import Naming
from lookout_nb.preview import CODES, Finding, InputPreview, preview_input

T0 = pd.Timestamp("2022-03-30 11:00", tz="UTC")
F = pd.Timedelta(minutes=5)
SLOTS = [T0 + i * F for i in range(12)]
COMPONENTS = ("pump", "motor")
NAMING = Naming("yyyyMMddHHmmss", "_", "+05:30")
PREFIX = "in/"
ACCOUNT = "123456789012"


# -- fixtures ------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server():
    from moto.server import ThreadedMotoServer

    srv = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    srv.start()
    host, port = srv.get_host_and_port()
    yield f"http://{host}:{port}"
    srv.stop()


def _client(service, url, **kw):
    kw.setdefault("aws_access_key_id", "testing")
    kw.setdefault("aws_secret_access_key", "testing")
    return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}), **kw)


@pytest.fixture(scope="module")
def s3(server):
    return _client("s3", server)


@pytest.fixture
def bucket(s3):
    name = f"preview-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def request(bucket, **changes) -> SchedulerRequest:
    base = SchedulerRequest(scheduler_name="pump-5min", upload_frequency="PT5M", delay_offset_minutes=2,
                            input_bucket=bucket, input_prefix=PREFIX, timezone_offset="+05:30",
                            timestamp_format="yyyyMMddHHmmss", delimiter="_")
    return base.replace(**changes)


def csv_text(start, columns=("Sensor0", "Sensor1"), rows=5, sep=",", header=True, step="1min") -> str:
    """Rows at start+1step .. start+rows*step (the window (start, start+5min] for the defaults)."""
    lines = [sep.join(("Timestamp", *columns))] if header else []
    for i in range(1, rows + 1):
        t = pd.Timestamp(start) + i * pd.Timedelta(step)
        values = (f"{i + j / 10:.2f}" for j in range(len(columns)))
        lines.append(sep.join((t.strftime("%Y-%m-%dT%H:%M:%S.%f"), *values)))
    return "\n".join(lines) + "\n"


def set_last_modified(bucket, key, when) -> None:
    """Set LastModified in moto's backend (the server runs in this process), as a late upload would."""
    from moto.s3.models import s3_backends

    obj = s3_backends[ACCOUNT]["aws"].buckets[bucket].keys[key]
    obj.last_modified = pd.Timestamp(when).tz_convert("UTC").tz_localize(None).to_pydatetime()


def put(s3, bucket, key, text, last_modified=None) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=text.encode() if isinstance(text, str) else text)
    if last_modified is not None:
        set_last_modified(bucket, key, last_modified)


def upload_healthy(s3, bucket, slots=SLOTS, components=COMPONENTS, skip=()) -> list[str]:
    """One good file per component and slot, uploaded a minute after its window ends; ``skip``: (comp, slot)."""
    keys = []
    for slot in slots:
        for comp in components:
            if (comp, slot) in skip:
                continue
            key = NAMING.key(comp, slot, PREFIX)
            put(s3, bucket, key, csv_text(slot), last_modified=slot + F + pd.Timedelta(minutes=1))
            keys.append(key)
    return keys


SCHEMA = {"Components": [{"ComponentName": c, "Columns": [{"Name": "Timestamp", "Type": "DATETIME"},
                                                            {"Name": "Sensor0", "Type": "DOUBLE"},
                                                            {"Name": "Sensor1", "Type": "DOUBLE"}]}
                         for c in COMPONENTS]}


def lookout_stub(schema=SCHEMA, rate="PT1M", error=None):
    """A lookoutequipment client whose DescribeModel answers with ``schema`` (or ``error``)."""
    client = boto3.client("lookoutequipment", region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    stub = Stubber(client)
    if error:
        stub.add_client_error("describe_model", service_error_code=error, service_message="Model not found",
                              http_status_code=400)
    else:
        stub.add_response("describe_model", {"ModelName": "pump-model", "Schema": json.dumps(schema),
                                             "DataPreProcessingConfiguration": {"TargetSamplingRate": rate}},
                          {"ModelName": "pump-model"})
    stub.activate()
    return client


def preview(req_or_location, s3, **kw) -> InputPreview:
    """Preview sample data of 2022: slots are judged up to the newest file unless a test gives ``now``."""
    kw.setdefault("progress", False)
    kw.setdefault("now", "newest")
    return preview_input(req_or_location, s3=s3, **kw)


def only(pv: InputPreview, code: str) -> Finding:
    found = pv.find(code)
    assert len(found) == 1, pv.findings
    return found[0]


# -- a healthy input -----------------------------------------------------------------------------------------------
def test_healthy_input_has_no_findings_and_full_tables(s3, bucket):
    keys = upload_healthy(s3, bucket)
    pv = preview(request(bucket, model_name="pump-model"), s3, client=lookout_stub())
    assert pv.findings == [] and pv.ok
    assert pv.keys.columns.tolist() == ["key", "size", "last_modified", "component", "time_local", "time_utc",
                                        "matches"]
    assert sorted(pv.keys["key"]) == sorted(keys) and pv.keys["matches"].all()
    assert str(pv.keys["last_modified"].dt.tz) == "UTC"
    row = pv.keys.set_index("key").loc[NAMING.key("pump", T0, PREFIX)]
    assert row["time_utc"] == T0 and row["time_local"] == pd.Timestamp("2022-03-30 16:30")
    assert pv.components == COMPONENTS and pv.columns["pump"] == ("Timestamp", "Sensor0", "Sensor1")
    assert pv.target_sampling_rate == "PT1M"
    assert pv.detected.timestamp_format == "yyyyMMddHHmmss" and pv.detected.delimiter == "_"
    assert set(pv.samples) == set(COMPONENTS)
    sample = pv.samples["pump"]
    assert sample["Timestamp"].iloc[0] == SLOTS[-1] + pd.Timedelta(minutes=1)  # the newest file was sampled
    assert sample["Sensor0"].dtype.kind == "f" and len(sample) == 5
    assert pv.sampled_keys["motor"] == NAMING.key("motor", SLOTS[-1], PREFIX)
    assert pv.list_calls == 1 and not pv.listing_truncated


def test_location_forms_detect_the_naming_and_infer_the_frequency(s3, bucket):
    upload_healthy(s3, bucket)
    for location in (f"s3://{bucket}/{PREFIX}", (bucket, PREFIX)):
        pv = preview(location, s3)
        assert pv.naming.timestamp_format == "yyyyMMddHHmmss" and pv.naming.delimiter == "_"
        assert pv.detected.components == tuple(sorted(COMPONENTS)) and pv.detected.share == 1.0
        assert pv.frequency == F
        # Without a request the offset is unknown: names are read as UTC and the UTC rows reveal +05:30.
        assert pv.codes == {"naming-detected", "offset-detected"} and pv.ok
        assert "InputTimeZoneOffset='+05:30'" in pv.find("offset-detected")[0].message


def test_detection_uses_schema_components_to_settle_the_delimiter(s3, bucket):
    # "pump-a-2022-03-30-11-00-00.csv" could be component "pump" with delimiter "-"... the schema settles it.
    naming = Naming("yyyy-MM-dd-HH-mm-ss", "-", "+00:00")
    for comp in ("pump-a", "pump-b"):
        put(s3, bucket, naming.key(comp, T0, PREFIX), csv_text(T0))
    schema = {"Components": [{"ComponentName": c, "Columns": SCHEMA["Components"][0]["Columns"]}
                             for c in ("pump-a", "pump-b")]}
    pv = preview(request(bucket, model_name="m", timestamp_format="yyyy-MM-dd-HH-mm-ss", delimiter="-",
                         timezone_offset="+00:00"), s3, client=lookout_stub(schema))
    assert pv.detected.components == ("pump-a", "pump-b")
    assert "unknown-component" not in pv.codes and "name-mismatch" not in pv.codes


def test_request_without_bucket_is_refused_naming_the_field(s3):
    from lookout_nb import RequestInvalid

    with pytest.raises(RequestInvalid, match=r"S3InputConfiguration.Bucket"):
        preview(request(None), s3)


def test_now_that_is_not_a_time_is_refused_naming_it_before_listing(s3, bucket):
    from lookout_nb import LookoutNbError

    upload_healthy(s3, bucket, slots=SLOTS[:2])
    listed = []
    s3.meta.events.register("before-send.s3.ListObjectsV2", lambda **kw: listed.append(1))
    try:
        with pytest.raises(LookoutNbError, match=r"now='not a time' is not a time") as info:
            preview(request(bucket), s3, now="not a time")
    finally:
        s3.meta.events.unregister("before-send.s3.ListObjectsV2")
    assert isinstance(info.value, ValueError) and listed == []


def test_late_files_without_a_request_are_information(s3, bucket):
    utc_names = Naming("yyyyMMddHHmmss", "_", "+00:00")
    for slot in SLOTS[:3]:  # uploaded a minute after each window: late when the delay is 0
        put(s3, bucket, utc_names.key("pump", slot, PREFIX), csv_text(slot), last_modified=slot + F + F / 5)
    f = only(preview(f"s3://{bucket}/{PREFIX}", s3), "late-files")
    assert f.level == "info" and "delay 0" in f.message


# -- S3 errors -----------------------------------------------------------------------------------------------------
def test_no_files(s3, bucket):
    pv = preview(request(bucket), s3)
    f = only(pv, "no-files")
    assert f.level == "error" and f"s3://{bucket}/in/" in f.message
    assert pv.keys.empty and not pv.ok


def test_bucket_not_found(s3):
    pv = preview(request("no-such-bucket-" + uuid.uuid4().hex[:8]), s3)
    assert [f.code for f in pv.findings] == ["bucket-not-found"]
    assert "Bucket" in pv.findings[0].message


def test_a_failed_listing_still_lists_the_most_severe_first(s3):
    pv = preview(request("no-such-bucket-" + uuid.uuid4().hex[:8], model_name="nope"), s3,
                 client=lookout_stub(error="ResourceNotFoundException"))
    assert [f.code for f in pv.findings] == ["bucket-not-found", "model-not-found"]
    assert "endpoint" not in pv.findings[0].message.replace("AWS_ENDPOINT_URL", "")  # AWS users have no endpoint


def test_files_modified_after_now_are_clock_skew_and_not_late(s3, bucket):
    upload_healthy(s3, bucket)  # each a minute after its window: the newest at 12:01
    pv = preview(request(bucket), s3, now=SLOTS[5])
    f = only(pv, "clock-skew")
    assert f.level == "info" and "was `now` given earlier than the uploads?" in f.message
    assert "simulated" not in f.message and "late-files" not in pv.codes


def test_access_denied(server, s3, bucket):
    iam = _client("iam", server)
    user = f"reader-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    upload_healthy(s3, bucket, slots=SLOTS[:1])
    from moto import settings

    denied = _client("s3", server, aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    with mock.patch.object(settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0):  # moto enforces IAM from now on
        pv = preview(request(bucket), denied)
    f = only(pv, "access-denied")
    assert f.level == "error" and "s3:ListBucket" in f.message


def test_unreachable_endpoint_is_a_finding():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends: nothing listens there
    pv = preview(request("some-bucket"), _client("s3", f"http://127.0.0.1:{port}"))
    f = only(pv, "s3-unreachable")
    assert f.level == "error" and "AWS_ENDPOINT_URL" in f.message


# -- names and slots -----------------------------------------------------------------------------------------------
def test_name_mismatch_offers_the_detected_naming(s3, bucket):
    other = Naming("yyyy-MM-dd-HH-mm-ss", "-", "+05:30")
    for slot in SLOTS[:3]:
        for comp in COMPONENTS:
            put(s3, bucket, other.key(comp, slot, PREFIX), csv_text(slot))
    pv = preview(request(bucket), s3)
    f = only(pv, "name-mismatch")
    assert f.level == "error" and len(f.keys) == 6
    assert "TimestampFormat='yyyy-MM-dd-HH-mm-ss'" in f.message and "ComponentTimestampDelimiter='-'" in f.message
    assert (pv.detected.timestamp_format, pv.detected.delimiter) == ("yyyy-MM-dd-HH-mm-ss", "-")
    assert not pv.keys["matches"].any()


def test_name_mismatch_for_stray_files_is_a_warning(s3, bucket):
    upload_healthy(s3, bucket)
    put(s3, bucket, PREFIX + "README.txt", "notes")
    pv = preview(request(bucket), s3)
    f = only(pv, "name-mismatch")
    assert f.level == "warning" and f.keys == (PREFIX + "README.txt",)
    assert pv.codes == {"name-mismatch"}


def test_unknown_component(s3, bucket):
    upload_healthy(s3, bucket)
    stray = NAMING.key("Pump", SLOTS[-1], PREFIX)
    put(s3, bucket, stray, csv_text(SLOTS[-1]), last_modified=SLOTS[-1] + F)
    pv = preview(request(bucket, model_name="pump-model"), s3, client=lookout_stub())
    f = only(pv, "unknown-component")
    assert f.keys == (stray,) and "'Pump'" in f.message and "case-sensitive" in f.message


def test_a_slot_without_its_own_file_is_a_warning_when_a_neighbouring_file_is_in_reach(s3, bucket):
    # The run of 11:25 searches names from 11:20 to 11:40 (local 16:50 .. 17:10): the motor file of 11:20 is there,
    # so the service runs it (match_files: ok); it FAILS only if that file holds no row of (11:25, 11:30].
    hole = SLOTS[5]
    upload_healthy(s3, bucket, skip={("motor", hole)})
    pv = preview(request(bucket), s3)
    f = only(pv, "missing-component")
    assert f.level == "warning" and f.keys == (NAMING.key("motor", hole, PREFIX),)
    assert "2022-03-30 11:25 UTC" in f.message and "'motor'" in f.message and "neighbouring" in f.message
    assert pv.ok and pv.match.ok


def test_missing_component_when_no_file_is_in_the_runs_search_range(s3, bucket):
    # No motor file for 11:20 .. 11:35. The run of 11:25 searches names from 11:20 to 11:40: nothing. Those of 11:30
    # and 11:35 reach the motor files of 11:40 and 11:45, but these arrive after the runs wake up.
    upload_healthy(s3, bucket, skip={("motor", s) for s in SLOTS[4:8]})
    pv = preview(request(bucket), s3)
    found = pv.find("missing-component")
    errors = [f for f in found if f.level == "error"]
    assert [f.keys for f in errors] == [(NAMING.key("motor", s, PREFIX),) for s in SLOTS[5:8]] and not pv.ok
    assert "2022-03-30 11:25 UTC lacks the files of 'motor'" in errors[0].message
    assert "its run FAILS" in errors[0].message and "when its run woke at 11:37 UTC" in errors[1].message
    assert pv.match.missing["reason"].tolist() == ["no file", "arrived late", "arrived late"]
    (named,) = [f for f in found if f.level == "warning"]  # the run of 11:20 reads the motor file of 11:15
    assert named.keys == (NAMING.key("motor", SLOTS[4], PREFIX),) and "neighbouring" in named.message


def test_missing_component_absent_everywhere_is_reported_once(s3, bucket):
    upload_healthy(s3, bucket, components=("pump",))
    pv = preview(request(bucket), s3, components=COMPONENTS)
    f = only(pv, "missing-component")
    assert "'motor' has no file in any of the 12 recent slots" in f.message
    assert len(f.keys) == 12


def test_gap_lists_recent_runs_that_find_no_file_at_all(s3, bucket):
    # Slots 11:15 .. 11:30 have no file: the run of 11:15 still reads the files of 11:10 (one slot before its
    # window); those of 11:20 .. 11:30 find nothing there when they wake (the files of 11:35 come later).
    upload_healthy(s3, bucket, skip={(c, s) for c in COMPONENTS for s in SLOTS[3:7]})
    pv = preview(request(bucket), s3)
    f = only(pv, "gap")
    assert "3 of the 12 recent slots" in f.message and "'2022-03-30 11:20 UTC', '2022-03-30 11:25 UTC'" in f.message
    assert [g.level for g in pv.find("missing-component")] == ["warning"]  # 11:15 and 11:30: no own file


def test_a_file_uploaded_after_its_run_woke_is_late_on_the_endpoint_clock(endpoint, lookout, unique_bucket):
    from lookout_nb.service.demo import demo

    s3 = endpoint.s3()
    req = demo_request(unique_bucket, "in/").replace(timezone_offset="+00:00", delay_offset_minutes=1)
    slots = pd.date_range("2026-01-05T09:00Z", periods=4, freq="5min")
    for slot in slots:  # on time: each slot's files land 30 s after the slot ends, before the 1-minute delay
        endpoint.clock.set(slot + pd.Timedelta(minutes=5, seconds=30))
        late = slot == slots[2]
        if late:
            endpoint.clock.advance(pd.Timedelta(minutes=3))  # ... except this one: 2.5 minutes after its run woke
        demo.write_input_files(s3, unique_bucket, "in/", demo.DEMO_COMPONENTS, slot, slot + pd.Timedelta(minutes=5),
                               naming=req.naming, create_bucket=False)
    endpoint.clock.set(slots[-1] + pd.Timedelta(minutes=6))
    pv = preview_input(req, s3=s3, client=lookout, progress=False, recent=4)
    f = only(pv, "late-files")
    assert f.message.startswith("2 of 8 recent files arrived after the run that reads them woke"), f.message
    assert "up to 2 min late" in f.message and "set DataDelayOffsetInMinutes to at least 4" in f.message
    assert sorted(f.keys) == sorted(req.naming.key(c, slots[2], "in/") for c in demo.DEMO_COMPONENTS)


def test_gap_names_the_folder_below_the_prefix_that_holds_the_files(endpoint, lookout):
    from lookout_nb.service.demo import demo

    endpoint.clock.advance(pd.Timedelta(minutes=10))
    req = SchedulerRequest.from_boto3(demo.scheduler_kwargs("preview-folder")).replace(input_prefix="inference/")
    pv = preview_input(req, s3=endpoint.s3(), client=lookout, progress=False)
    f = only(pv, "gap")
    assert "12 of the 12 recent slots" in f.message
    assert "'inference/input/', a folder below the prefix 'inference/'" in f.message
    assert "set the prefix to 'inference/input/'" in f.message


def test_gap_after_the_newest_file_when_now_is_given(s3, bucket):
    upload_healthy(s3, bucket)
    now = SLOTS[-1] + 4 * F + pd.Timedelta(minutes=3)  # three more runs have woken since the newest file's
    pv = preview(request(bucket), s3, now=now)
    assert pv.recent_slots[-1] == SLOTS[-1] + 3 * F
    # The first of them still reaches the newest file (one slot before its window); the other two find nothing.
    f = only(pv, "gap")
    assert "2 of the 12 recent slots" in f.message and "2022-03-30 12:05 UTC" in f.message
    assert only(pv, "missing-component").level == "warning"


def test_ten_minute_files_under_a_five_minute_request_agree_with_match_files(s3, bucket):
    from lookout_nb.contract.filematch import match_files
    from lookout_nb.contract.timing import plan_schedule

    ten = pd.Timedelta(minutes=10)
    for slot in [T0 + i * ten for i in range(6)]:  # one file per 10 minutes, rows (s, s + 10 min]
        for comp in COMPONENTS:
            put(s3, bucket, NAMING.key(comp, slot, PREFIX), csv_text(slot, rows=10),
                last_modified=slot + ten + pd.Timedelta(minutes=1))
    req = request(bucket, delay_offset_minutes=12)
    pv = preview(req, s3)
    assert "gap" not in pv.codes and pv.ok, pv.findings
    listing = pv.keys.rename(columns={"key": "Key", "last_modified": "LastModified"})
    plan = plan_schedule(req, start=pv.recent_slots[0], periods=len(pv.recent_slots))
    assert match_files(plan, listing, components=COMPONENTS).runs["ok"].all()  # the service runs every one
    f = only(pv, "missing-component")
    assert f.level == "warning" and "'PT10M'" in f.message  # no file named for 11:05, 11:15, ...: say so


def test_late_files_suggest_a_delay(s3, bucket):
    upload_healthy(s3, bucket)
    late = NAMING.key("pump", SLOTS[4], PREFIX)
    set_last_modified(bucket, late, SLOTS[4] + F + pd.Timedelta(minutes=9))  # the run woke at +2 min
    f = only(preview(request(bucket), s3), "late-files")
    assert f.level == "warning" and f.keys == (late,)
    assert "DataDelayOffsetInMinutes to at least 9" in f.message


def test_frequency_too_fine_for_the_sampling_rate(s3, bucket):
    upload_healthy(s3, bucket, slots=SLOTS[:2])
    pv = preview(request(bucket, model_name="pump-model"), s3, client=lookout_stub(rate="PT10M"))
    f = only(pv, "frequency-too-fine")
    assert f.level == "error" and "PT10M" in f.message and "PT30M" in f.message
    # The request's own rule (request.py) is the one reported, not a second copy of it.
    (problem,) = [p for p in request(bucket).problems(target_sampling_rate="PT10M") if p.field == "DataUploadFrequency"]
    assert f"DataUploadFrequency {problem.message}" in f.message


def test_frequency_too_fine_without_a_request_asks_a_request_with_the_files_step(s3, bucket):
    upload_healthy(s3, bucket, slots=SLOTS[:3])
    f = only(preview(f"s3://{bucket}/{PREFIX}", s3, target_sampling_rate="PT10M"), "frequency-too-fine")
    assert "every PT5M" in f.message and "DataUploadFrequency PT5M is finer" in f.message
    assert not preview(f"s3://{bucket}/{PREFIX}", s3, target_sampling_rate="PT5M").find("frequency-too-fine")


def test_inferred_frequency_follows_the_service_models_enum(s3, bucket, monkeypatch):
    from lookout_nb.contract import servicemodel

    utc_names = Naming("yyyyMMddHHmmss", "_", "+00:00")
    for i in range(4):
        slot = T0 + i * pd.Timedelta(minutes=2)
        put(s3, bucket, utc_names.key("pump", slot, PREFIX), csv_text(slot, rows=2))
    assert preview(f"s3://{bucket}/{PREFIX}", s3).frequency is None  # PT2M is no upload frequency of the API
    real = servicemodel.enum
    monkeypatch.setattr(servicemodel, "enum", lambda name: (*real(name), "PT2M") if name == "DataUploadFrequency"
                        else real(name))
    assert preview(f"s3://{bucket}/{PREFIX}", s3).frequency == pd.Timedelta(minutes=2)


def test_listing_truncated_at_max_keys(s3, bucket):
    upload_healthy(s3, bucket)  # 24 keys
    pv = preview(request(bucket), s3, max_keys=10)
    assert len(pv.keys) == 10 and pv.listing_truncated and pv.list_calls == 1
    f = only(pv, "listing-truncated")
    assert "max_keys" in f.message
    assert "gap" not in pv.codes and "missing-component" not in pv.codes  # not judged on a partial listing


def test_listing_paginates_beyond_one_page(s3, bucket):
    from moto.s3.models import s3_backends

    backend = s3_backends[ACCOUNT]["aws"]
    slots = [T0 + i * F for i in range(650)]
    for slot in slots:  # 1,300 keys straight into the backend (the server reads the same one)
        for comp in COMPONENTS:
            backend.put_object(bucket, NAMING.key(comp, slot, PREFIX), csv_text(slot).encode())
    pv = preview(request(bucket), s3)
    assert len(pv.keys) == 1300 and pv.list_calls == 2 and not pv.listing_truncated
    pv = preview(request(bucket), s3, max_keys=1100)
    assert len(pv.keys) == 1100 and pv.list_calls == 2 and pv.listing_truncated


# -- contents ------------------------------------------------------------------------------------------------------
def newest_pump(s3, bucket, text) -> str:
    """Healthy input whose newest pump file is replaced by ``text``; returns its key."""
    upload_healthy(s3, bucket)
    key = NAMING.key("pump", SLOTS[-1], PREFIX)
    put(s3, bucket, key, text, last_modified=SLOTS[-1] + F)
    return key


def test_rows_look_local(s3, bucket):
    key = newest_pump(s3, bucket, csv_text(SLOTS[-1] + pd.Timedelta(hours=5, minutes=30)))
    f = only(preview(request(bucket), s3), "rows-look-local")
    assert f.level == "error" and f.keys == (key,)
    assert "rows must be UTC" in f.message and "+05:30" in f.message


def first_fix(message: str) -> str:
    """The first thing a finding's message tells you to do (the sentence after the diagnosis)."""
    return message.split(". ", 1)[1]


def test_names_in_utc_ask_for_offset_zero_first_not_for_other_rows(s3, bucket):
    # Names carry UTC, rows are UTC, each file uploaded after its window, the scheduler says +05:30: the rows are
    # right, the offset is not.
    utc = Naming("yyyyMMddHHmmss", "_", "+00:00")
    for slot in SLOTS:
        for comp in COMPONENTS:
            uploaded = slot + F + pd.Timedelta(minutes=1)
            put(s3, bucket, utc.key(comp, slot, PREFIX), csv_text(slot), last_modified=uploaded)
    for pv in (preview(request(bucket), s3, now=SLOTS[-1] + 2 * F), preview(request(bucket), s3)):  # now / upload
        found = pv.find("names-look-utc")
        assert {f.keys for f in found} == {(utc.key(c, SLOTS[-1], PREFIX),) for c in COMPONENTS}, pv.findings
        assert "rows-look-local" not in pv.codes
        for f in found:
            assert f.level == "error" and "the rows (UTC) are right" in f.message
            assert first_fix(f.message).startswith("Set InputTimeZoneOffset to +00:00"), f.message


def test_rows_in_local_time_ask_for_utc_rows_only(s3, bucket):
    key = newest_pump(s3, bucket, csv_text(SLOTS[-1] + pd.Timedelta(hours=5, minutes=30)))
    f = only(preview(request(bucket), s3, now=SLOTS[-1] + 2 * F), "rows-look-local")
    assert f.keys == (key,) and first_fix(f.message) == "Write row timestamps in UTC", f.message
    assert "+00:00" not in f.message  # setting the offset to zero would break the names, which are right


def test_rows_and_names_one_offset_apart_offer_both_fixes_when_the_time_says_nothing(s3, bucket):
    # Uploaded a day later than either reading of its name: nothing tells which side is wrong.
    upload_healthy(s3, bucket)
    key = NAMING.key("pump", SLOTS[-1], PREFIX)
    rows = csv_text(SLOTS[-1] + pd.Timedelta(hours=5, minutes=30))
    put(s3, bucket, key, rows, last_modified=SLOTS[-1] + pd.Timedelta(days=1))
    f = only(preview(request(bucket), s3), "rows-look-local")
    assert "If the rows carry local time, write them in UTC; if the file names carry UTC, set InputTimeZoneOffset " \
           "to +00:00" in f.message


def test_rows_outside_window_fail_the_run(s3, bucket):
    key = newest_pump(s3, bucket, csv_text(SLOTS[-1] - pd.Timedelta(days=1)))
    f = only(preview(request(bucket), s3), "rows-outside-window")
    assert f.level == "error" and f.keys == (key,) and "FAILS" in f.message


def test_a_row_at_the_slot_start_belongs_to_the_previous_window(s3, bucket):
    # Windows are (start, end]: a file whose rows run [start, end) misses its last minute, and one whose only
    # row is at its slot start has nothing for its own run.
    key = newest_pump(s3, bucket, csv_text(SLOTS[-1] - pd.Timedelta(minutes=1), rows=1))
    f = only(preview(request(bucket), s3), "rows-outside-window")
    assert f.level == "error" and f.keys == (key,) and "(2022-03-30 11:55, 12:00] UTC" in f.message


def test_rows_partly_outside_the_search_range_are_a_warning(s3, bucket):
    newest_pump(s3, bucket, csv_text(SLOTS[-1], rows=20))  # 20 minutes of rows in a 5-minute file
    f = only(preview(request(bucket), s3), "rows-outside-window")
    assert f.level == "warning" and "never scored" in f.message


def test_missing_and_extra_columns(s3, bucket):
    key = newest_pump(s3, bucket, csv_text(SLOTS[-1], columns=("Sensor0", "Sensor9")))
    pv = preview(request(bucket, model_name="pump-model"), s3, client=lookout_stub())
    missing, extra = only(pv, "missing-columns"), only(pv, "extra-columns")
    assert missing.level == "error" and "lacks the column Sensor1 of the model's schema" in missing.message
    assert missing.keys == (key,)
    assert extra.level == "warning" and "columns the schema does not have: Sensor9" in extra.message


def test_not_numeric(s3, bucket):
    text = csv_text(SLOTS[-1]).replace("1.10", "high")
    newest_pump(s3, bucket, text)
    f = only(preview(request(bucket), s3), "not-numeric")
    assert "Sensor1" in f.message and "'high'" in f.message


def test_timestamp_unparseable(s3, bucket):
    text = csv_text(SLOTS[-1]).replace("2022-03-30T11:56:00.000000", "yesterday noon")
    newest_pump(s3, bucket, text)
    f = only(preview(request(bucket), s3), "timestamp-unparseable")
    assert "'yesterday noon'" in f.message and "1 of 5" in f.message


def test_empty_files(s3, bucket):
    upload_healthy(s3, bucket)
    zero, header = NAMING.key("pump", SLOTS[-1], PREFIX), NAMING.key("motor", SLOTS[-1], PREFIX)
    put(s3, bucket, zero, b"", last_modified=SLOTS[-1] + F)
    put(s3, bucket, header, "Timestamp,Sensor0,Sensor1\n", last_modified=SLOTS[-1] + F)
    pv = preview(request(bucket), s3)
    assert {k for f in pv.find("empty-file") for k in f.keys} == {zero, header}
    assert all(f.level == "error" for f in pv.find("empty-file"))


def test_csv_delimiter(s3, bucket):
    newest_pump(s3, bucket, csv_text(SLOTS[-1], sep=";"))
    pv = preview(request(bucket), s3)
    f = only(pv, "csv-delimiter")
    assert "';'" in f.message and "','" in f.message
    assert pv.samples["pump"].columns.tolist() == ["Timestamp", "Sensor0", "Sensor1", "file"]  # still read


def test_no_header_takes_the_schema_names(s3, bucket):
    newest_pump(s3, bucket, csv_text(SLOTS[-1], header=False))
    pv = preview(request(bucket, model_name="pump-model"), s3, client=lookout_stub())
    assert "Timestamp,Sensor0,Sensor1" in only(pv, "no-header").message
    assert pv.samples["pump"].columns.tolist() == ["Timestamp", "Sensor0", "Sensor1", "file"]


@pytest.mark.parametrize("text, reason", [
    (b"Timestamp,S1\n2022-03-30T11:01:00,1\n2022-03-30T11:02:00,1,7\n", "Expected 2 fields in line 3, saw 3"),
    (b'Timestamp,S1\n"2022-03-30T11:01:00,1\n', "EOF inside string"),
])
def test_malformed_csv_is_a_finding_and_the_rest_of_the_preview_stays(s3, bucket, text, reason):
    key = newest_pump(s3, bucket, text)
    put(s3, bucket, PREFIX + "notes.txt", "x")
    pv = preview(request(bucket), s3)
    f = only(pv, "csv-malformed")
    assert f.level == "error" and f.keys == (key,) and f"File {key} is not well-formed" in f.message
    assert reason in f.message
    assert "name-mismatch" in pv.codes  # the other findings are kept
    assert "pump" not in pv.samples and pv.sampled_keys["motor"] == NAMING.key("motor", SLOTS[-1], PREFIX)


def test_malformed_csv_keeps_the_findings_of_the_same_file(s3, bucket):
    newest_pump(s3, bucket, "Timestamp;S1\n2022-03-30T11:01:00;1\n2022-03-30T11:02:00;1;7\n")
    pv = preview(request(bucket), s3)
    assert {"csv-delimiter", "csv-malformed"} <= {f.code for f in pv.errors}


# -- the model -----------------------------------------------------------------------------------------------------
def test_model_not_found_is_a_warning_and_files_are_still_checked(s3, bucket):
    upload_healthy(s3, bucket)
    pv = preview(request(bucket, model_name="nope"), s3, client=lookout_stub(error="ResourceNotFoundException"))
    assert only(pv, "model-not-found").level == "warning"
    assert pv.components is None and set(pv.samples) == set(COMPONENTS)


def test_model_without_credentials_is_info(s3, bucket, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    upload_healthy(s3, bucket, slots=SLOTS[:2])
    pv = preview(request(bucket, model_name="pump-model"), s3, session=boto3.session.Session(region_name="us-east-1"))
    f = only(pv, "model-unavailable")
    assert f.level == "info" and "credentials" in f.message.lower()
    assert pv.ok


# -- sampling ------------------------------------------------------------------------------------------------------
def test_sampling_reads_at_most_sample_bytes_with_a_range_header(s3, bucket):
    big = csv_text(SLOTS[-1], rows=30_000, step="10ms")  # about 1 MiB
    assert len(big) > 1_000_000
    key = NAMING.key("pump", SLOTS[-1], PREFIX)
    put(s3, bucket, key, big, last_modified=SLOTS[-1] + F)
    ranges = []
    s3.meta.events.register("before-send.s3.GetObject", lambda request, **kw: ranges.append(request.headers["Range"]))
    try:
        pv = preview(request(bucket), s3, sample_bytes=4096)
    finally:
        s3.meta.events.unregister("before-send.s3.GetObject")
    assert ranges == [b"bytes=0-4095"] or ranges == ["bytes=0-4095"]
    assert 0 < pv.bytes_read <= 4096
    sample = pv.samples["pump"]
    assert 50 < len(sample) < 30_000
    full = pd.read_csv(io.StringIO(big)).head(len(sample))  # every sampled row is a whole row of the file
    assert (sample["Sensor1"].to_numpy() == full["Sensor1"].to_numpy()).all()
    assert (sample["Timestamp"] == pd.to_datetime(full["Timestamp"], utc=True)).all()
    assert "timestamp-unparseable" not in pv.codes and "not-numeric" not in pv.codes


def test_small_file_keeps_a_last_line_without_newline(s3, bucket):
    key = NAMING.key("pump", SLOTS[0], PREFIX)
    put(s3, bucket, key, csv_text(SLOTS[0]).rstrip("\n"), last_modified=SLOTS[0] + F)
    pv = preview(request(bucket), s3)
    assert len(pv.samples["pump"]) == 5 and pv.bytes_read == len(csv_text(SLOTS[0])) - 1


def test_complete_lines_drops_only_a_cut_line():
    body = b"Timestamp,S\n2022-03-30T11:01:00,1\n2022-03-30T11:02:00,2"
    assert complete_lines(body, size=len(body)).endswith(",2")
    assert complete_lines(body, size=len(body) + 10).endswith(",1\n")


# -- display -------------------------------------------------------------------------------------------------------
def test_html_shows_findings_by_level_and_samples(s3, bucket):
    newest_pump(s3, bucket, csv_text(SLOTS[-1] + pd.Timedelta(hours=5, minutes=30)))
    put(s3, bucket, PREFIX + "notes.txt", "x")
    pv = preview(request(bucket), s3)
    page = pv._repr_html_()
    assert "rows-look-local" in page and LEVELS_COLOUR["error"] in page  # errors in red
    assert "name-mismatch" in page and LEVELS_COLOUR["warning"] in page  # warnings in amber
    assert "will fail" in page and "sample of <code>pump</code>" in page and "<table" in page
    assert list(pv.by_level()) == ["error", "warning", "info"]
    levels = ["error", "warning", "info"]
    assert [f.level for f in pv.findings] == sorted((f.level for f in pv.findings), key=levels.index)


def test_every_code_is_documented():
    assert {"no-files", "bucket-not-found", "access-denied", "name-mismatch", "unknown-component",
            "missing-component", "rows-outside-window", "rows-look-local", "missing-columns", "extra-columns",
            "not-numeric", "timestamp-unparseable", "empty-file", "gap", "late-files",
            "frequency-too-fine"} <= set(CODES)
    with pytest.raises(ValueError):
        Finding("gap", "fatal", "no such level")


# -- on the embedded endpoint: DescribeModel for real, and the demo generator's deliberate mistakes -----------------
#: What each mistake of ``lookout_nb.service.demo.write_input_files`` must be reported as (names at +05:30).
DEMO_MISTAKES = {
    "wrong_delimiter": {"name-mismatch"},
    "utc_names": {"names-look-utc"},  # names UTC, rows UTC: rows sit 5h30 from the slot the names claim
    "local_time_rows": {"rows-look-local"},  # the same 5h30, but the names are right: the rows must move
    "missing_component": {"missing-component"},
    "missing_column": {"missing-columns"},
    "semicolon_csv": {"csv-delimiter"},
}


def demo_request(bucket, prefix):
    from lookout_nb.service.demo import demo

    req = SchedulerRequest.from_boto3(demo.scheduler_kwargs("preview-test"))
    return req.replace(input_bucket=bucket, input_prefix=prefix, timezone_offset="+05:30")


def test_embedded_demo_input_is_clean(endpoint, lookout):
    from lookout_nb.service.demo import demo

    req = SchedulerRequest.from_boto3(demo.scheduler_kwargs("preview-demo"))
    endpoint.clock.advance(pd.Timedelta(minutes=17))  # the feeder writes each file as its slot ends
    pv = preview_input(req, s3=endpoint.s3(), client=lookout, progress=False)  # judged on the endpoint's clock
    assert pv.now == endpoint.clock.now()
    assert pv.ok and not pv.findings, pv.findings
    assert set(pv.components) == set(demo.DEMO_COMPONENTS) and pv.target_sampling_rate == demo.DEMO_SAMPLING_RATE
    assert pv.columns["motor"][1:] == tuple(demo.DEMO_COMPONENTS["motor"])
    assert set(pv.samples) == set(demo.DEMO_COMPONENTS) and len(pv.recent_slots) == 12


def test_embedded_demo_mistakes_are_each_reported(endpoint, lookout):
    from lookout_nb.service.demo import demo

    s3, start = endpoint.s3(), endpoint.clock.now()
    bucket = f"preview-mistakes-{uuid.uuid4().hex[:8]}"
    naming = Naming("yyyyMMddHHmmss", "_", "+05:30")
    s3.create_bucket(Bucket=bucket)
    for slot in pd.date_range(start, periods=12, freq="5min"):  # each file uploaded as its slot ends: on time
        endpoint.clock.set(slot + pd.Timedelta(minutes=5))
        for mistake in (None, *DEMO_MISTAKES):
            demo.write_input_files(s3, bucket, f"{mistake or 'clean'}/", demo.DEMO_COMPONENTS, slot,
                                   slot + pd.Timedelta(minutes=5), naming=naming,
                                   mistakes=[mistake] if mistake else [], create_bucket=False)
    for mistake in (None, *DEMO_MISTAKES):
        prefix = f"{mistake or 'clean'}/"
        pv = preview_input(demo_request(bucket, prefix), s3=s3, client=lookout, progress=False)  # the endpoint's now
        errors = {f.code for f in pv.errors}
        if mistake is None:
            assert pv.now == endpoint.clock.now() and not pv.findings, pv.findings
        else:
            assert DEMO_MISTAKES[mistake] <= errors, (mistake, pv.findings)


def test_sample_rows_name_their_file_and_times_say_their_zone(endpoint, s3):
    from lookout_nb.service.demo import demo

    req = SchedulerRequest.from_boto3(demo.scheduler_kwargs("zones"))
    pv = preview_input(req, s3=s3, client=endpoint.lookout())
    for component, table in pv.samples.items():
        assert set(table["file"]) == {pv.sampled_keys[component].rsplit("/", 1)[-1]}
    summary = pv.component_summary()
    assert summary.columns.tolist() == ["component", "files", "first (UTC)", "last (UTC)"]
    assert sorted(summary["component"]) == sorted(demo.DEMO_COMPONENTS)
    shown = pv._repr_html_()
    assert "in UTC" in shown and "first (UTC)" in shown
