"""S3 on the endpoint's clock: objects' ``LastModified`` is the service time of the request that wrote them.

moto stamps objects with ``moto.s3.models.utcnow()``, the wall clock. :func:`install` swaps that name for one
that answers the time the current request thread was given by :func:`stamping` (the
:class:`~lookout_nb.service.http.server.Dispatcher` gives every S3 request the endpoint clock's time), and the wall
clock outside a request, so moto used anywhere else in the process is unchanged. Listings, HeadObject and
GetObject then carry the same clock as the scheduler, and lateness is judged on one clock.

The endpoint's own demo feeder writes each input file *as of* its slot's end (the demo machine uploads on
time): its requests carry :data:`STAMP_HEADER` with that time, which is honoured only on requests of the
endpoint's own clients (:class:`.auth.OwnClients`) and only for a time not after the clock's now.

>>> install()
>>> with stamping(pd.Timestamp("2026-01-05T09:00Z")):
...     moto_now()
datetime.datetime(2026, 1, 5, 9, 0)
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import datetime, timedelta

import pandas as pd

from .moto import motos3

#: Header of the endpoint's own writes that are stamped with a past service time: ``<ISO time>``.
STAMP_HEADER = "X-Lookout-Nb-Stamp"

_local = threading.local()
_EPOCH = datetime(1970, 1, 1)
_installed = False
_install_lock = threading.Lock()


def _wall_clock() -> datetime:
    return pd.Timestamp.now(tz="UTC").tz_localize(None).to_pydatetime()


def moto_now() -> datetime:
    """What moto's S3 takes as "now" (naive UTC, as moto's own ``utcnow``)."""
    stamp = getattr(_local, "stamp", None)
    return _wall_clock() if stamp is None else stamp


def install() -> None:
    """Make moto's S3 stamp objects with :func:`moto_now` (idempotent)."""
    global _installed
    with _install_lock:
        if _installed:
            return
        motos3.set_utcnow(moto_now)
        _installed = True


@contextmanager
def stamping(when: pd.Timestamp):
    """Within this block (this thread), S3 writes are stamped ``when`` (tz-aware UTC)."""
    previous = getattr(_local, "stamp", None)
    _local.stamp = _EPOCH + timedelta(microseconds=when.value // 1000)  # naive UTC, floored to the microsecond
    try:
        yield
    finally:
        _local.stamp = previous


class StampedWrites:
    """Lets one thread's S3 writes through ``client`` ask to be stamped with a past service time.

    >>> writes = StampedWrites(s3)                                           # doctest: +SKIP
    >>> with writes.as_of(pd.Timestamp("2026-01-05T09:05Z")):               # doctest: +SKIP
    ...     s3.put_object(Bucket="b", Key="k", Body=b"")   # LastModified 09:05 on the endpoint
    """

    def __init__(self, client):
        self._local = threading.local()
        client.meta.events.register("before-sign.s3", self._add_header)

    def _add_header(self, request, **kwargs) -> None:
        when = getattr(self._local, "when", None)
        if when is not None:
            request.headers[STAMP_HEADER] = when.isoformat()

    @contextmanager
    def as_of(self, when: pd.Timestamp):
        """Writes made in this block, in this thread, ask for ``when`` as their LastModified."""
        previous = getattr(self._local, "when", None)
        self._local.when = when
        try:
            yield
        finally:
            self._local.when = previous


def requested_stamp(header: str | None, now: pd.Timestamp) -> pd.Timestamp:
    """The time an own client's request asks to be stamped with: the :data:`STAMP_HEADER` time when it is one
    not after ``now``, else ``now`` (the caller checks the request is the endpoint's own).

    >>> now = pd.Timestamp("2026-01-05T09:10Z")
    >>> requested_stamp("2026-01-05T09:05:00+00:00", now)
    Timestamp('2026-01-05 09:05:00+0000', tz='UTC')
    >>> requested_stamp("2026-01-05T09:15:00+00:00", now) == now
    True
    """
    if not header:
        return now
    when = header.strip()
    try:
        at = pd.Timestamp(when)
    except (TypeError, ValueError):
        return now
    if at is pd.NaT or at.tzinfo is None:
        return now
    return min(at.tz_convert("UTC"), now)
