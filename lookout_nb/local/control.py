"""The clock of a served endpoint over HTTP, for clients in other processes (``lookout-nb serve --clock manual``).

``GET /_lookout-nb/clock`` answers ``{"now": "2026-01-05T09:00:00Z", "kind": "manual"}``;
``POST /_lookout-nb/clock`` with ``{"advance": "PT10M"}`` (an ISO duration, pandas text such as ``"10min"``, or
seconds) or ``{"set": "2026-01-05T12:00:00Z"}`` moves a manual clock and answers once the due runs have finished.
:class:`RemoteClock` wraps both.

>>> clock = RemoteClock("http://127.0.0.1:4566")   # doctest: +SKIP
>>> clock.advance("PT10M")                          # doctest: +SKIP
Timestamp('2026-01-05 09:10:00+0000', tz='UTC')
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import logging

import pandas as pd
from werkzeug.wrappers import Request, Response

from .. import servicetime
from ..errors import ServiceUnavailable
from ..naming import to_utc
from ..request import parse_duration
from .clock import to_delta

PATH = "/_lookout-nb/clock"
log = logging.getLogger(__name__)


def _delta(value) -> pd.Timedelta:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return pd.Timedelta(seconds=value)
    if isinstance(value, str) and value.startswith("PT"):
        return parse_duration(value)
    return to_delta(value, "advance")


class ClockApp:
    """WSGI application of the clock control path."""

    def __init__(self, clock):
        self.clock = clock

    def __call__(self, environ, start_response):
        request = Request(environ)
        status, body = 200, None
        try:
            if request.method == "POST":
                order = json.loads(request.get_data() or b"{}")
                if "advance" in order:
                    self.clock.advance(_delta(order["advance"]))
                elif "set" in order:
                    self.clock.set(to_utc(order["set"], "set"))
                else:
                    raise ValueError('send {"advance": "PT10M"} or {"set": "2026-01-05T12:00:00Z"}')
            elif request.method != "GET":
                raise ValueError("use GET to read the clock, POST to move it")
        except (TypeError, ValueError, OverflowError) as err:  # NaT, None, text that is no time, going back
            status, body = 400, {"message": str(err)}
        except Exception as err:  # a bug: answer in JSON rather than let the exception escape the WSGI app
            log.exception("lookout_nb.local: internal error of the clock control")
            status, body = 500, {"message": f"internal error of the embedded endpoint: {type(err).__name__}: {err}"}
        if body is None:
            body = {"now": self.clock.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "kind": self.clock.kind}
        return Response(json.dumps(body), status=status, content_type="application/json")(environ, start_response)


class RemoteClock:
    """The clock of an endpoint served by another process: ``now()``, ``advance(delta)``, ``set(when)``."""

    def __init__(self, url: str):
        self.url = url.rstrip("/") + PATH

    def _call(self, order=None) -> pd.Timestamp:
        data = None if order is None else json.dumps(order, default=str).encode()
        request = urllib.request.Request(self.url, data=data, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request) as response:
                return pd.Timestamp(json.loads(response.read())["now"])
        except urllib.error.HTTPError as err:
            raise ValueError(json.loads(err.read() or b"{}").get("message", str(err))) from None
        except OSError as err:  # URLError (connection refused, unknown host), timeouts, resets
            reason = getattr(err, "reason", err)
            raise ServiceUnavailable(
                f"no lookout-nb endpoint answers at {self.url} ({reason}); start one with `lookout-nb serve "
                f"--clock manual` or check the URL", code="EndpointUnreachable",
            ) from None

    def now(self) -> pd.Timestamp:
        """The endpoint's time; the wall clock (with one ServiceTimeWarning) when the endpoint does not answer."""
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
