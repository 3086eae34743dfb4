"""Several serve processes as one service: the core's lock over a shared store, and the other processes'
changes applied to this process's tables before each operation.

With a shared store (:class:`~..state.postgres.PgStore`), :class:`SharedLock` replaces the core's
``threading.RLock``: the outermost ``with core.lock`` of a thread also takes the lock of every process
(:meth:`PgStore.enter`) and applies the records other processes wrote since this one last looked
(:func:`apply`), so each operation reads and changes the service's current state, and two processes never
change it at once (names, client tokens, conflicts and the claim of a due run hold across processes).

>>> lock = SharedLock(store, lambda changes: apply(backend, changes))     # doctest: +SKIP
>>> backend.core.lock = lock                                             # doctest: +SKIP
"""

from __future__ import annotations

import logging
import threading

from ..state.history import split_name
from .datarecords import Dataset, IngestionJob, Label, LabelGroup
from .records import Execution, Model, Scheduler
from .restore import build
from .schedulers import Run

log = logging.getLogger(__name__)


class SharedLock:
    """A re-entrant lock whose outermost holder also holds the store's lock of every process."""

    def __init__(self, store, on_enter):
        self.store = store
        self.on_enter = on_enter
        self._lock = threading.RLock()
        self._depth = 0  # guarded by _lock

    def acquire(self) -> bool:
        self._lock.acquire()
        self._depth += 1
        if self._depth == 1:
            try:
                self.on_enter(self.store.enter())
            except BaseException:
                self._depth -= 1
                self._lock.release()
                raise
        return True

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            self.store.leave()
        self._lock.release()

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def apply(backend, changes) -> None:
    """Put ``changes`` (``[(kind, region, name, document or None)]`` written by other processes) into the
    services of ``backend`` (called under the lock). A record that cannot be built is logged and left as it was."""
    for kind, region, name, doc in changes:
        try:
            _apply(backend, kind, region, name, doc)
        except (ValueError, KeyError, TypeError) as err:
            log.warning("lookout_nb.service: the %s %s (%s) written by another process cannot be read: %s",
                        kind, name, region, err)


def _apply(backend, kind, region, name, doc) -> None:
    tables = {
        "dataset": (backend.datasets.datasets, Dataset), "ingestion": (backend.datasets.ingestions, IngestionJob),
        "labelgroup": (backend.labels.label_groups, LabelGroup), "label": (backend.labels.labels, Label),
    }
    shared = backend.shared_tables()  # the versions room's kinds, wired by the backend
    if kind in shared:
        table, make = shared[kind]
        _put(table, name, doc and make(doc))
    elif kind == "model":
        _put(backend.models.models, name, doc and build(Model, doc))
    elif kind == "tags":
        _put(backend.models.model_tags, name, doc)
    elif kind == "token":
        _put(backend.schedulers.tokens.setdefault(region, {}), name, doc)
    elif kind == "scheduler":
        _put(backend.schedulers.schedulers.setdefault(region, {}), name, doc and build(Scheduler, doc))
    elif kind in tables:
        table, cls = tables[kind]
        if kind == "dataset":
            backend.datasets.dataset_cache.pop((region, name), None)  # its data may have been ingested again
        _put(table.setdefault(region, {}), name, doc and build(cls, doc))


def _put(table: dict, name: str, value) -> None:
    if value is None:
        table.pop(name, None)
    else:
        table[name] = value


def taken_runs(backend, claims) -> list:
    """The runs of the executions in ``claims`` (``[(kind, region, name)]`` taken over from a dead process), to be
    executed again by this one (called under the lock); ``(model names)`` of trainings taken over are not runs."""
    runs = []
    for kind, region, name in claims:
        key = split_name(name) if kind == "execution" else None
        if key is None:
            continue
        uid, seq = key
        s = next((s for s in backend.schedulers.schedulers.get(region, {}).values() if s.uid == uid), None)
        doc = backend.core.store.execution(region, uid, seq) if s is not None else None
        if s is None or doc is None:  # its scheduler was deleted meanwhile (its executions with it)
            continue
        try:
            ex = build(Execution, doc)
        except ValueError as err:
            log.warning("lookout_nb.service: the run %s taken over cannot be read: %s", name, err)
            continue
        if ex.status != "IN_PROGRESS":
            continue
        runs.append(Run(s.name, backend.models.find(s.model_name), ex.data_end, ex.scheduled_start,
                        ex.data_end - ex.data_start, ex.input_config, ex.output_config, ex, region, uid, seq))
    return sorted(runs, key=lambda r: (r.wake, r.scheduler_name))
