"""What one request may cost the endpoint: the limits applied before the application sees it.

The server (:mod:`.wsgi`) reads a request's head and body itself and hands the application a complete request, so
every limit here is enforced while reading, before a signature is checked or a byte reaches moto:

- the head (request line and headers) must be complete within :data:`HEADER_SECONDS` and hold at most
  :data:`HEADER_BYTES`; a connection idle between requests closes after :data:`IDLE_SECONDS`;
- at most :data:`CONNECTIONS` connections are open at once (more wait in the listen backlog); idle connections
  cost no thread, requests are served by a pool of :data:`THREADS` threads;
- a body is bounded per route by :func:`body_limit` (its ``Content-Length``, or its chunked length while it
  arrives); a chunk of ``Transfer-Encoding: chunked`` or of an ``aws-chunked`` S3 upload is at most
  :data:`MAX_CHUNK` bytes, its size line at most :data:`MAX_CHUNK_LINE` bytes.

The table with the reasons is in ``docs/security.md``.

>>> body_limit("PUT", "/bucket/key", {}) == S3_OBJECT_BYTES, body_limit("POST", "/", {"X_AMZ_TARGET": "x"})
(True, 1048576)
"""

from __future__ import annotations

MiB = 1 << 20
GiB = 1 << 30

#: The request line and headers together (a 60 KiB Authorization header is answered 431).
HEADER_BYTES = 32 * 1024
#: Seconds a client has to send a request's complete head once its first byte arrived.
HEADER_SECONDS = 10
#: Seconds a kept-alive connection may stay idle (or a body stall) before it is closed.
IDLE_SECONDS = 60
#: Open connections at most; beyond, new ones wait in the listen backlog until one closes.
CONNECTIONS = 1000
#: Threads serving requests (a connection waiting for its next request holds none).
THREADS = 16
#: Bytes read from a socket at a time (waitress's default, 8 KiB, made a 1 MiB body 128 trips through its event
#: loop; the endpoint's CPU per 1 MiB PUT went from ~15 to ~13 ms with the PUT path of storage/putbody.py).
RECV_BYTES = 256 * 1024
#: A body held in memory up to this size; a larger one is spooled to a temporary file while it arrives.
SPOOL_BYTES = 512 * 1024

#: PutObject and UploadPart (AWS's own limit on one PUT).
S3_OBJECT_BYTES = 5 * GiB
#: Any other S3 request with a body (bucket configuration XML, DeleteObjects, CompleteMultipartUpload).
S3_OTHER_BYTES = 16 * MiB
#: The Lookout for Equipment JSON API (its largest documented member is far below).
JSON_BYTES = 1 * MiB
#: The clock control (``/_lookout-nb/clock``): ``{"advance": "PT10M"}``.
CLOCK_BYTES = 64 * 1024
#: One chunk of a chunked or aws-chunked body.
MAX_CHUNK = 64 * MiB
#: A chunk's size line (hex size and extensions such as ``;chunk-signature=<64 hex>``).
MAX_CHUNK_LINE = 1024
#: A chunked body's trailer section.
MAX_TRAILER = 16 * 1024


def body_limit(method: str, path: str, headers: dict) -> int:
    """The largest body the route of a request accepts (``headers``: names upper-cased, ``-`` as ``_``).

    >>> body_limit("PUT", "/_lookout-nb/clock", {}) == CLOCK_BYTES, body_limit("PUT", "/bucket", {}) == S3_OTHER_BYTES
    (True, True)
    """
    if "X_AMZ_TARGET" in headers:
        return JSON_BYTES
    if path.startswith("/_lookout-nb/"):
        return CLOCK_BYTES
    if method == "PUT" and "/" in path.lstrip("/"):  # /bucket/key: an object or a part of one
        return S3_OBJECT_BYTES
    return S3_OTHER_BYTES


def describe(size: int) -> str:
    """``5 GiB``, ``1 MiB``, ``64 KiB``: a limit as people read it.

    >>> describe(S3_OBJECT_BYTES), describe(JSON_BYTES), describe(CLOCK_BYTES)
    ('5 GiB', '1 MiB', '64 KiB')
    """
    for unit, name in ((GiB, "GiB"), (MiB, "MiB"), (1024, "KiB")):
        if size >= unit and size % unit == 0:
            return f"{size // unit} {name}"
    return f"{size} bytes"
