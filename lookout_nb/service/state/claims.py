"""Leases of the runs and trainings in progress, across the serve processes of one PostgreSQL database.

A run or training in progress is a ``claims`` row naming the process (its ``owners`` row) that executes it; the
row is written in the transaction that records it IN_PROGRESS and deleted in the one that records its end (see
:meth:`.postgres.PgStore.commit`). Every process beats its ``owners`` row every :data:`BEAT` seconds (on its own
connection, by database time, so no two machines' clocks are compared). A process whose beat is older than
:data:`LEASE` is dead: the first live process to look (every beat) takes its claims over, each row locked with
``FOR UPDATE SKIP LOCKED`` so two processes never take the same one, and executes them again. A run is thus taken
over at most ``LEASE + BEAT`` seconds after its process's last beat (12 s), and recorded once: the process that
holds the claim records the end, a late end from a process that lost its claim is not written.

>>> beat = Heartbeat(store)                   # doctest: +SKIP
>>> beat.take_over()                          # doctest: +SKIP
[('execution', 'us-east-1', '0123abcd/00000004')]
"""

from __future__ import annotations

import logging

#: Seconds between two heartbeats of a process.
BEAT = 2.0
#: Seconds without a heartbeat after which a process is taken for dead and its claims are taken over.
LEASE = 10.0

log = logging.getLogger(__name__)

_TAKE = """
WITH dead AS (
    SELECT c.kind, c.region, c.name FROM claims c LEFT JOIN owners o ON o.id = c.owner
    WHERE c.owner <> %(me)s AND (o.id IS NULL OR o.beat < now() - make_interval(secs => %(lease)s))
    ORDER BY c.kind, c.region, c.name
    FOR UPDATE OF c SKIP LOCKED
)
UPDATE claims c SET owner = %(me)s FROM dead
WHERE (c.kind, c.region, c.name) = (dead.kind, dead.region, dead.name)
RETURNING c.kind, c.region, c.name
"""


class Heartbeat:
    """The heartbeat of this process in the store's database, and the takeover of dead processes' claims."""

    def __init__(self, store, lease: float = LEASE):
        self.store = store
        self.lease = lease
        self._db = store.connection()

    def beat(self) -> None:
        """Tell the other processes this one is alive (and which changes it has applied); forget the changes every
        live process has applied."""
        self._db.execute("INSERT INTO owners VALUES (%s, now(), NULL, %s) ON CONFLICT (id) DO UPDATE SET beat = now(), "
                         "seen = EXCLUDED.seen", (self.store.owner, self.store.seen))
        self._db.execute("DELETE FROM changes WHERE seq <= (SELECT min(seen) FROM owners WHERE beat > now() - "
                         "make_interval(secs => %s))", (self.lease,))

    def take_over(self) -> list[tuple[str, str, str]]:
        """Claim, for this process, what dead processes had claimed: ``[(kind, region, name)]`` (executions and
        models in progress), to be executed again; and forget the dead processes that hold nothing any more."""
        with self._db.transaction():
            taken = self._db.execute(_TAKE, {"me": self.store.owner, "lease": self.lease}).fetchall()
            self._db.execute("DELETE FROM owners o WHERE o.beat < now() - make_interval(secs => %s) AND NOT EXISTS "
                             "(SELECT 1 FROM claims c WHERE c.owner = o.id)", (self.lease,))
        if taken:
            log.warning("lookout_nb.service: took over %d runs or trainings of a serve process that stopped beating",
                        len(taken))
        return [tuple(row) for row in taken]

    def mine(self) -> list[tuple[str, str, str]]:
        """What this process holds claims on now."""
        return [tuple(r) for r in self._db.execute("SELECT kind, region, name FROM claims WHERE owner = %s",
                                                   (self.store.owner,)).fetchall()]

    def close(self) -> None:
        try:
            self._db.close()
        except Exception:  # noqa: BLE001 - closing
            pass
