"""Error answers in the form of the protocol a request speaks: S3's XML, or the JSON of the Lookout API and the
clock control, so boto3 raises its usual ``ClientError`` with the code.

>>> protocol_of({"PATH_INFO": "/bucket/key"}), protocol_of({"HTTP_X_AMZ_TARGET": ""})
('s3', 'json')
>>> protocol_of({"PATH_INFO": "/_lookout-nb/clock"})
'json'
"""

from __future__ import annotations

import json
import uuid
from http import HTTPStatus
from xml.sax.saxutils import escape


def protocol_of(environ) -> str:
    """``"json"`` for the Lookout API (any ``X-Amz-Target``) and the clock control, else ``"s3"``."""
    if "HTTP_X_AMZ_TARGET" in environ or environ.get("PATH_INFO", "").startswith("/_lookout-nb/"):
        return "json"
    return "s3"


def error(protocol: str, status: int, code: str, message: str, environ, start_response, headers=()):
    """Answer an error: ``<Error><Code>code</Code>...`` for ``"s3"``, ``{"__type": code, ...}`` for ``"json"``.

    >>> out = []
    >>> error("json", 403, "AccessDeniedException", "no", {}, lambda s, h: out.append(s))
    [b'{"__type": "AccessDeniedException", "message": "no"}']
    >>> out
    ['403 Forbidden']
    """
    request_id = uuid.uuid4().hex.upper()[:16]
    if protocol == "s3":
        content_type = "application/xml"
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                f"<Message>{escape(message)}</Message><RequestId>{request_id}</RequestId></Error>").encode()
        if environ.get("REQUEST_METHOD") == "HEAD":
            body = b""
    else:
        content_type = "application/x-amz-json-1.0"  # as the Lookout API answers
        body = json.dumps({"__type": code, "message": message}).encode()
    start_response(f"{status} {HTTPStatus(status).phrase}", [
        ("Content-Type", content_type), ("Content-Length", str(len(body))), ("x-amz-request-id", request_id),
        ("x-amzn-RequestId", request_id), *headers])
    return [body]
