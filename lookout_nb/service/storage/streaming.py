"""GetObject streamed from the object's file: a 100 MiB GET costs a 1 MiB buffer, not 100 MiB (or more) of memory.

moto answers a GET with the whole body as one bytes object. For an object whose bytes are on disk
(:class:`.diskbody.DiskBody`), :func:`streamed_get` asks moto the same request as a HEAD (so every header, the
conditional requests' 304/412, the checksum headers, ``versionId`` are moto's own), then sends the file in
:data:`.diskbody.CHUNK` pieces. Requests it leaves to moto: ranges, ``partNumber``, ``response-*`` overrides,
sub-resources (``?acl``, ``?tagging``, ...), and anything that is not an object (a listing).

A damaged or missing file answers ``500 InternalError`` naming the object's file. A body up to
:data:`CHECKED_IN_MEMORY` is read and checked before the answer; a larger one is checked as it streams, and a
mismatch found at its end cuts the connection (the client sees a short body, never wrong bytes accepted).

>>> wanted({"REQUEST_METHOD": "GET", "QUERY_STRING": "versionId=3"}), wanted({"REQUEST_METHOD": "GET",
...                                                                          "QUERY_STRING": "acl"})
(True, False)
"""

from __future__ import annotations

import contextvars
import functools
import urllib.parse

from .diskbody import DamagedObject
from .moto import motos3

#: Bodies up to this size are read and checked whole before the answer starts.
CHECKED_IN_MEMORY = 8 * 1024 * 1024
_ALLOWED_QUERY = {"versionId", "x-id"}

_probe: contextvars.ContextVar = contextvars.ContextVar("lookout_nb_get_probe", default=None)
#: The attribute that marks moto's ``head_object`` as already wrapped by :func:`install_hook` (set by name: a
#: function's own attributes are not part of its type).
_PROBED = "__lookout_nb_probe__"


def wanted(environ) -> bool:
    """True for a GET this module may stream (no range, no sub-resource, no response override)."""
    if environ.get("REQUEST_METHOD") != "GET" or environ.get("HTTP_RANGE"):
        return False
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    return set(query) <= _ALLOWED_QUERY


@functools.lru_cache(maxsize=1)
def install_hook() -> None:
    """Note the key a HEAD finds (``S3Backend.head_object``) while a probe is active (once per process)."""
    S3Backend = motos3.backend_class()
    head = S3Backend.head_object
    if getattr(head, _PROBED, False):
        return

    @functools.wraps(head)
    def probed(self, *args, **kwargs):
        key = head(self, *args, **kwargs)
        found = _probe.get()
        if found is not None:
            found.append(key)
        return key

    setattr(probed, _PROBED, True)
    S3Backend.head_object = probed


class Stream:
    """The WSGI body of a streamed GET (the dispatcher passes it on as it is, without collecting it)."""

    lookout_nb_stream = True

    def __init__(self, pieces):
        self._pieces = pieces

    def __iter__(self):
        return iter(self._pieces)


def streamed_get(app, environ, start_response, error):
    """The streamed answer of a GET, or None to let moto answer it. ``error(start_response, status, code,
    message)`` writes an S3 error."""
    install_hook()
    found, answer = [], []
    head = {**environ, "REQUEST_METHOD": "HEAD"}
    token = _probe.set(found)
    try:
        result = app(head, lambda status, headers, exc_info=None: answer.extend([status, headers]))
        getattr(result, "close", lambda: None)()
    finally:
        _probe.reset(token)
    key = found[-1] if found else None
    disk = motos3.disk_body(key) if key is not None else None
    if disk is None or not answer or not answer[0].startswith("200"):
        return None
    checksums = motos3.get_checksum_headers(key) if environ.get("HTTP_X_AMZ_CHECKSUM_MODE") == "ENABLED" else {}
    replaced = {"content-length", *checksums}
    headers = [(k, v) for k, v in answer[1] if k.lower() not in replaced]
    headers += [*checksums.items(), ("Content-Length", str(disk.size))]
    try:
        if disk.size <= CHECKED_IN_MEMORY:
            pieces = [b"".join(disk.chunks())]
        else:
            pieces = disk.chunks()
            first = next(pieces, b"")  # a missing file is found here, before the answer starts
            pieces = _chain(first, pieces)
    except DamagedObject as err:
        return error(start_response, "500 Internal Server Error", "InternalError",
                     f"{motos3.key_uri(key)} cannot be read: {err}; the other objects serve (lookout-nb fsck lists "
                     "every damaged one)")
    start_response(answer[0], headers)
    return Stream(pieces)


def _chain(first: bytes, rest):
    if first:
        yield first
    yield from rest
