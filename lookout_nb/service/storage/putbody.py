"""PutObject and UploadPart bodies streamed once to a file, checked, then handed to moto already on disk.

moto's handler would read a PUT's whole body into memory (a 1.5 GiB PUT: 1.5 GB), and the write-through store
would then copy and hash it again. For a PutObject or UploadPart (:func:`wanted`), the endpoint instead:

1. :func:`receive`: copies the body (a plain one, or the data of an ``aws-chunked`` one as it is decoded) in 1 MiB
   pieces into a file of the object store's :attr:`~.objects.ObjectStore.incoming` folder, computing in the same
   pass every digest it needs: MD5 (the ETag, ``Content-MD5``), SHA-256 (``x-amz-content-sha256`` and the blob's
   name) and the ``x-amz-checksum-*`` algorithms the request names (CRC32, SHA1, SHA256; CRC32C with the
   ``crc32c`` package, CRC64NVME with ``awscrt``); the file is fsynced when the store is durable;
2. checks them as S3 does: a wrong ``x-amz-content-sha256`` is ``XAmzContentSHA256Mismatch``, a wrong
   ``Content-MD5`` or checksum ``BadDigest`` (a malformed one ``InvalidDigest`` / ``InvalidRequest``), and the file
   is removed: nothing is stored. A checksum the request asks for without a value is computed and given to moto as
   the client's header (so it is answered and kept); a checksum value of an algorithm that cannot be computed here
   is kept as sent, unchecked (moto's own behaviour);
3. :func:`put`: lets moto's handler answer the request with an empty body while :func:`.moto.arriving.body_on_disk`
   gives the key the file (a :class:`.diskbody.DiskBody`) and the MD5 as its ETag: headers, metadata, tagging,
   ACLs, conditional writes, versioning, object lock, checksums and LastModified stay moto's; the write-through
   store then names the file as its blob by a hard link (no copy). When moto refuses (a failed ``If-None-Match``,
   a missing bucket), the file is removed.

The signature is still checked before the body is read (:mod:`..http.auth` against the claimed
``x-amz-content-sha256``, which step 2 then checks). Left to moto's own path: a PUT with a sub-resource (``?acl``,
``?tagging``, ...), CopyObject and UploadPartCopy (no body), virtual-host addressed keys, POST uploads, and
presigned-URL PUTs (their ``X-Amz-*`` query: the body is read into memory by moto, up to the route's limit).

>>> digests = Digests(["CRC32", "SHA1"])
>>> digests.update(b"hello")
>>> digests.md5.hexdigest(), digests.checksum("CRC32"), digests.checksum("CRC32C")  # CRC32C: not asked for
('5d41402abc4b2a76b9719d911017c592', 'NhCmhg==', None)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import os
import tempfile
import urllib.parse
import zlib
from pathlib import Path

from .diskbody import DiskBody
from .moto import arriving

_PIECE = 1 << 20
_QUERY = {"uploadId", "partNumber", "x-id"}
_ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")
_HEX64 = frozenset("0123456789abcdef")


class Refused(Exception):
    """A body S3 refuses: ``status``, ``code`` and the message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code = status, code


def wanted(environ, store) -> bool:
    """True for a PutObject or UploadPart (path-style ``/bucket/key``) that ``store`` (an open
    :class:`.objects.ObjectStore`) can receive."""
    if environ.get("REQUEST_METHOD") != "PUT" or store is None or not store.is_open:
        return False
    if "/" not in environ.get("PATH_INFO", "").lstrip("/") or "HTTP_X_AMZ_COPY_SOURCE" in environ:
        return False
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    return set(query) <= _QUERY and ("uploadId" in query) == ("partNumber" in query)


class _Crc:
    """An incremental CRC (``update``, ``digest``) of ``width`` bytes."""

    def __init__(self, step, width: int):
        self.step, self.width, self.value = step, width, 0

    def update(self, data) -> None:
        self.value = self.step(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(self.width, "big")


def _checksum_of(algorithm: str):
    """A new incremental checksum of ``algorithm``, or None when this machine cannot compute it."""
    if algorithm == "CRC32":
        return _Crc(zlib.crc32, 4)
    if algorithm in ("SHA1", "SHA256"):
        return hashlib.new(algorithm.lower())
    try:
        if algorithm == "CRC32C":
            import crc32c

            return _Crc(lambda data, value: crc32c.crc32c(data, value), 4)
        if algorithm == "CRC64NVME":
            from awscrt import checksums

            return _Crc(lambda data, value: checksums.crc64nvme(data, value), 8)
    except ImportError:
        return None
    return None


class Digests:
    """MD5, SHA-256 and the named checksums of the bytes given to :meth:`update`, in one pass."""

    def __init__(self, algorithms=()):
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.checksums = {a: c for a in dict.fromkeys(algorithms) if (c := _checksum_of(a)) is not None}

    def update(self, data) -> None:
        self.md5.update(data)
        self.sha256.update(data)
        for checksum in self.checksums.values():
            checksum.update(data)
        self.size += len(data)

    def checksum(self, algorithm: str) -> str | None:
        """The base64 checksum S3 answers for ``algorithm``, or None when it was not computed."""
        found = self.checksums.get(algorithm)
        return base64.b64encode(found.digest()).decode() if found is not None else None


class Incoming:
    """A body arriving into a new file of ``folder`` (``write`` as a file; digests in :attr:`digests`)."""

    def __init__(self, folder: Path, durable: bool, algorithms=()):
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder, prefix=".put-", suffix=".tmp")
        self.fd, self.path, self.durable = fd, Path(name), durable
        self.digests = Digests(algorithms)

    def write(self, data) -> int:
        self.digests.update(data)
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]
        return len(data)

    def copy_from(self, stream, length: int) -> None:
        """Copy ``length`` bytes of ``stream``; Refused (IncompleteBody) when it ends short."""
        buffer = bytearray(min(_PIECE, max(length, 1)))
        readinto = getattr(stream, "readinto", None)
        left = length
        while left:
            if readinto is not None:
                n = readinto(memoryview(buffer)[:min(left, len(buffer))])
                piece = memoryview(buffer)[:n or 0]
            else:
                piece = memoryview(stream.read(min(left, _PIECE)))
            if not piece:
                raise Refused(400, "IncompleteBody", f"You did not provide the number of bytes specified by the "
                                                     f"Content-Length HTTP header ({length}); {length - left} arrived.")
            self.write(piece)
            left -= len(piece)

    def finish(self) -> DiskBody:
        """The received body as a DiskBody that owns its file (fsynced first when durable)."""
        if self.durable:
            os.fsync(self.fd)
        os.close(self.fd)
        self.fd = -1
        return DiskBody(self.path, self.digests.size, self.digests.sha256.hexdigest(), owned=True)

    def discard(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        self.path.unlink(missing_ok=True)


def _header(environ, name: str) -> str | None:
    return environ.get("HTTP_" + name.upper().replace("-", "_"))


def _algorithms(environ) -> list[str]:
    """The checksum algorithms the request names (its SDK header, checksum headers, announced trailers)."""
    names = [(_header(environ, "x-amz-sdk-checksum-algorithm") or "").upper()]
    names += [key[len("HTTP_X_AMZ_CHECKSUM_"):] for key in environ if key.startswith("HTTP_X_AMZ_CHECKSUM_")]
    names += [t.strip().lower().removeprefix("x-amz-checksum-").upper()
              for t in (_header(environ, "x-amz-trailer") or "").split(",")]
    return [name for name in names if name in _ALGORITHMS]


def receive(environ, store, decode=None) -> tuple[DiskBody, str]:
    """Stream the body of a :func:`wanted` request into ``store``'s incoming folder and check it (see the module).

    ``decode(environ, out=...)``: the ``aws-chunked`` decoder, for a streaming upload (it writes the data to
    ``out`` and turns the trailers into headers). Returns the body (a DiskBody owning its file) and its MD5 (hex).
    Raises :class:`Refused`, or what ``decode`` raises; then no file is left."""
    incoming = Incoming(store.incoming, store.durable, _algorithms(environ))
    try:
        if decode is not None:
            decode(environ, out=incoming)
        else:
            incoming.copy_from(environ["wsgi.input"], _length(environ))
        _check(environ, incoming.digests)
        return incoming.finish(), incoming.digests.md5.hexdigest()
    except BaseException:
        incoming.discard()
        raise


def _length(environ) -> int:
    try:
        return max(int(environ.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def _check(environ, digests: Digests) -> None:
    """Refused when a digest the request carries does not match; a checksum asked without a value is added."""
    claimed = _header(environ, "x-amz-content-sha256") or ""
    if len(claimed) == 64 and set(claimed) <= _HEX64 and claimed != digests.sha256.hexdigest():
        raise Refused(400, "XAmzContentSHA256Mismatch",
                      "The provided 'x-amz-content-sha256' header does not match what was computed.")
    md5 = environ.get("HTTP_CONTENT_MD5")
    if md5 is not None:
        try:
            given = base64.b64decode(md5.strip(), validate=True)
        except (binascii.Error, ValueError):
            given = b""
        if len(given) != 16:
            raise Refused(400, "InvalidDigest", "The Content-MD5 you specified was invalid.")
        if given != digests.md5.digest():
            raise Refused(400, "BadDigest", "The Content-MD5 you specified did not match what we received.")
    for algorithm in _ALGORITHMS:
        given_text = _header(environ, f"x-amz-checksum-{algorithm}")
        computed = digests.checksum(algorithm)
        if given_text is None or computed is None:
            continue
        if given_text.strip() != computed:
            try:
                valid = len(base64.b64decode(given_text.strip(), validate=True)) == len(base64.b64decode(computed))
            except (binascii.Error, ValueError):
                valid = False
            if not valid:
                raise Refused(400, "InvalidRequest", f"Value for x-amz-checksum-{algorithm.lower()} header is invalid.")
            raise Refused(400, "BadDigest", f"The {algorithm} you specified did not match the calculated checksum.")
    asked = (_header(environ, "x-amz-sdk-checksum-algorithm") or "").upper()
    if asked and _header(environ, f"x-amz-checksum-{asked}") is None:
        if asked not in _ALGORITHMS:
            raise Refused(400, "InvalidRequest", f"x-amz-sdk-checksum-algorithm {asked[:20]!r} is not one of "
                                                 f"{', '.join(_ALGORITHMS)}.")
        computed = digests.checksum(asked)
        if computed is None:
            package = "crc32c" if asked == "CRC32C" else "awscrt"
            raise Refused(400, "InvalidRequest", f"This endpoint cannot compute {asked} checksums (install the "
                                                 f"{package} package), and the request sent no value to keep.")
        environ["HTTP_X_AMZ_CHECKSUM_" + asked] = computed


def put(received: tuple[DiskBody, str], environ, start_response, app):
    """Answer the request with ``app`` (moto's S3, through the write-through store), the key taking the body
    :func:`receive` returned."""
    body, md5 = received
    environ["wsgi.input"] = io.BytesIO(b"")
    environ["CONTENT_LENGTH"] = "0"
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    with arriving.body_on_disk(body, md5) as made:
        try:
            return app(environ, start_response)
        finally:
            if not made:
                body.close()  # refused by moto: nothing stored, the file goes
