"""One HTTP port for two services: Lookout for Equipment (ours) and S3 (moto's server application).

Requests carrying ``X-Amz-Target: AWSLookoutEquipmentFrontendService.*`` go to :class:`.responses.LookoutApp`,
``/_lookout-nb/clock`` to the clock control (:mod:`.control`), ``/moto-api/...`` to moto's own dispatcher, and
everything else to moto's S3 application (so no bucket can be called ``_lookout-nb``; S3 names cannot anyway), wrapped
by :class:`.writethrough.DurableS3` so that with a state directory every acknowledged S3 change is on disk. With a
:class:`.auth.Verifier`, every request (all four routes) must carry a valid SigV4 signature first. The server
is waitress on a background thread (:mod:`.wsgi`: a bounded thread pool, strict framing, the limits of
:mod:`.limits`); ``port=0`` picks a free port.

Given the endpoint's clock, every response (S3 and Lookout alike) carries the service time: the standard HTTP
``Date`` header shows the clock's time instead of the wall clock, ``X-Lookout-Nb-Now`` the same time to the
microsecond, and S3 objects are stamped with it (:mod:`.s3clock`). :func:`lookout_nb.contract.servicetime.now` reads it.

>>> server = Server(lambda environ, start: [], port=0)   # doctest: +SKIP
>>> server.start(); server.url; server.stop()             # doctest: +SKIP
'http://127.0.0.1:54321'
"""

from __future__ import annotations

from ..storage import putbody, s3clock
from ..storage.moto.motos3 import moto_apps
from ..storage.writethrough import DurableS3
from . import answers, awschunked
from .auth import CLOCK_SERVICE, OwnClients, Refusal, refuse
from .protocol import is_lookout_request
from .wsgi import Server

__all__ = ["Dispatcher", "Server", "moto_apps"]


class Dispatcher:
    """WSGI: the Lookout API by X-Amz-Target, ``/_lookout-nb/`` to the clock control (:mod:`.control`),
    ``/moto-api/`` to moto's dispatcher (only with ``admin=True``: it can dump or reset every bucket; otherwise
    403), everything else to S3.

    S3 goes straight to moto's S3 application: moto's own host-based dispatch costs about a millisecond a
    request, which the runner would pay several times per run. ``objects`` (an open-able
    :class:`.objects.ObjectStore`, or None to keep objects in memory only) receives every S3 change before
    its response is sent. ``verifier`` (a :class:`.auth.Verifier`, or None: any request is served) checks every
    request's signature before it is routed (the scope's service: ``s3``, ``lookoutequipment``, or
    :data:`.auth.CLOCK_SERVICE` for the clock control and moto's admin routes); an ``aws-chunked`` S3 upload is
    decoded and its chunk signatures checked (:mod:`.awschunked`) before moto reads it; ``own``
    (:class:`.auth.OwnClients`) tells the endpoint's own requests, whose :data:`.s3clock.STAMP_HEADER` is honoured.
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
        to_disk = app is None and putbody.wanted(environ, self.s3_app.store)  # PutObject, UploadPart
        if self.verifier is not None:
            s3 = app is None
            service = "s3" if s3 else "lookoutequipment" if app is self.lookout_app else CLOCK_SERVICE
            refusal = self.verifier.refusal(environ, s3=s3, service=service, body_later=to_disk)
            if refusal is not None:
                return refuse(refusal, "s3" if s3 else "json", environ, start_response)
        if app is not None:
            return app(environ, start_response)
        if to_disk:
            return self._put(environ, start_response)
        try:
            awschunked.decode(environ)  # a streaming upload becomes a plain one, its chunk signatures checked
        except awschunked.BadBody as bad:
            return refuse(Refusal(bad.reason, str(bad)), "s3", environ, start_response)
        return self._s3(environ, start_response)

    def _put(self, environ, start_response):
        """A PutObject or UploadPart whose body goes once to a file, checked, then to moto on disk (:mod:`.putbody`)."""
        decode = awschunked.decode if awschunked.mode_of(environ) else None
        try:
            received = putbody.receive(environ, self.s3_app.store, decode)
        except awschunked.BadBody as bad:
            return refuse(Refusal(bad.reason, str(bad)), "s3", environ, start_response)
        except putbody.Refused as no:
            return answers.error("s3", no.status, no.code, str(no), environ, start_response)
        except OSError as err:  # the disk refuses (full, read-only): nothing stored
            return answers.error("s3", 500, "InternalError", f"The embedded endpoint did not store this upload: "
                                 f"{err.strerror or err}", environ, start_response)
        return putbody.put(received, environ, start_response, self._s3)

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
