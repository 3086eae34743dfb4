"""Clocks: the manual clock's start, moves and refusals; the sped-up real clock runs schedulers by itself."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from lookout_nb.service import MANUAL_START, start
from lookout_nb.service.clock import ManualClock, RealClock, make_clock
from lookout_nb.service.demo import demo


def test_manual_clock_starts_at_a_fixed_round_time(endpoint):
    assert endpoint.clock.now() == MANUAL_START == pd.Timestamp("2026-01-05T09:00:00Z")
    assert endpoint.clock.now().tzinfo is not None


def test_manual_clock_moves_only_forward():
    clock = ManualClock()
    assert clock.advance(pd.Timedelta(minutes=7)) == pd.Timestamp("2026-01-05T09:07Z")
    assert clock.set("2026-01-05T10:00Z") == pd.Timestamp("2026-01-05T10:00Z")
    with pytest.raises(ValueError, match="cannot go back"):
        clock.set("2026-01-05T09:00Z")
    with pytest.raises(ValueError, match="cannot go back"):
        clock.advance(pd.Timedelta(minutes=-1))


def test_advance_returns_after_every_due_run_finished(endpoint, lookout):
    lookout.create_inference_scheduler(**demo.scheduler_kwargs("due"), ClientToken="due")
    endpoint.clock.advance(pd.Timedelta(minutes=20))
    runs = lookout.list_inference_executions(InferenceSchedulerName="due")["InferenceExecutionSummaries"]
    assert [r["Status"] for r in runs] == ["SUCCESS"] * 4  # none still IN_PROGRESS


def test_a_new_demo_endpoint_shows_input_up_to_its_clock(endpoint, s3):
    keys = {o["Key"] for o in
            s3.list_objects_v2(Bucket=demo.DEMO_BUCKET, Prefix=demo.DEMO_INPUT_PREFIX + "motor_")["Contents"]}
    assert max(keys) == "inference/input/motor_20260105085500.csv"  # the slot (08:55, 09:00] has ended at 09:00
    assert len(keys) == 24  # two hours of history
    endpoint.clock.advance(pd.Timedelta(minutes=9))
    keys = {o["Key"] for o in
            s3.list_objects_v2(Bucket=demo.DEMO_BUCKET, Prefix=demo.DEMO_INPUT_PREFIX + "motor_")["Contents"]}
    assert max(keys) == "inference/input/motor_20260105090000.csv"  # (09:05, 09:10] has not ended at 09:09


def test_feeder_writes_each_file_once_its_slot_has_ended(s3, unique_bucket):
    feeder = demo.Feeder(s3, "2026-01-05T09:00Z", bucket=unique_bucket, prefix="feed/")
    assert feeder.fire(pd.Timestamp("2026-01-05T09:04:59Z")) == []
    assert feeder.fire(pd.Timestamp("2026-01-05T09:05Z")) == ["feed/centrifugal-pump_20260105090000.csv",
                                                               "feed/motor_20260105090000.csv"]
    assert feeder.fire(pd.Timestamp("2026-01-05T09:06Z")) == []
    assert len(feeder.fire(pd.Timestamp("2026-01-05T09:20Z"))) == 6


def test_real_clock_cannot_be_moved_by_hand():
    clock = RealClock(speed=60)
    with pytest.raises(TypeError, match="manual"):
        clock.advance(pd.Timedelta(minutes=1))
    assert isinstance(make_clock(30.0), RealClock) and make_clock(30.0).speed == 30
    with pytest.raises(ValueError):
        make_clock("sundial")


def test_sped_up_clock_runs_schedulers_on_its_own():
    wall, t0 = pd.Timestamp.now(tz="UTC"), time.monotonic()
    with start(port=0, clock="real", speed=600, demo=True) as ep:  # ten simulated minutes per real second
        lookout = ep.lookout()
        now, elapsed = ep.clock.now(), time.monotonic() - t0  # it starts at the wall clock's time, then runs 600x
        assert wall <= now <= wall + pd.Timedelta(seconds=600 * elapsed + 1), (wall, now, elapsed)
        lookout.create_inference_scheduler(**demo.scheduler_kwargs("fast"), ClientToken="fast")
        deadline = time.monotonic() + 60  # a timeout for a slow machine, not a measurement
        runs = []
        while time.monotonic() < deadline and not runs:
            runs = lookout.list_inference_executions(InferenceSchedulerName="fast",
                                                     Status="SUCCESS")["InferenceExecutionSummaries"]
            time.sleep(0.1)
        assert runs, "no successful run appeared"
        first = runs[-1]
        assert pd.Timestamp(first["DataEndTime"]) - pd.Timestamp(first["DataStartTime"]) == pd.Timedelta(minutes=5)


def test_a_served_manual_clock_moves_over_http(endpoint, lookout):
    from lookout_nb.service import RemoteClock

    remote = RemoteClock(endpoint.url)
    assert remote.now() == endpoint.clock.now()
    lookout.create_inference_scheduler(**demo.scheduler_kwargs("remote"), ClientToken="remote")
    assert remote.advance("PT10M") == pd.Timestamp("2026-01-05T09:10Z")
    assert remote.advance(pd.Timedelta(minutes=5)) == pd.Timestamp("2026-01-05T09:15Z")
    assert len(lookout.list_inference_executions(InferenceSchedulerName="remote")["InferenceExecutionSummaries"]) == 3
    with pytest.raises(ValueError, match="cannot go back"):
        remote.set("2026-01-05T09:00Z")


def test_the_clock_still_moves_when_the_demo_bucket_is_gone(endpoint, s3, lookout):
    lookout.create_inference_scheduler(**demo.scheduler_kwargs("orphan"), ClientToken="orphan")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=demo.DEMO_BUCKET)["Contents"]]
    s3.delete_objects(Bucket=demo.DEMO_BUCKET, Delete={"Objects": [{"Key": k} for k in keys]})
    s3.delete_bucket(Bucket=demo.DEMO_BUCKET)
    endpoint.clock.advance(pd.Timedelta(minutes=5))
    [run] = lookout.list_inference_executions(InferenceSchedulerName="orphan")["InferenceExecutionSummaries"]
    assert run["Status"] == "FAILED" and "NoSuchBucket" in run["FailedReason"]


@pytest.mark.parametrize("move, argument", [
    (lambda c: c.advance(None), "delta"), (lambda c: c.advance("NaT"), "delta"), (lambda c: c.advance("soon"), "delta"),
    (lambda c: c.set(None), "when"), (lambda c: c.set("NaT"), "when"), (lambda c: c.set("noon-ish"), "when"),
])
def test_the_manual_clock_refuses_a_missing_time_naming_the_argument(move, argument):
    clock = ManualClock()
    with pytest.raises(ValueError, match=argument):
        move(clock)
    assert clock.now() == MANUAL_START
    with pytest.raises(ValueError, match="cannot go back"):  # and still refuses to go back afterwards
        clock.set(MANUAL_START - pd.Timedelta(minutes=1))


@pytest.mark.parametrize("order", [{"advance": None}, {"advance": "NaT"}, {"set": None}, {"set": "NaT"},
                                   {"set": "2026-01-05T08:00Z"}])
def test_the_served_clock_answers_400_to_a_missing_time_and_keeps_working(endpoint, order):
    import json
    import urllib.error
    import urllib.request

    url = endpoint.url + "/_lookout-nb/clock"
    request = urllib.request.Request(url, data=json.dumps(order).encode(), headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request)
    assert err.value.code == 400
    assert json.loads(err.value.read())["message"]
    with urllib.request.urlopen(url) as response:
        assert json.loads(response.read())["now"] == "2026-01-05T09:00:00.000000Z"


def test_a_remote_clock_with_nothing_answering_names_the_url():
    import socket

    from lookout_nb.contract.servicetime import ServiceTimeWarning
    from lookout_nb.errors import LookoutNbError
    from lookout_nb.service import RemoteClock

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    remote = RemoteClock(f"http://127.0.0.1:{port}")
    with pytest.raises(LookoutNbError, match=f"127.0.0.1:{port}"):
        remote.advance("PT5M")
    with pytest.warns(ServiceTimeWarning, match=f"127.0.0.1:{port}"):  # reading it falls back, with a note
        assert abs(remote.now() - pd.Timestamp.now(tz="UTC")) < pd.Timedelta(minutes=1)
