"""The endpoint probed as an attacker would: each attack of the security review, refused or bounded.

Memory attacks run against an endpoint in its own process (``lookout-nb serve``) whose RSS is read from
/proc/PID/status; the rest against in-process endpoints. docs/security.md lists the limits these tests check.
"""

from __future__ import annotations

import hashlib
import json
import socket
import time

import boto3
import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from httpkit import address, answer_of, host_header, raw, request, rss_mib, served, status_field

from lookout_nb.service import start
from lookout_nb.service.http import limits
from lookout_nb.service.http.awschunked import SIGNED, ChunkSigner

KEY, SECRET = "plant1", "5f2b-not-a-real-secret"
TARGET = "AWSLookoutEquipmentFrontendService."
JSON_TYPE = "application/x-amz-json-1.0"


@pytest.fixture(scope="module")
def guarded():
    ep = start(port=0, clock="manual", demo=False, credentials=(KEY, SECRET))
    try:
        ep.s3().create_bucket(Bucket="vault")
        ep.s3().put_object(Bucket="vault", Key="k.csv", Body=b"a,b\n")
        yield ep
    finally:
        ep.stop()


@pytest.fixture(scope="module")
def open_ep():
    ep = start(port=0, clock="manual", demo=False)
    try:
        ep.s3().create_bucket(Bucket="open")
        yield ep
    finally:
        ep.stop()


def signed(ep, method, path, body=b"", headers=None, service="s3", region="us-east-1", signer=None):
    """The headers of a request signed with the guarded endpoint's key, as a client would make them."""
    request_ = AWSRequest(method, ep.url + path, data=body, headers=dict(headers or {}))
    signer = signer or (S3SigV4Auth if service == "s3" else SigV4Auth)
    signer(Credentials(KEY, SECRET), service, region).add_auth(request_)
    return dict(request_.headers.items())


def send(ep, method, path, headers, body=b"") -> tuple[int, bytes]:
    answer = raw(ep.url, request(ep.url, method, path, headers, body), method=method)
    return answer.status, answer.body


def label_groups(ep) -> list[str]:
    return [g["LabelGroupName"] for g in ep.lookout().list_label_groups()["LabelGroupSummaries"]]


def lookout_call(operation: str, members: dict) -> tuple[dict, bytes]:
    return {"X-Amz-Target": TARGET + operation, "Content-Type": JSON_TYPE}, json.dumps(members).encode()


# -- framing: ambiguous requests are refused (request smuggling behind a proxy) ---------------------------------

SMUGGLED = b"GET /open/smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@pytest.mark.parametrize("head", [
    "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",  # CL.TE
    "Content-Length: 5\r\nContent-Length: 50\r\n",  # two lengths
    "Content-Length: +5\r\n",
    "Content-Length: 0_5\r\n",
    "Content-Length: \u0665\r\n",  # ARABIC-INDIC DIGIT FIVE
    "Content-Length: 5\r\nX-Folded: a\r\n b\r\n",  # obs-fold
], ids=["cl-and-te", "two-lengths", "plus", "underscore", "non-ascii-digit", "obs-fold"])
def test_ambiguous_framing_is_refused_with_a_400(open_ep, head):
    data = f"PUT /open/k HTTP/1.1\r\nHost: {host_header(open_ep.url)}\r\n{head}\r\n".encode() + b"0\r\n\r\n" + SMUGGLED
    answer = raw(open_ep.url, data, method="PUT")
    assert answer.status == 400
    assert b"Werkzeug" not in answer.body


def test_transfer_encoding_on_http_1_0_is_refused(open_ep):
    data = (f"PUT /open/k HTTP/1.0\r\nHost: {host_header(open_ep.url)}\r\nTransfer-Encoding: chunked\r\n\r\n"
            .encode() + b"5\r\nhello\r\n0\r\n\r\n")
    assert raw(open_ep.url, data, method="PUT").status == 400


def test_a_chunk_size_of_twenty_hex_digits_is_refused_at_once(open_ep):
    data = request(open_ep.url, "PUT", "/open/k", {"Transfer-Encoding": "chunked"}) + b"FFFFFFFFFFFFFFFFFFFF\r\nabc"
    assert raw(open_ep.url, data, method="PUT").status == 400


# -- memory: a few bytes cannot make the server grow --------------------------------------------------------------

@pytest.fixture(scope="module")
def process():
    """An endpoint in its own process (its RSS and threads are its own): ``(url, pid)``."""
    with served() as (url, pid):
        s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x",
                          aws_secret_access_key="x", config=Config(s3={"addressing_style": "path"}))
        s3.create_bucket(Bucket="mem")
        yield url, pid, s3


def test_the_twenty_hex_digit_chunk_size_attack_leaves_rss_bounded(process):
    url, pid, _ = process
    before = rss_mib(pid)
    with socket.create_connection(address(url), timeout=30) as sock:  # the ~100-byte request, then keep sending
        sock.sendall(request(url, "PUT", "/mem/k", {"Transfer-Encoding": "chunked"}) + b"FFFFFFFFFFFFFFFFFFFF\r\n")
        try:
            for _ in range(64):
                sock.sendall(b"x" * 65536)
        except OSError:
            pass  # the server answered and closed the connection: what it should do
    time.sleep(1.0)
    assert rss_mib(pid) - before < 200


def test_a_five_byte_body_claiming_one_and_a_half_gigabytes_stores_nothing_big(process):
    url, pid, s3 = process
    before = rss_mib(pid)
    headers = {"x-amz-content-sha256": SIGNED, "X-Amz-Decoded-Content-Length": "1500000000",
               "Content-Encoding": "aws-chunked"}
    answer = raw(url, request(url, "PUT", "/mem/big", headers, b"0\r\n\r\n"), method="PUT")
    assert 400 <= answer.status < 500 and b"IncompleteBody" in answer.body
    assert rss_mib(pid) - before < 200
    with pytest.raises(ClientError):
        s3.head_object(Bucket="mem", Key="big")


def test_a_large_body_with_a_wrong_signature_is_not_held_in_memory():
    with served("--credentials", f"{KEY}:{SECRET}") as (url, pid):
        before = rss_mib(pid)
        now = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())  # a well-formed, current signature that is wrong
        headers = {"Authorization": f"AWS4-HMAC-SHA256 Credential={KEY}/{now[:8]}/us-east-1/s3/aws4_request, "
                                    f"SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={'0' * 64}",
                   "x-amz-date": now,
                   "x-amz-content-sha256": "0" * 64, "Content-Length": str(300 << 20)}
        with socket.create_connection(address(url), timeout=60) as sock:  # knows the key ID, not the secret
            sock.sendall(request(url, "PUT", "/any-bucket/k", headers))
            piece = b"x" * (1 << 20)
            for _ in range(300):
                sock.sendall(piece)
            answer = answer_of(sock, "PUT")
        assert answer.status in (400, 403)
        assert rss_mib(pid) - before < 200


def test_400_idle_connections_cost_no_thread_each_and_a_call_still_answers(process):
    url, pid, s3 = process
    idle = []
    try:
        for _ in range(400):
            sock = socket.create_connection(address(url), timeout=30)
            idle.append(sock)
        for sock in idle[:100]:  # some of them kept alive after a request, as a client's pool leaves them
            sock.sendall(request(url, "GET", "/mem", {}))
            answer_of(sock)
        threads = status_field(pid, "Threads")
        assert s3.list_objects_v2(Bucket="mem")["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert threads < 100
        assert status_field(pid, "Threads") < 100
    finally:
        for sock in idle:
            sock.close()


# -- limits applied before a body is read ------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "headers", "size"), [
    ("/", {"X-Amz-Target": TARGET + "ListModels"}, limits.JSON_BYTES + 1),
    ("/_lookout-nb/clock", {"Content-Type": "application/json"}, limits.CLOCK_BYTES + 1),
    ("/open", {}, limits.S3_OTHER_BYTES + 1),
], ids=["lookout-json", "clock", "s3-bucket-request"])
def test_a_body_over_its_routes_limit_is_refused_before_it_is_sent(open_ep, path, headers, size):
    head = request(open_ep.url, "POST", path, {**headers, "Content-Length": str(size)})
    answer = raw(open_ep.url, head, method="POST", timeout=10)  # no body sent: the answer must not wait for it
    assert answer.status == 413
    assert limits.describe(size - 1).encode() in answer.body


def test_a_head_not_finished_in_time_loses_its_connection():
    from lookout_nb.service.http.server import Server

    server = Server(lambda environ, start_response: [], port=0, header_seconds=1).start()
    try:
        with socket.create_connection(address(server.url), timeout=15) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")  # and never the rest
            assert sock.recv(100) == b""  # closed by the server (a timeout here would raise)
    finally:
        server.stop()


def test_connections_beyond_the_cap_wait_until_one_closes():
    from lookout_nb.service.http.server import Server

    def app(environ, start_response):
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    server = Server(app, port=0, connections=3).start()
    try:
        held = [socket.create_connection(address(server.url), timeout=10) for _ in range(3)]
        time.sleep(0.3)
        extra = socket.create_connection(address(server.url), timeout=2)
        extra.sendall(request(server.url, "GET", "/", {}))
        with pytest.raises(TimeoutError):
            extra.recv(100)  # over the cap: not served while three are open
        held.pop().close()
        extra.settimeout(15)
        assert answer_of(extra).status == 200
        extra.close()
        for sock in held:
            sock.close()
    finally:
        server.stop()


# -- signatures bind what they reach -----------------------------------------------------------------------------

def test_a_captured_s3_signature_replayed_with_a_lookout_target_creates_nothing(guarded):
    captured = signed(guarded, "GET", "/vault/k.csv")  # as a proxy log or a shared notebook would show it
    target, body = lookout_call("CreateLabelGroup", {"LabelGroupName": "forged", "ClientToken": "t1"})
    status, answer = send(guarded, "GET", "/vault/k.csv", {**captured, **target}, body)
    assert status in (400, 403)
    assert b"InvalidSignatureException" in answer
    assert "forged" not in label_groups(guarded)


def test_the_lookout_api_verifies_the_body_it_runs(guarded):
    target, body = lookout_call("CreateLabelGroup", {"LabelGroupName": "innocent", "ClientToken": "t2"})
    headers = signed(guarded, "POST", "/", body, {**target, "x-amz-content-sha256": hashlib.sha256(body).hexdigest()},
                     service="lookoutequipment")
    _, other = lookout_call("CreateLabelGroup", {"LabelGroupName": "swapped", "ClientToken": "t2"})
    status, _ = send(guarded, "POST", "/", headers, other)
    assert status == 403
    assert "swapped" not in label_groups(guarded)


@pytest.mark.parametrize(("service", "route"), [("ec2", "s3"), ("lookoutequipment", "s3"), ("s3", "lookout"),
                                                ("lookoutequipment", "clock")])
def test_the_credential_scope_must_name_the_api_reached(guarded, service, route):
    if route == "s3":
        status, _ = send(guarded, "GET", "/vault/k.csv", signed(guarded, "GET", "/vault/k.csv", service=service,
                                                                 signer=S3SigV4Auth))
    elif route == "lookout":
        target, body = lookout_call("ListModels", {})
        status, _ = send(guarded, "POST", "/", signed(guarded, "POST", "/", body, target, service=service,
                                                      signer=SigV4Auth), body)
    else:
        body = b'{"advance": "PT5M"}'
        headers = signed(guarded, "POST", "/_lookout-nb/clock", body, {"Content-Type": "application/json"},
                         service=service, signer=SigV4Auth)
        status, _ = send(guarded, "POST", "/_lookout-nb/clock", headers, body)
    assert status in (400, 403)


def test_an_s3_request_must_send_its_content_hash(guarded):
    headers = signed(guarded, "GET", "/vault/k.csv", service="s3", signer=SigV4Auth)  # no x-amz-content-sha256
    status, body = send(guarded, "GET", "/vault/k.csv", headers)
    assert status == 400 and b"x-amz-content-sha256" in body


def test_a_region_that_is_no_region_is_refused(guarded):
    headers = signed(guarded, "GET", "/vault/k.csv", region="not a region")
    assert send(guarded, "GET", "/vault/k.csv", headers)[0] == 400


def test_presigned_urls_work_for_s3_only(guarded):
    s3 = boto3.client("s3", endpoint_url=guarded.url, region_name="us-east-1", aws_access_key_id=KEY,
                      aws_secret_access_key=SECRET, config=Config(signature_version="s3v4"))
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "vault", "Key": "k.csv"})
    path = url[len(guarded.url):]
    assert send(guarded, "GET", path, {})[0] == 200
    target, _ = lookout_call("ListLabelGroups", {})
    presign = AWSRequest("POST", guarded.url + "/", data=b"", headers=target)  # a link that lists, for anyone
    SigV4QueryAuth(Credentials(KEY, SECRET), "lookoutequipment", "us-east-1", expires=300).add_auth(presign)
    status, answer = send(guarded, "POST", presign.url[len(guarded.url):], target)
    assert status == 403 and b"LabelGroupSummaries" not in answer


def _streaming_put(ep, path: str, chunks: list[bytes]) -> tuple[dict, list[str]]:
    """A signed STREAMING-AWS4-HMAC-SHA256-PAYLOAD upload: its headers and the chunk signatures, as AWS defines them."""
    total = sum(len(c) for c in chunks)
    headers = signed(ep, "PUT", path, b"", {"x-amz-content-sha256": SIGNED, "x-amz-decoded-content-length": str(total),
                                            "Content-Encoding": "aws-chunked"}, signer=SigV4Auth)
    authorization = headers["Authorization"]
    seed = authorization.rpartition("Signature=")[2]
    amz_date = headers["X-Amz-Date"]
    key = ("AWS4" + SECRET).encode()
    import hmac

    for part in (amz_date[:8], "us-east-1", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signer = ChunkSigner(key, amz_date, f"{amz_date[:8]}/us-east-1/s3/aws4_request", seed)
    signatures, previous = [], seed
    for chunk in [*chunks, b""]:
        previous = signer.chunk(previous, hashlib.sha256(chunk).hexdigest())
        signatures.append(previous)
    return headers, signatures


def _framed(chunks: list[bytes], signatures: list[str]) -> bytes:
    return b"".join(b"%x;chunk-signature=%s\r\n%s\r\n" % (len(c), s.encode(), c)
                    for c, s in zip([*chunks, b""], signatures))


def test_streaming_uploads_are_stored_and_their_chunk_signatures_bind_the_body(guarded):
    chunks = [b"a" * 70_000, b"b" * 1000]
    headers, signatures = _streaming_put(guarded, "/vault/streamed", chunks)
    assert send(guarded, "PUT", "/vault/streamed", headers, _framed(chunks, signatures))[0] == 200
    s3 = guarded.s3()
    assert s3.get_object(Bucket="vault", Key="streamed")["Body"].read() == b"".join(chunks)
    forged = [b"c" * 70_000, b"d" * 1000]  # the same request replayed with another body of the same size
    status, answer = send(guarded, "PUT", "/vault/streamed", headers, _framed(forged, signatures))
    assert status == 403 and b"SignatureDoesNotMatch" in answer
    assert s3.get_object(Bucket="vault", Key="streamed")["Body"].read() == b"".join(chunks)


def test_chunk_signatures_follow_the_aws_documentation_example():
    # https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html (example: 64 KiB + 1 KiB of "a")
    import hmac

    key = b"AWS4wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    for part in ("20130524", "us-east-1", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signer = ChunkSigner(key, "20130524T000000Z", "20130524/us-east-1/s3/aws4_request")
    first = signer.chunk("4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
                         hashlib.sha256(b"a" * 65536).hexdigest())
    second = signer.chunk(first, hashlib.sha256(b"a" * 1024).hexdigest())
    assert first == "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
    assert second == "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
    assert signer.chunk(second, hashlib.sha256(b"").hexdigest()) == (
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9")


# -- no way in from a web page -----------------------------------------------------------------------------------

def test_another_origin_gets_no_cors_grant_and_is_refused(open_ep):
    status, _ = send(open_ep, "GET", "/open", {"Origin": "http://evil.example"})
    answer = raw(open_ep.url, request(open_ep.url, "GET", "/open", {"Origin": "http://evil.example"}))
    assert status == 403 and "access-control-allow-origin" not in answer.headers


def test_a_preflight_from_another_origin_is_refused_cleanly(open_ep):
    answer = raw(open_ep.url, request(open_ep.url, "OPTIONS", "/open/k", {
        "Origin": "http://evil.example", "Access-Control-Request-Method": "PUT"}), method="OPTIONS")
    assert answer.status == 403 and "access-control-allow-origin" not in answer.headers


def test_a_configured_origin_gets_its_cors_grant():
    page = "http://localhost:8888"
    with start(port=0, clock="manual", demo=False, cors_origin=page) as ep:
        preflight = raw(ep.url, request(ep.url, "OPTIONS", "/b/k", {
            "Origin": page, "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type"}), method="OPTIONS")
        assert preflight.status == 200 and preflight.headers["access-control-allow-origin"] == page
        answer = raw(ep.url, request(ep.url, "GET", "/", {"Origin": page}))
        assert answer.status == 200 and answer.headers["access-control-allow-origin"] == page


def test_a_text_plain_post_cannot_move_the_clock(open_ep):
    before = open_ep.clock.now()
    status, _ = send(open_ep, "POST", "/_lookout-nb/clock", {"Content-Type": "text/plain"}, b'{"advance": "P30D"}')
    assert status == 415 and open_ep.clock.now() == before
    status, _ = send(open_ep, "POST", "/_lookout-nb/clock", {"Content-Type": "application/json",
                                                             "Origin": "http://evil.example"}, b'{"advance": "P30D"}')
    assert status == 403 and open_ep.clock.now() == before


@pytest.mark.parametrize("path", ["/open", "/", "/_lookout-nb/clock"])
def test_a_foreign_host_is_refused(open_ep, path):
    headers = {"Host": "rebound.evil.example:80"}
    if path == "/":
        headers.update(lookout_call("ListModels", {})[0])
    assert send(open_ep, "POST" if path == "/" else "GET", path, headers, b"{}" if path == "/" else b"")[0] == 403


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.9.9.9", "[::1]", "LocalHost"])
def test_loopback_names_are_served(open_ep, host):
    port = address(open_ep.url)[1]
    assert send(open_ep, "GET", "/open", {"Host": f"{host}:{port}"})[0] == 200


# -- smaller ones ------------------------------------------------------------------------------------------------

def test_an_empty_target_is_an_unknown_operation_not_a_500(open_ep):
    status, body = send(open_ep, "POST", "/", {"X-Amz-Target": "", "Content-Type": JSON_TYPE}, b"{}")
    assert status == 400 and json.loads(body)["__type"] == "UnknownOperationException"


def test_a_60_kib_authorization_header_gets_a_clean_4xx(open_ep):
    status, _ = send(open_ep, "GET", "/open", {"Authorization": "AWS4-HMAC-SHA256 " + "x" * 60 * 1024})
    assert 400 <= status < 500


def test_no_server_banner_and_no_cors_grant_by_default(open_ep):
    target, body = lookout_call("ListModels", {})
    for answer in (raw(open_ep.url, request(open_ep.url, "GET", "/_lookout-nb/clock", {})),
                   raw(open_ep.url, request(open_ep.url, "POST", "/", target, body), method="POST"),
                   raw(open_ep.url, request(open_ep.url, "GET", "/open", {}))):
        assert answer.status == 200
        assert "werkzeug" not in answer.headers.get("server", "").lower()
        assert "python" not in answer.headers.get("server", "").lower()
        assert "access-control-allow-origin" not in answer.headers


def test_advance_and_set_together_are_refused(open_ep):
    before = open_ep.clock.now()
    status, body = send(open_ep, "POST", "/_lookout-nb/clock", {"Content-Type": "application/json"},
                        b'{"advance": "PT5M", "set": "2030-01-01T00:00:00Z"}')
    assert status == 400 and b"not both" in body and open_ep.clock.now() == before
