"""The service's time is the one "now": read from the service's responses, never backwards, wall clock only
as a named fallback."""

from __future__ import annotations

import warnings

import boto3
import pandas as pd
import pytest
from botocore.config import Config

import lookout_nb as lnb
from lookout_nb.contract import servicetime
from lookout_nb.contract.servicetime import ServiceTimeWarning


def test_the_embedded_endpoint_sends_its_clock_in_date_and_in_the_precise_header(endpoint, lookout, s3):
    endpoint.clock.advance(pd.Timedelta(minutes=7, seconds=30.25))
    for headers in (lookout.list_models()["ResponseMetadata"]["HTTPHeaders"],
                    s3.list_buckets()["ResponseMetadata"]["HTTPHeaders"]):
        assert headers["date"] == "Mon, 05 Jan 2026 09:07:30 GMT"
        assert headers["x-lookout-nb-now"] == "2026-01-05T09:07:30.250000Z"


def test_now_is_the_service_clock_for_lookout_and_s3_clients(endpoint, lookout, s3):
    endpoint.clock.advance(pd.Timedelta(hours=3))
    assert servicetime.now(lookout) == endpoint.clock.now() == servicetime.now(s3)
    assert lnb.service_now(lookout) == pd.Timestamp("2026-01-05T12:00:00Z")


def test_s3_last_modified_is_service_time(endpoint, s3, unique_bucket):
    endpoint.clock.advance(pd.Timedelta(minutes=42))
    s3.put_object(Bucket=unique_bucket, Key="in/a.csv", Body=b"Timestamp,x\n")
    listed = s3.list_objects_v2(Bucket=unique_bucket)["Contents"][0]["LastModified"]
    head = s3.head_object(Bucket=unique_bucket, Key="in/a.csv")["LastModified"]
    assert pd.Timestamp(listed) == pd.Timestamp(head) == pd.Timestamp("2026-01-05T09:42:00Z")


def test_only_the_endpoint_itself_may_stamp_an_object_with_a_past_time(endpoint, s3, unique_bucket):
    from lookout_nb.service.http.auth import OWN_HEADER
    from lookout_nb.service.storage.s3clock import STAMP_HEADER

    endpoint.clock.advance(pd.Timedelta(minutes=30))
    other = boto3.client("s3", endpoint_url=endpoint.url, region_name="us-east-1", aws_access_key_id="x",
                         aws_secret_access_key="x")  # another process's client: not one of the endpoint's own

    def forge(request, **kw):
        request.headers[STAMP_HEADER] = "2026-01-05T09:00:00+00:00"
        request.headers[OWN_HEADER] = "guess"

    other.meta.events.register("before-sign.s3.PutObject", forge)
    other.put_object(Bucket=unique_bucket, Key="forged.csv", Body=b"")
    assert pd.Timestamp(s3.head_object(Bucket=unique_bucket, Key="forged.csv")["LastModified"]) == endpoint.clock.now()


def test_demo_files_are_stamped_with_their_slot_end_so_they_are_on_time(endpoint, s3):
    from lookout_nb.service.demo import demo

    endpoint.clock.advance(pd.Timedelta(minutes=12))
    listed = s3.list_objects_v2(Bucket=demo.DEMO_BUCKET, Prefix=demo.DEMO_INPUT_PREFIX)["Contents"]
    naming = demo.DEMO_NAMING
    for obj in listed:
        _, slot = naming.parse(obj["Key"])
        assert pd.Timestamp(obj["LastModified"]) == slot + pd.Timedelta(minutes=5), obj["Key"]


def test_times_that_move_backwards_are_ignored():
    client = _StubClient(["Mon, 05 Jan 2026 09:10:00 GMT", "Mon, 05 Jan 2026 09:05:00 GMT",
                          "Mon, 05 Jan 2026 09:11:00 GMT"])
    assert [servicetime.now(client) for _ in range(3)] == [
        pd.Timestamp("2026-01-05T09:10Z"), pd.Timestamp("2026-01-05T09:10Z"), pd.Timestamp("2026-01-05T09:11Z")]


def test_a_service_without_date_falls_back_to_the_wall_clock_with_one_warning():
    client = _StubClient([None, None], url="http://no-date.invalid")
    before = pd.Timestamp.now(tz="UTC")
    with pytest.warns(ServiceTimeWarning, match=r"no-date.invalid gave no time.*this computer's clock"):
        first = servicetime.now(client)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        second = servicetime.now(client)  # the note is given once per endpoint
    assert before <= first <= second <= pd.Timestamp.now(tz="UTC")


def test_an_unreachable_service_falls_back_to_the_wall_clock_instead_of_raising():
    client = boto3.client("lookoutequipment", endpoint_url="http://127.0.0.1:9", region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="x",
                          config=Config(retries={"max_attempts": 1}, connect_timeout=1))
    with pytest.warns(ServiceTimeWarning, match=r"127.0.0.1:9 gave no time \(it could not be reached"):
        assert abs(servicetime.now(client) - pd.Timestamp.now(tz="UTC")) < pd.Timedelta(minutes=1)


def test_an_unreachable_clock_control_falls_back_with_a_note():
    from lookout_nb.service.http.control import RemoteClock

    with pytest.warns(ServiceTimeWarning, match=r"no lookout-nb endpoint answers"):
        assert abs(RemoteClock("http://127.0.0.1:9").now() - pd.Timestamp.now(tz="UTC")) < pd.Timedelta(minutes=1)


def test_next_runs_and_plot_default_to_the_service_clock(endpoint, lookout):
    import matplotlib

    matplotlib.use("Agg")
    from lookout_nb.service.demo import demo

    endpoint.clock.advance(pd.Timedelta(hours=5, minutes=2))
    req = lnb.SchedulerRequest.from_boto3(demo.scheduler_kwargs("t"))
    runs = lnb.next_runs(req, n=2, client=lookout)
    assert runs["wake_time"].iloc[0] == pd.Timestamp("2026-01-05T14:05Z") + req.delay
    ax = lnb.plot_schedule(runs, client=lookout)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "now (2026-01-05 14:02 UTC)" in legend


class _StubClient:
    """A client whose every response carries the next of ``dates`` as its Date header (None: no header)."""

    def __init__(self, dates, url="http://stub.invalid"):
        self._dates = iter(dates)
        self.meta = type("Meta", (), {"endpoint_url": url,
                                      "service_model": type("M", (), {"service_name": "lookoutequipment"})()})()

    def list_inference_schedulers(self, **kwargs):
        date = next(self._dates)
        return {"ResponseMetadata": {"HTTPHeaders": {} if date is None else {"date": date}}}


def test_no_module_reads_the_wall_clock_but_the_clocks_themselves():
    """Every "now" goes through servicetime (the toolkit) or the endpoint's clock (lookout_nb.service)."""
    import pathlib
    import re

    root = pathlib.Path(lnb.__file__).parent
    allowed = {"contract/servicetime.py", "service/clock.py", "service/storage/s3clock.py",
               "service/state/clockshare.py"}  # the clocks: the toolkit's, the endpoint's, S3 stamps, the shared origin
    wall = re.compile(r"Timestamp\.now\(|Timestamp\.utcnow\(|datetime\.now\(|datetime\.utcnow\(|\btime\.time\(\)")
    readers = [f"{path.relative_to(root)}:{n}" for path in sorted(root.rglob("*.py"))
               if path.relative_to(root).as_posix() not in allowed
               for n, line in enumerate(path.read_text().splitlines(), 1) if wall.search(line)]
    assert readers == []


def test_without_a_region_the_wizard_services_note_why_they_use_the_wall_clock(monkeypatch):
    from lookout_nb.wizard.backend import Services

    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    services = Services()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a note, not a warning
        at = services.now()
    assert abs(at - pd.Timestamp.now(tz="UTC")) < pd.Timedelta(minutes=1)
    assert services.time_notes and "no client could be made" in services.time_notes[0]
