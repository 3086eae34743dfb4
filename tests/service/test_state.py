"""A restart with ``state_dir`` keeps models, schedulers, executions, the manual clock and S3 objects (more on
objects in test_objects.py)."""

from __future__ import annotations

import json
import sqlite3
import uuid

import pandas as pd
import pytest

from lookout_nb.service import start
from lookout_nb.service.demo import demo


def test_restart_keeps_everything(tmp_path):
    with start(port=0, clock="manual", demo=True, state_dir=tmp_path) as ep:
        lookout, s3 = ep.lookout(), ep.s3()
        arn = lookout.create_inference_scheduler(
            **demo.scheduler_kwargs("kept"), ClientToken="kept", Tags=[{"Key": "k", "Value": "v"}]
        )["InferenceSchedulerArn"]
        lookout.create_inference_scheduler(**demo.scheduler_kwargs("halted"), ClientToken="halted")
        lookout.stop_inference_scheduler(InferenceSchedulerName="halted")
        ep.clock.advance(pd.Timedelta(minutes=15))
        bucket = f"state-{tmp_path.name.lower().replace('_', '-')}"[:60]
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="notes/a.txt", Body=b"survives")
        before = lookout.list_inference_executions(InferenceSchedulerName="kept")["InferenceExecutionSummaries"]
        assert len(before) == 3
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        lookout, s3 = ep.lookout(), ep.s3()
        assert ep.clock.now() == pd.Timestamp("2026-01-05T09:15Z")
        d = lookout.describe_inference_scheduler(InferenceSchedulerName="kept")
        assert (d["InferenceSchedulerArn"], d["Status"]) == (arn, "RUNNING")
        assert lookout.describe_inference_scheduler(InferenceSchedulerName="halted")["Status"] == "STOPPED"
        after = lookout.list_inference_executions(InferenceSchedulerName="kept")["InferenceExecutionSummaries"]
        assert after == before
        assert lookout.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "k", "Value": "v"}]
        assert lookout.describe_model(ModelName=demo.DEMO_MODEL)["Status"] == "SUCCESS"
        assert s3.get_object(Bucket=bucket, Key="notes/a.txt")["Body"].read() == b"survives"
        # the idempotency token is remembered too
        again = lookout.create_inference_scheduler(
            **demo.scheduler_kwargs("kept"), ClientToken="kept", Tags=[{"Key": "k", "Value": "v"}]
        )
        assert again["InferenceSchedulerArn"] == arn
        # and the scheduler goes on from where it was
        ep.clock.advance(pd.Timedelta(minutes=5))
        runs = lookout.list_inference_executions(InferenceSchedulerName="kept")["InferenceExecutionSummaries"]
        assert [pd.Timestamp(r["ScheduledStartTime"]).tz_convert("UTC").strftime("%H:%M") for r in runs] == [
            "09:20", "09:15", "09:10", "09:05"]


def test_restored_objects_come_back_after_a_wipe(tmp_path):
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        s3 = ep.s3()
        s3.create_bucket(Bucket="wiped-bucket-state-test")
        s3.put_object(Bucket="wiped-bucket-state-test", Key="k.csv", Body=b"a,b\n")
    with start(port=0, clock="manual", demo=False) as ep:  # empty the bucket behind the state's back
        ep.s3().delete_object(Bucket="wiped-bucket-state-test", Key="k.csv")
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        assert ep.s3().get_object(Bucket="wiped-bucket-state-test", Key="k.csv")["Body"].read() == b"a,b\n"


def _kept_scheduler(state_dir):
    """A state_dir whose scheduler ``kept`` made one SUCCESS run."""
    with start(port=0, clock="manual", demo=True, state_dir=state_dir) as ep:
        ep.lookout().create_inference_scheduler(**demo.scheduler_kwargs("kept"), ClientToken="kept")
        ep.clock.advance(pd.Timedelta(minutes=5))


def _edit_records(state_dir, kind: str, edit) -> None:
    """``edit(doc)`` every saved record of ``kind`` in state.db, as a hand edit would."""
    if kind == "execution":  # executions have a table of their own
        with sqlite3.connect(state_dir / "state.db") as db:
            found = db.execute("SELECT region, uid, seq, doc FROM executions").fetchall()
            assert found, "no execution to edit"
            for region, uid, seq, text in found:
                doc = json.loads(text)
                edit(doc)
                db.execute("UPDATE executions SET doc=? WHERE region=? AND uid=? AND seq=?",
                           (json.dumps(doc), region, uid, seq))
        return
    with sqlite3.connect(state_dir / "state.db") as db:
        for name, text in db.execute("SELECT name, doc FROM records WHERE kind=?", (kind,)).fetchall():
            doc = json.loads(text)
            edit(doc)
            db.execute("UPDATE records SET doc=? WHERE kind=? AND name=?", (json.dumps(doc), kind, name))


def test_a_record_with_a_bad_field_breaks_that_scheduler_only(tmp_path):
    _kept_scheduler(tmp_path)
    _edit_records(tmp_path, "scheduler", lambda doc: doc.update(colour="blue"))  # a field this version lacks
    with start(port=0, clock="manual", demo=True, state_dir=tmp_path) as ep:
        lookout = ep.lookout()
        with pytest.raises(lookout.exceptions.InternalServerException, match=r"kept.*colour.*Delete"):
            lookout.describe_inference_scheduler(InferenceSchedulerName="kept")
        assert any("colour" in line for line in ep.status()["not_restored"])
        lookout.create_inference_scheduler(**demo.scheduler_kwargs("healthy"), ClientToken="healthy")
        ep.clock.advance(pd.Timedelta(minutes=5))
        runs = lookout.list_inference_executions(InferenceSchedulerName="healthy")["InferenceExecutionSummaries"]
        assert [r["Status"] for r in runs] == ["SUCCESS"]
        lookout.delete_inference_scheduler(InferenceSchedulerName="kept")  # how to get rid of it
        with pytest.raises(lookout.exceptions.ResourceNotFoundException):
            lookout.describe_inference_scheduler(InferenceSchedulerName="kept")


def test_objects_whose_keys_are_also_folders_survive_a_restart(tmp_path):
    unique_bucket = f"folders-{uuid.uuid4().hex[:12]}"
    keys = {"in/": b"", "in/a.csv": b"a", "a": b"file", "a/b": b"below", "sp ace/%41?.csv": b"odd",
            "l/" + "x" * 600: b"long"}
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        s3 = ep.s3()
        s3.create_bucket(Bucket=unique_bucket + "-s")
        for key, body in keys.items():
            s3.put_object(Bucket=unique_bucket + "-s", Key=key, Body=body)
    with start(port=0, clock="manual", demo=False) as ep:  # empty the bucket behind the state's back
        ep.s3().delete_objects(Bucket=unique_bucket + "-s", Delete={"Objects": [{"Key": k} for k in keys]})
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        s3 = ep.s3()
        assert {k: s3.get_object(Bucket=unique_bucket + "-s", Key=k)["Body"].read() for k in keys} == keys


def test_a_state_saved_with_retired_fields_still_loads(tmp_path):
    _kept_scheduler(tmp_path)
    _edit_records(tmp_path, "scheduler", lambda doc: doc.update(active_from={"$ts": "2026-01-05T09:00:00+00:00"}))
    _edit_records(tmp_path, "execution", lambda doc: doc.update(rows=5))
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        runs = ep.lookout().list_inference_executions(InferenceSchedulerName="kept")["InferenceExecutionSummaries"]
        assert [r["Status"] for r in runs] == ["SUCCESS"]


def test_a_run_cut_off_by_the_end_of_the_process_comes_back_failed_with_a_reason(tmp_path):
    with start(port=0, clock="manual", demo=True, state_dir=tmp_path) as ep:
        ep.lookout().create_inference_scheduler(**demo.scheduler_kwargs("cut"), ClientToken="cut")
        [_run] = ep.backend.schedulers.claim_due(ep.clock.now() + pd.Timedelta(minutes=5))  # claimed, never finished
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        [ex] = ep.lookout().list_inference_executions(InferenceSchedulerName="cut")["InferenceExecutionSummaries"]
        assert (ex["Status"], ex["FailedReason"]) == ("FAILED", "The endpoint stopped while this run was in progress")
