"""The durable state of the embedded endpoint: one SQLite database, ``<state_dir>/state.db``.

Rows are JSON documents keyed by ``(kind, region, name)``: ``model`` and ``tags`` (region ""; name = model
name), ``scheduler``, ``token`` (name = client token, document = scheduler uid)... Executions (kind "execution",
name ``<scheduler uid>/<sequence number>``) are rows of their own indexed table (:mod:`.history`), read a page at
a time, never all kept in memory. ``meta`` holds the schema version and the clock's service time; a state of schema
version 1 (executions among the records) is moved to version 2 when it is opened. Every change the backend makes
is one transaction committed before the API call answers (WAL, ``synchronous=FULL``: a committed transaction
survives kill -9 and also a power cut; NORMAL would survive kill -9 only). A failed commit (disk full, read-only
file) raises :class:`StoreError`, and the backend puts its records back as they were.

>>> store = Store("/tmp/lookout-state")                        # doctest: +SKIP
>>> store.commit({("token", "us-east-1", "t1"): "0123abcd"})   # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import tempfile
import threading
from pathlib import Path
from typing import Any

import pandas as pd

from ...errors import LookoutNbError
from . import history
from .files import DiskFiles
from .state import StateError, encode

SCHEMA_VERSION = 2
#: Schema versions a store still opens (and moves to :data:`SCHEMA_VERSION`): 1 kept executions among the records.
MIGRATED = ("1",)
FILE = "state.db"
#: The folder of a state_dir that keeps the datasets' data files (:attr:`Store.files`).
DATA_FOLDER = "datasets"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (kind, region, name)
);
""" + history.SCHEMA
log = logging.getLogger(__name__)


class StoreError(LookoutNbError):
    """A change could not be written to ``state.db`` (e.g. the disk is full); nothing of it was kept."""


execution_name = history.name_of


def split(docs: dict) -> tuple[list, list, list, list]:
    """The records and the executions of a commit's ``docs``: ``(puts, deletes, execution rows, executions
    deleted)``, records as ``(kind, region, name, JSON)`` and ``(kind, region, name)``, executions as
    :func:`.history.row_of` rows and ``(region, uid, seq)``."""
    puts, deletes, rows, gone = [], [], [], []
    for (kind, region, name), doc in docs.items():
        if kind == "execution":
            if doc is None:
                gone.append((region, *(history.split_name(name) or (name, -1))))
            else:
                rows.append(history.row_of(region, name, doc))
        elif doc is None:
            deletes.append((kind, region, name))
        else:
            puts.append((kind, region, name, json.dumps(encode(doc))))
    return puts, deletes, rows, gone


def migrate_rows(found) -> list[tuple]:
    """The ``executions`` rows of version-1 execution records ``[(region, name, JSON text)]`` (a document that
    cannot be read keeps its text: reading it later names the problem)."""
    rows = []
    for region, name, text in found:
        doc = history.loads(text)
        if isinstance(doc, dict):
            rows.append(history.row_of(region, name, doc))
        else:
            uid, seq = history.split_name(name) or (name, 0)
            rows.append((region, uid, seq, 0, 0, "FAILED", 0, text))
    return rows


class Store(history.History):
    """``state.db`` of one state_dir: :meth:`commit` changes, :meth:`rows` to read them back, the clock's time,
    and the execution queries of :class:`.history.History`.

    :meth:`temporary` is the store of an endpoint without a state_dir: the same database in a temporary folder,
    not synced to disk (nothing of it outlives the process), removed by :meth:`close`.
    """

    #: Whether this store is a temporary one (:meth:`temporary`).
    temporary_dir: tempfile.TemporaryDirectory | None = None

    @classmethod
    def temporary(cls) -> Store:
        """A store in a new temporary folder (an endpoint without a state_dir)."""
        folder = tempfile.TemporaryDirectory(prefix="lookout-nb-state-")
        try:
            store = cls(folder.name, durable=False)
        except BaseException:
            folder.cleanup()
            raise
        store.temporary_dir = folder
        return store

    def __init__(self, state_dir, durable: bool = True):
        self.path = Path(state_dir) / FILE
        #: The datasets' data files, beside state.db (see :mod:`.files`).
        self.files = DiskFiles(Path(state_dir) / DATA_FOLDER)
        self._lock = threading.Lock()
        self.clock_mark: pd.Timestamp | None = None  # the service time last saved
        try:
            self._db: Any = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL" if durable else "PRAGMA synchronous=OFF")
            self._db.executescript(_SCHEMA)
            version = self._meta("version")
            if version is None:
                self._db.execute("INSERT INTO meta VALUES ('version', ?)", (str(SCHEMA_VERSION),))
            elif version in MIGRATED:
                self._migrate()
            elif version != str(SCHEMA_VERSION):
                raise StateError(
                    f"cannot restore the endpoint state from {self.path}: it is a state of schema version {version}, "
                    f"this endpoint reads version {SCHEMA_VERSION}; use the lookout-nb release that wrote it, or move "
                    f"the state directory away to start with an empty state"
                )
            self.clock_mark = self._saved_clock()
        except sqlite3.Error as err:
            self.close()
            raise StateError(
                f"cannot restore the endpoint state from {self.path}: {err}. Fix or move the file (or the whole "
                f"state directory) away to start with an empty state; it has not been changed"
            ) from None

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _migrate(self) -> None:
        """Move the executions of a version-1 state out of ``records`` into their table, in one transaction."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            found = self._db.execute("SELECT region, name, doc FROM records WHERE kind = 'execution'").fetchall()
            self._db.executemany(history.PUT, migrate_rows(found))
            self._db.execute("DELETE FROM records WHERE kind = 'execution'")
            self._db.execute("UPDATE meta SET value = ? WHERE key = 'version'", (str(SCHEMA_VERSION),))
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        log.info("lookout_nb.service: moved %d executions of %s to schema version %d", len(found), self.path,
                 SCHEMA_VERSION)

    def _read(self, sql: str, params=()) -> list:
        with self._lock:
            if self._db is None:
                raise StoreError(f"could not read the state in {self.path}: the endpoint is stopping")
            return self._db.execute(sql, params).fetchall()

    def _saved_clock(self) -> pd.Timestamp | None:
        text = self._meta("clock")
        if text is None:
            return None
        try:
            value = pd.Timestamp(text)
            if value is pd.NaT or value.tzinfo is None:
                raise ValueError("no time zone")
        except (TypeError, ValueError) as err:
            raise StateError(
                f"cannot restore the endpoint state from {self.path}: its clock {text!r} is not a UTC time ({err}). "
                f"Fix the meta row 'clock' (e.g. 2026-01-05T09:00:00+00:00) or move the file away"
            ) from None
        return value.tz_convert("UTC")

    def rows(self, kind: str) -> list[tuple[str, str, object]]:
        """Every ``(region, name, document)`` of ``kind`` (JSON as saved: timestamps still ``{"$ts": ...}``, see
        :func:`.state.decode`); a document that is not JSON comes back as a :class:`ValueError` in its place
        (so one bad row breaks one record, not the whole state)."""
        out = []
        for region, name, text in self._db.execute(
            "SELECT region, name, doc FROM records WHERE kind = ? ORDER BY region, name", (kind,)
        ):
            try:
                out.append((region, name, json.loads(text)))
            except (ValueError, TypeError, RecursionError) as err:
                out.append((region, name, ValueError(f"its JSON cannot be read: {str(err)[:200]}")))
        return out

    def commit(self, docs: dict, drop_executions=(), clock: pd.Timestamp | None = None,
               prune_before: pd.Timestamp | None = None) -> None:
        """Write ``docs`` (``{(kind, region, name): JSON-ready document, or None to delete}``; executions go to
        their table), delete the executions of the ``(region, uid)`` pairs in ``drop_executions`` and (the
        retention) the ended ones whose data ended before ``prune_before``, and move the saved clock forward to
        ``clock``: all in one transaction. :class:`StoreError` naming the cause when it fails."""
        puts, deletes, rows, gone = split(docs)
        with self._lock:
            if self._db is None:  # a request still in flight while the endpoint stops
                raise StoreError(f"could not save the state in {self.path}: the endpoint is stopping; the change "
                                 "was not made")
            mark = clock if clock is not None and (self.clock_mark is None or clock > self.clock_mark) else None
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    self._db.executemany("INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?)", puts)
                    self._db.executemany("DELETE FROM records WHERE kind = ? AND region = ? AND name = ?", deletes)
                    self._db.executemany(history.PUT, rows)
                    self._db.executemany(history.DELETE_ONE, gone)
                    self._db.executemany(history.DROP, drop_executions)
                    if prune_before is not None:
                        self._db.execute(history.PRUNE, (prune_before.value,))
                    if mark is not None:
                        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('clock', ?)", (mark.isoformat(),))
                    self._db.execute("COMMIT")
                except BaseException:
                    if self._db.in_transaction:  # SQLite may have rolled back already (disk full, I/O error)
                        self._db.execute("ROLLBACK")
                    raise
            except (sqlite3.Error, OSError) as err:
                raise StoreError(f"could not save the state in {self.path}: {err}; the change was not made") from None
            if mark is not None:
                self.clock_mark = mark

    def save_clock(self, when: pd.Timestamp) -> None:
        """Move the saved service time forward to ``when`` (never back)."""
        self.commit({}, clock=when)

    def is_empty(self) -> bool:
        """Whether no record was ever written (a fresh state.db)."""
        return self._db.execute("SELECT 1 FROM records LIMIT 1").fetchone() is None and self.clock_mark is None

    def close(self) -> None:
        lock = getattr(self, "_lock", None)
        with lock if lock is not None else contextlib.nullcontext():  # not while a commit is being written
            db = getattr(self, "_db", None)
            if db is not None:
                db.close()
                self._db = None
        if self.temporary_dir is not None:
            self.temporary_dir.cleanup()
