"""Faults of a served endpoint with a state_dir: kill -9, a second owner, a full disk, a corrupt state, clock jumps."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request

import crashkit
import pandas as pd
import pytest

from lookout_nb.errors import LookoutNbError
from lookout_nb.service import RemoteClock, start
from lookout_nb.service.cli import main
from lookout_nb.service.demo import demo
from lookout_nb.service.storage.s3util import list_keys


def test_kill_9_mid_activity_loses_nothing_acknowledged(tmp_path):
    table = crashkit.crash_and_count(tmp_path, seconds=4)
    print(crashkit.format_table(table))
    assert table["create"]["acknowledged"] > 0 and table["execution"]["acknowledged"] > 0
    assert {kind: row["lost"] for kind, row in table.items()} == dict.fromkeys(table, 0)


def test_a_second_endpoint_on_one_state_dir_is_refused_naming_the_first(tmp_path):
    with (start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep,
          pytest.raises(LookoutNbError, match=rf"in use .*process {os.getpid()}, serving {ep.url}")):
        start(port=0, clock="manual", demo=False, state_dir=tmp_path)
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path):  # free again once the first stopped
        pass


def test_a_second_serve_on_one_state_dir_exits_2_with_one_line(tmp_path):
    first, url = crashkit.serve(tmp_path, "--clock", "manual")
    try:
        env = {**os.environ, "PYTHONPATH": str(crashkit.ROOT)}
        second = subprocess.run(
            [sys.executable, "-m", "lookout_nb.service.cli", "serve", "--port", "0", "--state-dir", str(tmp_path)],
            capture_output=True, text=True, timeout=120, env=env,
        )
    finally:
        first.terminate()
        first.wait(timeout=60)
    lines = second.stderr.strip().splitlines()
    assert second.returncode == 2 and len(lines) == 1, second.stderr
    assert f"process {first.pid}" in lines[0] and url in lines[0]


class _Disk:
    """Opens state.db with :func:`sqlite3.connect`, whose commits fail while :attr:`full` is set, as SQLite
    reports a full disk (ENOSPC); other databases open as usual."""

    def __init__(self):
        self.full = False
        self._connect = sqlite3.connect

    def connect(self, path, *args, **kwargs):
        db = self._connect(path, *args, **kwargs)
        return _Connection(db, self) if os.path.basename(path) == "state.db" else db


class _Connection:
    def __init__(self, db, disk: _Disk):
        self.db, self.disk = db, disk

    def execute(self, sql, *args):
        if sql == "COMMIT" and self.disk.full:
            raise sqlite3.OperationalError("database or disk is full")
        return self.db.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self.db, name)


def test_a_full_disk_answers_500_naming_it_and_changes_nothing(tmp_path, monkeypatch):
    disk = _Disk()
    monkeypatch.setattr(sqlite3, "connect", disk.connect)
    with start(port=0, clock="manual", demo=True, state_dir=tmp_path) as ep:
        lookout = ep.lookout()
        lookout.create_inference_scheduler(**demo.scheduler_kwargs("kept"), ClientToken="kept")
        disk.full = True
        with pytest.raises(lookout.exceptions.InternalServerException, match="disk is full"):
            lookout.create_inference_scheduler(**demo.scheduler_kwargs("lost"), ClientToken="lost")
        with pytest.raises(lookout.exceptions.ResourceNotFoundException):
            lookout.describe_inference_scheduler(InferenceSchedulerName="lost")
        with pytest.raises(lookout.exceptions.InternalServerException, match="disk is full"):
            lookout.stop_inference_scheduler(InferenceSchedulerName="kept")
        assert lookout.describe_inference_scheduler(InferenceSchedulerName="kept")["Status"] == "PENDING"
        with pytest.raises(ValueError, match="disk is full"):
            RemoteClock(ep.url).advance("PT5M")
        disk.full = False  # space again: the run the failed move could not record is made now
        RemoteClock(ep.url).advance("PT5M")
        runs = lookout.list_inference_executions(InferenceSchedulerName="kept")["InferenceExecutionSummaries"]
        assert [(r["ScheduledStartTime"].strftime("%H:%M"), r["Status"]) for r in runs] == [
            ("09:10", "SUCCESS"), ("09:05", "SUCCESS")]
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        listed = ep.lookout().list_inference_schedulers()["InferenceSchedulerSummaries"]
        names = [s["InferenceSchedulerName"] for s in listed]
        assert names == ["kept"]
    assert not list(tmp_path.rglob("*.tmp"))


def _edit_scheduler(state_dir, name, **fields):
    db = sqlite3.connect(state_dir / "state.db")
    (doc,) = db.execute("SELECT doc FROM records WHERE kind = 'scheduler' AND name = ?", (name,)).fetchone()
    db.execute("UPDATE records SET doc = ? WHERE kind = 'scheduler' AND name = ?",
               (json.dumps({**json.loads(doc), **fields}), name))
    db.commit()
    db.close()


@pytest.mark.parametrize("field, value",
                         [("frequency", "PTX"), ("next_boundary", {"$ts": "soon"}), ("delay_minutes", -3)])
def test_a_hand_edited_value_breaks_one_scheduler_and_the_others_run(tmp_path, field, value):
    with start(port=0, clock="manual", demo=True, state_dir=tmp_path) as ep:
        for name in ("edited", "healthy"):
            ep.lookout().create_inference_scheduler(**demo.scheduler_kwargs(name), ClientToken=name)
    _edit_scheduler(tmp_path, "edited", **{field: value})
    with start(port=0, clock="manual", demo=True, state_dir=tmp_path) as ep:
        lookout = ep.lookout()
        with pytest.raises(lookout.exceptions.InternalServerException, match=f"edited.*{field}"):
            lookout.describe_inference_scheduler(InferenceSchedulerName="edited")
        RemoteClock(ep.url).advance("PT10M")
        runs = lookout.list_inference_executions(InferenceSchedulerName="healthy")["InferenceExecutionSummaries"]
        assert [r["Status"] for r in runs] == ["SUCCESS", "SUCCESS"]
        lookout.create_inference_scheduler(**demo.scheduler_kwargs("new"), ClientToken="new")


@pytest.mark.parametrize("damage", ["garbage", "directory"])
def test_an_unreadable_database_is_one_line_and_exit_2(tmp_path, capsys, damage):
    path = tmp_path / "state.db"
    if damage == "garbage":
        path.write_bytes(b"this is not a database" * 100)
    else:
        path.mkdir()
    assert main(["serve", "--port", "0", "--clock", "manual", "--state-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(path) in err and "Traceback" not in err
    assert not list(tmp_path.glob("*.tmp"))


def _post(url, body: bytes):
    request = urllib.request.Request(url + "/_lookout-nb/clock", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_a_clock_jump_makes_at_most_the_catch_up_runs_and_answers(endpoint, create, executions, monkeypatch):
    from lookout_nb.service.api import schedulers as backend

    monkeypatch.setattr(backend, "CATCH_UP", 20)  # the real limits (a day) work alike, only slower to test
    monkeypatch.setattr(demo, "FEED_WINDOW", 20)
    name = create()
    status, body = _post(endpoint.url, json.dumps({"set": "2027-01-05T09:00:00Z"}).encode())
    assert status == 200 and body["now"].startswith("2027-01-05T09:00:00")
    runs = executions(name)
    assert len(runs) == 20 and runs[-1]["ScheduledStartTime"] == pd.Timestamp("2027-01-05T09:00Z")
    assert all(r["Status"] == "SUCCESS" for r in runs)  # the feeder wrote the files these runs read
    assert body["skipped_runs"] == 365 * 288 - 20
    keys = list_keys(endpoint.s3(), demo.DEMO_BUCKET, demo.DEMO_INPUT_PREFIX)
    assert len(keys) <= (24 + 20) * len(demo.DEMO_COMPONENTS)  # 2 h of history + the window


@pytest.mark.parametrize(
    "body, named",
    [
        (b'{"set": "9999-12-31T00:00:00Z"}', "9999-12-31"),
        (b'{"advance": 1e15}', "advance=1000000000000000.0"),
        (b"[" * 50000, "nested"),  # deep, and within the clock's 64 KiB body limit (docs/security.md)
    ],
)
def test_clock_values_out_of_range_are_400_naming_them(endpoint, body, named):
    status, answer = _post(endpoint.url, body)
    assert status == 400 and named in answer["message"]


def test_a_deeply_nested_request_is_a_validation_error(endpoint):
    from lookout_nb.service.http.protocol import TARGET_PREFIX

    request = urllib.request.Request(
        endpoint.url, data=b'{"a": ' * 100000, headers={"X-Amz-Target": TARGET_PREFIX + "ListModels"}
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=60)
    assert err.value.code == 400 and json.loads(err.value.read())["__type"] == "ValidationException"


def test_a_sped_up_clock_resumes_from_its_saved_time(tmp_path):
    with start(port=0, clock=600.0, demo=False, state_dir=tmp_path) as ep:
        time.sleep(1.5)
        reached = ep.clock.now()
    with start(port=0, clock=600.0, demo=False, state_dir=tmp_path) as ep:
        assert ep.clock.now() >= reached


def test_a_really_full_disk_refuses_the_change_and_keeps_every_acknowledged_one(tiny_disk):
    state_dir = tiny_disk / "state"
    acknowledged = []
    with start(port=0, clock="manual", demo=False, state_dir=state_dir) as ep:
        ep.add_model("fan", {"fan": ["Speed"]}, "PT5M")
        lookout = ep.lookout()
        filler = tiny_disk / "filler"
        with open(filler, "wb") as fh:  # take every free block
            try:
                while True:
                    fh.write(b"\0" * 65536)
                    fh.flush()
            except OSError:
                pass
        refused = None
        for i in range(500):
            name = f"full-{i}"
            try:
                lookout.create_inference_scheduler(**demo.scheduler_kwargs(name, ModelName="fan"), ClientToken=name)
            except lookout.exceptions.InternalServerException as err:
                refused = (name, str(err))
                break
            acknowledged.append(name)
        assert refused is not None and "full" in refused[1], refused
        with pytest.raises(lookout.exceptions.ResourceNotFoundException):
            lookout.describe_inference_scheduler(InferenceSchedulerName=refused[0])
        filler.unlink()
    with start(port=0, clock="manual", demo=False, state_dir=state_dir) as ep:
        listed = ep.lookout().list_inference_schedulers(MaxResults=500)["InferenceSchedulerSummaries"]
        assert sorted(s["InferenceSchedulerName"] for s in listed) == sorted(acknowledged)
    assert not list(state_dir.rglob("*.tmp"))
