"""A scheduler's executions as the API reads them: from the store (:mod:`..state.history`), a page at a time.

Nothing here keeps executions in memory: ListInferenceExecutions reads one page (newest first, a NextToken is the
sequence number to continue below, so a page stays stable while runs are added), ListInferenceEvents reads the
successful runs with anomalies around its interval, and LatestInferenceResult reads the newest successful run.
With a retention (:attr:`.core.Core.retention`) an ended execution whose data ended longer ago is not read even
before the store's DELETE has removed it, so every process answers the same.

>>> from lookout_nb.service.clock import ManualClock
>>> from lookout_nb.service.api.core import Core
>>> core = Core(ManualClock())
>>> s = Scheduler("us-east-1", "s", "ab12", "m", "PT5M", 0, {}, {}, "role", None, "t", "", core.clock.now(),
...               core.clock.now())
>>> list_page(core, s, "arn", {})
{'InferenceExecutionSummaries': []}
"""

from __future__ import annotations

import pandas as pd

from .core import Core, next_token, token_position
from .exceptions import InternalServerException
from .records import Execution, Scheduler
from .restore import build

#: The page size when MaxResults is not given.
PAGE = 50


def read(s: Scheduler, seq: int, doc) -> Execution:
    """The Execution of a saved document; InternalServerException naming the row when it cannot be read."""
    try:
        return build(Execution, doc)
    except ValueError as err:
        raise InternalServerException(
            f"Execution {seq} of inference scheduler {s.name} could not be read from the saved state: {err}. Fix "
            f"or delete its row (region {s.region!r}, uid {s.uid!r}, seq {seq}) in the executions table"
        ) from None


def list_page(core: Core, s: Scheduler, model_arn: str, params: dict) -> dict:
    """ListInferenceExecutions for scheduler ``s``: its filters, MaxResults and NextToken, newest first."""
    size = params.get("MaxResults") or PAGE
    key = f"InferenceExecutionSummaries/{s.uid}"  # a token of one scheduler's list is refused by another's
    token = params.get("NextToken")
    below = token_position(token, key) if token else None
    found = core.store.executions_page(
        s.region, s.uid, after=params.get("DataStartTimeAfter"), before=params.get("DataEndTimeBefore"),
        status=params.get("Status"), below=below, visible_from=core.visible_from(), size=size + 1)
    out: dict = {"InferenceExecutionSummaries": [read(s, seq, doc).summary(s, model_arn) for seq, doc in
                                                 found[:size]]}
    if len(found) > size:
        out["NextToken"] = next_token(key, found[size - 1][0])
    return out


def latest_result(core: Core, s: Scheduler) -> str | None:
    """ANOMALOUS / NORMAL from the latest successful execution of ``s`` (None before any)."""
    anomalous = core.store.latest_success(s.region, s.uid, core.visible_from())
    return None if anomalous is None else ("ANOMALOUS" if anomalous else "NORMAL")


def event_rows(core: Core, s: Scheduler, start: pd.Timestamp, end: pd.Timestamp, rate: pd.Timedelta) -> list:
    """The anomalous rows ``[(timestamp, {sensor: share})]`` of every event of ``s`` that may meet
    ``[start, end]``, each event whole: rows at most ``rate`` apart form one event, so the range read grows until
    no row read is within ``rate`` of its edges (an event that began long before ``start`` is read from its
    first row)."""
    lo, hi, rows = start - rate, end + rate, {}
    while True:
        for seq, doc in core.store.anomalous(s.region, s.uid, lo.value, hi.value, core.visible_from()):
            if seq not in rows:
                rows[seq] = [(pd.Timestamp(t), d) for t, d in read(s, seq, doc).anomalies]
        times = [t for found in rows.values() for t, _ in found]
        wider = (min([lo, *(t - rate for t in times)]), max([hi, *(t + rate for t in times)]))
        if wider == (lo, hi):
            return [row for found in rows.values() for row in found]
        lo, hi = wider
