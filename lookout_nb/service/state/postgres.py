"""The durable state over PostgreSQL (psycopg 3): the interface of :class:`.store.Store`, shared by any number of
``serve`` processes on one database (``lookout-nb serve --db postgresql://...``).

The same rows as state.db (``records``: JSON documents keyed by ``(kind, region, name)``, ``meta``, and the
``executions`` table of :mod:`.history`), plus:

- ``changes``: one row per record written (``seq``, key, writer), so every process applies the others' changes
  to its own tables before it reads or changes any (:meth:`PgStore.enter`); executions are not in memory, so
  their rows make no change to apply (each process reads them from the table);
- the process lock: every operation of the API runs under ``pg_advisory_lock`` (:meth:`PgStore.enter` /
  :meth:`PgStore.leave`), so names, client tokens and conflicts hold across processes like within one, and a
  due run is claimed by one process only; PostgreSQL releases it when a process dies (its connection closes);
- ``claims`` and ``owners``: the runs and trainings in progress and the process running each (see
  :mod:`.claims`): a process whose heartbeat stops has its claims taken over.

>>> store = PgStore("postgresql://postgres@127.0.0.1:5432/postgres")     # doctest: +SKIP
>>> store.commit({("token", "us-east-1", "t1"): "0123abcd"})              # doctest: +SKIP
"""

from __future__ import annotations

import json
import threading
import uuid

import pandas as pd

from . import history, pgfiles
from .state import StateError, encode
from .store import MIGRATED, SCHEMA_VERSION, StoreError, migrate_rows, split

#: The key of the advisory lock every API operation of every process holds while it runs.
LOCK_KEY = 0x6C6F6F6B  # "look"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (kind, region, name)
);
CREATE TABLE IF NOT EXISTS changes (
    seq BIGSERIAL PRIMARY KEY, kind TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, writer TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS owners (id TEXT PRIMARY KEY, beat TIMESTAMPTZ NOT NULL, url TEXT, seen BIGINT NOT NULL
    DEFAULT 0);
CREATE TABLE IF NOT EXISTS claims (
    kind TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, owner TEXT NOT NULL,
    PRIMARY KEY (kind, region, name)
);
""" + history.SCHEMA
#: What is claimed while it is in progress: ``{kind of record: its status field}`` (runs, trainings, retrainings
#: and ingestion jobs).
CLAIMED = {"execution": "status", "model": "status", "modelversion": "status", "ingestion": "status"}


def connect(url: str):
    """A psycopg connection in autocommit mode; :class:`StateError` naming the database when it cannot."""
    try:
        import psycopg
    except ImportError:
        raise StateError("--db postgresql://... needs psycopg 3: pip install 'lookout-nb[postgres]'") from None
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as err:
        raise StateError(f"cannot connect to the database {redact(url)}: {str(err).strip()}; check the URL, that "
                         "PostgreSQL runs there and accepts this user") from None


def redact(url: str) -> str:
    """The URL without its password: ``redact("postgresql://u:secret@h/db") == "postgresql://u:***@h/db"``."""
    head, at, tail = url.rpartition("@")
    if not at or ":" not in head.split("//", 1)[-1]:
        return url
    scheme, _, user = head.partition("//")
    return f"{scheme}//{user.split(':', 1)[0]}:***@{tail}"


class PgStore(history.History):
    """The shared store of every serve process on one PostgreSQL database (see the module docstring)."""

    shared = True
    temporary_dir = None

    def __init__(self, url: str):
        self.url = url
        self.path = redact(url)  # what messages name
        #: The datasets' data files, in the database: every process reads what any wrote (see :mod:`.pgfiles`).
        self.files = pgfiles.PgFiles(self.connection, redact(url))
        self.owner = uuid.uuid4().hex[:16]  # this process, in ``owners`` and ``claims``
        self.clock_mark: pd.Timestamp | None = None
        self.seen = 0  # the last change applied to this process's tables
        self._lock = threading.Lock()
        self._db = connect(url)
        self._gate = connect(url)  # holds the advisory lock, separately from the writes of other threads
        try:
            with self._db.transaction():
                self._db.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY + 1,))  # one creator of the schema
                self._db.execute(_SCHEMA)
                self._db.execute(pgfiles.SCHEMA)
                version = self._meta("version")
                if version is None:
                    self._db.execute("INSERT INTO meta VALUES ('version', %s)", (str(SCHEMA_VERSION),))
                elif version in MIGRATED:
                    self._migrate()
                elif version != str(SCHEMA_VERSION):
                    raise StateError(f"the database {self.path} holds a state of schema version {version}, this "
                                     f"endpoint reads version {SCHEMA_VERSION}; use the lookout-nb release that wrote "
                                     "it, or another database")
                self.seen = self._db.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]
                self._db.execute("INSERT INTO owners VALUES (%s, now(), NULL, %s)", (self.owner, self.seen))
            self.clock_mark = self._saved_clock()
        except BaseException:
            self.close()
            raise

    # -- reading -----------------------------------------------------------------------------------------------
    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = %s", (key,)).fetchone()
        return row[0] if row else None

    def _saved_clock(self) -> pd.Timestamp | None:
        text = self._meta("clock")
        return pd.Timestamp(text).tz_convert("UTC") if text else None

    def _migrate(self) -> None:
        """Move the executions of a version-1 state out of ``records`` into their table (in the caller's
        transaction)."""
        found = self._db.execute("SELECT region, name, doc FROM records WHERE kind = 'execution'").fetchall()
        self._db.cursor().executemany(history.pg(history.PUT), migrate_rows(found))
        self._db.execute("DELETE FROM records WHERE kind = 'execution'")
        self._db.execute("UPDATE meta SET value = %s WHERE key = 'version'", (str(SCHEMA_VERSION),))

    def _sql(self, sql: str) -> str:
        return history.pg(sql)

    def _read(self, sql: str, params=()) -> list:
        with self._lock:
            if self._db is None:
                raise StoreError(f"could not read the state in {self.path}: the endpoint is stopping")
            return self._db.execute(history.pg(sql), params).fetchall()

    def meta(self, key: str) -> str | None:
        """A ``meta`` value (e.g. the clock's origin, see :mod:`.clockshare`), or None."""
        with self._lock:
            return self._meta(key)

    def put_meta(self, key: str, value: str) -> None:
        """Store ``value`` under ``key`` (e.g. the clock's origin, see :mod:`.clockshare`)."""
        with self._lock:
            self._db.execute("INSERT INTO meta VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = "
                             "EXCLUDED.value", (key, value))

    def announce(self, url: str) -> None:
        """Record the URL this process serves in its ``owners`` row (what an operator sees there)."""
        with self._lock:
            self._db.execute("UPDATE owners SET url = %s WHERE id = %s", (url, self.owner))

    def others_alive(self, lease: float) -> bool:
        """Whether another process has beaten its heartbeat within ``lease`` seconds (see :mod:`.claims`)."""
        with self._lock:
            return self._db.execute("SELECT 1 FROM owners WHERE id <> %s AND beat > now() - make_interval(secs => "
                                    "%s) LIMIT 1", (self.owner, lease)).fetchone() is not None

    def rows(self, kind: str) -> list[tuple[str, str, object]]:
        """Every ``(region, name, document)`` of ``kind``, as :meth:`.store.Store.rows`."""
        with self._lock:
            found = self._db.execute("SELECT region, name, doc FROM records WHERE kind = %s ORDER BY region, name",
                                     (kind,)).fetchall()
        return [(region, name, _loads(text)) for region, name, text in found]

    def is_empty(self) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM records LIMIT 1").fetchone() is None and self.clock_mark is None

    # -- the process lock and the others' changes --------------------------------------------------------------
    def enter(self) -> list[tuple[str, str, str, object]]:
        """Take the lock of every process (waits for it), and return the records other processes changed since
        this one last looked: ``[(kind, region, name, document or None when deleted)]``, oldest change first."""
        self._gate.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            found = self._gate.execute(
                "SELECT c.seq, c.kind, c.region, c.name, r.doc, c.writer FROM changes c LEFT JOIN records r "
                "ON (r.kind, r.region, r.name) = (c.kind, c.region, c.name) WHERE c.seq > %s ORDER BY c.seq",
                (self.seen,)).fetchall()
            clock = self._gate.execute("SELECT value FROM meta WHERE key = 'clock'").fetchone()
        except BaseException:
            self.leave()
            raise
        if clock is not None:
            self._mark(pd.Timestamp(clock[0]).tz_convert("UTC"))
        out, latest = [], {}
        for seq, kind, region, name, doc, writer in found:
            self.seen = max(self.seen, seq)
            if writer != self.owner:
                latest[kind, region, name] = None if doc is None else _loads(doc)
        out = [(k, r, n, d) for (k, r, n), d in latest.items()]
        return out

    def leave(self) -> None:
        """Let the other processes take the lock."""
        try:
            self._gate.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
        except Exception:  # noqa: BLE001 - a broken connection has released the lock already
            pass

    def _mark(self, when: pd.Timestamp) -> None:
        if self.clock_mark is None or when > self.clock_mark:
            self.clock_mark = when

    # -- writing -----------------------------------------------------------------------------------------------
    def commit(self, docs: dict, drop_executions=(), clock: pd.Timestamp | None = None,
               prune_before: pd.Timestamp | None = None) -> None:
        """As :meth:`.store.Store.commit`, one transaction; each record written is also a ``changes`` row, and a
        run or training in progress is claimed by this process (a finished one releases its claim: when the claim
        was taken over by another process meanwhile, that process records the end, not this one)."""
        import psycopg

        with self._lock:
            if self._db is None:
                raise StoreError(f"could not save the state in {self.path}: the endpoint is stopping; the change "
                                 "was not made")
            try:
                with self._db.transaction():
                    self._write(docs, drop_executions)
                    if prune_before is not None:
                        self._db.execute(history.pg(history.PRUNE), (prune_before.value,))
                    if clock is not None and (self.clock_mark is None or clock > self.clock_mark):
                        self._save_clock(clock)
            except psycopg.Error as err:
                raise StoreError(f"could not save the state in {self.path}: {str(err).strip()}; the change was "
                                 "not made") from None
            if clock is not None:
                self._mark(clock)

    def _write(self, docs: dict, drop_executions) -> None:
        cur = self._db.cursor()
        for (kind, region, name), doc in docs.items():
            if kind in CLAIMED and not self._claim(cur, kind, region, name, doc):
                continue  # another process took this over: its end is that process's to record
            if kind == "execution":  # a row of its own table, read from there by every process: no change to apply
                _, _, rows, gone = split({(kind, region, name): doc})
                cur.executemany(history.pg(history.PUT), rows)
                cur.executemany(history.pg(history.DELETE_ONE), gone)
                continue
            if doc is None:
                cur.execute("DELETE FROM records WHERE kind = %s AND region = %s AND name = %s", (kind, region, name))
            else:
                cur.execute("INSERT INTO records VALUES (%s, %s, %s, %s) ON CONFLICT (kind, region, name) DO UPDATE "
                            "SET doc = EXCLUDED.doc", (kind, region, name, json.dumps(encode(doc))))
            cur.execute("INSERT INTO changes (kind, region, name, writer) VALUES (%s, %s, %s, %s)",
                        (kind, region, name, self.owner))
        for region, uid in drop_executions:
            cur.execute(history.pg(history.DROP), (region, uid))
            cur.execute("DELETE FROM claims WHERE kind = 'execution' AND region = %s AND name >= %s AND name < %s",
                        (region, uid + "/", uid + "0"))  # "0" is the character after "/"

    def _claim(self, cur, kind, region, name, doc) -> bool:
        """Claim (in progress) or release (ended, deleted) a run or training; False when it is claimed by another
        process (taken over): this one must not record its end."""
        holder = cur.execute("SELECT owner FROM claims WHERE kind = %s AND region = %s AND name = %s FOR UPDATE",
                             (kind, region, name)).fetchone()
        if holder is not None and holder[0] != self.owner:
            return False
        if holder is None and kind == "execution" and doc is not None:  # an execution ends once: a late end of a
            uid, seq = history.split_name(name) or (name, -1)  # run taken over and ended meanwhile is not written
            stored = cur.execute(history.pg(history.ONE), (region, uid, seq)).fetchone()
            if stored is not None and json.loads(stored[0]).get("status") not in (None, "IN_PROGRESS"):
                return False
        in_progress = isinstance(doc, dict) and doc.get(CLAIMED[kind]) == "IN_PROGRESS"
        if in_progress and holder is None:
            cur.execute("INSERT INTO claims VALUES (%s, %s, %s, %s)", (kind, region, name, self.owner))
        elif not in_progress and holder is not None:
            cur.execute("DELETE FROM claims WHERE kind = %s AND region = %s AND name = %s", (kind, region, name))
        return True

    def _save_clock(self, when: pd.Timestamp) -> None:
        self._db.execute(
            "INSERT INTO meta VALUES ('clock', %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value "
            "WHERE meta.value::timestamptz < EXCLUDED.value::timestamptz", (when.isoformat(),))

    def save_clock(self, when: pd.Timestamp) -> None:
        """Move the saved service time forward to ``when`` (never back, also against the other processes)."""
        self.commit({}, clock=when)

    def connection(self):
        """A new connection to the same database (the heartbeat's own, see :mod:`.claims`)."""
        return connect(self.url)

    def close(self) -> None:
        with self._lock:
            for name in ("_gate", "_db"):
                db = getattr(self, name, None)
                if db is not None:
                    try:
                        if name == "_db":
                            db.execute("DELETE FROM owners WHERE id = %s AND NOT EXISTS "
                                       "(SELECT 1 FROM claims WHERE owner = %s)", (self.owner, self.owner))
                        db.close()
                    except Exception:  # noqa: BLE001 - closing: a broken connection is closed all the same
                        pass
                    setattr(self, name, None)


def _loads(text: str):
    try:
        return json.loads(text)
    except (ValueError, TypeError, RecursionError) as err:
        return ValueError(f"its JSON cannot be read: {str(err)[:200]}")
