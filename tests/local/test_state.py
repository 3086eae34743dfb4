"""A restart with ``state_dir`` keeps models, schedulers, executions, the manual clock and S3 objects."""

from __future__ import annotations

import pandas as pd
import pytest

from lookout_nb.local import demo, start


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
