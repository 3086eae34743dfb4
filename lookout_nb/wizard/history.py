"""What the monitor reads of a scheduler's history: only the chosen time range, and each result file once.

After hundreds of runs, reading every execution and every result file at each refresh made auto-refresh cost a
third of a core and grow with the history, and the pictures of everything were a solid band. The monitor shows a
time range instead (:data:`RANGES`, "last 6 hours" by default): it lists only the executions whose data starts in
it (``DataStartTimeAfter``), and :class:`ResultsCache` reads the results of a run once, keeping those in range.

>>> RANGES[1]
('last 6 hours', '6h')
>>> since(pd.Timestamp("2026-01-05 12:00Z"), "6h")
Timestamp('2026-01-05 06:00:00+0000', tz='UTC')
>>> since(pd.Timestamp("2026-01-05 12:00Z"), "all") is None      # everything
True
"""

from __future__ import annotations

import threading

import pandas as pd

#: The time ranges the monitor offers: (label, span as a pandas offset, or ``ALL``). Not None for everything: a
#: Dropdown whose value is None shows an empty box.
ALL = "all"
RANGES = [("last hour", "1h"), ("last 6 hours", "6h"), ("last 24 hours", "24h"), ("last 3 days", "3D"),
          ("last 7 days", "7D"), ("everything", ALL)]
DEFAULT_RANGE = "6h"


def since(now: pd.Timestamp, span: str | None) -> pd.Timestamp | None:
    """The start of the range ``span`` that ends at ``now`` (None: the range, ``ALL``, has no start)."""
    return None if span in (None, ALL) else now - pd.Timedelta(span)


class ResultsCache:
    """The scored rows of a scheduler's successful runs, each run's file read once.

    ``rows(name, runs)`` returns the results of the SUCCESS runs in ``runs`` (the executions of the range shown);
    only runs not read before are fetched, with ``read(name, start=...)`` (the toolkit's ``scheduler.results``,
    from the earliest new run's data start). ``reads`` counts the fetches (for tests and benchmarks).
    """

    def __init__(self, read):
        self._read = read
        self._lock = threading.Lock()
        self._name = None
        self._frame = pd.DataFrame()
        self._known: set = set()
        self.reads = 0

    def rows(self, name: str, runs: pd.DataFrame) -> pd.DataFrame:
        """The scored rows of the SUCCESS runs of ``runs``, oldest first; rows of runs no longer listed are
        forgotten (the cache holds the range shown, not the whole history)."""
        done = runs[runs["status"] == "SUCCESS"] if len(runs) else runs
        wanted = set(done["scheduled_start"]) if len(done) else set()
        with self._lock:
            if name != self._name:
                self._name, self._frame, self._known = name, pd.DataFrame(), set()
            new = done[~done["scheduled_start"].isin(self._known)] if len(done) else done
            frame = self._frame
            if len(new):
                fresh = self._read(name, start=new["data_start"].min())
                self.reads += 1
                if len(fresh) and len(frame):
                    frame = pd.concat([frame[~frame["scheduled_start"].isin(set(fresh["scheduled_start"]))], fresh],
                                      ignore_index=True)
                elif len(fresh):
                    frame = fresh
            if len(frame):
                frame = frame[frame["scheduled_start"].isin(wanted)].sort_values("timestamp", ignore_index=True)
            self._frame, self._known = frame, wanted
            return frame
