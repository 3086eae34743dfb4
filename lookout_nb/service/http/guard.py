"""No way in from a web page: the Host and Origin checks and the CORS policy of the endpoint (WSGI middleware).

A browser lets any page send requests to ``127.0.0.1``; the endpoint refuses the two ways a page could use that:

- **DNS rebinding** (a page's own name resolved to 127.0.0.1): the ``Host`` header must name this machine's
  loopback (``127.0.0.0/8``, ``::1``, ``localhost`` or a ``*.localhost`` name, with any port) or the ``--host`` the
  endpoint was started with (any name when it listens on every interface); else 403.
- **Cross-origin requests**: a request whose ``Origin`` is neither the endpoint's own nor one of the configured
  ``cors_origins`` (``--cors-origin``) is refused (403) before it runs, and an ``OPTIONS`` preflight gets a grant
  only for those origins. No response carries a CORS grant otherwise (moto's blanket ``Access-Control-Allow-Origin``
  is removed).

Refusals are answered in the protocol of the request (:mod:`.answers`).

>>> guard = Guard(lambda environ, start: [b"ok"], host="127.0.0.1")
>>> guard({"HTTP_HOST": "localhost:4566", "REQUEST_METHOD": "GET"}, lambda s, h: None)
[b'ok']
>>> guard.allowed_host("evil.example:4566"), guard.allowed_host("[::1]:80"), guard.allowed_host("a.localhost")
(False, True, True)
"""

from __future__ import annotations

import ipaddress

from . import answers

_WILDCARDS = {"", "0.0.0.0", "::"}
_EXPOSED = "ETag, Content-Length, Content-Range, Last-Modified, x-amz-request-id, x-amz-version-id, x-amz-delete-marker"


def _host_name(host: str) -> str:
    """``"[::1]:4566"`` -> ``"::1"``, ``"localhost:80"`` -> ``"localhost"`` (lower-case, no trailing dot)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    if host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def is_loopback_name(name: str) -> bool:
    """Whether a host name can only mean this machine: 127.0.0.0/8, ::1, ``localhost``, ``*.localhost``.

    >>> [is_loopback_name(n) for n in ("127.8.0.1", "::1", "localhost", "x.localhost", "localhost.evil.com", "")]
    [True, True, True, True, False, False]
    """
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def origins_of(value) -> tuple[str, ...]:
    """``start(cors_origin=...)``: None, one origin or a list -> a tuple of origins without a trailing slash.

    >>> origins_of("http://localhost:8888/"), origins_of(None)
    (('http://localhost:8888',), ())
    """
    if value is None:
        return ()
    values = [value] if isinstance(value, str) else list(value)
    out = []
    for origin in values:
        origin = str(origin).strip().rstrip("/")
        if not origin.startswith(("http://", "https://")) or " " in origin:
            from ...errors import InvalidArgument

            raise InvalidArgument(f"cors_origin {origin!r} is not an origin: pass e.g. http://localhost:8888 "
                                  "(scheme, host and port of the page that calls the endpoint)")
        out.append(origin)
    return tuple(out)


class Guard:
    """WSGI middleware: refuse foreign Hosts and Origins, answer preflights, keep CORS grants to ``cors_origins``."""

    def __init__(self, app, host: str = "127.0.0.1", cors_origins=()):
        self.app = app
        self.host = _host_name(host)
        self.cors_origins = origins_of(cors_origins)

    def allowed_host(self, header: str | None) -> bool:
        """Whether a ``Host`` header names this endpoint (see the module)."""
        if header is None:
            return False
        name = _host_name(header)
        return is_loopback_name(name) or name == self.host or self.host in _WILDCARDS

    def _own_origin(self, environ, origin: str) -> bool:
        return origin in (f"http://{environ.get('HTTP_HOST', '')}", f"https://{environ.get('HTTP_HOST', '')}")

    def __call__(self, environ, start_response):
        protocol = answers.protocol_of(environ)
        if not self.allowed_host(environ.get("HTTP_HOST")):
            shown = (environ.get("HTTP_HOST") or "(none)")[:100]
            return answers.error(
                protocol, 403, "AccessDenied" if protocol == "s3" else "AccessDeniedException",
                f"Host {shown!r} is not this endpoint's name: use http://127.0.0.1:<port> or http://localhost:<port>, "
                f"or the --host it was started with ({self.host or 'every interface'})", environ, start_response)
        origin = environ.get("HTTP_ORIGIN")
        granted = origin is not None and (origin in self.cors_origins or self._own_origin(environ, origin))
        if environ.get("REQUEST_METHOD") == "OPTIONS":
            return self._preflight(environ, start_response, origin, granted, protocol)
        if origin is not None and not granted:
            return answers.error(
                protocol, 403, "AccessDenied" if protocol == "s3" else "AccessDeniedException",
                f"requests from web pages of origin {origin[:100]!r} are refused; start the endpoint with "
                f"--cors-origin {origin[:100]} (or start(cors_origin=...)) to allow that page", environ, start_response)

        def start(status, headers, exc_info=None):
            kept = [(n, v) for n, v in headers if not n.lower().startswith("access-control-")]
            if granted:
                kept += [("Access-Control-Allow-Origin", origin), ("Access-Control-Expose-Headers", _EXPOSED),
                         ("Vary", "Origin")]
            return start_response(status, kept, exc_info)

        return self.app(environ, start)

    def _preflight(self, environ, start_response, origin, granted, protocol):
        if origin is None:
            return answers.error(protocol, 400, "BadRequest" if protocol == "s3" else "ValidationException",
                                 "OPTIONS is a CORS preflight: it needs an Origin header", environ, start_response)
        if not granted:
            return answers.error(
                protocol, 403, "AccessForbidden" if protocol == "s3" else "AccessDeniedException",
                f"CORS is not allowed for origin {origin[:100]!r}: start the endpoint with --cors-origin "
                f"{origin[:100]} to allow it", environ, start_response)
        headers = [("Access-Control-Allow-Origin", origin), ("Vary", "Origin"), ("Access-Control-Max-Age", "600"),
                   ("Access-Control-Allow-Methods", "GET, HEAD, PUT, POST, DELETE"), ("Content-Length", "0")]
        asked = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")
        if asked:
            headers.append(("Access-Control-Allow-Headers", asked[:4096]))
        start_response("200 OK", headers)
        return [b""]
