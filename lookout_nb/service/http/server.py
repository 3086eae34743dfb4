"""One HTTP port for two services: Lookout for Equipment (ours) and S3 (moto's server application).

Requests carrying ``X-Amz-Target: AWSLookoutEquipmentFrontendService.*`` go to :class:`.responses.LookoutApp`,
``/_lookout-nb/clock`` to the clock control (:mod:`.control`), ``/moto-api/...`` to moto's own dispatcher, and
everything else to moto's S3 application (so no bucket can be called ``_lookout-nb``; S3 names cannot anyway), wrapped
by :class:`.writethrough.DurableS3` so that with a state directory every acknowledged S3 change is on disk. With a
:class:`.auth.Verifier`, every request (all four routes) must carry a valid SigV4 signature first. The server
is werkzeug's threaded WSGI server on a background thread, with HTTP/1.1 keep-alive (:mod:`.keepalive`);
``port=0`` picks a free port.

Given the endpoint's clock, every response (S3 and Lookout alike) carries the service time: the standard HTTP
``Date`` header shows the clock's time instead of the wall clock, ``X-Lookout-Nb-Now`` the same time to the
microsecond, and S3 objects are stamped with it (:mod:`.s3clock`). :func:`lookout_nb.contract.servicetime.now` reads it.

>>> server = Server(lambda environ, start: [], port=0)   # doctest: +SKIP
>>> server.start(); server.url; server.stop()             # doctest: +SKIP
'http://127.0.0.1:54321'
"""

from __future__ import annotations

import email.utils
import secrets
import socket
import threading

from werkzeug.serving import make_server

from ...contract.servicetime import INSTANCE_HEADER, PRECISE_HEADER
from ..storage import s3clock
from ..storage.motos3 import moto_apps
from ..storage.writethrough import DurableS3
from .auth import OwnClients, refuse
from .keepalive import KeepAliveHandler, close_idle
from .protocol import is_lookout_request


class Dispatcher:
    """WSGI: the Lookout API by X-Amz-Target, ``/_lookout-nb/`` to the clock control (:mod:`.control`),
    ``/moto-api/`` to moto's dispatcher (only with ``admin=True``: it can dump or reset every bucket; otherwise
    403), everything else to S3.

    S3 goes straight to moto's S3 application: moto's own host-based dispatch costs about a millisecond a
    request, which the runner would pay several times per run. ``objects`` (an open-able
    :class:`.objects.ObjectStore`, or None to keep objects in memory only) receives every S3 change before
    its response is sent. ``verifier`` (a :class:`.auth.Verifier`, or None: any request is served) checks every
    request's signature before it is routed; ``own`` (:class:`.auth.OwnClients`) tells the endpoint's own requests,
    whose :data:`.s3clock.STAMP_HEADER` is honoured.
    """

    def __init__(self, lookout_app, s3_app=None, moto_api_app=None, control_app=None, clock=None, own=None,
                 objects=None, admin: bool = False, verifier=None):
        self.lookout_app = lookout_app
        self.admin = admin
        self.control_app = control_app
        self.clock = clock
        self.own = own or OwnClients()
        self.verifier = verifier
        if clock is not None:
            s3clock.install()
        default_s3, default_api = moto_apps() if s3_app is None or moto_api_app is None else (None, None)
        self.s3_app = DurableS3(s3_app or default_s3, objects)
        self.moto_api_app = moto_api_app or default_api

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if is_lookout_request(environ):
            app = self.lookout_app
        elif self.control_app is not None and path.startswith("/_lookout-nb/"):
            app = self.control_app
        elif path.startswith("/moto-api"):
            app = self.moto_api_app if self.admin else _admin_off
        else:
            app = None
        if self.verifier is not None:
            s3 = app is None
            refusal = self.verifier.refusal(environ, s3=s3)
            if refusal is not None:
                return refuse(refusal, "s3" if s3 else "json", environ, start_response)
        return self._s3(environ, start_response) if app is None else app(environ, start_response)

    def _s3(self, environ, start_response):
        if self.clock is None:
            return self.s3_app(environ, start_response)
        now = self.clock.now()
        header = environ.get("HTTP_" + s3clock.STAMP_HEADER.upper().replace("-", "_"))
        stamp = s3clock.requested_stamp(header, now) if header and self.own.is_own(environ) else now
        with s3clock.stamping(stamp):
            result = self.s3_app(environ, start_response)
            # the whole response is made inside the block, except a GET streamed from its file (stamps nothing)
            return result if getattr(result, "lookout_nb_stream", False) else list(result)


def _admin_off(environ, start_response):
    """moto's admin routes (``/moto-api/``: dump, reset) are off unless the endpoint was started with admin=True."""
    body = (b'{"message": "moto\'s admin routes (/moto-api/) are off on this endpoint: they can read or empty every '
            b'bucket. Tests that need them start the endpoint with start(admin=True)."}')
    start_response("403 Forbidden", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


class _QuietHandler(KeepAliveHandler):
    """No access log on stderr, the service clock's time in every response's headers, and HTTP/1.1 keep-alive
    (:mod:`.keepalive`: a client's connection serves request after request)."""

    _service_now = None

    def log_request(self, *args, **kwargs):
        pass

    def send_response(self, code, message=None):
        clock = getattr(self.server, "lookout_clock", None)
        self._service_now = None if clock is None else clock.now()
        super().send_response(code, message)  # sends Date through date_time_string()
        if self._service_now is not None:
            self.send_header(PRECISE_HEADER, self._service_now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
            self.send_header(INSTANCE_HEADER, self.server.lookout_instance)

    def date_time_string(self, timestamp=None):
        """The HTTP ``Date``: the service clock's time when the server has one (RFC 9110 format)."""
        if timestamp is None and self._service_now is not None:
            return email.utils.format_datetime(self._service_now.floor("s").to_pydatetime(), usegmt=True)
        return super().date_time_string(timestamp)


def _listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``; OSError (address in use, not this machine's) if it cannot be."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as werkzeug's own servers
        sock.bind((host, port))
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    return sock


class Server:
    """A threaded werkzeug server for a WSGI app on a background thread."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, clock=None):
        listening = _listen(host, port)  # an OSError here, not werkzeug's print and sys.exit(1)
        try:
            self._server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler,
                                       fd=listening.fileno())
        finally:
            listening.close()  # werkzeug serves a duplicate of it
        self._server.server_name, self._server.server_port = self._server.server_address[:2]  # as bind() sets
        self._server.daemon_threads = True
        self._server.lookout_clock = clock  # the handler stamps responses with its time
        self._server.lookout_instance = secrets.token_hex(8)
        self._thread: threading.Thread | None = None
        self.host = host

    @property
    def port(self) -> int:
        return self._server.server_port

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
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="lookout-nb-endpoint",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        close_idle(self._server)  # kept-alive connections end too: a client reconnects to whatever serves next
        self._server.server_close()
