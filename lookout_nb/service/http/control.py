"""The clock of a served endpoint over HTTP, for clients in other processes (``lookout-nb serve --clock manual``).

``GET /_lookout-nb/clock`` answers ``{"now": "2026-01-05T09:00:00Z", "kind": "manual"}``;
``POST /_lookout-nb/clock`` (``Content-Type: application/json``) with ``{"advance": "PT10M"}`` (an ISO duration,
pandas text such as ``"10min"``, or seconds) or ``{"set": "2026-01-05T12:00:00Z"}`` (one of them) moves a manual
clock and answers once the due runs have finished (at most ``CATCH_UP`` runs per scheduler per move; the answer's
``skipped_runs`` counts the runs skipped so far).
A time outside the clock's range, a body that is not a JSON object, or JSON nested too deeply is a 400; another
content type (a web page's ``text/plain`` form) a 415. With credentials, requests are signed for the service
:data:`.auth.CLOCK_SERVICE`.
:class:`RemoteClock` wraps both, signing its requests (SigV4) with the credentials it is given or boto3's usual
ones (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, a profile), which an endpoint with ``--credentials`` requires.

>>> clock = RemoteClock("http://127.0.0.1:4566")   # doctest: +SKIP
>>> clock.advance("PT10M")                          # doctest: +SKIP
Timestamp('2026-01-05 09:10:00+0000', tz='UTC')
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request

import pandas as pd
from werkzeug.wrappers import Request, Response

from ...contract import servicetime
from ...contract.naming import to_utc
from ...contract.request import parse_duration
from ...errors import AccessDenied, LookoutNbError, ServiceUnavailable
from ..clock import to_delta
from .auth import CLOCK_SERVICE

PATH = "/_lookout-nb/clock"
#: The content types a POST may carry (a browser cannot send these cross-origin without a refused preflight).
JSON_TYPES = ("application/json", "application/x-amz-json-1.0", "application/x-amz-json-1.1")
log = logging.getLogger(__name__)


def _delta(value) -> pd.Timedelta:
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return pd.Timedelta(seconds=value)
        if isinstance(value, str) and value.startswith("PT"):
            return parse_duration(value)
    except (OverflowError, ValueError) as err:
        raise ValueError(
            f"advance={value!r} is not a duration the clock supports ({err}); send e.g. \"PT10M\"") from None
    return to_delta(value, "advance")


def _order(data: bytes) -> dict:
    """The JSON object of a POST; ValueError saying what is wrong with it."""
    try:
        order = json.loads(data or b"{}")
    except RecursionError:
        raise ValueError(
            "the request body is JSON nested too deeply; send a flat object such as {\"advance\": \"PT10M\"}") from None
    if not isinstance(order, dict):
        raise ValueError('the request body must be a JSON object such as {"advance": "PT10M"}')
    return order


class _Unsupported(ValueError):
    """A POST whose content type is not JSON (415)."""


def _json_content_type(content_type: str | None) -> None:
    media = (content_type or "").partition(";")[0].strip().lower()
    if media not in JSON_TYPES:
        raise _Unsupported(f"Content-Type {media or '(none)'!r} is not accepted: POST the clock a JSON body with "
                           "Content-Type: application/json")


class ClockApp:
    """WSGI application of the clock control path."""

    def __init__(self, clock, status=None):
        self.clock = clock
        self.status = status or dict  # more members of the answer (the endpoint's skipped runs, broken records)

    def __call__(self, environ, start_response):
        request = Request(environ)
        status, body = 200, None
        try:
            if request.method == "POST":
                _json_content_type(request.headers.get("Content-Type"))
                order = _order(request.get_data())
                if "advance" in order and "set" in order:
                    raise ValueError('send either {"advance": ...} or {"set": ...}, not both')
                if "advance" in order:
                    self.clock.advance(_delta(order["advance"]))
                elif "set" in order:
                    self.clock.set(to_utc(order["set"], "set"))
                else:
                    raise ValueError('send {"advance": "PT10M"} or {"set": "2026-01-05T12:00:00Z"}')
            elif request.method != "GET":
                raise ValueError("use GET to read the clock, POST to move it")
        except _Unsupported as err:
            status, body = 415, {"message": str(err)}
        except (TypeError, ValueError, OverflowError) as err:  # NaT, None, text that is no time, going back
            status, body = 400, {"message": str(err)}
        except LookoutNbError as err:  # the store could not save the move (e.g. the disk is full)
            status, body = 500, {"message": str(err)}
        except Exception as err:  # a bug: answer in JSON rather than let the exception escape the WSGI app
            log.exception("lookout_nb.service: internal error of the clock control")
            status, body = 500, {"message": f"internal error of the embedded endpoint: {type(err).__name__}: {err}"}
        if body is None:
            body = {"now": self.clock.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "kind": self.clock.kind, **self.status()}
        return Response(json.dumps(body), status=status, content_type="application/json")(environ, start_response)


class RemoteClock:
    """The clock of an endpoint served by another process: ``now()``, ``advance(delta)``, ``set(when)``.

    ``credentials``: ``(access_key, secret_key)`` to sign with; default: boto3's usual credentials, if any
    (unsigned without). ``region``: of the signature's scope (default ``AWS_DEFAULT_REGION`` or us-east-1)."""

    def __init__(self, url: str, credentials=None, region: str | None = None):
        self.url = url.rstrip("/") + PATH
        self._credentials, self._region = credentials, region
        self._session = None  # botocore's, made at the first call: it finds boto3's usual credentials

    def _signed(self, data: bytes | None) -> dict:
        """The request's headers, with a SigV4 signature when there are credentials."""
        import botocore.session
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        headers = {"Content-Type": "application/json"}
        session = self._session = self._session or botocore.session.get_session()
        credentials = Credentials(*self._credentials) if self._credentials else session.get_credentials()
        if credentials is None:
            return headers
        region = self._region or session.get_config_variable("region") or "us-east-1"
        request = AWSRequest(method="GET" if data is None else "POST", url=self.url, data=data or b"", headers=headers)
        SigV4Auth(credentials, CLOCK_SERVICE, region).add_auth(request)
        return dict(request.headers.items())

    def _call(self, order=None) -> pd.Timestamp:
        data = None if order is None else json.dumps(order, default=str).encode()
        request = urllib.request.Request(self.url, data=data, headers=self._signed(data))
        try:
            with urllib.request.urlopen(request) as response:
                return pd.Timestamp(json.loads(response.read())["now"])
        except urllib.error.HTTPError as err:
            answer = _json_or_empty(err.read())
            if err.code == 403:
                raise AccessDenied(f"the endpoint at {self.url} refused the clock call: {answer.get('message', err)} "
                                   "(pass RemoteClock(url, credentials=(key, secret)) or set AWS_ACCESS_KEY_ID and "
                                   "AWS_SECRET_ACCESS_KEY to the endpoint's --credentials)",
                                   code=answer.get("__type", "AccessDenied")) from None
            raise ValueError(answer.get("message", str(err))) from None
        except OSError as err:  # URLError (connection refused, unknown host), timeouts, resets
            reason = getattr(err, "reason", err)
            raise ServiceUnavailable(
                f"no lookout-nb endpoint answers at {self.url} ({reason}); start one with `lookout-nb serve "
                f"--clock manual` or check the URL", code="EndpointUnreachable",
            ) from None

    def now(self) -> pd.Timestamp:
        """The endpoint's time (AccessDenied when it refuses the credentials); the wall clock (with one
        ServiceTimeWarning) when the endpoint does not answer."""
        try:
            return self._call()
        except ServiceUnavailable as err:
            return servicetime.wall_clock(self.url, str(err))

    def advance(self, delta) -> pd.Timestamp:
        """Advance by ``delta`` (timedelta, ``"PT10M"``, ``"10min"``); returns once the due runs have finished."""
        if isinstance(delta, pd.Timedelta) or hasattr(delta, "total_seconds"):
            delta = pd.Timedelta(delta).total_seconds()
        return self._call({"advance": delta})

    def set(self, when) -> pd.Timestamp:
        """Move the clock forward to ``when``; returns once the due runs have finished."""
        return self._call({"set": to_utc(when, "when").isoformat()})


def _json_or_empty(data: bytes) -> dict:
    try:
        answer = json.loads(data or b"{}")
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}
