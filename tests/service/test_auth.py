"""An endpoint started with credentials: every S3, Lookout API and clock request must carry a valid SigV4 signature.

The guarded endpoint runs on the manual clock (2026-01-05) while clients sign with today's wall clock: the
signature's date is checked against the machine's wall clock, never the service clock, so that works.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import boto3
import pandas as pd
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from lookout_nb.contract import servicetime
from lookout_nb.errors import AccessDenied, InvalidArgument
from lookout_nb.service import RemoteClock, start
from lookout_nb.service.demo import demo

KEY, SECRET = "plant1", "5f2b-not-a-real-secret"


@pytest.fixture(scope="module")
def guarded():
    ep = start(port=0, clock="manual", demo=True, credentials=(KEY, SECRET))
    try:
        yield ep
    finally:
        ep.stop()


def client(ep, service, key=KEY, secret=SECRET, **config):
    """A boto3 client of another process (not one of the endpoint's own), no retries."""
    return boto3.client(service, endpoint_url=ep.url, region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}, **config))


def code_of(call) -> tuple[str, int]:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response
    return error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]


def post_clock(ep, body: bytes, headers=None):
    request = urllib.request.Request(ep.url + "/_lookout-nb/clock", data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


# -- the right credentials work everywhere ----------------------------------------------------------------------
def test_the_right_credentials_put_get_and_list_objects(guarded):
    s3 = client(guarded, "s3")
    s3.create_bucket(Bucket="guarded-objects")
    s3.put_object(Bucket="guarded-objects", Key="in/a b+c ü.csv", Body=b"Timestamp,x\n")
    assert s3.get_object(Bucket="guarded-objects", Key="in/a b+c ü.csv")["Body"].read() == b"Timestamp,x\n"
    listed = s3.list_objects_v2(Bucket="guarded-objects", Prefix="in/a b+")["Contents"]
    assert [o["Key"] for o in listed] == ["in/a b+c ü.csv"]


def test_the_right_credentials_create_and_describe_a_scheduler(guarded):
    lookout = client(guarded, "lookoutequipment")
    lookout.create_inference_scheduler(**demo.scheduler_kwargs("guarded-create"), ClientToken="guarded-create")
    assert lookout.describe_inference_scheduler(InferenceSchedulerName="guarded-create")["ModelName"] == "pump-demo"
    assert code_of(lambda: lookout.describe_model(ModelName="nope")) == ("ResourceNotFoundException", 400)


def test_the_demo_feeder_and_runner_run_with_credentials_on(guarded):
    lookout = client(guarded, "lookoutequipment")
    lookout.create_inference_scheduler(**demo.scheduler_kwargs("guarded-runs"), ClientToken="guarded-runs")
    start_time = guarded.clock.now()
    moved = RemoteClock(guarded.url, credentials=(KEY, SECRET)).advance("PT10M")
    assert moved == start_time + pd.Timedelta(minutes=10)
    runs = lookout.list_inference_executions(InferenceSchedulerName="guarded-runs")["InferenceExecutionSummaries"]
    assert runs and {r["Status"] for r in runs} == {"SUCCESS"}, runs
    newest = runs[0]["DataEndTime"]
    files = client(guarded, "s3").list_objects_v2(Bucket=demo.DEMO_BUCKET, Prefix=demo.DEMO_INPUT_PREFIX)["Contents"]
    assert max(o["LastModified"] for o in files) >= newest  # the feeder wrote the new slots' files


def test_a_presigned_url_works_until_it_expires_and_not_once_changed(guarded, monkeypatch):
    s3 = client(guarded, "s3", signature_version="s3v4")
    s3.create_bucket(Bucket="guarded-presigned")
    s3.put_object(Bucket="guarded-presigned", Key="r/results.jsonl", Body=b"{}\n")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "guarded-presigned", "Key": "r/results.jsonl"},
                                    ExpiresIn=600)
    assert urllib.request.urlopen(url).read() == b"{}\n"
    with pytest.raises(urllib.error.HTTPError) as changed:
        urllib.request.urlopen(url.replace("r/results.jsonl", "r/other.jsonl"))
    assert changed.value.code == 403 and b"<Code>SignatureDoesNotMatch</Code>" in changed.value.read()
    monkeypatch.setattr(guarded.gate.app.verifier, "wall", lambda: time.time() + 601)
    with pytest.raises(urllib.error.HTTPError) as expired:
        urllib.request.urlopen(url)
    assert expired.value.code == 403 and b"Request has expired" in expired.value.read()


def test_the_toolkit_reads_the_service_time_of_a_guarded_endpoint(guarded):
    assert servicetime.now(client(guarded, "lookoutequipment")) == guarded.clock.now()


# -- the wrong ones are refused, in each protocol's own form ---------------------------------------------------------
@pytest.mark.parametrize("key, secret, s3_code, lookout_code", [
    (KEY, "wrong-secret", "SignatureDoesNotMatch", "InvalidSignatureException"),
    ("someone-else", SECRET, "InvalidAccessKeyId", "UnrecognizedClientException"),
])
def test_a_wrong_secret_or_an_unknown_key_gets_403_from_both_services(guarded, key, secret, s3_code, lookout_code):
    assert code_of(lambda: client(guarded, "s3", key, secret).list_buckets()) == (s3_code, 403)
    s3 = client(guarded, "s3", key, secret)
    assert code_of(lambda: s3.put_object(Bucket=demo.DEMO_BUCKET, Key="x.csv", Body=b"x")) == (s3_code, 403)
    lookout = client(guarded, "lookoutequipment", key, secret)
    assert code_of(lambda: lookout.list_models()) == (lookout_code, 403)
    assert code_of(lambda: lookout.delete_inference_scheduler(InferenceSchedulerName="guarded-create")) == (
        lookout_code, 403)


def test_unsigned_requests_get_403_from_both_services_and_the_clock(guarded):
    assert code_of(lambda: client(guarded, "s3", signature_version=UNSIGNED).list_buckets()) == ("AccessDenied", 403)
    lookout = client(guarded, "lookoutequipment", signature_version=UNSIGNED)
    assert code_of(lambda: lookout.list_models()) == ("MissingAuthenticationTokenException", 403)
    before = guarded.clock.now()
    status, body = post_clock(guarded, b'{"advance": "PT5M"}')
    assert (status, body["__type"]) == (403, "MissingAuthenticationTokenException")
    assert guarded.clock.now() == before


def test_a_wrong_secret_or_unknown_key_cannot_read_or_move_the_clock(guarded):
    before = guarded.clock.now()
    for credentials, code in [((KEY, "wrong"), "InvalidSignatureException"),
                              (("nobody", SECRET), "UnrecognizedClientException")]:
        with pytest.raises(AccessDenied) as refused:
            RemoteClock(guarded.url, credentials=credentials).advance("PT5M")
        assert refused.value.code == code and "credentials" in str(refused.value)
        with pytest.raises(AccessDenied):
            RemoteClock(guarded.url, credentials=credentials).now()
    assert guarded.clock.now() == before


def tamper(client_, body: bytes):
    """Replace the body of the client's requests after they were signed."""
    def swap(request, **_):
        request.body = body
        request.headers["Content-Length"] = str(len(body))
    client_.meta.events.register("before-send", swap)


def test_a_body_changed_after_signing_is_refused_by_both_services_and_the_clock(guarded):
    lookout = client(guarded, "lookoutequipment")
    tamper(lookout, json.dumps({"ModelName": "other"}).encode())
    assert code_of(lambda: lookout.describe_model(ModelName="pump-demo")) == ("InvalidSignatureException", 403)
    s3 = client(guarded, "s3")
    tamper(s3, b"forged content")
    assert code_of(lambda: s3.put_object(Bucket=demo.DEMO_BUCKET, Key="t.csv", Body=b"signed content")) == (
        "XAmzContentSHA256Mismatch", 400)
    signed = RemoteClock(guarded.url, credentials=(KEY, SECRET))._signed(b'{"advance": "PT5M"}')
    before = guarded.clock.now()
    status, body = post_clock(guarded, b'{"advance": "PT500M"}', signed)
    assert (status, body["__type"], guarded.clock.now()) == (403, "InvalidSignatureException", before)


def test_a_signature_dated_beyond_15_minutes_of_the_wall_clock_is_refused(guarded, monkeypatch):
    verifier = guarded.gate.app.verifier
    monkeypatch.setattr(verifier, "wall", lambda: time.time() + 14 * 60)
    assert client(guarded, "lookoutequipment").list_models()["ModelSummaries"]
    monkeypatch.setattr(verifier, "wall", lambda: time.time() + 16 * 60)
    assert code_of(lambda: client(guarded, "s3").list_buckets()) == ("RequestTimeTooSkewed", 403)
    assert code_of(lambda: client(guarded, "lookoutequipment").list_models()) == ("InvalidSignatureException", 403)


def test_the_refusal_still_carries_the_service_time(guarded):
    """servicetime reads the time of a refusal too, so a wrong key shows the endpoint's clock, not the wall."""
    assert servicetime.now(client(guarded, "s3", "nobody", "x")) == guarded.clock.now()


# -- the endpoint's own clients and settings ------------------------------------------------------------------------
def test_own_clients_and_env_carry_the_credentials(guarded, monkeypatch):
    env = guarded.env()
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == (KEY, SECRET)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert "pump-demo" in [m["ModelName"] for m in boto3.client("lookoutequipment").list_models()["ModelSummaries"]]
    assert RemoteClock(guarded.url).now() == guarded.clock.now()  # boto3's usual credentials, from the environment
    assert guarded.s3().head_bucket(Bucket=demo.DEMO_BUCKET)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert guarded.remote_clock().now() == guarded.clock.now()


@pytest.mark.parametrize("bad", ["no-colon", ":secret", "key:", ("only-one",), 42, "a b:c"])
def test_unusable_credentials_are_refused_before_anything_starts(bad):
    with pytest.raises(InvalidArgument, match="credentials"):
        start(port=0, demo=False, credentials=bad)


def test_without_credentials_any_signature_is_accepted(endpoint):
    assert code_of(lambda: client(endpoint, "s3", "anyone", "anything").head_bucket(Bucket="absent-bucket"))[1] == 404
    assert client(endpoint, "lookoutequipment", "anyone", "anything").list_models()["ModelSummaries"]


def test_a_sigv2_signature_is_refused_naming_sigv4(guarded):
    s3 = client(guarded, "s3", signature_version="s3")
    with pytest.raises(ClientError) as caught:
        s3.list_buckets()
    error = caught.value.response["Error"]
    status = caught.value.response["ResponseMetadata"]["HTTPStatusCode"]
    assert (error["Code"], status) == ("AuthorizationHeaderMalformed", 400)
    assert "AWS4-HMAC-SHA256" in error["Message"]


def test_with_credentials_even_the_admin_routes_need_a_signature():
    with start(port=0, clock="manual", demo=False, admin=True, credentials=(KEY, SECRET)) as ep:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(ep.url + "/moto-api/data.json")
        assert refused.value.code == 403
        assert json.loads(refused.value.read())["__type"] == "MissingAuthenticationTokenException"
