"""Helpers of the HTTP tests: raw requests on a socket, an endpoint in its own process, its RSS and threads."""

from __future__ import annotations

import contextlib
import http.client
import os
import resource
import socket
import subprocess
import sys
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class Answer:
    status: int
    headers: dict  # lower-case names
    body: bytes


def address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname, parts.port


def host_header(url: str) -> str:
    return urlsplit(url).netloc


def answer_of(sock: socket.socket, method: str = "GET") -> Answer:
    """Read one HTTP response from ``sock``."""
    response = http.client.HTTPResponse(sock, method=method)
    response.begin()
    body = response.read()
    return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, body)


def raw(url: str, data: bytes, timeout: float = 30, method: str = "GET") -> Answer:
    """Send ``data`` as it is (a whole request, framing included) and read the answer."""
    with socket.create_connection(address(url), timeout=timeout) as sock:
        sock.sendall(data)
        return answer_of(sock, method)


def request(url: str, method: str, path: str, headers: dict, body: bytes = b"") -> bytes:
    """The bytes of an HTTP/1.1 request (``Host`` of ``url`` unless given, ``Content-Length`` of ``body``)."""
    headers = {"Host": host_header(url), **headers}
    if body and "Content-Length" not in headers and "Transfer-Encoding" not in headers:
        headers["Content-Length"] = str(len(body))
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return head.encode("latin-1") + body


def _limit_memory():  # a safety net when the test runs against a server that does grow without bound
    resource.setrlimit(resource.RLIMIT_DATA, (3 << 30, 3 << 30))


@contextlib.contextmanager
def served(*options: str):
    """``lookout-nb serve --port 0 --clock manual *options`` in its own process: yields ``(url, pid)``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "lookout_nb.service.cli", "serve", "--port", "0", "--clock", "manual", *options],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, preexec_fn=_limit_memory,
    )
    try:
        url = None
        while url is None:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            if line.startswith("export AWS_ENDPOINT_URL="):
                url = line.strip().split("=", 1)[1]
        yield url, proc.pid
    finally:
        proc.kill()
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()


def status_field(pid: int, name: str) -> int:
    """A number of /proc/PID/status: ``VmRSS`` (kB), ``Threads``."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    raise KeyError(name)


def rss_mib(pid: int) -> float:
    return status_field(pid, "VmRSS") / 1024
