"""The user's own S3 in the tests: a moto_server in its own process (no memory shared with the endpoint), and a
fault proxy in front of it that can answer 503s or stop answering.

>>> with UserS3() as user:                      # doctest: +SKIP
...     user.client().create_bucket(Bucket="plant")
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
from botocore.config import Config

#: The variables the endpoint's boto3 chain reads for the user's S3 in these tests (any key works on moto_server).
CHAIN = {"AWS_ACCESS_KEY_ID": "user-key", "AWS_SECRET_ACCESS_KEY": "user-secret", "AWS_DEFAULT_REGION": "us-east-1",
         "AWS_MAX_ATTEMPTS": "2"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class UserS3:
    """``moto_server`` on 127.0.0.1 in a child process: ``.url``, ``.client()``, ``.stop()``, ``.pid``."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self) -> UserS3:
        env = {**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "true"}
        self.process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("moto_server exited at start") from None
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("moto_server did not start within 30 s")

    @property
    def pid(self) -> int:
        return self.process.pid

    def client(self, url: str | None = None):
        """A plain boto3 client of this S3 (what the user has), path-style."""
        return boto3.client("s3", endpoint_url=url or self.url, region_name="us-east-1",
                            aws_access_key_id="user-key", aws_secret_access_key="user-secret",
                            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def __enter__(self) -> UserS3:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class FaultProxy:
    """An HTTP proxy to ``target`` whose ``mode`` decides each answer: ``"pass"``, ``"503"`` (S3's SlowDown-style
    ServiceUnavailable), ``"403"`` (AccessDenied) or ``"hang"`` (accept, never answer). ``.url``, ``.requests``."""

    def __init__(self, target_port: int):
        proxy = self
        self.mode = "pass"
        self.requests = 0
        self._release = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _any(self):
                proxy.requests += 1
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if proxy.mode == "hang":
                    proxy._release.wait(60)
                    self.close_connection = True
                    return
                if proxy.mode in ("503", "403"):
                    code, name = ("ServiceUnavailable", 503) if proxy.mode == "503" else ("AccessDenied", 403)
                    text = (f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>injected "
                            f"{name}</Message></Error>").encode()
                    self.send_response(name)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(text)))
                    self.end_headers()
                    self.wfile.write(text)
                    return
                conn = http.client.HTTPConnection("127.0.0.1", target_port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for k, v in answer.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()
