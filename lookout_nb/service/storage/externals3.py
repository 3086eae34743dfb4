"""The user's own S3: every object the endpoint reads or writes, through boto3 and its usual settings.

``start(s3_endpoint_url=URL)`` (``lookout-nb serve --s3-endpoint-url URL``, or ``LOOKOUT_NB_S3_ENDPOINT_URL``) makes
the endpoint serve the Lookout API only: ingestion, label files, the runner's input files and its results are read
from and written to that S3, nothing is copied into the endpoint. ``URL`` is any S3 (MinIO, Ceph, a moto_server);
:data:`AWS` (``--s3-endpoint-url aws``) means AWS S3 itself, with botocore's default endpoint for the region.

The client is boto3's, built from a fresh default session, so the usual chain applies: ``AWS_PROFILE`` and the
config files (``s3 = addressing_style = path`` or ``virtual``, a region), ``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN``, instance roles, ``AWS_DEFAULT_REGION`` / ``AWS_REGION``
(``us-east-1`` when none is set), ``AWS_MAX_ATTEMPTS``. Retries follow botocore's ``standard`` mode; connect and
read timeouts are bounded (:data:`CONNECT_TIMEOUT`, :data:`READ_TIMEOUT`, or ``LOOKOUT_NB_S3_TIMEOUT`` seconds for
both) so that an S3 that stops answering fails the run or job that was reading, with the bucket, key and cause,
instead of holding it.

>>> endpoint_url("aws") is None, endpoint_url("http://127.0.0.1:9000/")
(True, 'http://127.0.0.1:9000')
>>> endpoint_url("s3.example.com")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
lookout_nb.errors.InvalidArgument: --s3-endpoint-url 's3.example.com' is not an S3 endpoint URL: pass ...
"""

from __future__ import annotations

import os
import urllib.parse
from xml.sax.saxutils import escape

from ...errors import InvalidArgument

#: The value meaning "AWS S3 itself" (botocore's own endpoint for the region).
AWS = "aws"
#: The environment variable read when no URL is passed.
ENV = "LOOKOUT_NB_S3_ENDPOINT_URL"
#: Seconds to open a connection / to wait for the next bytes of an answer (then botocore retries, then it fails).
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 30
#: Attempts when neither AWS_MAX_ATTEMPTS nor the profile says (botocore's standard mode: 3).
DEFAULT_ATTEMPTS = 3
DEFAULT_REGION = "us-east-1"
TIMEOUT_ENV = "LOOKOUT_NB_S3_TIMEOUT"


def endpoint_url(value: str, flag: str = "--s3-endpoint-url") -> str | None:
    """The ``endpoint_url`` boto3 is given for ``value``: None for :data:`AWS`, the URL otherwise (no trailing
    ``/``); InvalidArgument naming ``flag`` when it is neither."""
    text = (value or "").strip()
    if text.lower() == AWS:
        return None
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise InvalidArgument(f"{flag} {value!r} is not an S3 endpoint URL: pass http://HOST:PORT, https://HOST, or "
                              f"{AWS} (AWS S3 with the default credential chain)")
    return text.rstrip("/")


def from_environment() -> str | None:
    """The URL (or :data:`AWS`) of :data:`ENV`, or None when it is not set."""
    value = os.environ.get(ENV, "").strip()
    return value or None


def describe(value: str) -> str:
    """``value`` as the banner names it.

    >>> describe("aws"), describe("http://127.0.0.1:9000")
    ('AWS S3 (default endpoint of the region)', 'http://127.0.0.1:9000')
    """
    url = endpoint_url(value)
    return "AWS S3 (default endpoint of the region)" if url is None else url


def client(value: str):
    """A boto3 S3 client of the user's S3 ``value`` (a URL or :data:`AWS`), with the default credential chain."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session()
    attempts = None if os.environ.get("AWS_MAX_ATTEMPTS") else DEFAULT_ATTEMPTS
    retries = {"mode": "standard", **({"max_attempts": attempts} if attempts else {})}
    connect, read = timeouts()
    config = Config(connect_timeout=connect, read_timeout=read, retries=retries)
    return session.client("s3", endpoint_url=endpoint_url(value),
                          region_name=session.region_name or DEFAULT_REGION, config=config)


def timeouts() -> tuple[float, float]:
    """(connect, read) seconds: ``LOOKOUT_NB_S3_TIMEOUT`` for both when set, else the defaults; InvalidArgument
    naming the variable when it is not a positive number."""
    value = os.environ.get(TIMEOUT_ENV, "").strip()
    if not value:
        return CONNECT_TIMEOUT, READ_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < 3600:
        raise InvalidArgument(f"{TIMEOUT_ENV}={value!r} is not a timeout: pass seconds above 0, e.g. 30")
    return seconds, seconds


class NoS3:
    """WSGI: what the endpoint answers S3 requests with when the objects are in the user's S3 (it serves none)."""

    def __init__(self, value: str):
        self.where = describe(value)

    def __call__(self, environ, start_response):
        message = (f"This endpoint serves the Lookout for Equipment API only; its objects are in the S3 at "
                   f"{self.where}: point S3 clients there (AWS_ENDPOINT_URL_S3)")
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NotImplemented</Code>'
                f"<Message>{escape(message)}</Message></Error>").encode()
        start_response("501 Not Implemented", [("Content-Type", "application/xml"),
                                               ("Content-Length", str(len(body)))])
        return [body]
