"""The service's time: the one "now" of the whole toolkit.

Every "now" the toolkit uses (the wizard's Review and Monitor, ``preview_input``'s recent slots and lateness,
``next_runs``, ``plot_schedule``'s now line) is the time of the service the client talks to: the real time on
AWS, the embedded endpoint's clock there (manual, or sped up 60x in the demo). No other module reads the wall
clock.

The time comes from the standard HTTP ``Date`` header of the service's own response to a cheap call
(``ListInferenceSchedulers`` with ``MaxResults=1``, or ``ListBuckets`` for an S3 client; a refusal carries the
header too). ``Date`` has whole
seconds, and a 60x clock moves a minute per second, so the embedded endpoint also sends
``X-Lookout-Nb-Now`` (ISO 8601, microseconds), which is preferred when present.

- Times that move backwards (a load balancer's skew, a truncated second) are ignored: per endpoint, ``now()``
  never returns less than it returned before.
- A service that sends no usable time (unreachable, no ``Date``) gives the wall clock, with one
  :class:`ServiceTimeWarning` per endpoint, never an exception.

>>> at = from_headers({"date": "Mon, 05 Jan 2026 09:00:00 GMT"})
>>> at
Timestamp('2026-01-05 09:00:00+0000', tz='UTC')
>>> from_headers({"date": "Mon, 05 Jan 2026 09:00:00 GMT", "x-lookout-nb-now": "2026-01-05T09:00:41.5Z"})
Timestamp('2026-01-05 09:00:41.500000+0000', tz='UTC')
"""

from __future__ import annotations

import email.utils
import threading
import warnings

import pandas as pd

from ..errors import LookoutNbWarning

#: The embedded endpoint's precise time header (HTTP ``Date`` has whole seconds only).
PRECISE_HEADER = "x-lookout-nb-now"
#: The embedded endpoint's instance header: a restarted endpoint on the same port is another clock.
INSTANCE_HEADER = "x-lookout-nb-instance"


class ServiceTimeWarning(LookoutNbWarning):
    """The service sent no usable time, so the wall clock stands in for it."""


_lock = threading.Lock()
_latest: dict[tuple, pd.Timestamp] = {}  # (endpoint URL, instance) -> the latest time returned
_warned: set[str] = set()


def from_headers(headers) -> pd.Timestamp | None:
    """The service time a response's headers carry (tz-aware UTC), or None when they carry none usable.

    >>> from_headers({}) is None
    True
    """
    lowered = {str(k).lower(): v for k, v in (headers or {}).items()}
    precise = lowered.get(PRECISE_HEADER)
    if precise:
        try:
            ts = pd.Timestamp(precise)
            return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        except (TypeError, ValueError):
            pass
    try:
        parsed = email.utils.parsedate_to_datetime(lowered.get("date") or "")
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:  # RFC 9110 dates are GMT
        return pd.Timestamp(parsed).tz_localize("UTC")
    return pd.Timestamp(parsed).tz_convert("UTC")


def now(client=None, session=None, *, notes: list | None = None) -> pd.Timestamp:
    """The current time of the service ``client`` talks to: a ``lookoutequipment`` or an ``s3`` client (default:
    boto3's ``lookoutequipment`` client). With ``notes`` (a list), a fallback to the wall clock appends its note
    there (a wizard shows it) instead of warning.

    Example
    -------
    >>> import lookout_nb as lnb
    >>> lnb.service_now()            # the embedded endpoint's clock, or the real time on AWS  # doctest: +SKIP
    Timestamp('2026-01-05 09:00:00+0000', tz='UTC')
    """
    from botocore.exceptions import BotoCoreError

    from . import _aws

    try:
        client = _aws.lookout_client(client, session)
    except BotoCoreError as err:  # no region, a broken profile: there is no service to ask
        return wall_clock("boto3's default endpoint", f"no client could be made: {err}", notes)
    url = getattr(client.meta, "endpoint_url", "") or ""
    headers, why = _probe(client)
    at = from_headers(headers)
    if at is None:
        return wall_clock(url, why or "its responses carry no Date header", notes)
    key = (url, (headers or {}).get(INSTANCE_HEADER, ""))
    with _lock:
        latest = _latest.get(key)
        if latest is not None and at < latest:
            return latest  # a time that moves backwards is ignored
        _latest[key] = at
    return at


#: ``lnb.service_now``: the same function under a name that says whose time it is.
service_now = now


def _probe(client) -> tuple[dict | None, str | None]:
    """The headers of one cheap call's response (an error response has them too), or (None, why not)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        if client.meta.service_model.service_name == "s3":
            response = client.list_buckets()
        else:
            response = client.list_inference_schedulers(MaxResults=1)
    except ClientError as err:
        response = err.response
    except (BotoCoreError, OSError) as err:
        return None, f"it could not be reached ({type(err).__name__}: {err})"
    return (response.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}, None


def wall_clock(url: str, why: str, notes: list | None = None) -> pd.Timestamp:
    """The wall clock, standing in for the time of the service at ``url``: one :class:`ServiceTimeWarning` per
    ``url`` says why (or the note is appended to ``notes``)."""
    note = (f"the service at {url or 'the default endpoint'} gave no time ({why}); using this computer's clock "
            "instead, so times shown may not match the service's runs")
    if notes is not None:
        if note not in notes:
            notes.append(note)
        return pd.Timestamp.now(tz="UTC")
    with _lock:
        first = url not in _warned
        _warned.add(url)
    if first:
        warnings.warn(note, ServiceTimeWarning, stacklevel=3)
    return pd.Timestamp.now(tz="UTC")
