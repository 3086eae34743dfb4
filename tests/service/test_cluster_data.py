"""Serve processes on one PostgreSQL share what lives beyond the records (issue 22): a dataset ingested through one
process is trained on through another after the first was SIGKILLed (its data file is kept in the database), and a
retraining whose process is SIGKILLed mid-way is taken over, once, by a live process."""

from __future__ import annotations

import time
import uuid

import psycopg
from clusterkit import Serve, wait_for
from s3server import UserS3
from test_cluster import chain  # noqa: F401 - the fixture: the user's S3 credential chain
from test_external_s3 import fit, ingest, put_training_data

from lookout_nb.service.api.versions.retraining import HOLD_VARIABLE
from lookout_nb.service.http.control import RemoteClock

_CLAIMED_BY = ("SELECT c.name FROM claims c JOIN owners o ON o.id = c.owner WHERE c.kind = 'modelversion' "
               "AND o.url = %s")


def test_data_ingested_by_a_dead_process_is_trained_on_and_its_retraining_taken_over(pg_url, chain):  # noqa: F811
    with UserS3() as user:
        bucket = f"plant-{uuid.uuid4().hex[:8]}"
        put_training_data(user.client(), bucket)
        args = ["--clock", "manual", "--db", pg_url, "--s3-endpoint-url", user.url]
        with Serve(args) as a, Serve(args, env={HOLD_VARIABLE: "300"}) as b:
            ingest(a.lookout(), bucket, "plant")
            a.kill()  # its data folder, if it had one, is gone with it
            lb = b.lookout()
            fit(lb, bucket, "plant")  # reads the data a ingested, from the database
            lb.create_retraining_scheduler(ModelName="plant", RetrainingFrequency="P30D", LookbackWindow="P180D",
                                           PromoteMode="MANUAL")
            RemoteClock(b.url).advance("PT16H")  # past midnight: b starts the retraining, and holds it
            with psycopg.connect(pg_url, autocommit=True) as db:
                claimed = wait_for(lambda: db.execute(_CLAIMED_BY, (b.url,)).fetchall(), 30, "b retraining")
                assert claimed == [("plant/00000002",)]
                with Serve(args) as c:  # starts while b retrains: it must not cancel b's retraining
                    lc = c.lookout()
                    assert lc.describe_model_version(ModelName="plant", ModelVersion=2)["Status"] == "IN_PROGRESS"
                    killed = time.monotonic()
                    b.kill()
                    wait_for(lambda: db.execute(_CLAIMED_BY, (c.url,)).fetchall(), 30, "c taking the retraining over",
                             every=0.05)
                    taken = time.monotonic() - killed
                    version = wait_for(lambda: (v := lc.describe_model_version(ModelName="plant", ModelVersion=2))
                                       ["Status"] != "IN_PROGRESS" and v, 60, "the retraining ended")
                    ended = time.monotonic() - killed
                    assert version["Status"] == "SUCCESS", version.get("FailedReason")
                    assert version["SourceType"] == "RETRAINING"
                    assert [v["ModelVersion"] for v in
                            lc.list_model_versions(ModelName="plant")["ModelVersionSummaries"]] == [2, 1]
                    assert lc.describe_model(ModelName="plant")["LatestScheduledRetrainingStatus"] == "SUCCESS"
                    assert db.execute("SELECT count(*) FROM claims").fetchone()[0] == 0
                    c_log = c.stop()
    assert "trained again here" in c_log
    print(f"retraining taken over {taken:.1f} s after the SIGKILL, SUCCESS {ended:.1f} s after it")
