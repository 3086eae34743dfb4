"""HTTP/1.1 keep-alive on waitress: one client connection serves request after request, errors included; a body is
read whole by the server before the application runs, so a refused or abandoned upload never desynchronises it."""

from __future__ import annotations

import http.client
import json
import socket
from urllib.parse import urlsplit

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lookout_nb.service import start


def _connection(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.connect()
    return connection


def _signed(connection, method, path, body, headers) -> dict:
    """The headers of a SigV4-signed S3 request (moto serves objects of a private bucket to signed requests only)."""
    request = AWSRequest(method, f"http://{connection.host}:{connection.port}{path}", data=body or b"", headers=headers)
    S3SigV4Auth(Credentials("testing", "testing"), "s3", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def _ask(connection, method, path, body=None, headers=None) -> tuple[int, dict, bytes]:
    headers = headers or {}
    if "X-Amz-Target" not in headers:
        headers = _signed(connection, method, path, body, headers)
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, dict(response.getheaders()), response.read()


def test_one_connection_serves_s3_the_api_and_errors_in_turn(endpoint, s3, unique_bucket):
    s3.put_object(Bucket=unique_bucket, Key="k.csv", Body=b"a,b\n1,2\n")
    connection = _connection(endpoint.url)
    sock = connection.sock
    api = {"X-Amz-Target": "AWSLookoutEquipmentFrontendService.ListModels",
           "Content-Type": "application/x-amz-json-1.0"}
    asked = [
        ("GET", f"/{unique_bucket}/k.csv", None, {}),
        ("GET", f"/{unique_bucket}/missing.csv", None, {}),  # 404, an S3 error body
        ("HEAD", f"/{unique_bucket}/k.csv", None, {}),  # a length, no body
        ("PUT", f"/{unique_bucket}/new.csv", b"x" * 100_000, {}),
        ("POST", "/", b"{}", api),
        ("POST", "/", b"{not json", api),  # a 400 of the Lookout API
        ("GET", "/moto-api/data.json", None, {}),  # 403: admin routes are off
        ("GET", f"/{unique_bucket}/new.csv", None, {}),
    ]
    answers = [_ask(connection, *request) for request in asked]
    assert [status for status, _, _ in answers] == [200, 404, 200, 200, 200, 400, 403, 200]
    assert answers[0][2] == b"a,b\n1,2\n" and b"NoSuchKey" in answers[1][2]
    assert answers[2][1]["Content-Length"] == "8" and answers[2][2] == b""
    assert any(m["ModelName"] == "pump-demo" for m in json.loads(answers[4][2])["ModelSummaries"])
    assert answers[7][2] == b"x" * 100_000
    assert connection.sock is sock  # never closed: every answer came back on the first connection
    connection.close()


def test_a_refused_request_with_an_unread_body_keeps_the_connection_usable():
    with start(port=0, clock="manual", demo=False, credentials=("plant1", "s3cret")) as ep:
        connection = _connection(ep.url)
        sock = connection.sock
        first = _ask(connection, "PUT", "/some-bucket/k", b"y" * 50_000)  # another key: refused, its body unread
        second = _ask(connection, "GET", "/some-bucket/k")
        assert (first[0], second[0]) == (403, 403)
        codes = [answer[2].split(b"<Code>")[1].split(b"</Code>")[0] for answer in (first, second)]
        assert codes == [b"InvalidAccessKeyId"] * 2  # the first body did not run into the second request
        assert connection.sock is sock
        connection.close()


def test_a_client_that_asks_to_close_gets_its_connection_closed(endpoint):
    connection = _connection(endpoint.url)
    _, headers, _ = _ask(connection, "GET", "/", headers={"Connection": "close"})
    assert headers.get("Connection") == "close" and connection.sock is None


def test_stopping_the_endpoint_ends_its_idle_kept_alive_connections():
    ep = start(port=0, clock="manual", demo=False)
    try:
        connection = _connection(ep.url)
        assert _ask(connection, "GET", "/")[0] == 200
    finally:
        ep.stop()
    connection.sock.settimeout(10)
    try:
        assert connection.sock.recv(1) == b""  # the server's end closed it
    except (TimeoutError, ConnectionResetError) as err:
        raise AssertionError(f"the kept-alive connection was not closed: {err!r}") from None


def test_a_client_gone_mid_upload_leaves_no_traceback_and_the_endpoint_serving(capfd):
    with start(port=0, clock="manual", demo=False, credentials=("plant1", "s3cret")) as ep:
        host, port = urlsplit(ep.url).hostname, urlsplit(ep.url).port
        with socket.create_connection((host, port), timeout=10) as sock:  # 10 bytes of a million, then gone
            sock.sendall(f"PUT /some-bucket/k HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: 1000000\r\n\r\n"
                         .encode() + b"y" * 10)
        connection = _connection(ep.url)
        assert _ask(connection, "GET", "/some-bucket/k")[0] == 403  # still answering
        connection.close()
    assert "Traceback" not in capfd.readouterr().err


def test_pipelined_requests_are_answered_in_order_on_one_connection(endpoint, s3, unique_bucket):
    s3.put_object(Bucket=unique_bucket, Key="a", Body=b"first")
    s3.put_object(Bucket=unique_bucket, Key="b", Body=b"second")
    host, port = urlsplit(endpoint.url).hostname, urlsplit(endpoint.url).port
    with socket.create_connection((host, port), timeout=30) as sock:
        connection = http.client.HTTPConnection(host, port)
        heads = []
        for key in ("a", "b"):
            headers = _signed(connection, "GET", f"/{unique_bucket}/{key}", None, {"Host": f"{host}:{port}"})
            heads.append(f"GET /{unique_bucket}/{key} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in
                                                                             headers.items()) + "\r\n")
        sock.sendall("".join(heads).encode())  # both at once, before any answer
        stream = _Shared(sock.makefile("rb"))  # one buffer for both answers
        bodies = []
        for _ in heads:
            response = http.client.HTTPResponse(stream, method="GET")
            response.begin()
            bodies.append(response.read())
    assert bodies == [b"first", b"second"]


class _Shared:
    """A socket stand-in for http.client.HTTPResponse: every answer reads the same buffered file, left open."""

    def __init__(self, file):
        self.file = file

    def makefile(self, *args, **kwargs):
        return self

    def __getattr__(self, name):
        return getattr(self.file, name)

    def close(self):
        pass


def test_an_expect_continue_request_without_a_body_is_answered(endpoint):
    host, port = urlsplit(endpoint.url).hostname, urlsplit(endpoint.url).port
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(f"PUT /no-such-bucket/k HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: 0\r\n"
                     "Expect: 100-continue\r\n\r\n".encode())
        response = http.client.HTTPResponse(sock, method="PUT")
        response.begin()
        assert response.status == 404 and b"NoSuchBucket" in response.read()


def test_an_upload_after_an_empty_one_on_the_same_connection_is_answered(endpoint, unique_bucket):
    """boto3 sends ``Expect: 100-continue`` with every PUT; an empty one answered without a 100 Continue left its
    kept-alive connection in a state where the next upload waited for boto3's read timeout (60 s) and a retry."""
    import boto3
    from botocore.config import Config

    s3 = boto3.client("s3", endpoint_url=endpoint.url, region_name="us-east-1", aws_access_key_id="k",
                      aws_secret_access_key="s", config=Config(read_timeout=10, retries={"total_max_attempts": 1}))
    s3.create_bucket(Bucket=unique_bucket)
    for body in (b"", b"x", b"", b"", b"abc"):  # uploads one after the other on one kept-alive connection
        s3.put_object(Bucket=unique_bucket, Key=f"k{len(body)}", Body=body)  # a stall raises ReadTimeoutError
    assert s3.get_object(Bucket=unique_bucket, Key="k3")["Body"].read() == b"abc"
