"""Serve only when ready: requests that arrive while the endpoint is still starting wait until it is.

The port is bound (and accepts connections) as soon as the endpoint is built, but the state has yet to be
loaded and the demo seeded, through the endpoint's own S3 client. :class:`Gate` holds every other request
until :meth:`Gate.open` (the endpoint's own clients, marked by :class:`.auth.OwnClients`, pass), so a client
polling the port never meets an endpoint without its models.

>>> gate = Gate(app, own)         # doctest: +SKIP
>>> own.mark(boto3_client)        # doctest: +SKIP
>>> gate.open()                   # doctest: +SKIP
"""

from __future__ import annotations

import threading


class Gate:
    """WSGI middleware: until :meth:`open`, requests wait (at most ``timeout`` seconds) unless ``own.is_own``."""

    def __init__(self, app, own, timeout: float = 600.0):
        self.app = app
        self.own = own
        self.timeout = timeout
        self._open = threading.Event()

    def open(self) -> None:
        """Serve everyone from now on (also called when a start fails, to release the waiting requests)."""
        self._open.set()

    def __call__(self, environ, start_response):
        if not self._open.is_set() and not self.own.is_own(environ):
            self._open.wait(self.timeout)
        return self.app(environ, start_response)
