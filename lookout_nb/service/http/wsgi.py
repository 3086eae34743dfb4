"""The endpoint's HTTP server: waitress, with strict framing and the limits of :mod:`.limits`.

waitress reads requests on one event loop and hands complete ones to a bounded pool of threads, so an idle
kept-alive connection costs a socket, not a thread (400 idle connections: still ``THREADS`` + 2 threads). On top of
waitress's own parser (which already refuses ``+2``, ``2_0``, non-ASCII digits and bad chunk sizes), this module:

- refuses ambiguous framing with a 400: ``Content-Length`` together with ``Transfer-Encoding``, two
  ``Content-Length`` headers, ``Transfer-Encoding`` on HTTP/1.0, and obs-fold (a header line continued on the next);
- bounds the body of each route before it is read (:func:`.limits.body_limit`: 413), each chunk
  (:data:`.limits.MAX_CHUNK`) and each chunk-size line and trailer;
- closes a connection whose request head is not complete :data:`.limits.HEADER_SECONDS` after its first byte
  (or that sent nothing that long after it was accepted), besides waitress's idle timeout and connection cap;
- answers ``Expect: 100-continue`` requests whose body is empty or already received with ``100 Continue`` and
  the answer (waitress 3.0.2 waits for a body that never comes), and a refused body at once, without inviting it;
- announces no ``Server`` banner.

:class:`ServiceTime` is the middleware that stamps each response with the service clock's time (``Date``,
``X-Lookout-Nb-Now``, ``X-Lookout-Nb-Instance``).

>>> server = Server(lambda environ, start: [], port=0).start()   # doctest: +SKIP
>>> server.url; server.stop()                                     # doctest: +SKIP
'http://127.0.0.1:54321'
"""

from __future__ import annotations

import email.utils
import secrets
import socket
import threading
import time

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError
from waitress.receiver import ChunkedReceiver
from waitress.server import TcpWSGIServer
from waitress.utilities import BadRequest, RequestEntityTooLarge

from ...contract.servicetime import INSTANCE_HEADER, PRECISE_HEADER
from . import limits


class _BoundedChunks(ChunkedReceiver):
    """waitress's chunked body reader, refusing a chunk over :data:`.limits.MAX_CHUNK` when its size is read
    (a 20-hex-digit size is refused at once), and a size line or trailer that never ends."""

    _remainder = 0
    error: BadRequest | None = None

    @property
    def chunk_remainder(self) -> int:
        return self._remainder

    @chunk_remainder.setter
    def chunk_remainder(self, size: int) -> None:
        if size > limits.MAX_CHUNK and self.error is None:
            self.error = BadRequest(f"a chunk of {size} bytes is over the limit of {limits.describe(limits.MAX_CHUNK)}"
                                    " per chunk")
            self.all_chunks_received = True
            size = 0
        self._remainder = size

    def received(self, s):
        consumed = super().received(s)
        if self.error is None and len(self.control_line) > limits.MAX_CHUNK_LINE:
            self.error = BadRequest(f"a chunk-size line is over {limits.MAX_CHUNK_LINE} bytes")
        if self.error is None and len(self.trailer) > limits.MAX_TRAILER:
            self.error = BadRequest(f"the chunked trailer is over {limits.describe(limits.MAX_TRAILER)}")
        return consumed


def _framing_problem(header_plus: bytes) -> str | None:
    """What makes a request head's framing ambiguous (RFC 9112 section 6.3), or None."""
    lines = header_plus.split(b"\r\n")
    names = []
    for line in lines[1:]:
        if line[:1] in (b" ", b"\t"):
            return "a header line continues the previous one (obs-fold): send each header on one line"
        names.append(line.partition(b":")[0].strip().lower())
    lengths, encodings = names.count(b"content-length"), names.count(b"transfer-encoding")
    if lengths > 1:
        return "two Content-Length headers: send one"
    if lengths and encodings:
        return "Content-Length together with Transfer-Encoding: send one of them"
    if encodings and lines[0].rstrip().endswith(b"HTTP/1.0"):
        return "Transfer-Encoding in an HTTP/1.0 request"
    return None


class StrictParser(HTTPRequestParser):
    """waitress's request parser with the refusals of the module and the per-route body limit."""

    def __init__(self, adj):
        super().__init__(adj)
        self.started = time.monotonic()  # made when the request's first byte arrives
        self.limit = None

    def parse_header(self, header_plus):
        problem = _framing_problem(header_plus)
        if problem:
            raise ParsingError(problem)
        super().parse_header(header_plus)
        if self.chunked:
            self.body_rcv = _BoundedChunks(self.body_rcv.buf)
        self.limit = limits.body_limit(self.command, self.path, self.headers)

    def received(self, data):
        finished_before = self.headers_finished
        consumed = super().received(data)
        if self.error is None and self.limit is not None and not self.empty:
            size = self.content_length if not finished_before and not self.chunked else self.body_bytes_received
            if size > self.limit:
                self.error = RequestEntityTooLarge(
                    f"the body of {self.command} {self.path[:100]} is over this route's limit of "
                    f"{limits.describe(self.limit)} (see docs/security.md)")
                self.completed = True
        if self.completed and self.error is not None:  # a refused body: answered at once, never invited
            self.expect_continue = False
        return consumed


class _Channel(HTTPChannel):
    parser_class = StrictParser
    got_data = False

    def send_continue(self):
        """waitress's ``100 Continue``, without then waiting for a body that is already here or empty (waitress
        would wait for ever). boto3 asks with every PUT; answered without it, an empty PUT left its kept-alive
        connection waiting, at the next upload, for boto3's read timeout (60 s) and a retry."""
        completed = self.request.completed
        super().send_continue()
        self.request.completed = completed

    def received(self, data):
        if data:
            self.got_data = True
        return super().received(data)


class _Waitress(TcpWSGIServer):
    channel_class = _Channel
    header_seconds: float = limits.HEADER_SECONDS

    def maintenance(self, now):
        super().maintenance(now)  # idle connections (channel_timeout)
        cutoff, head_cutoff = now - self.header_seconds, time.monotonic() - self.header_seconds
        for channel in list(self.active_channels.values()):
            request = channel.request  # a request whose head is still arriving, or nothing sent since accepted
            slow_head = request is not None and not request.headers_finished and request.started < head_cutoff
            if slow_head or (not channel.got_data and channel.creation_time < cutoff):
                channel.will_close = True


class ServiceTime:
    """WSGI middleware: each response carries the clock's time as ``Date`` (RFC 9110 format), to the microsecond
    as ``X-Lookout-Nb-Now``, and the server instance as ``X-Lookout-Nb-Instance``.

    >>> from lookout_nb.service.clock import ManualClock
    >>> headers = []
    >>> app = ServiceTime(lambda e, start: start("200 OK", []) or [], ManualClock(), "i1")
    >>> app({}, lambda s, h, e=None: headers.extend(h))
    []
    >>> headers[:2]
    [('Date', 'Mon, 05 Jan 2026 09:00:00 GMT'), ('x-lookout-nb-now', '2026-01-05T09:00:00.000000Z')]
    """

    def __init__(self, app, clock, instance: str):
        self.app, self.clock, self.instance = app, clock, instance

    def __call__(self, environ, start_response):
        def stamped(status, headers, exc_info=None):
            now = self.clock.now()
            kept = [(name, value) for name, value in headers if name.lower() != "date"]
            kept += [("Date", email.utils.format_datetime(now.floor("s").to_pydatetime(), usegmt=True)),
                     (PRECISE_HEADER, now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")), (INSTANCE_HEADER, self.instance)]
            return start_response(status, kept, exc_info)

        return self.app(environ, stamped)


def _listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``; OSError (address in use, not this machine's) if it cannot be."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1024)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class Server:
    """A WSGI app served by waitress on a background thread: ``start()``, ``url``, ``port``, ``bound``, ``stop()``.

    ``clock``: stamp every response with its time (:class:`ServiceTime`). ``threads``, ``connections``,
    ``header_seconds``: the pool, the connection cap and the header deadline (defaults: :mod:`.limits`)."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, clock=None, threads: int = limits.THREADS,
                 connections: int = limits.CONNECTIONS, header_seconds: float = limits.HEADER_SECONDS):
        self.instance = secrets.token_hex(8)
        if clock is not None:
            app = ServiceTime(app, clock, self.instance)
        sock = _listen(host, port)
        adj = Adjustments(
            threads=threads, connection_limit=connections + 2,  # waitress counts its listener and wake-up socket
            channel_timeout=limits.IDLE_SECONDS, cleanup_interval=1, max_request_header_size=limits.HEADER_BYTES,
            max_request_body_size=limits.S3_OBJECT_BYTES + 1, inbuf_overflow=limits.SPOOL_BYTES,
            recv_bytes=limits.RECV_BYTES, asyncore_use_poll=True, ident="", expose_tracebacks=False,
            log_socket_errors=False, url_scheme="http", clear_untrusted_proxy_headers=True,
        )
        try:
            self._server = _Waitress(app, map={}, _sock=sock, adj=adj, bind_socket=False,
                                     sockinfo=(sock.family, sock.type, None, sock.getsockname()))
        except BaseException:
            sock.close()
            raise
        self._server.header_seconds = header_seconds
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.host = host

    @property
    def port(self) -> int:
        return self._server.socket.getsockname()[1]

    @property
    def listening(self) -> bool:
        """Whether the listening socket is open (False once stopped)."""
        return self._server.socket is not None and self._server.socket.fileno() != -1

    @property
    def bound(self) -> str:
        """The address the socket is bound to, as ``host:port`` (``0.0.0.0:4566`` for every interface)."""
        host, port = self._server.socket.getsockname()[:2]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    @property
    def url(self) -> str:
        """Where clients on this machine reach it (loopback when bound to every interface)."""
        host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    def start(self) -> Server:
        self._thread = threading.Thread(target=self._loop, name="lookout-nb-endpoint", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stopping.is_set():
            wasyncore.loop(timeout=1.0, map=self._server._map, use_poll=True, count=1)

    def stop(self) -> None:
        """Stop accepting, end every connection (a kept-alive one too) and the threads once their request is done."""
        self._stopping.set()
        if self._thread is not None:
            self._server.pull_trigger()  # wakes the event loop at once
            self._thread.join(timeout=10)
            self._thread = None
        self._server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        wasyncore.close_all(self._server._map)  # the listening socket, every channel and the trigger
