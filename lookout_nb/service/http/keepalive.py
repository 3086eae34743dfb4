"""HTTP/1.1 keep-alive for werkzeug's request handler: one connection serves many requests.

werkzeug's :class:`~werkzeug.serving.WSGIRequestHandler` answers every request with ``Connection: close`` (it does not
know where a request body ends, so it drains the socket after each response). A client then pays a TCP connect
and the server a new thread per request. :class:`KeepAliveHandler` keeps the connection open, safely:

- the application reads the body through a stream limited to ``Content-Length`` (or the chunked body's end), and
  whatever it left unread is drained before the next request is read (up to :data:`DRAIN_LIMIT`; beyond, the
  connection is closed, as it is when a response's length cannot be told);
- every response is delimited: its ``Content-Length``, or chunked transfer encoding when it has none (HEAD, 1xx,
  204 and 304 responses carry no body); a response that breaks off, or whose body does not match its length,
  closes the connection;
- ``Connection: close`` from the client, an HTTP/1.0 request, or a server that stops (:func:`close_idle`) close
  it after the response; an idle connection is closed after :data:`IDLE_SECONDS`.

>>> make_server(host, port, app, threaded=True, request_handler=KeepAliveHandler)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import socket
import threading

from werkzeug.exceptions import ClientDisconnected, InternalServerError
from werkzeug.serving import WSGIRequestHandler
from werkzeug.wsgi import LimitedStream

#: An idle keep-alive connection is closed after this many seconds without a request.
IDLE_SECONDS = 60
#: At most this many bytes of a body the application did not read are drained to keep the connection (a client
#: still sending a refused upload then reads the answer, not a reset connection, as werkzeug's own drain allows).
DRAIN_LIMIT = 64 << 20
_NO_BODY = {204, 304}


class _Response:
    """Writes one response: headers at the first write, then the body, framed by its length or chunked."""

    def __init__(self, handler: KeepAliveHandler, head: bool):
        self.handler, self.head = handler, head
        self.status = self.headers = None
        self.sent = False
        self.chunked = False
        self.length = None  # the Content-Length the application gave
        self.written = 0
        self.bodiless = head

    def start(self, status, headers, exc_info=None):
        if exc_info and self.sent:
            raise exc_info[1].with_traceback(exc_info[2])
        self.status, self.headers = status, headers
        return self.write

    def _send_headers(self) -> None:
        handler = self.handler
        code_text, _, message = self.status.partition(" ")
        code = int(code_text)
        handler.send_response(code, message)
        names = set()
        for name, value in self.headers:
            if name.lower() in ("connection", "transfer-encoding"):
                continue  # the framing of this connection is the handler's
            handler.send_header(name, value)
            names.add(name.lower())
            if name.lower() == "content-length":
                self.length = int(value)
        bodiless = self.head or 100 <= code < 200 or code in _NO_BODY
        if self.length is None and not bodiless:
            self.chunked = True
            handler.send_header("Transfer-Encoding", "chunked")
        self.bodiless = bodiless
        if handler.close_connection:
            handler.send_header("Connection", "close")
        handler.end_headers()
        self.sent = True

    def write(self, data: bytes) -> None:
        if not self.sent:
            self._send_headers()
        if data and not self.bodiless:
            wfile = self.handler.wfile
            if self.chunked:
                wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            else:
                wfile.write(data)
            self.written += len(data)
        self.handler.wfile.flush()

    def end(self) -> None:
        if not self.sent:
            self.write(b"")
        if self.chunked:
            self.handler.wfile.write(b"0\r\n\r\n")
            self.handler.wfile.flush()
        elif self.length is not None and not self.bodiless and self.written != self.length:
            self.handler.close_connection = True  # the client cannot tell where the next response starts


class KeepAliveHandler(WSGIRequestHandler):
    """werkzeug's WSGI request handler with HTTP/1.1 keep-alive (see the module)."""

    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS
    disable_nagle_algorithm = True  # headers and body go in separate writes: no 40 ms wait for a delayed ACK

    def setup(self) -> None:
        super().setup()
        _connections(self.server).add(self.connection)

    def finish(self) -> None:
        _connections(self.server).discard(self.connection)
        super().finish()

    def run_wsgi(self) -> None:
        if self.request_version != "HTTP/1.1" or getattr(self.server, "lookout_closing", False):
            self.close_connection = True
        if self.headers.get("Expect", "").lower().strip() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        environ = self.make_environ()
        body = self._limit_body(environ)
        response = _Response(self, environ["REQUEST_METHOD"] == "HEAD")
        try:
            self._run(self.server.app, environ, response)
        except (ConnectionError, TimeoutError):  # the client went away mid-answer
            self.close_connection = True
            return
        except Exception:
            self.close_connection = True
            if not response.sent:
                response = _Response(self, environ["REQUEST_METHOD"] == "HEAD")
                self._run(InternalServerError(), environ, response)
            logging.getLogger(__name__).exception(
                "Error on request %s %s", environ["REQUEST_METHOD"], environ["PATH_INFO"]
            )
        self._drain(body)

    def log_error(self, format, *args) -> None:
        if not format.startswith("Request timed out"):  # an idle keep-alive connection ending is no error
            super().log_error(format, *args)

    @staticmethod
    def _run(app, environ, response: _Response) -> None:
        result = app(environ, response.start)
        try:
            for data in result:
                response.write(data)
            response.end()
        finally:
            getattr(result, "close", lambda: None)()

    def _limit_body(self, environ):
        """The application reads at most the request's body (``Content-Length`` bytes, or the chunked body)."""
        if environ.get("wsgi.input_terminated"):  # chunked: werkzeug's DechunkedInput stops at the last chunk
            return environ["wsgi.input"]
        try:
            length = max(int(environ.get("CONTENT_LENGTH") or 0), 0)
        except ValueError:
            length, self.close_connection = 0, True
        environ["wsgi.input"] = LimitedStream(self.rfile, length)
        return environ["wsgi.input"]

    def _drain(self, body) -> None:
        """Read what is left of the request's body, so the next request starts where it should."""
        if self.close_connection:
            return
        try:
            drained = 0
            while drained <= DRAIN_LIMIT:
                chunk = body.read(65536)
                if not chunk:
                    return
                drained += len(chunk)
        except (OSError, ValueError, ClientDisconnected):  # a client gone mid-upload: end the connection quietly
            pass
        self.close_connection = True


_close_lock = threading.RLock()  # close_idle holds it while it reads _connections


def _connections(server) -> set:
    """The server's open connections (the set made once, under the lock, so no connection is left out of it)."""
    connections = getattr(server, "lookout_connections", None)
    if connections is None:
        with _close_lock:
            if not hasattr(server, "lookout_connections"):
                server.lookout_connections = set()
            connections = server.lookout_connections
    return connections


def close_idle(server) -> None:
    """After ``server.shutdown()``: every open connection ends after its current response (an idle one now)."""
    with _close_lock:
        server.lookout_closing = True
        for connection in list(_connections(server)):
            try:
                connection.shutdown(socket.SHUT_RD)  # a pending read (the next request line) sees the end
            except OSError:
                pass
