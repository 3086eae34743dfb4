"""Execution history lives in the store, not in memory (issue 20): the endpoint's memory does not grow with the
executions it keeps, ListInferenceExecutions pages stay stable while runs are added (in one process and across
serve processes), restarts and old states answer the same."""

from __future__ import annotations

import json
import sqlite3
import urllib.request
from pathlib import Path

import boto3
import crashkit
import pandas as pd
import pytest
from botocore.config import Config

import lookout_nb.service as local
from lookout_nb.service.api.backend import Backend
from lookout_nb.service.api.records import Execution, Scheduler
from lookout_nb.service.clock import ManualClock
from lookout_nb.service.demo import demo


def _pages(lookout, name, size=None, **filters) -> list[list[str]]:
    """Every page of ListInferenceExecutions of ``name``: ``[[DataStartTime 'HH:MM' of each run]]``."""
    pages, token = [], None
    while True:
        extra = {"MaxResults": size} if size else {}
        page = lookout.list_inference_executions(InferenceSchedulerName=name, **filters, **extra,
                                                 **({"NextToken": token} if token else {}))
        pages.append([_hhmm(e["DataStartTime"]) for e in page["InferenceExecutionSummaries"]])
        token = page.get("NextToken")
        if not token:
            return pages


def _hhmm(t) -> str:
    return pd.Timestamp(t).tz_convert("UTC").strftime("%d %H:%M")


def _failing_kwargs(name: str) -> dict:
    """A demo-model scheduler whose input prefix holds no file: each run FAILS at once (one execution, no results
    object: what grows is the history only)."""
    kwargs = demo.scheduler_kwargs(name)
    kwargs["DataInputConfiguration"]["S3InputConfiguration"]["Prefix"] = "nothing-here/"
    return kwargs


# -- memory ------------------------------------------------------------------------------------------------------
def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS:"))


def _advance(url: str, steps: int) -> None:
    for _ in range(steps):
        request = urllib.request.Request(url + "/_lookout-nb/clock", data=json.dumps({"advance": "PT5M"}).encode(),
                                         headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=600).read()


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the RSS from /proc (Linux)")
@pytest.mark.parametrize("mode", ["memory", "state_dir"])
def test_memory_does_not_grow_with_the_executions_kept(mode, tmp_path):
    """200 schedulers, 4,000 runs, then 20,000 more: RSS grows less than 12 MiB (about 30 MiB when each
    execution was kept in memory)."""
    proc, url = crashkit.serve(tmp_path if mode == "state_dir" else None, "--clock", "manual")
    try:
        lookout = boto3.client("lookoutequipment", endpoint_url=url, region_name="us-east-1",
                               aws_access_key_id="testing", aws_secret_access_key="testing",
                               config=Config(retries={"max_attempts": 1}, read_timeout=600))
        for i in range(200):
            lookout.create_inference_scheduler(**_failing_kwargs(f"grow-{i:03d}"), ClientToken=f"grow-{i}")
        _advance(url, 20)  # 4,000 runs: the endpoint warmed up
        early = _rss_mib(proc.pid)
        _advance(url, 100)  # 24,000 runs kept
        late = _rss_mib(proc.pid)
        assert len(_pages(lookout, "grow-000", size=100)) == 2  # 120 runs of each scheduler are kept and listed
        assert late - early < 12, f"RSS grew {late - early:.1f} MiB from 4,000 to 24,000 executions kept"
    finally:
        proc.kill()
        proc.wait()


# -- pages -------------------------------------------------------------------------------------------------------
def test_a_page_token_stays_valid_while_runs_are_added():
    with local.start(port=0, clock="manual", demo=True) as ep:
        lookout = ep.lookout()
        lookout.create_inference_scheduler(**demo.scheduler_kwargs("paged"), ClientToken="paged")
        ep.advance("1h")
        everything = _pages(lookout, "paged")[0]
        first = lookout.list_inference_executions(InferenceSchedulerName="paged", MaxResults=5)
        ep.advance("30min")  # six newer runs
        rest, token = [], first["NextToken"]
        while token:
            page = lookout.list_inference_executions(InferenceSchedulerName="paged", MaxResults=5, NextToken=token)
            rest += [_hhmm(e["DataStartTime"]) for e in page["InferenceExecutionSummaries"]]
            token = page.get("NextToken")
        assert [_hhmm(e["DataStartTime"]) for e in first["InferenceExecutionSummaries"]] + rest == everything
        assert len(everything) == 12
        assert len(_pages(lookout, "paged")[0]) == 18  # the newer runs are listed from the top
        lookout.create_inference_scheduler(**demo.scheduler_kwargs("other"), ClientToken="other")
        with pytest.raises(lookout.exceptions.ValidationException, match="NextToken"):  # not of another list
            lookout.list_inference_executions(InferenceSchedulerName="other", NextToken=first["NextToken"])


def test_pages_and_filters_answer_the_same_after_a_restart(tmp_path):
    filters = [{}, {"Status": "SUCCESS"}, {"DataStartTimeAfter": pd.Timestamp("2026-01-05T09:30Z"),
                                           "DataEndTimeBefore": pd.Timestamp("2026-01-05T10:40Z")}]
    with local.start(port=0, clock="manual", demo=True, state_dir=tmp_path) as ep:
        ep.lookout().create_inference_scheduler(**demo.scheduler_kwargs("kept"), ClientToken="kept")
        ep.advance("2h")
        before = [_pages(ep.lookout(), "kept", size=7, **f) for f in filters]
    with local.start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        assert [_pages(ep.lookout(), "kept", size=7, **f) for f in filters] == before
    assert [sum(len(page) for page in p) for p in before] == [24, 24, 14]
    assert before[2][0][0] == "05 10:35" and before[2][-1][-1] == "05 09:30"


def test_pages_hold_across_serve_processes(pg_url):
    with local.start(port=0, clock="manual", demo=True, db=pg_url) as a, \
            local.start(port=0, clock="manual", demo=True, db=pg_url) as b:
        a.lookout().create_inference_scheduler(**demo.scheduler_kwargs("shared"), ClientToken="shared")
        a.advance("1h")
        assert _pages(a.lookout(), "shared", size=5) == _pages(b.lookout(), "shared", size=5)
        first = a.lookout().list_inference_executions(InferenceSchedulerName="shared", MaxResults=5)
        b.advance("30min")  # runs made by the other process meanwhile
        after = a.lookout().list_inference_executions(InferenceSchedulerName="shared", MaxResults=5,
                                                      NextToken=first["NextToken"])
        assert [_hhmm(e["DataStartTime"]) for e in after["InferenceExecutionSummaries"]] == [
            "05 09:30", "05 09:25", "05 09:20", "05 09:15", "05 09:10"]
        assert _pages(a.lookout(), "shared") == _pages(b.lookout(), "shared")
        assert len(_pages(b.lookout(), "shared")[0]) == 18


# -- the store ---------------------------------------------------------------------------------------------------
def test_an_endpoint_without_state_dir_keeps_its_executions_in_a_temporary_store():
    with local.start(port=0, clock="manual", demo=True) as ep:
        ep.lookout().create_inference_scheduler(**demo.scheduler_kwargs("temp"), ClientToken="temp")
        ep.advance("15min")
        path = ep.backend.core.store.path
        with sqlite3.connect(path) as db:
            assert db.execute("SELECT count(*) FROM executions").fetchone()[0] == 3
    assert not path.exists()  # removed with the endpoint


def test_a_state_saved_before_executions_had_their_table_is_moved_to_it(tmp_path):
    with local.start(port=0, clock="manual", demo=True, state_dir=tmp_path) as ep:
        ep.lookout().create_inference_scheduler(**demo.scheduler_kwargs("old"), ClientToken="old")
        ep.advance("30min")
        before = _pages(ep.lookout(), "old", size=4)
    with sqlite3.connect(tmp_path / "state.db") as db:  # as version 1 saved it: executions among the records
        for region, uid, seq, doc in db.execute("SELECT region, uid, seq, doc FROM executions").fetchall():
            db.execute("INSERT INTO records VALUES ('execution', ?, ?, ?)", (region, f"{uid}/{seq:08d}", doc))
        db.execute("DROP TABLE executions")
        for name, text in db.execute("SELECT name, doc FROM records WHERE kind = 'scheduler'").fetchall():
            doc = json.loads(text)
            doc["pruned"] = doc.pop("made") - 6  # version 1 counted the executions it held, and those removed
            db.execute("UPDATE records SET doc = ? WHERE kind = 'scheduler' AND name = ?", (json.dumps(doc), name))
        db.execute("UPDATE meta SET value = '1' WHERE key = 'version'")
    with local.start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        assert ep.problems == []
        assert _pages(ep.lookout(), "old", size=4) == before
        ep.advance("5min")
        assert _pages(ep.lookout(), "old", size=4)[0][0] == "05 09:30"  # the numbering goes on
    with sqlite3.connect(tmp_path / "state.db") as db:
        assert db.execute("SELECT count(*) FROM records WHERE kind = 'execution'").fetchone()[0] == 0
        assert db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0] == "2"
        assert db.execute("SELECT count(*) FROM executions").fetchone()[0] == 7


def test_an_event_is_read_whole_when_the_interval_meets_its_end():
    """ListInferenceEvents reads only the runs around its interval, yet an event that began runs earlier comes
    back whole (its start and the mean of every row)."""
    backend = Backend(ManualClock())
    t0 = pd.Timestamp("2026-01-05T09:00Z")
    s = Scheduler("us-east-1", "ev", "abc123", "gone-model", "PT5M", 0, {}, {}, "role", None, "t", "", t0, t0,
                  state="RUNNING", changed_at=t0)
    backend.schedulers.schedulers["us-east-1"] = {"ev": s}
    with backend.core.lock, backend.core.change() as change:
        for seq in range(12):  # an anomaly on every minute of runs 2..5 (one event), and at 10:50 (another)
            start = t0 + pd.Timedelta(minutes=5 * seq)
            minutes = range(1, 6) if 2 <= seq <= 5 else (range(5, 6) if seq == 10 else ())
            rows = [[(start + pd.Timedelta(minutes=m)).isoformat(), {"a\\x": float(seq)}] for m in minutes]
            ex = Execution(start + pd.Timedelta(minutes=5), start, start + pd.Timedelta(minutes=5), {}, {},
                           status="SUCCESS", anomalies=rows)
            change.execution("us-east-1", s.uid, seq, ex)
    found = backend.list_events("us-east-1", {"InferenceSchedulerName": "ev",
                                              "IntervalStartTime": t0 + pd.Timedelta(minutes=29),
                                              "IntervalEndTime": t0 + pd.Timedelta(minutes=31)})
    [event] = found["InferenceEventSummaries"]
    assert (event["EventStartTime"], event["EventEndTime"]) == (t0 + pd.Timedelta(minutes=11),
                                                                t0 + pd.Timedelta(minutes=30))
    assert json.loads(event["Diagnostics"]) == [{"name": "a\\x", "value": 3.5}]
    backend.core.store.close()


def test_a_database_saved_before_executions_had_their_table_is_moved_to_it(pg_url):
    import psycopg

    with local.start(port=0, clock="manual", demo=True, db=pg_url) as ep:
        ep.lookout().create_inference_scheduler(**demo.scheduler_kwargs("old"), ClientToken="old")
        ep.advance("30min")
        before = _pages(ep.lookout(), "old", size=4)
    with psycopg.connect(pg_url, autocommit=True) as db:  # as version 1 saved it: executions among the records
        db.execute("INSERT INTO records SELECT 'execution', region, uid || '/' || lpad(seq::text, 8, '0'), doc "
                   "FROM executions")
        db.execute("DROP TABLE executions")
        db.execute("UPDATE meta SET value = '1' WHERE key = 'version'")
    with local.start(port=0, clock="manual", demo=False, db=pg_url) as ep:
        assert _pages(ep.lookout(), "old", size=4) == before
        ep.advance("5min")
        assert _pages(ep.lookout(), "old", size=4)[0][0] == "05 09:30"
    with psycopg.connect(pg_url, autocommit=True) as db:
        assert db.execute("SELECT count(*) FROM records WHERE kind = 'execution'").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM executions").fetchone()[0] == 7
