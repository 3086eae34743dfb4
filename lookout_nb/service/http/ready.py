"""Serve only when ready: requests that arrive while the endpoint is still starting wait until it is.

The port is bound (and accepts connections) as soon as the endpoint is built, but the state has yet to be
loaded and the demo seeded, through the endpoint's own S3 client. :class:`Gate` holds every other request
until :meth:`Gate.open` (the endpoint's own clients, marked by :class:`.auth.OwnClients`, pass), so a client
polling the port never meets an endpoint without its models.

A held request holds one of the server's threads, so at most ``waiters`` (half the pool) are held at once; any
more are answered 503 (S3 ``SlowDown``, JSON ``ServiceUnavailableException``), which boto3 retries: the
endpoint's own start-up requests always find a thread.

>>> gate = Gate(app, own)         # doctest: +SKIP
>>> own.mark(boto3_client)        # doctest: +SKIP
>>> gate.open()                   # doctest: +SKIP
"""

from __future__ import annotations

import threading

from . import answers, limits


class Gate:
    """WSGI middleware: until :meth:`open`, requests wait (at most ``timeout`` seconds) unless ``own.is_own``."""

    def __init__(self, app, own, timeout: float = 600.0, waiters: int = limits.THREADS // 2):
        self.app = app
        self.own = own
        self.timeout = timeout
        self._open = threading.Event()
        self._waiters = threading.BoundedSemaphore(waiters)
        self._held = 0  # requests waiting now (read by ``waiting``)
        self._count = threading.Lock()

    @property
    def waiting(self) -> int:
        """How many requests are waiting for the endpoint to be ready."""
        return self._held

    def open(self) -> None:
        """Serve everyone from now on (also called when a start fails, to release the waiting requests)."""
        self._open.set()

    def __call__(self, environ, start_response):
        if not self._open.is_set() and not self.own.is_own(environ):
            if not self._waiters.acquire(blocking=False):
                protocol = answers.protocol_of(environ)
                return answers.error(
                    protocol, 503, "SlowDown" if protocol == "s3" else "ServiceUnavailableException",
                    "the endpoint is starting (restoring its state, seeding the demo): retry in a moment",
                    environ, start_response, headers=[("Retry-After", "1")])
            with self._count:
                self._held += 1
            try:
                self._open.wait(self.timeout)
            finally:
                with self._count:
                    self._held -= 1
                self._waiters.release()
        return self.app(environ, start_response)
