"""A restart with ``state_dir`` keeps models, schedulers, executions, the manual clock and S3 objects (more on
objects in test_objects.py)."""

from __future__ import annotations

import json
import uuid

import pandas as pd
import pytest

from lookout_nb.errors import LookoutNbError
from lookout_nb.local import demo, start
from lookout_nb.local.objects import ObjectStore


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


def test_save_without_state_dir_says_how(endpoint):
    with pytest.raises(ValueError, match="state_dir"):
        endpoint.save()


def _saved_with_a_scheduler(state_dir):
    with start(port=0, clock="manual", demo=True, state_dir=state_dir) as ep:
        ep.lookout().create_inference_scheduler(**demo.scheduler_kwargs("kept"), ClientToken="kept")
        ep.clock.advance(pd.Timedelta(minutes=5))
    return (state_dir / "state.json").read_text()


def test_a_failed_start_leaves_the_saved_state_alone(tmp_path):
    _saved_with_a_scheduler(tmp_path)
    path = tmp_path / "state.json"
    data = json.loads(path.read_text())
    data["schedulers"]["us-east-1"][0]["colour"] = "blue"  # a field this version does not know
    path.write_text(json.dumps(data))
    broken = path.read_text()
    saved = ObjectStore(tmp_path).open()
    objects = saved.object_records(demo.DEMO_BUCKET)
    saved.close()
    with pytest.raises(LookoutNbError, match=r"state\.json") as err:
        start(port=0, clock="manual", demo=True, state_dir=tmp_path)
    assert str(tmp_path) in str(err.value)
    assert path.read_text() == broken  # not overwritten with an empty backend
    assert objects and ObjectStore(tmp_path).open().object_records(demo.DEMO_BUCKET) == objects


@pytest.mark.parametrize("text", ["{not json", "[]", '{"version": 99, "models": []}'])
def test_an_unreadable_state_file_is_an_error_naming_it(tmp_path, text):
    (tmp_path / "state.json").write_text(text)
    with pytest.raises(LookoutNbError, match=r"state\.json.*(move|fix)"):
        start(port=0, clock="manual", demo=False, state_dir=tmp_path)
    assert (tmp_path / "state.json").read_text() == text


def test_objects_whose_keys_are_also_folders_survive_a_restart(tmp_path):
    unique_bucket = f"folders-{uuid.uuid4().hex[:12]}"
    keys = {"in/": b"", "in/a.csv": b"a", "a": b"file", "a/b": b"below", "sp ace/%41?.csv": b"odd", "l/" + "x" * 600: b"long"}
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
    _saved_with_a_scheduler(tmp_path)
    path = tmp_path / "state.json"
    data = json.loads(path.read_text())
    [sched] = data["schedulers"]["us-east-1"]
    sched["active_from"] = {"$ts": "2026-01-05T09:00:00+00:00"}
    for ex in sched["executions"]:
        ex["rows"] = 5
    path.write_text(json.dumps(data))
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        runs = ep.lookout().list_inference_executions(InferenceSchedulerName="kept")["InferenceExecutionSummaries"]
        assert [r["Status"] for r in runs] == ["SUCCESS"]
