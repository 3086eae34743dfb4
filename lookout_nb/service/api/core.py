"""The one declared core every resource service of the API shares, and the List operations' paging.

:class:`Core` holds what used to be the undeclared shared state of the backend's mixins: the lock that guards
every resource table, the service clock, the durable store every change commits to, the reader of the
endpoint's own S3 (ingestions and label files), and the executor that runs background jobs. Each resource
service (:mod:`.schedulers`, :mod:`.models`, :mod:`.datasets`, :mod:`.labels`) is handed the same core.

>>> from lookout_nb.service.clock import ManualClock
>>> core = Core(ManualClock())
>>> with core.lock, core.change() as change:      # no store: the change is kept in memory only
...     table = {}
...     change.entry("model", "", table, "m")
...     table["m"] = "a record"
>>> table
{'m': 'a record'}
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..work import InProcess
from .change import Change
from .exceptions import ValidationException

if TYPE_CHECKING:
    from ..state.store import Store

#: Page size of the List operations when MaxResults is not given.
DEFAULT_PAGE = 50


class Reader(Protocol):
    """What reads the endpoint's own S3 objects (an :class:`~..learning.ingest.S3Reader`)."""

    def keys(self, bucket: str, prefix: str, field: str = ...) -> list: ...

    def body(self, bucket: str, key: str) -> bytes: ...

    def stream(self, bucket: str, key: str) -> Iterator[bytes]: ...


@dataclass
class Core:
    """What the resource services share; every table of every service is guarded by :attr:`lock`."""

    clock: Any
    #: Runs the background jobs (ingestions, trainings): threads of this process by default.
    work: InProcess = field(default_factory=InProcess)
    lock: threading.RLock = field(default_factory=threading.RLock)
    #: The durable store every change is committed to before the call returns; None keeps the state in memory.
    store: Store | None = None
    #: Reads the objects of ingestions and label files; the endpoint sets it at start (None: no S3 to read).
    data_reader: Reader | None = None
    #: Executions whose data ended longer ago than this (service time) are removed, from memory and the store, as
    #: runs end (``start(retention=...)``, ``serve --retention``); None keeps every execution.
    retention: Any = None

    @contextmanager
    def change(self) -> Iterator[Change]:
        """``with core.lock, core.change() as change:``: touch, then change records; they are committed to the
        store when the block ends, or put back as they were if the block or the commit fails."""
        change = Change(self.store)
        try:
            yield change
        except BaseException:
            change.rollback()
            raise
        change.commit(clock=self.clock.now())


_TOKEN_KEY = secrets.token_bytes(16)  # NextTokens are signed with a key of this process


def _signature(key: str, offset: int) -> str:
    return hmac.new(_TOKEN_KEY, f"{key}:{offset}".encode(), hashlib.sha256).hexdigest()[:32]


def page(items: list, params: dict, key: str) -> dict:
    """One page of ``items`` under ``key`` with MaxResults / NextToken (an offset signed by this process, so a
    forged or edited token is refused; tokens do not outlive the process, like the service's, which expire).

    >>> first = page(list(range(5)), {"MaxResults": 2}, "Items")
    >>> first["Items"], page(list(range(5)), {"MaxResults": 2, "NextToken": first["NextToken"]}, "Items")["Items"]
    ([0, 1], [2, 3])
    """
    size = params.get("MaxResults") or DEFAULT_PAGE
    token = params.get("NextToken")
    start = 0
    if token:
        try:
            fields = json.loads(base64.urlsafe_b64decode(token.encode()).decode())
            start = fields["offset"]
            if not (isinstance(start, int) and start >= 0
                    and hmac.compare_digest(fields["sig"], _signature(key, start))):
                raise ValueError("not signed")
        except Exception:  # noqa: BLE001 - an untrusted token: whatever decoding it raises, it is not ours
            raise ValidationException(f"NextToken {token[:40]!r} is not a token this endpoint issued") from None
    chunk = items[start : start + size]
    out: dict[str, Any] = {key: chunk}
    if start + size < len(items):
        offset = start + size
        fields = {"offset": offset, "sig": _signature(key, offset)}
        out["NextToken"] = base64.urlsafe_b64encode(json.dumps(fields).encode()).decode()
    return out
