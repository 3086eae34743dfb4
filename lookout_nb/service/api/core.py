"""The one declared core every resource service of the API shares, and the List operations' paging.

:class:`Core` holds what used to be the undeclared shared state of the backend's mixins: the lock that guards
every resource table, the service clock, the durable store every change commits to, the reader of the
endpoint's own S3 (ingestions and label files), and the executor that runs background jobs. Each resource
service (:mod:`.schedulers`, :mod:`.models`, :mod:`.datasets`, :mod:`.labels`) is handed the same core.

>>> from lookout_nb.service.clock import ManualClock
>>> core = Core(ManualClock())
>>> with core.lock, core.change() as change:      # no store given: a temporary one (Store.temporary)
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

from ..state.store import Store
from ..work import InProcess
from .change import Change
from .exceptions import ValidationException

if TYPE_CHECKING:
    from ..state.postgres import PgStore

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
    #: The store every change is committed to before the call returns, and where executions are read from; when
    #: none is given (an endpoint without a state_dir), a temporary one (:meth:`Store.temporary`).
    store: Store | PgStore = None  # type: ignore[assignment]  # set in __post_init__
    #: Reads the objects of ingestions and label files; the endpoint sets it at start (None: no S3 to read).
    data_reader: Reader | None = None
    #: Executions whose data ended longer ago than this (service time) are removed, from memory and the store, as
    #: runs end (``start(retention=...)``, ``serve --retention``); None keeps every execution.
    retention: Any = None

    def __post_init__(self):
        if self.store is None:
            self.store = Store.temporary()

    def use_store(self, store) -> None:
        """Commit to ``store`` from now on (the endpoint's, once loaded); a temporary store in use is removed."""
        old, self.store = self.store, store
        if old is not store and old is not None and old.temporary_dir is not None:
            old.close()

    def visible_from(self) -> int:
        """The oldest data end (ns) of an ended execution still kept by the retention (all when there is none)."""
        if self.retention is None:
            return -(2**63)
        return (self.clock.now() - self.retention).value

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


def next_token(key: str, position: int) -> str:
    """A NextToken for ``position`` (an offset, or a keyset such as a sequence number) of the list ``key``.

    >>> token_position(next_token("Items", 7), "Items")
    7
    """
    fields = {"offset": position, "sig": _signature(key, position)}
    return base64.urlsafe_b64encode(json.dumps(fields).encode()).decode()


def token_position(token: str, key: str) -> int:
    """The position a NextToken of list ``key`` stands for; ValidationException when this process did not issue
    it for that list (forged, edited, or of another list)."""
    try:
        fields = json.loads(base64.urlsafe_b64decode(token.encode()).decode())
        position = fields["offset"]
        if not (isinstance(position, int) and position >= 0
                and hmac.compare_digest(fields["sig"], _signature(key, position))):
            raise ValueError("not signed")
    except Exception:  # noqa: BLE001 - an untrusted token: whatever decoding it raises, it is not ours
        raise ValidationException(f"NextToken {token[:40]!r} is not a token this endpoint issued") from None
    return position


def page(items: list, params: dict, key: str) -> dict:
    """One page of ``items`` under ``key`` with MaxResults / NextToken (an offset signed by this process, so a
    forged or edited token is refused; tokens do not outlive the process, like the service's, which expire).

    >>> first = page(list(range(5)), {"MaxResults": 2}, "Items")
    >>> first["Items"], page(list(range(5)), {"MaxResults": 2, "NextToken": first["NextToken"]}, "Items")["Items"]
    ([0, 1], [2, 3])
    """
    size = params.get("MaxResults") or DEFAULT_PAGE
    token = params.get("NextToken")
    start = token_position(token, key) if token else 0
    chunk = items[start : start + size]
    out: dict[str, Any] = {key: chunk}
    if start + size < len(items):
        out["NextToken"] = next_token(key, start + size)
    return out
