"""The execution retention (``start(retention=...)``, ``serve --retention``): ended executions whose data ended
longer ago are not listed, and are deleted from the store as runs end (executions are never kept in memory: see
test_history.py)."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

import lookout_nb.service as local
from lookout_nb.errors import InvalidArgument
from lookout_nb.service.demo import demo


def _starts(lookout, name):
    found, token = [], None
    while True:
        page = lookout.list_inference_executions(InferenceSchedulerName=name, **({"NextToken": token} if token else {}))
        found += [pd.Timestamp(e["DataStartTime"]).tz_convert("UTC") for e in page["InferenceExecutionSummaries"]]
        token = page.get("NextToken")
        if not token:
            return sorted(found)


def test_old_executions_are_removed_from_the_state_and_numbering_survives_a_restart(tmp_path):
    with local.start(port=0, clock="manual", demo=True, state_dir=tmp_path, retention="1h") as ep:
        ep.lookout().create_inference_scheduler(**demo.scheduler_kwargs("kept-1h"), ClientToken="t")
        ep.advance("3h")
        starts = _starts(ep.lookout(), "kept-1h")
        assert starts == list(pd.date_range("2026-01-05T10:55Z", "2026-01-05T11:55Z", freq="5min"))
        (s,) = ep.backend.schedulers.schedulers["us-east-1"].values()
        assert s.made == 36  # every run was numbered
    with sqlite3.connect(tmp_path / "state.db") as db:
        assert db.execute("SELECT count(*) FROM executions").fetchone()[0] == len(starts)
    with local.start(port=0, clock="manual", demo=True, state_dir=tmp_path, retention="1h") as again:
        assert again.problems == []
        again.advance("10min")
        starts = _starts(again.lookout(), "kept-1h")
        assert starts[-1] == pd.Timestamp("2026-01-05T12:05Z") and len(starts) == 13


def test_without_retention_every_execution_is_kept(tmp_path):
    with local.start(port=0, clock="manual", demo=True, state_dir=tmp_path) as ep:
        ep.lookout().create_inference_scheduler(**demo.scheduler_kwargs("kept-all"), ClientToken="t")
        ep.advance("3h")
        assert len(_starts(ep.lookout(), "kept-all")) == 36


def test_the_retention_holds_across_serve_processes(pg_url):
    with local.start(port=0, clock="manual", demo=True, db=pg_url, retention="30min") as a, \
            local.start(port=0, clock="manual", demo=True, db=pg_url, retention="30min") as b:
        a.lookout().create_inference_scheduler(**demo.scheduler_kwargs("shared-30"), ClientToken="t")
        a.advance("2h")
        b.advance("15min")
        assert _starts(a.lookout(), "shared-30") == _starts(b.lookout(), "shared-30")
        assert len(_starts(b.lookout(), "shared-30")) == 7


@pytest.mark.parametrize("bad", ["-1D", "soon", "0s"])
def test_a_bad_retention_is_refused_naming_it(bad):
    with pytest.raises(InvalidArgument, match=f"retention '{bad}' is not a duration above 0"):
        local.start(port=0, clock="manual", demo=False, retention=bad)
