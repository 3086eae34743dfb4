"""S3 uploads in ``aws-chunked`` framing, decoded and verified before moto sees them.

A streaming upload (``x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD`` and its ``-TRAILER`` and
``STREAMING-UNSIGNED-PAYLOAD-TRAILER`` variants) sends its body as chunks ``<hex size>;chunk-signature=<sig>\\r\\n
<data>\\r\\n``, the last of size 0, then optional trailers (a checksum, the trailer's signature). :func:`decode`
reads them strictly, as AWS does (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html):

- each chunk is at most :data:`.limits.MAX_CHUNK` bytes, and the decoded length must equal
  ``X-Amz-Decoded-Content-Length`` (a 5-byte body claiming 1.5 GB is refused: nothing is allocated from the claim);
- with a :class:`ChunkSigner` (an endpoint with credentials), every chunk's signature chains from the request's
  seed signature and is checked, and so is the trailer's: a replayed streaming PUT with another body is refused;
- the request is then handed on as a plain upload: the decoded body, its length, the trailer's checksum as the
  ``x-amz-checksum-*`` header, ``x-amz-content-sha256: UNSIGNED-PAYLOAD`` (its signature was checked).

>>> signer = ChunkSigner(b"k" * 32, "20130524T000000Z", "20130524/us-east-1/s3/aws4_request")
>>> len(signer.chunk("0" * 64, hashlib.sha256(b"data").hexdigest()))
64
"""

from __future__ import annotations

import hashlib
import hmac
import re
import tempfile
from dataclasses import dataclass

from . import limits

SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
MODES = (SIGNED, SIGNED_TRAILER, UNSIGNED_TRAILER)
#: Where :class:`.auth.Verifier` leaves the :class:`ChunkSigner` of a verified streaming request.
SIGNER_KEY = "lookout_nb.chunk_signer"
_EMPTY = hashlib.sha256(b"").hexdigest()
_SIZE = re.compile(rb"^[0-9a-fA-F]{1,16}$")
_SIGNATURE = re.compile(r"^[0-9a-f]{64}$")
_TRAILER_NAME = re.compile(r"^x-amz-checksum-(crc32|crc32c|crc64nvme|sha1|sha256)$")
_PIECE = 1 << 20


class BadBody(Exception):
    """An aws-chunked body that is refused: ``reason`` (a key of :mod:`.auth`'s code table) and a message."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ChunkSigner:
    """The chain of chunk signatures of one request: its signing key, ``X-Amz-Date``, scope and seed signature."""

    key: bytes
    amz_date: str
    scope: str
    seed: str = ""

    def _sign(self, kind: str, previous: str, digest: str, middle: bool = True) -> str:
        parts = [kind, self.amz_date, self.scope, previous] + ([_EMPTY] if middle else []) + [digest]
        return hmac.new(self.key, "\n".join(parts).encode(), hashlib.sha256).hexdigest()

    def chunk(self, previous: str, data_sha256: str) -> str:
        """The signature of a chunk whose data hashes to ``data_sha256``, after the signature ``previous``."""
        return self._sign("AWS4-HMAC-SHA256-PAYLOAD", previous, data_sha256)

    def trailer(self, previous: str, trailer: bytes) -> str:
        """The signature of the trailing headers (``name:value\\n`` each), after the last chunk's signature."""
        return self._sign("AWS4-HMAC-SHA256-TRAILER", previous, hashlib.sha256(trailer).hexdigest(), middle=False)


def mode_of(environ) -> str | None:
    """The streaming mode of an S3 request, or None for a plain body."""
    value = environ.get("HTTP_X_AMZ_CONTENT_SHA256")
    return value if value in MODES else None


def _line(stream, what: str) -> bytes:
    line = stream.readline(limits.MAX_CHUNK_LINE + 2)
    if not line.endswith(b"\r\n"):
        if len(line) > limits.MAX_CHUNK_LINE:
            raise BadBody("malformed_body", f"{what} is over {limits.MAX_CHUNK_LINE} bytes")
        raise BadBody("incomplete", f"the aws-chunked body ends inside {what}")
    return line[:-2]


def _declared(environ, mode: str) -> int | None:
    text = environ.get("HTTP_X_AMZ_DECODED_CONTENT_LENGTH")
    if text is None:
        if mode != UNSIGNED_TRAILER:
            raise BadBody("malformed_body", f"{mode} needs the X-Amz-Decoded-Content-Length header")
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 15:
        raise BadBody("malformed_body", f"X-Amz-Decoded-Content-Length {text[:30]!r} is not a length in bytes")
    return int(text)


def decode(environ, out=None) -> None:
    """Replace an aws-chunked S3 body by the data it carries (see the module); BadBody when it is refused.

    ``environ[SIGNER_KEY]`` (a :class:`ChunkSigner`), when present, has every signature checked. ``out``: where the
    data is written (its ``write``; default: a temporary file handed on as the body, rewound)."""
    mode = mode_of(environ)
    if mode is None:
        return
    signer: ChunkSigner | None = environ.get(SIGNER_KEY)
    declared = _declared(environ, mode)
    stream = environ["wsgi.input"]
    spooled = out is None
    if out is None:
        out = tempfile.SpooledTemporaryFile(max_size=limits.SPOOL_BYTES)  # noqa: SIM115 (handed on as the body)
    try:
        total, previous = _chunks(stream, out, mode, signer, declared)
        trailers = _trailers(stream, mode, signer, previous)
    except BaseException:
        if spooled:
            out.close()
        raise
    if spooled:
        out.seek(0)
    _as_plain(environ, out, total, trailers)


def _chunks(stream, out, mode: str, signer: ChunkSigner | None, declared: int | None) -> tuple[int, str]:
    """Copy the chunks' data to ``out``; the decoded length and the last chunk signature."""
    previous = signer.seed if signer else ""
    total = 0
    while True:
        size_text, _, extension = _line(stream, "a chunk-size line").partition(b";")
        if not _SIZE.match(size_text):
            raise BadBody("malformed_body", f"chunk size {size_text[:20]!r} is not a hexadecimal number")
        size = int(size_text, 16)
        if size > limits.MAX_CHUNK:
            raise BadBody("malformed_body", f"a chunk of {size} bytes is over {limits.describe(limits.MAX_CHUNK)}")
        if declared is not None and total + size > declared:
            raise BadBody("incomplete", f"the chunks carry more than X-Amz-Decoded-Content-Length ({declared} bytes)")
        digest = hashlib.sha256()
        left = size
        while left:
            piece = stream.read(min(left, _PIECE))
            if not piece:
                raise BadBody("incomplete", f"the body ended {left} bytes short of a chunk of {size} bytes")
            digest.update(piece)
            out.write(piece)
            left -= len(piece)
        total += size
        if signer is not None and mode != UNSIGNED_TRAILER:
            name, _, given = extension.decode("latin-1").partition("=")
            expected = signer.chunk(previous, digest.hexdigest())
            if name != "chunk-signature" or not _SIGNATURE.match(given) or not hmac.compare_digest(given, expected):
                raise BadBody("signature", "The request signature we calculated does not match the signature you "
                              f"provided (chunk ending at byte {total}).")
            previous = expected
        if size == 0:
            break
        if stream.read(2) != b"\r\n":
            raise BadBody("malformed_body", f"the chunk ending at byte {total} is not followed by CRLF")
    if declared is not None and total != declared:
        raise BadBody("incomplete", f"You did not provide the number of bytes specified by the "
                      f"X-Amz-Decoded-Content-Length header ({declared}); the chunks carry {total}.")
    return total, previous


def _trailers(stream, mode: str, signer: ChunkSigner | None, previous: str) -> dict[str, str]:
    found, signed, signature = {}, b"", None
    for _ in range(16):
        line = stream.readline(limits.MAX_CHUNK_LINE + 2)
        text = line.rstrip(b"\r\n").decode("latin-1")
        if not text:
            break
        name, sep, value = text.partition(":")
        name = name.strip().lower()
        if name == "x-amz-trailer-signature":
            signature = value.strip()
        elif sep and _TRAILER_NAME.match(name):
            found[name] = value.strip()
            signed += f"{name}:{value.strip()}\n".encode()
        else:
            raise BadBody("malformed_body", f"trailer {text[:60]!r} is not an x-amz-checksum-* header")
    if mode == SIGNED_TRAILER and signer is not None:
        expected = signer.trailer(previous, signed)
        if signature is None or not hmac.compare_digest(signature, expected):
            raise BadBody("signature", "The trailer signature we calculated does not match the one you provided.")
    return found


def _as_plain(environ, body, length: int, trailers: dict[str, str]) -> None:
    environ["wsgi.input"] = body
    environ["CONTENT_LENGTH"] = str(length)
    environ["HTTP_X_AMZ_CONTENT_SHA256"] = "UNSIGNED-PAYLOAD"
    environ.pop("HTTP_X_AMZ_DECODED_CONTENT_LENGTH", None)
    environ.pop("HTTP_X_AMZ_TRAILER", None)
    environ.pop(SIGNER_KEY, None)
    encodings = [e.strip() for e in environ.pop("HTTP_CONTENT_ENCODING", "").split(",")
                 if e.strip() and e.strip() != "aws-chunked"]
    if encodings:
        environ["HTTP_CONTENT_ENCODING"] = ",".join(encodings)
    for name, value in trailers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
