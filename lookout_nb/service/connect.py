"""Find or start the embedded endpoint from a notebook, and point boto3's defaults at it.

>>> from lookout_nb.service.connect import connect
>>> ep = connect(clock="manual")    # doctest: +SKIP
>>> import boto3; boto3.client("lookoutequipment").list_models()["ModelSummaries"][0]["ModelName"]  # doctest: +SKIP
'pump-demo'

``connect()`` with no argument uses the endpoint named by ``AWS_ENDPOINT_URL`` when one answers there (``lookout-nb
demo``, ``lookout-nb serve`` and Binder's ``start`` set it), and otherwise starts one in this process on a clock
at 60x real time. ``connect(clock="manual")`` always starts a fresh one on the manual clock, so a notebook's
outputs are the same on every run.
"""

from __future__ import annotations

import atexit
import os
import urllib.error
import urllib.request

from .endpoint import Endpoint, start
from .http.control import RemoteClock


class RemoteEndpoint:
    """An endpoint this process did not start: its URL, and its clock over HTTP (``.clock.now()``, ``.advance()``)."""

    def __init__(self, url: str):
        self.url = url
        self.clock = RemoteClock(url)

    def __repr__(self) -> str:
        return f"<lookout_nb.service.RemoteEndpoint {self.url}>"


def answers(url: str, timeout: float = 2.0) -> bool:
    """True when an S3-speaking endpoint answers at ``url``."""
    try:
        urllib.request.urlopen(url.rstrip("/") + "/", timeout=timeout).close()
        return True
    except urllib.error.HTTPError:
        return True  # it answered, with an error status: something listens there
    except OSError:
        return False


def connect(clock: str | float | None = None, speed: float = 60.0, demo: bool = True) -> Endpoint | RemoteEndpoint:
    """The endpoint this kernel should use; boto3's default clients point at it afterwards."""
    url = os.environ.get("AWS_ENDPOINT_URL")
    if clock is None and url and answers(url):
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        return RemoteEndpoint(url)
    endpoint = start(port=0, clock=clock or "real", speed=speed if clock in (None, "real") else None, demo=demo)
    os.environ.update(endpoint.env())
    atexit.register(endpoint.stop)
    return endpoint
