"""The execution history in the state database: one row per inference run, indexed for what reads it.

Executions are the one record that grows with time (a PT5M scheduler makes 105,120 a year), so they are not
kept in memory: each is a row of ``executions`` (the run's document as JSON, plus the columns its queries filter
on), written in the transaction of the change that claimed or ended the run, and read back one page at a time.
The same SQL serves SQLite (:class:`.store.Store`) and PostgreSQL (:class:`.postgres.PgStore`); a statement's
parameters are ``?`` here, turned into ``%s`` for psycopg by :func:`pg`.

- ``executions_page`` (ListInferenceExecutions): newest first by sequence number, below a keyset (a page token
  stays valid while runs are added), on the primary key ``(region, uid, seq)``, or on
  ``(region, uid, status, seq)`` with a Status filter;
- ``anomalous`` (ListInferenceEvents): the successful runs that found anomalies, by data end;
- ``prune`` (the retention): one DELETE by data end on its own index, never a run in progress.

Times are integer nanoseconds since the epoch (UTC), as :attr:`pandas.Timestamp.value`.

>>> row_of("us-east-1", "ab12/00000003", {"data_start": pd.Timestamp("2026-01-05T09:00Z"),
...        "data_end": pd.Timestamp("2026-01-05T09:05Z"), "status": "SUCCESS", "anomalies": []})[:4]
('us-east-1', 'ab12', 3, 1767603600000000000)
>>> pg("SELECT doc FROM executions WHERE uid = ?")
'SELECT doc FROM executions WHERE uid = %s'
"""

from __future__ import annotations

import json

import pandas as pd

from .state import decode, encode

#: Sequence numbers are written with 8 digits in a run's name (``<scheduler uid>/<seq>``, see :func:`name_of`).
SCHEMA = """
CREATE TABLE IF NOT EXISTS executions (
    region TEXT NOT NULL, uid TEXT NOT NULL, seq BIGINT NOT NULL,
    data_start BIGINT NOT NULL, data_end BIGINT NOT NULL, status TEXT NOT NULL, anomalous SMALLINT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (region, uid, seq)
);
CREATE INDEX IF NOT EXISTS executions_by_status ON executions (region, uid, status, seq);
CREATE INDEX IF NOT EXISTS executions_by_end ON executions (data_end);
CREATE INDEX IF NOT EXISTS executions_anomalous ON executions (region, uid, data_end) WHERE anomalous = 1;
"""
PUT = ("INSERT INTO executions VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (region, uid, seq) DO UPDATE SET "
       "data_start = excluded.data_start, data_end = excluded.data_end, status = excluded.status, "
       "anomalous = excluded.anomalous, doc = excluded.doc")
DELETE_ONE = "DELETE FROM executions WHERE region = ? AND uid = ? AND seq = ?"
DROP = "DELETE FROM executions WHERE region = ? AND uid = ?"
PRUNE = "DELETE FROM executions WHERE data_end < ? AND status <> 'IN_PROGRESS'"
ONE = "SELECT doc FROM executions WHERE region = ? AND uid = ? AND seq = ?"
LAST_SEQ = "SELECT max(seq) FROM executions WHERE region = ? AND uid = ?"
IN_PROGRESS = "SELECT region, uid, seq, doc FROM executions WHERE status = 'IN_PROGRESS'"
LATEST_SUCCESS = ("SELECT anomalous FROM executions WHERE region = ? AND uid = ? AND status = 'SUCCESS' AND "
                  "data_end >= ? ORDER BY seq DESC LIMIT 1")
ANOMALOUS = ("SELECT seq, doc FROM executions WHERE region = ? AND uid = ? AND anomalous = 1 AND data_end >= ? "
             "AND data_start <= ? AND data_end >= ? ORDER BY data_end")
#: The smallest time a column holds: "no lower bound" in the queries.
NEVER = -(2**63)


def pg(sql: str) -> str:
    """``sql`` with psycopg's placeholders."""
    return sql.replace("?", "%s")


def name_of(uid: str, seq: int) -> str:
    """The name of a scheduler's ``seq``-th execution: ``name_of("ab12", 3) == "ab12/00000003"``."""
    return f"{uid}/{seq:08d}"


def split_name(name: str) -> tuple[str, int] | None:
    """``(uid, seq)`` of an execution's name, or None when it is not one: ``split_name("ab12/00000003")``."""
    uid, _, seq = name.partition("/")
    return (uid, int(seq)) if seq.isdigit() else None


def _ns(value) -> int:
    """Nanoseconds of a Timestamp, a saved ``{"$ts": ...}`` or None (None and unreadable values: 0)."""
    if isinstance(value, pd.Timestamp):  # a live document: the runner's claims and ends
        return value.value
    try:
        value = decode(value)
        return int(pd.Timestamp(value).value) if value is not None else 0
    except (TypeError, ValueError, OverflowError):
        return 0


def row_of(region: str, name: str, doc: dict) -> tuple:
    """The ``executions`` row of execution ``name`` (``<uid>/<seq>``) whose document is ``doc`` (a saved or a
    live one: timestamps as Timestamps or as ``{"$ts": ...}``)."""
    uid, seq = split_name(name) or (name, 0)
    status = doc.get("status") if isinstance(doc.get("status"), str) else "FAILED"
    anomalous = int(status == "SUCCESS" and bool(doc.get("anomalies")))
    return (region, uid, seq, _ns(doc.get("data_start")), _ns(doc.get("data_end")), status, anomalous,
            json.dumps(encode(doc)))


def page_query(after, before, status, below: int | None, visible_from: int, size: int) -> tuple[str, list]:
    """The WHERE tail and parameters (after region and uid) of one page of ListInferenceExecutions: newest first,
    sequence numbers below ``below``, ``size`` rows (one more tells whether a next page exists)."""
    where, params = ["(data_end >= ? OR status = 'IN_PROGRESS')"], [visible_from]
    if below is not None:
        where.append("seq < ?")
        params.append(below)
    if after is not None:
        where.append("data_start >= ?")
        params.append(pd.Timestamp(after).value)
    if before is not None:
        where.append("data_end <= ?")
        params.append(pd.Timestamp(before).value)
    if status:
        where.append("status = ?")
        params.append(status)
    sql = ("SELECT seq, doc FROM executions WHERE region = ? AND uid = ? AND " + " AND ".join(where)
           + " ORDER BY seq DESC LIMIT ?")
    return sql, [*params, size]


def loads(text: str):
    """A saved document, or a :class:`ValueError` in its place when its JSON cannot be read."""
    try:
        return json.loads(text)
    except (ValueError, TypeError, RecursionError) as err:
        return ValueError(f"its JSON cannot be read: {str(err)[:200]}")


class History:
    """The execution queries of a store over a DB-API connection (mixed into both stores; ``_read(sql, params)``
    runs one statement under the store's lock and returns its rows, ``_sql`` adapts the placeholders)."""

    def _sql(self, sql: str) -> str:
        return sql

    def _read(self, sql: str, params=()) -> list:
        raise NotImplementedError

    def executions_page(self, region: str, uid: str, *, after=None, before=None, status=None, below: int | None = None,
                        visible_from: int = NEVER, size: int = 50) -> list[tuple[int, object]]:
        """``[(seq, document)]`` of one page, newest first (see :func:`page_query`)."""
        sql, params = page_query(after, before, status, below, visible_from, size)
        return [(seq, loads(doc)) for seq, doc in self._read(self._sql(sql), [region, uid, *params])]

    def execution(self, region: str, uid: str, seq: int):
        """The document of one execution, or None."""
        found = self._read(self._sql(ONE), (region, uid, seq))
        return loads(found[0][0]) if found else None

    def last_seq(self, region: str, uid: str) -> int | None:
        """The highest sequence number stored for scheduler ``uid`` (None: none stored)."""
        return self._read(self._sql(LAST_SEQ), (region, uid))[0][0]

    def in_progress(self) -> list[tuple[str, str, int, object]]:
        """``[(region, uid, seq, document)]`` of every run recorded IN_PROGRESS."""
        return [(r, u, s, loads(d)) for r, u, s, d in self._read(IN_PROGRESS)]

    def latest_success(self, region: str, uid: str, visible_from: int = NEVER) -> bool | None:
        """Whether the newest successful run of scheduler ``uid`` found anomalies (None: no successful run)."""
        found = self._read(self._sql(LATEST_SUCCESS), (region, uid, visible_from))
        return bool(found[0][0]) if found else None

    def anomalous(self, region: str, uid: str, lo: int, hi: int, visible_from: int = NEVER) -> list[tuple[int, object]]:
        """``[(seq, document)]`` of the successful runs with anomalies whose data window meets ``[lo, hi]``."""
        return [(seq, loads(doc)) for seq, doc in
                self._read(self._sql(ANOMALOUS), (region, uid, lo, hi, visible_from))]
