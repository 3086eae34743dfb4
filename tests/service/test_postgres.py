"""Several serve processes on one PostgreSQL database are one service (``--db postgresql://...``, issue 22).

Endpoints of this process stand for serve processes here (each has its own store connection, lock and clock);
the SIGKILL takeover runs real ``lookout-nb serve`` processes (test_serve_kill.py)."""

from __future__ import annotations

import time
import uuid

import pandas as pd
import pytest
from botocore.exceptions import ClientError

import lookout_nb.service as local
from lookout_nb.service.demo import demo
from lookout_nb.service.state.claims import Heartbeat
from lookout_nb.service.state.postgres import PgStore


def _starts(lookout, name):
    """``[(DataStartTime as a UTC Timestamp, Status)]`` of a scheduler's executions, oldest first."""
    found, token = [], None
    while True:
        page = lookout.list_inference_executions(InferenceSchedulerName=name, **({"NextToken": token} if token else {}))
        found += [(pd.Timestamp(e["DataStartTime"]).tz_convert("UTC"), e["Status"])
                  for e in page["InferenceExecutionSummaries"]]
        token = page.get("NextToken")
        if not token:
            return sorted(found)


def test_state_survives_a_restart_on_postgres(pg_url):
    with local.start(port=0, clock="manual", demo=True, db=pg_url) as ep:
        ep.lookout().create_inference_scheduler(**demo.scheduler_kwargs("kept"), ClientToken="t1")
        ep.advance("10min")
    with local.start(port=0, clock="manual", demo=True, db=pg_url) as again:
        lookout = again.lookout()
        assert again.clock.now() == pd.Timestamp("2026-01-05T09:10Z")
        assert lookout.describe_inference_scheduler(InferenceSchedulerName="kept")["Status"] == "RUNNING"
        assert sorted(s for _, s in _starts(lookout, "kept")) == ["SUCCESS", "SUCCESS"]


def test_two_processes_are_one_service(pg_url):
    with local.start(port=0, clock="manual", demo=True, db=pg_url) as a, \
            local.start(port=0, clock="manual", demo=True, db=pg_url) as b:
        la, lb = a.lookout(), b.lookout()
        created = la.create_inference_scheduler(**demo.scheduler_kwargs("one"), ClientToken="t1")
        assert lb.describe_inference_scheduler(InferenceSchedulerName="one")["InferenceSchedulerArn"] == \
            created["InferenceSchedulerArn"]
        # a retry with the same client token through the other process is the same call; another token conflicts
        again = lb.create_inference_scheduler(**demo.scheduler_kwargs("one"), ClientToken="t1")
        assert again["InferenceSchedulerArn"] == created["InferenceSchedulerArn"]
        with pytest.raises(ClientError, match="already exists"):
            lb.create_inference_scheduler(**demo.scheduler_kwargs("one"), ClientToken="t2")
        with pytest.raises(ClientError, match="ClientToken 't1' was already used"):
            lb.create_inference_scheduler(**demo.scheduler_kwargs("two"), ClientToken="t1")
        # the manual clock moves for both, whichever is told; each due run is made once
        a.advance("10min")
        assert b.clock.now() == pd.Timestamp("2026-01-05T09:10Z")
        b.advance("5min")
        assert a.clock.now() == pd.Timestamp("2026-01-05T09:15Z")
        starts = _starts(la, "one")
        assert starts == _starts(lb, "one")
        assert sorted(t for t, _ in starts) == [pd.Timestamp(f"2026-01-05T09:{m:02d}Z") for m in (0, 5, 10)]
        assert {s for _, s in starts} == {"SUCCESS"}
        lb.stop_inference_scheduler(InferenceSchedulerName="one")
        a.advance("1min")
        la.delete_inference_scheduler(InferenceSchedulerName="one")
        with pytest.raises(ClientError, match="does not exist"):
            lb.describe_inference_scheduler(InferenceSchedulerName="one")


def test_due_runs_are_claimed_once_by_two_running_clocks(pg_url):
    with local.start(port=0, clock=600.0, demo=True, db=pg_url) as a, \
            local.start(port=0, clock=600.0, demo=True, db=pg_url) as b:
        assert abs((a.clock.now() - b.clock.now()).total_seconds()) < 60  # one service time (600x: 0.1 s real)
        names = [f"both-{i}" for i in range(4)]
        for name in names:
            a.lookout().create_inference_scheduler(**demo.scheduler_kwargs(name), ClientToken=name)
        time.sleep(4)  # 40 service minutes: about 8 runs per scheduler, claimed by either process
    with local.start(port=0, clock="manual", demo=False, db=pg_url) as reader:
        for name in names:
            starts = sorted(t for t, s in _starts(reader.lookout(), name) if s != "IN_PROGRESS")
            assert len(starts) >= 4
            assert len(set(starts)) == len(starts), "a run was executed twice"
            assert starts == list(pd.date_range(starts[0], starts[-1], freq="5min")), "a run is missing"


def test_a_dead_process_s_runs_are_taken_over(pg_url, tmp_path):
    """A run claimed by a process whose heartbeat stopped is executed again, once, by a live one; the results the
    dead process wrote before it died are not written a second time (a versioned bucket keeps one version)."""
    with local.start(port=0, clock="manual", demo=True, db=pg_url) as a:
        lookout, s3, out = a.lookout(), a.s3(), f"taken-{uuid.uuid4().hex[:8]}"
        s3.create_bucket(Bucket=out)
        s3.put_bucket_versioning(Bucket=out, VersioningConfiguration={"Status": "Enabled"})
        output = {"S3OutputConfiguration": {"Bucket": out, "Prefix": "o/"}}
        lookout.create_inference_scheduler(**demo.scheduler_kwargs("taken", DataOutputConfiguration=output),
                                           ClientToken="t")
        dead = PgStore(pg_url)  # a process that claims the 09:05 run, then dies without a word
        b = local.start(port=0, clock="manual", demo=False, db=pg_url)
        b.takeover.stop()  # b beats no more
        b.backend.core.store.owner = dead.owner
        runs = b.backend.schedulers.claim_due(pd.Timestamp("2026-01-05T09:05Z"))
        a.feeder.fire(pd.Timestamp("2026-01-05T09:05Z"))  # the run's input files (a's clock has not moved)
        assert [r.boundary for r in runs] == [pd.Timestamp("2026-01-05T09:05Z")]
        assert _starts(lookout, "taken") == [(pd.Timestamp("2026-01-05T09:00Z"), "IN_PROGRESS")]
        written = b._execute(runs[0])  # it wrote the run's results, then died before it recorded the run's end
        key = written.result_object["Key"]
        assert len(s3.list_object_versions(Bucket=out, Prefix=key)["Versions"]) == 1
        dead._db.execute("UPDATE owners SET beat = now() - interval '1 hour' WHERE id = %s", (dead.owner,))
        taken = Heartbeat(a.store).take_over()
        assert taken == [("execution", "us-east-1", f"{runs[0].uid}/00000000")]
        assert Heartbeat(a.store).take_over() == []  # taken once
        a.takeover.resume(taken)
        assert _starts(lookout, "taken") == [(pd.Timestamp("2026-01-05T09:00Z"), "SUCCESS")]
        versions = s3.list_object_versions(Bucket=out, Prefix=key)["Versions"]
        assert len(versions) == 1, "the results were written twice"
        b.backend.schedulers.finish_all([(runs[0], {"status": "FAILED", "failed_reason": "late"})])  # too late
        assert _starts(lookout, "taken") == [(pd.Timestamp("2026-01-05T09:00Z"), "SUCCESS")]
        b.stop()
        dead.close()


def test_bad_database_url_is_refused_naming_it():
    with pytest.raises(Exception, match=r"cannot connect to the database postgresql://u:\*\*\*@127.0.0.1:1/x"):
        local.start(port=0, clock="manual", demo=False, db="postgresql://u:secret@127.0.0.1:1/x")


def test_changes_every_process_has_applied_are_forgotten(pg_url):
    import psycopg
    from clusterkit import wait_for

    with local.start(port=0, clock="manual", demo=True, db=pg_url) as a, \
            local.start(port=0, clock="manual", demo=True, db=pg_url) as b:
        a.lookout().create_inference_scheduler(**demo.scheduler_kwargs("forgotten"), ClientToken="t")
        a.advance("30min")
        with psycopg.connect(pg_url, autocommit=True) as db:
            count = lambda: db.execute("SELECT count(*) FROM changes").fetchone()[0]  # noqa: E731
            assert count() > 6

            def applied_by_both():
                for ep in (a, b):
                    ep.lookout().list_inference_schedulers()  # each applies the others' changes
                return count() == 0

            wait_for(applied_by_both, 20, "the changes forgotten", every=0.5)  # at the next heartbeats


def test_versions_retraining_schedulers_and_policies_are_one_service_s_too(pg_url):
    """The versions room's resources (issue 24) created through one process are seen by the other."""
    import json

    with local.start(port=0, clock="manual", demo=True, db=pg_url) as a, \
            local.start(port=0, clock="manual", demo=True, db=pg_url) as b:
        la, lb = a.lookout(), b.lookout()
        la.create_retraining_scheduler(ModelName=demo.DEMO_MODEL, RetrainingFrequency="P30D",
                                       LookbackWindow="P180D", PromoteMode="MANUAL")
        described = lb.describe_retraining_scheduler(ModelName=demo.DEMO_MODEL)
        assert (described["RetrainingFrequency"], described["PromoteMode"]) == ("P30D", "MANUAL")
        arn = la.describe_model(ModelName=demo.DEMO_MODEL)["ModelArn"]
        policy = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
             "Action": "lookoutequipment:ImportModelVersion", "Resource": arn}]})
        put = lb.put_resource_policy(ResourceArn=arn, ResourcePolicy=policy)
        assert la.describe_resource_policy(ResourceArn=arn)["PolicyRevisionId"] == put["PolicyRevisionId"]
        assert [v["ModelVersion"] for v in lb.list_model_versions(ModelName=demo.DEMO_MODEL)["ModelVersionSummaries"]] \
            == [v["ModelVersion"] for v in la.list_model_versions(ModelName=demo.DEMO_MODEL)["ModelVersionSummaries"]]
        lb.stop_retraining_scheduler(ModelName=demo.DEMO_MODEL)
        a.advance("1min")
        la.delete_retraining_scheduler(ModelName=demo.DEMO_MODEL)
        with pytest.raises(ClientError, match="has no retraining scheduler"):
            lb.describe_retraining_scheduler(ModelName=demo.DEMO_MODEL)


def test_a_data_file_in_the_database_is_streamed_whole_or_not_at_all(pg_url):
    """Data files kept in PostgreSQL (several chunk rows) read back as written; a write that fails leaves nothing,
    and a file removed while it is read is still read whole."""
    import numpy as np
    import psycopg

    from lookout_nb.contract.schema import ModelSchema
    from lookout_nb.service.state.pgfiles import CHUNK
    from lookout_nb.service.storage import datafiles

    store = PgStore(pg_url)
    try:
        files = store.files
        rows = 3 * CHUNK // 8 // 4  # about 3 MiB of float64 that zlib cannot shrink much
        index = pd.date_range("2026-01-01", periods=rows, freq="s", tz="UTC", name="Timestamp", unit="ns")
        frame = pd.DataFrame(np.random.default_rng(0).normal(size=(rows, 4)), index=index, columns=list("abcd"))
        schema = ModelSchema.parse({"pump": list("abcd")})
        with files.create("pump.npz") as out:
            datafiles.write(out, schema, {"pump": frame})
        with psycopg.connect(pg_url) as db:
            assert db.execute("SELECT count(*) FROM datachunks WHERE name = 'pump.npz'").fetchone()[0] >= 3
        stream = files.open("pump.npz")
        files.remove("pump.npz")  # e.g. the dataset ingested again meanwhile
        with stream:
            _, frames = datafiles.read(stream)
        pd.testing.assert_frame_equal(frames["pump"], frame, check_freq=False)
        assert not files.exists("pump.npz")
        with pytest.raises(RuntimeError, match="cut"), files.create("cut.npz") as out:
            out.write(b"x" * (CHUNK + 10))
            raise RuntimeError("cut")
        assert not files.exists("cut.npz")
        with pytest.raises(ValueError, match=r"its data file cut.npz in the database postgresql://.* is missing"):
            files.open("cut.npz")
    finally:
        store.close()


def test_an_ingestion_job_of_a_dead_process_is_taken_over(pg_url):
    """An ingestion job in progress in a process that died is run again, once, by a live one: the dataset gets its
    data instead of a job IN_PROGRESS for ever (which would also refuse every later ingestion of it)."""
    with local.start(port=0, clock="manual", demo=True, db=pg_url) as a:
        dead = PgStore(pg_url)
        b = local.start(port=0, clock="manual", demo=False, db=pg_url)
        b.takeover.stop()
        b.backend.core.store.owner = dead.owner
        b.backend.core.work.background = lambda *args, **kwargs: None  # b dies once the job is recorded IN_PROGRESS
        lb = b.lookout()
        lb.create_dataset(DatasetName="taken", ClientToken="d",
                          DatasetSchema={"InlineDataSchema": demo.ModelSchema.parse(demo.DEMO_COMPONENTS).to_json()})
        job = lb.start_data_ingestion_job(
            DatasetName="taken", RoleArn=demo.DEMO_ROLE_ARN, ClientToken="j", IngestionInputConfiguration={
                "S3InputConfiguration": {"Bucket": demo.DEMO_BUCKET, "Prefix": demo.DEMO_TRAINING_PREFIX}})
        lookout = a.lookout()
        assert lookout.describe_data_ingestion_job(JobId=job["JobId"])["Status"] == "IN_PROGRESS"
        dead._db.execute("UPDATE owners SET beat = now() - interval '1 hour' WHERE id = %s", (dead.owner,))
        taken = Heartbeat(a.store).take_over()
        assert taken == [("ingestion", "us-east-1", job["JobId"])]
        assert Heartbeat(a.store).take_over() == []
        a.takeover.resume(taken)
        from clusterkit import wait_for

        ended = wait_for(lambda: (d := lookout.describe_data_ingestion_job(JobId=job["JobId"]))["Status"] !=
                         "IN_PROGRESS" and d, 60, "the ingestion ended")
        assert ended["Status"] == "SUCCESS", ended.get("FailedReason")
        assert lookout.describe_dataset(DatasetName="taken")["Status"] == "ACTIVE"
        b.stop()
        dead.close()
