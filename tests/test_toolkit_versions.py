"""lnb.retrain, lnb.model_versions, lnb.activate_version, lnb.stop_retraining and lnb.plot_versions against the
embedded endpoint on a manual clock: the user's view of a retraining."""

from __future__ import annotations

import time

import matplotlib
import pandas as pd
import pytest

import lookout_nb as lnb

matplotlib.use("Agg")


def _retrained(endpoint, lookout, mode="MANAGED"):
    endpoint.add_model("fan", {"fan": ["Speed", "Temp"]}, "PT5M")
    table = lnb.retrain("fan", frequency="P1M", lookback="P180D", start="2026-01-06", promote=mode, client=lookout)
    assert table.loc[0, "status"] == "PENDING"
    assert table.loc[0, "next_retraining"] == pd.Timestamp("2026-01-06", tz="UTC")
    endpoint.advance("1D")
    deadline = time.monotonic() + 90
    while (versions := lnb.model_versions("fan", client=lookout))["status"].eq("IN_PROGRESS").any():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return versions


def test_a_managed_retraining_shows_as_a_second_active_version_and_rolls_back(endpoint, lookout):
    versions = _retrained(endpoint, lookout)
    assert versions["version"].tolist() == [1, 2]
    assert versions["source"].tolist() == ["TRAINING", "RETRAINING"]
    assert versions["active"].tolist() == [False, True]
    assert versions.loc[1, "promotion"] == "MODEL_PROMOTED"
    assert versions.attrs["spans"]["version"].tolist() == [1, 2]
    schedule = lnb.retraining("fan", client=lookout)
    assert (schedule.loc[0, "latest_version"], schedule.loc[0, "latest_status"]) == (2, "SUCCESS")
    assert schedule.loc[0, "next_retraining"] == pd.Timestamp("2026-02-06", tz="UTC")

    endpoint.advance("1D")  # a day with version 2 active, then the user rolls back
    assert lnb.activate_version("fan", 1, client=lookout)["PreviousActiveVersion"] == 2
    after = lnb.model_versions("fan", client=lookout)
    assert after["active"].tolist() == [True, False]
    assert after.attrs["spans"]["version"].tolist() == [1, 2, 1]

    ax = lnb.plot_versions(after)
    assert [c.get_gid() for c in ax.collections] == ["active", "versions"]
    assert len(ax.collections[0].get_paths()) == 3  # v1, then v2, then v1 again
    assert any("promoted" in t.get_text() for t in ax.texts)

    assert lnb.stop_retraining("fan", client=lookout) == "STOPPING"
    endpoint.advance("1min")
    assert lnb.stop_retraining("fan", delete=True, client=lookout) == "DELETED"
    assert lnb.retraining(client=lookout).empty


@pytest.mark.parametrize("kwargs, message", [({"frequency": "P7D"}, "frequency='P7D'"),
                                             ({"lookback": "P90D"}, "lookback='P90D'"),
                                             ({"promote": "AUTO"}, "promote='AUTO'")])
def test_retrain_names_the_argument_at_fault_before_calling(kwargs, message):
    with pytest.raises(lnb.InvalidArgument, match=message):
        lnb.retrain("fan", client=object(), **kwargs)
