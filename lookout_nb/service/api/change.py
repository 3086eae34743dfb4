"""One change of the backend's records: written to the store in one transaction, or put back as it was.

The backend opens a :class:`Change` under its lock, *touches* each record before it changes it (which keeps a
copy of the record as it was), changes the records in memory, and then :meth:`Change.commit` writes every
touched record to the store. When the write fails (:class:`~lookout_nb.service.state.store.StoreError`, e.g. disk
full), the touched records are put back in memory exactly as they were and the error goes on to the caller.

>>> change = Change(store=None)                                   # doctest: +SKIP
>>> change.scheduler(backend.schedulers["us-east-1"], s.name)     # doctest: +SKIP
>>> s.state = "STOPPING"; change.commit()                         # doctest: +SKIP
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable

from ..state.history import name_of


def document(record) -> dict:
    """A record's fields as a dict."""
    return {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}


def _restorer(table: dict, name: str, scheduler: bool) -> Callable[[], None]:
    """What puts ``table[name]`` back as it is now: removed when absent; a scheduler's fields restored in place
    (the object stays the one claimed runs hold); any other record replaced by a copy."""
    if name not in table:
        return lambda: table.pop(name, None)
    original = table[name]
    if scheduler:
        saved = {**vars(original), "tags": copy.deepcopy(original.tags)}

        def undo() -> None:
            vars(original).update(saved)
            table[name] = original

        return undo
    copied = copy.deepcopy(original)

    def put_back() -> None:
        table[name] = copied

    return put_back


class Change:
    """The records touched by one backend operation (see the module docstring)."""

    def __init__(self, store):
        self.store = store
        self._undo: list = []
        self._write: dict = {}  # (kind, region, name) -> a function giving the document (None: deleted)
        self._drop: list = []
        self._prune_before = None

    def _keep(self, key, table: dict, name: str, scheduler: bool = False) -> None:
        """Remember ``table[name]`` as it is now (or that it is absent), once per change."""
        if key in self._write:
            return
        self._undo.append(_restorer(table, name, scheduler))

    def scheduler(self, region: str, table: dict, name: str) -> None:
        """Touch scheduler ``name`` of ``table`` (a region's name -> Scheduler), existing or about to be."""
        key = ("scheduler", region, name)
        self._keep(key, table, name, scheduler=True)
        self._write[key] = lambda: document(table[name]) if name in table else None

    def execution(self, region: str, uid: str, seq: int, ex) -> None:
        """Touch the ``seq``-th execution of scheduler ``uid`` (a new one is undone with its scheduler)."""
        key = ("execution", region, name_of(uid, seq))
        if key not in self._write:
            saved = dict(vars(ex))
            self._undo.append(lambda: vars(ex).update(saved))
        self._write[key] = lambda: document(ex)

    def prune(self, before) -> None:
        """Delete every ended execution (of any scheduler) whose data ended before ``before`` (the retention)."""
        self._prune_before = before

    def drop_executions(self, region: str, uid: str) -> None:
        """Delete every execution row of scheduler ``uid`` (it is being deleted)."""
        self._drop.append((region, uid))

    def entry(self, kind: str, region: str, table: dict, name: str) -> None:
        """Touch ``table[name]`` holding a record (a model, a dataset, a label...: a dataclass), a model's tag
        list or a client token's scheduler uid."""
        key = (kind, region, name)
        self._keep(key, table, name)
        encode = lambda v: document(v) if dataclasses.is_dataclass(v) else v  # noqa: E731
        self._write[key] = lambda: encode(table[name]) if name in table else None

    def commit(self, clock=None) -> None:
        """Write every touched record (and the clock's time) in one transaction; on failure undo and re-raise."""
        if self.store is None or not (self._write or self._drop or self._prune_before is not None):
            return
        try:
            self.store.commit({key: doc() for key, doc in self._write.items()}, self._drop, clock=clock,
                              prune_before=self._prune_before)
        except Exception:
            self.rollback()
            raise

    def rollback(self) -> None:
        """Put every touched record back as it was."""
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()
