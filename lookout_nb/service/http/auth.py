"""SigV4 verification of every request, when the endpoint has credentials (``start(credentials=(key, secret))``,
``lookout-nb serve --credentials KEY:SECRET`` or :data:`ENV`).

:class:`Verifier` recomputes each request's AWS Signature Version 4 with botocore's own signer (the canonical
request from the received method, raw path, query, the signed headers and the body's hash) and compares it in
constant time. Header auth (``Authorization: AWS4-HMAC-SHA256 ...``) is accepted on every route, query auth
(presigned URLs, ``X-Amz-Signature=...``) on S3 only, as AWS does. A refusal is answered in each protocol's own
form, so boto3 raises its usual ``ClientError`` codes: S3's XML error (``InvalidAccessKeyId``,
``SignatureDoesNotMatch``, ``AccessDenied``, ``RequestTimeTooSkewed``, ``XAmzContentSHA256Mismatch``) or the JSON
``{"__type": ...}`` of the Lookout API and of the clock control (``UnrecognizedClientException``,
``InvalidSignatureException``, ``MissingAuthenticationTokenException``, ``IncompleteSignatureException``).

**What a signature binds.** As on AWS: the credential scope's service must be the API reached (``s3``,
``lookoutequipment`` for the JSON API, :data:`CLOCK_SERVICE` for the clock control) and its region a region name
(the Lookout API's ARNs take it); ``host`` and every ``x-amz-*`` header the request carries must be signed (so
``X-Amz-Target`` is, on the JSON API); the body is bound by its hash: ``x-amz-content-sha256`` when given (hashed
from the body, which the server has already spooled to memory or a temporary file, in pieces: never read whole
into memory), else the hash of the body itself. ``UNSIGNED-PAYLOAD`` and the streaming modes are S3's only; a
streaming upload's chunk signatures are checked by :mod:`.awschunked` with the :class:`~.awschunked.ChunkSigner`
left in the environ.

**Skew.** A signature's ``X-Amz-Date`` comes from the client's wall clock, so it is checked against this machine's
wall clock (:func:`.clock.wall_seconds`), allowing :data:`SKEW` (15 minutes) either way as AWS does; never against
the service clock, which may be manual or sped up and is meant to differ from real time.

:class:`OwnClients` marks the requests of the endpoint's own boto3 clients (demo seeder and feeder, runner) with a
per-process token: they pass the start-up :class:`~.ready.Gate` and may stamp S3 writes with a past service time
(:mod:`.s3clock`). They still sign like any client.

>>> parse_credentials("AKIDEXAMPLE:wJalrXUtnFEMI")
('AKIDEXAMPLE', 'wJalrXUtnFEMI')
>>> Verifier("AKIDEXAMPLE", "secret").refusal({"REQUEST_METHOD": "GET", "PATH_INFO": "/"}, s3=True).code
'AccessDenied'
"""

from __future__ import annotations

import hashlib
import hmac
import io
import re
import secrets
from calendar import timegm
from dataclasses import dataclass
from urllib.parse import quote, unquote

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

from ...errors import InvalidArgument
from ..clock import wall_seconds
from . import answers, awschunked

#: The environment variable ``lookout-nb serve`` and ``lookout-nb demo`` take credentials from (``KEY:SECRET``).
ENV = "LOOKOUT_NB_CREDENTIALS"
#: How far a signature's date may be from this machine's wall clock, either way (seconds), as on AWS.
SKEW = 15 * 60
#: The header the endpoint's own clients carry (:class:`OwnClients`).
OWN_HEADER = "X-Lookout-Nb-Own"
_OWN_ENVIRON = "HTTP_" + OWN_HEADER.upper().replace("-", "_")
_ALGORITHM = "AWS4-HMAC-SHA256"
_HASH = re.compile(r"^[0-9a-f]{64}$")
_AMZ_DATE = re.compile(r"^\d{8}T\d{6}Z$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
#: The service name of the clock control's credential scope (``/_lookout-nb/clock``).
CLOCK_SERVICE = "lookout-nb-clock"
#: Where :meth:`Verifier.refusal` leaves the region of a verified signature's scope.
REGION_KEY = "lookout_nb.region"
_PIECE = 1 << 20

#: reason -> (S3 status, S3 code, JSON status, JSON __type)
_CODES = {
    "missing": (403, "AccessDenied", 403, "MissingAuthenticationTokenException"),
    "malformed": (400, "AuthorizationHeaderMalformed", 400, "IncompleteSignatureException"),
    "unknown_key": (403, "InvalidAccessKeyId", 403, "UnrecognizedClientException"),
    "signature": (403, "SignatureDoesNotMatch", 403, "InvalidSignatureException"),
    "skewed": (403, "RequestTimeTooSkewed", 403, "InvalidSignatureException"),
    "expired": (403, "AccessDenied", 403, "InvalidSignatureException"),
    "body": (400, "XAmzContentSHA256Mismatch", 403, "InvalidSignatureException"),
    "content_hash": (400, "InvalidArgument", 403, "InvalidSignatureException"),
    "scope": (400, "AuthorizationHeaderMalformed", 403, "InvalidSignatureException"),
    "unsigned": (403, "AccessDenied", 403, "InvalidSignatureException"),
    "incomplete": (400, "IncompleteBody", 400, "SerializationException"),
    "malformed_body": (400, "InvalidRequest", 400, "SerializationException"),
}


def parse_credentials(text: str, source: str = "--credentials") -> tuple[str, str]:
    """``"KEY:SECRET"`` -> ``(key, secret)``; InvalidArgument naming ``source`` when it is not that.

    >>> parse_credentials("nocolon", "LOOKOUT_NB_CREDENTIALS")
    Traceback (most recent call last):
    ...
    lookout_nb.errors.InvalidArgument: LOOKOUT_NB_CREDENTIALS must be ACCESS_KEY:SECRET_KEY (both non-empty, ...
    """
    key, sep, secret = (text or "").partition(":")
    if not sep or not key or not secret or any(c.isspace() for c in text):
        raise InvalidArgument(
            f"{source} must be ACCESS_KEY:SECRET_KEY (both non-empty, no spaces), e.g. plant1:5f2b...")
    return key, secret


def credentials_of(value, source: str = "credentials") -> tuple[str, str] | None:
    """``start(credentials=...)``: None (no verification), ``(key, secret)`` or ``"KEY:SECRET"``."""
    if value is None:
        return None
    if isinstance(value, str):
        return parse_credentials(value, source)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(v, str) for v in value):
        return parse_credentials(f"{value[0]}:{value[1]}", source)
    raise InvalidArgument(
        f"{source} must be (access_key, secret_key) or 'ACCESS_KEY:SECRET_KEY', not {type(value).__name__}")


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused: ``reason`` (a key of the code table) and a message for the caller."""

    reason: str
    message: str

    @property
    def code(self) -> str:
        """S3's error code of this refusal."""
        return _CODES[self.reason][1]


class _Exact:
    """Sign exactly the headers the client listed in SignedHeaders (botocore's signer drops a few by name), with
    the payload hash the verifier computed (the body is not handed to botocore)."""

    def headers_to_sign(self, request):
        headers = HTTPHeaders()
        for name, value in request.headers.items():
            headers[name.lower()] = value
        return headers

    def payload(self, request):
        return request.context["payload_hash"]


class _Header(_Exact, SigV4Auth):
    pass


class _S3Header(_Exact, S3SigV4Auth):
    pass


class _Query(_Exact, SigV4QueryAuth):
    pass


class _S3Query(_Exact, S3SigV4QueryAuth):
    pass


@dataclass
class _Signed:
    """What a request claims: key, scope, signed headers, signature, date (and expiry for query auth)."""

    key: str
    date: str
    region: str
    service: str
    headers: list
    signature: str
    amz_date: str
    expires: int | None = None


class Verifier:
    """Checks requests against one access key and secret (``refusal(environ, s3)`` is None when valid)."""

    def __init__(self, access_key: str, secret_key: str, wall=wall_seconds, skew: int = SKEW):
        self.access_key, self.secret_key = access_key, secret_key
        self._credentials = Credentials(access_key, secret_key)
        self.wall, self.skew = wall, skew

    def refusal(self, environ, s3: bool, service: str | None = None, body_later: bool = False) -> Refusal | None:
        """None when the request carries a valid signature of this key; else the :class:`Refusal`.

        ``service``: the credential scope's service the route requires (default ``s3`` or ``lookoutequipment``).
        ``body_later``: the signature is checked with the claimed ``x-amz-content-sha256``, which the caller checks
        against the body as it reads it (:mod:`..storage.putbody`: the body is read once, after the signature).
        Leaves the signed region in ``environ[REGION_KEY]``, and for a signed streaming upload the
        :class:`~.awschunked.ChunkSigner` in ``environ[awschunked.SIGNER_KEY]``."""
        service = service or ("s3" if s3 else "lookoutequipment")
        pairs = _query_pairs(environ.get("QUERY_STRING", ""))
        query = dict(pairs)
        presigned = "X-Amz-Signature" in query or "X-Amz-Algorithm" in query
        if "AWSAccessKeyId" in query and not presigned:
            return Refusal("missing", "Only SigV4 presigned URLs are accepted, not SigV2 ones: presign with "
                           "botocore.config.Config(signature_version='s3v4').")
        if presigned and not s3:
            return Refusal("missing", f"Query-string (presigned) authentication is accepted by S3 only: sign the "
                           f"{service} request in its Authorization header.")
        try:
            signed = _from_query(query) if presigned else _from_header(environ)
        except _Bad as bad:
            return bad.refusal
        if not hmac.compare_digest(signed.key.encode(), self.access_key.encode()):
            return Refusal("unknown_key", "The AWS Access Key Id you provided does not exist in our records.")
        problem = self._dated(signed) or _scope_problem(signed, service) or _unsigned_problem(environ, signed)
        if problem is not None:
            return problem
        try:
            payload_hash = _payload_hash(environ, s3, presigned, body_later)
        except _Bad as bad:
            return bad.refusal
        expected = self._signature(environ, signed, pairs, payload_hash, s3, presigned)
        if not hmac.compare_digest(expected, signed.signature):
            return Refusal("signature", "The request signature we calculated does not match the signature you "
                           "provided. Check your key and signing method.")
        environ[REGION_KEY] = signed.region
        if payload_hash in (awschunked.SIGNED, awschunked.SIGNED_TRAILER):
            scope = f"{signed.date}/{signed.region}/{signed.service}/aws4_request"
            environ[awschunked.SIGNER_KEY] = awschunked.ChunkSigner(
                self._signing_key(signed), signed.amz_date, scope, seed=signed.signature)
        return None

    def _signing_key(self, signed: _Signed) -> bytes:
        key = ("AWS4" + self.secret_key).encode()
        for part in (signed.date, signed.region, signed.service, "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        return key

    def _dated(self, signed: _Signed) -> Refusal | None:
        d = signed.amz_date
        if not _AMZ_DATE.match(d):
            return Refusal("malformed",
                           f"X-Amz-Date {d[:40]!r} is not an ISO 8601 basic time such as 20260105T090000Z.")
        at = timegm((int(d[0:4]), int(d[4:6]), int(d[6:8]), int(d[9:11]), int(d[11:13]), int(d[13:15]), 0, 0, 0))
        if signed.date != signed.amz_date[:8]:
            return Refusal("malformed", f"The credential scope's date {signed.date} is not the date of "
                                        f"X-Amz-Date {signed.amz_date}.")
        now = self.wall()
        if signed.expires is not None:
            if now > at + signed.expires:
                return Refusal("expired", "Request has expired")
            if at - now > self.skew:
                return Refusal("expired", "Request is not valid yet")
        elif abs(now - at) > self.skew:
            return Refusal("skewed", f"Signature expired or not yet valid: {signed.amz_date} is more than "
                                     f"{self.skew // 60} minutes from this endpoint's wall clock; check the client "
                                     "machine's clock.")
        return None

    def _signature(self, environ, signed: _Signed, pairs, payload_hash: str, s3: bool, presigned: bool) -> str:
        """The signature botocore's signer makes of this request with our secret."""
        headers = {}
        for name in signed.headers:
            value = _header(environ, name)
            if value is None:
                return ""  # a header it says it signed is missing: no signature can match
            headers[name] = value
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(environ.get("PATH_INFO", "/"))
        path = raw.split("?", 1)[0] or "/"
        kept = [(k, v) for k, v in pairs if not (presigned and k == "X-Amz-Signature")]
        canonical_query = "&".join(f"{_enc(k)}={_enc(v)}" for k, v in kept)
        url = f"http://{headers.get('host', 'localhost')}{path}" + (f"?{canonical_query}" if canonical_query else "")
        request = AWSRequest(method=environ.get("REQUEST_METHOD", "GET"), url=url, headers=headers)
        request.context["timestamp"] = signed.amz_date
        request.context["payload_hash"] = payload_hash
        signer_class = (_S3Query if s3 else _Query) if presigned else (_S3Header if s3 else _Header)
        signer = signer_class(self._credentials, signed.service, signed.region)
        canonical = signer.canonical_request(request)
        return signer.signature(signer.string_to_sign(request, canonical), request)


class _Bad(Exception):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.refusal = Refusal(reason, message)


def _from_header(environ) -> _Signed:
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    if not authorization:
        raise _Bad("missing", "This endpoint verifies SigV4 signatures: sign requests with its access key and secret "
                   "(anonymous requests are refused).")
    algorithm, _, rest = authorization.strip().partition(" ")
    if algorithm != _ALGORITHM:
        raise _Bad("malformed", f"Only {_ALGORITHM} signatures (SigV4) are accepted, not {algorithm[:40]!r}.")
    parts = dict(part.strip().partition("=")[::2] for part in rest.split(","))
    amz_date = environ.get("HTTP_X_AMZ_DATE", "")
    return _signed(parts.get("Credential", ""), parts.get("SignedHeaders", ""), parts.get("Signature", ""), amz_date)


def _from_query(query: dict) -> _Signed:
    if query.get("X-Amz-Algorithm") != _ALGORITHM:
        raise _Bad("malformed", f"X-Amz-Algorithm must be {_ALGORITHM}.")
    try:
        expires = int(query.get("X-Amz-Expires", ""))
    except ValueError:
        raise _Bad("malformed", "X-Amz-Expires must be a number of seconds (1 to 604800).") from None
    if not 0 < expires <= 604800:
        raise _Bad("malformed", "X-Amz-Expires must be a number of seconds (1 to 604800).")
    signed = _signed(query.get("X-Amz-Credential", ""), query.get("X-Amz-SignedHeaders", ""),
                     query.get("X-Amz-Signature", ""), query.get("X-Amz-Date", ""))
    signed.expires = expires
    return signed


def _signed(credential: str, signed_headers: str, signature: str, amz_date: str) -> _Signed:
    scope = credential.split("/")
    if len(scope) != 5 or scope[4] != "aws4_request" or not all(scope):
        raise _Bad("malformed", "The Credential must be ACCESS_KEY/YYYYMMDD/REGION/SERVICE/aws4_request.")
    if not signed_headers or not signature:
        raise _Bad("malformed", "The signature must name its SignedHeaders and carry a Signature.")
    return _Signed(scope[0], scope[1], scope[2], scope[3], signed_headers.lower().split(";"), signature, amz_date)


def _query_pairs(query: str) -> list[tuple[str, str]]:
    """The query's (name, value) pairs, percent-decoded (``+`` stays a plus, as SigV4 reads it)."""
    return [(unquote(k), unquote(v)) for k, _, v in (p.partition("=") for p in query.split("&") if p)]


def _enc(text: str) -> str:
    return quote(text, safe="-_.~")


def _header(environ, name: str) -> str | None:
    key = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}.get(name)
    return environ.get(key or "HTTP_" + name.upper().replace("-", "_"))


def _scope_problem(signed: _Signed, service: str) -> Refusal | None:
    """The credential scope must name the API reached and a region."""
    if signed.service != service:
        return Refusal("scope", f"Credential should be scoped to correct service: '{service}' "
                                f"(not '{signed.service[:40]}').")
    if not _REGION.match(signed.region):
        return Refusal("scope", f"The credential scope's region '{signed.region[:40]}' is not a region name such as "
                                "us-east-1.")
    return None


def _unsigned_problem(environ, signed: _Signed) -> Refusal | None:
    """``host`` and every ``x-amz-*`` header present must be among the signed headers."""
    listed = set(signed.headers)
    present = [key[5:].lower().replace("_", "-") for key in environ if key.startswith("HTTP_X_AMZ_")]
    missing = sorted(name for name in present if name not in listed)
    if "host" not in listed:
        missing.insert(0, "host")
    if missing:
        return Refusal("unsigned", "There were headers present in the request which were not signed: "
                                   + ", ".join(missing[:10]))
    return None


def _payload_hash(environ, s3: bool, presigned: bool, body_later: bool = False) -> str:
    """The hash the signature covers: ``x-amz-content-sha256`` (checked against the body when it is a hash, unless
    ``body_later``), else the body's own hash (``UNSIGNED-PAYLOAD`` for a presigned URL)."""
    given = _header(environ, "x-amz-content-sha256")
    if given is None:
        if s3 and not presigned:
            raise _Bad("content_hash", "Missing required header for this request: x-amz-content-sha256")
        return "UNSIGNED-PAYLOAD" if presigned else _body_sha256(environ)
    if _HASH.match(given):
        if not body_later and not hmac.compare_digest(given, _body_sha256(environ)):
            raise _Bad("body", "The provided 'x-amz-content-sha256' header does not match what was computed.")
        return given
    if s3 and given == "UNSIGNED-PAYLOAD":
        return given
    if s3 and not presigned and given in awschunked.MODES:
        return given
    allowed = "a SHA-256 hex digest, UNSIGNED-PAYLOAD or a STREAMING-* mode" if s3 else "the body's SHA-256 hex digest"
    raise _Bad("content_hash", f"x-amz-content-sha256 {given[:70]!r} is not accepted here: send {allowed}.")


def _body_sha256(environ) -> str:
    """The SHA-256 of the request body, read in pieces and rewound for the application."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ.get("wsgi.input")
    digest = hashlib.sha256()
    if stream is None or length <= 0:
        return digest.hexdigest()
    seekable = getattr(stream, "seekable", lambda: False)()
    start = stream.tell() if seekable else 0
    kept = None if seekable else io.BytesIO()
    left = length
    while left:
        piece = stream.read(min(left, _PIECE))
        if not piece:
            break
        digest.update(piece)
        if kept is not None:
            kept.write(piece)
        left -= len(piece)
    if kept is None:
        stream.seek(start)
    else:
        kept.seek(0)
        environ["wsgi.input"] = kept
    return digest.hexdigest()


def refuse(refusal: Refusal, protocol: str, environ, start_response):
    """Answer ``refusal`` in the form of ``protocol``: ``"s3"`` (XML) or ``"json"`` (Lookout API, clock control)."""
    s3_status, s3_code, json_status, json_code = _CODES[refusal.reason]
    if protocol == "s3":
        return answers.error("s3", s3_status, s3_code, refusal.message, environ, start_response)
    return answers.error("json", json_status, json_code, refusal.message, environ, start_response)


class OwnClients:
    """Marks the requests of the endpoint's own boto3 clients with a per-process token (after signing).

    >>> own = OwnClients()
    >>> own.is_own({"HTTP_X_LOOKOUT_NB_OWN": own.token}), own.is_own({"HTTP_X_LOOKOUT_NB_OWN": "guess"})
    (True, False)
    """

    def __init__(self):
        self.token = secrets.token_hex(16)

    def mark(self, client) -> None:
        """Every request of ``client`` (a boto3 client of this endpoint) carries the token from now on."""
        client.meta.events.register("before-send", self._add)

    def _add(self, request, **_):
        request.headers[OWN_HEADER] = self.token

    def is_own(self, environ) -> bool:
        """True when the request comes from one of the endpoint's own clients."""
        given = environ.get(_OWN_ENVIRON)
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())
