"""Serve only when ready: requests that arrive while the endpoint is still starting wait until it is.

The port is bound (and accepts connections) as soon as the endpoint is built, but the state has yet to be
loaded and the demo seeded, through the endpoint's own S3 client. :class:`Gate` holds every other request
until :meth:`Gate.open` (the endpoint's own clients carry a per-process secret header and pass), so a client
polling the port never meets an endpoint without its models.

>>> gate = Gate(app)              # doctest: +SKIP
>>> gate.admit(boto3_client)      # doctest: +SKIP
>>> gate.open()                   # doctest: +SKIP
"""

from __future__ import annotations

import secrets
import threading

HEADER = "X-Lookout-Nb-Internal"
_ENVIRON = "HTTP_" + HEADER.upper().replace("-", "_")


class Gate:
    """WSGI middleware: until :meth:`open`, requests wait (at most ``timeout`` seconds) unless admitted."""

    def __init__(self, app, timeout: float = 600.0):
        self.app = app
        self.timeout = timeout
        self._open = threading.Event()
        self._secret = secrets.token_hex(16)

    def admit(self, client) -> None:
        """Let the requests of a boto3 ``client`` through before the gate opens (the endpoint's own)."""
        client.meta.events.register("before-send", self._mark)

    def _mark(self, request, **_):
        if not self._open.is_set():
            request.headers[HEADER] = self._secret

    def open(self) -> None:
        """Serve everyone from now on (also called when a start fails, to release the waiting requests)."""
        self._open.set()

    def __call__(self, environ, start_response):
        if not self._open.is_set() and environ.get(_ENVIRON) != self._secret:
            self._open.wait(self.timeout)
        return self.app(environ, start_response)
