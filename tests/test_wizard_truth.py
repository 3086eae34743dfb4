"""The wizard's words stay true: failures that are over go, answers about an earlier request say so, the Review
says when it planned and what exists, a conflict offers Update, lifecycle buttons answer at once, and the Monitor
shows a time range (issue 25, items 4-10). Headless: set values, click, wait, read the widgets."""

from __future__ import annotations

import threading

import pandas as pd
import pytest

from lookout_nb.service.api.records import Model
from lookout_nb.service.demo import demo
from lookout_nb.wizard import Wizard
from test_wizard import fill_valid, no_auto_refresh_left, submit_valid  # noqa: F401 - the fixture applies here too

pytest.importorskip("ipywidgets")


@pytest.fixture
def wizard(endpoint, lookout, s3):
    w = Wizard(client=lookout, s3=s3, now=endpoint.clock.now)
    w.wait()
    yield w
    w.close()


def fail_once(monkeypatch, services, method: str, exc: Exception):
    """Make ``services.method`` raise ``exc`` once, then work again."""
    real = getattr(services, method)
    calls = []

    def flaky(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise exc
        return real(*args, **kwargs)

    monkeypatch.setattr(services, method, flaky)


# -- item 4: messages that outlive their truth --------------------------------------------------------------------
def test_a_failure_line_goes_once_a_later_refresh_succeeds(endpoint, wizard, monkeypatch):
    monitor = submit_valid(wizard)
    monitor.auto.value = False
    fail_once(monkeypatch, wizard.services, "submit", RuntimeError("the network is down"))
    wizard.schedule_step.name.value = "wiz-second"
    wizard.submit_step.button.click()
    wizard.wait()
    assert "failed" in wizard.status.html.value and wizard.errors.messages

    monitor.refresh(quiet=True)  # what auto-refresh does, minutes later
    wizard.wait()
    assert "failed" not in wizard.status.html.value
    wizard.submit_step.button.click()  # the same submit, now successful: its old error is no longer true
    wizard.wait()
    assert not [m for m in wizard.errors.messages if m.startswith("Submitting wiz-second failed")]


def test_the_submit_outcome_says_it_is_about_the_earlier_request_once_the_request_changes(wizard):
    submit_valid(wizard)
    outcome = wizard.submit_step.outcome
    assert "PENDING" in outcome.value and "Earlier" not in outcome.value
    wizard.schedule_step.delay.value = 7
    assert "Earlier, before the request changed" in outcome.value and "lnb-outcome-earlier" in outcome.value
    wizard.schedule_step.delay.value = 0  # back to the submitted request: the answer is about it again
    assert "Earlier" not in outcome.value and "PENDING" in outcome.value


def test_review_says_when_it_planned_and_plans_again_on_refresh(endpoint, wizard):
    fill_valid(wizard)
    wizard.go("Review")
    wizard.wait()
    planned = wizard.review_step.service_now
    assert "Planned at service time" in planned.value and "2026-01-05 09:00:00 UTC" in planned.value
    endpoint.clock.advance(pd.Timedelta(hours=2))
    wizard.review_step.refresh.click()
    wizard.wait()
    assert "Planned at service time" in planned.value and "2026-01-05 11:00:00 UTC" in planned.value
    assert "2026-01-05 11:05:00" in wizard.review_step.next_runs.value


def test_review_says_a_scheduler_of_that_name_exists_and_whether_it_matches(endpoint, lookout, wizard):
    lookout.create_inference_scheduler(**demo.scheduler_kwargs("wiz-5min"), ClientToken="someone-else")
    fill_valid(wizard, "wiz-5min")
    wizard.schedule_step.frequency.value = "PT10M"
    wizard.go("Review")
    wizard.wait()
    existing = wizard.review_step.existing.value
    assert "exists already and differs" in existing
    assert "upload_frequency: &#x27;PT5M&#x27; -&gt; &#x27;PT10M&#x27;" in existing
    wizard.schedule_step.name.value = "wiz-new"
    wizard.review_step.refresh.click()
    wizard.wait()
    assert wizard.review_step.existing.value == ""


# -- item 5: a conflict, once, with an Update action --------------------------------------------------------------
def conflicting_submit(lookout, wizard):
    lookout.create_inference_scheduler(**demo.scheduler_kwargs("wiz-5min"), ClientToken="someone-else")
    fill_valid(wizard, "wiz-5min")
    wizard.schedule_step.frequency.value = "PT10M"
    wizard.submit_step.button.click()
    wizard.wait()
    return wizard.submit_step.conflict


def test_a_conflict_lists_each_difference_once_and_update_applies_them(endpoint, lookout, wizard):
    conflict = conflicting_submit(lookout, wizard)
    text = conflict.message.value
    assert text.count("upload_frequency") == 1 and text.count("output_prefix") == 1
    assert "update(" not in text and wizard.errors.messages == []
    assert not conflict.update_button.disabled and conflict.update_button.description == "Update 2 fields"

    conflict.update_button.click()
    wizard.wait()
    described = lookout.describe_inference_scheduler(InferenceSchedulerName="wiz-5min")
    assert described["DataUploadFrequency"] == "PT10M"
    assert described["DataOutputConfiguration"]["S3OutputConfiguration"]["Prefix"] == "wiz-5min/output/"
    result = conflict.result.value
    assert "Updated wiz-5min" in result and "upload_frequency = &#x27;PT10M&#x27;" in result
    assert conflict.update_button.layout.display == "none" and wizard.monitor.name == "wiz-5min"
    assert wizard.errors.messages == []


def test_submit_is_off_while_the_scheduler_already_matches_the_request(endpoint, lookout, wizard):
    conflict = conflicting_submit(lookout, wizard)
    assert not wizard.submit_step.button.disabled  # refused: submitting again (e.g. after a fix elsewhere) is allowed
    conflict.update_button.click()
    wizard.wait()
    assert wizard.submit_step.button.disabled  # a second submit would only be refused as a conflict again
    assert "wiz-5min already runs this request" in wizard.submit_step.why.value
    wizard.schedule_step.delay.value = 9
    assert not wizard.submit_step.button.disabled and "The request is valid" in wizard.submit_step.why.value


def test_update_is_withdrawn_once_the_request_changes(endpoint, lookout, wizard):
    conflict = conflicting_submit(lookout, wizard)
    wizard.schedule_step.delay.value = 9  # these differences are no longer the request's
    assert conflict.update_button.disabled
    wizard.schedule_step.delay.value = 0
    assert not conflict.update_button.disabled


def test_a_conflict_on_a_field_update_cannot_change_says_so(endpoint, lookout, wizard):
    endpoint.add_model("pump-other", demo.DEMO_COMPONENTS, "PT1M")
    lookout.create_inference_scheduler(**demo.scheduler_kwargs("wiz-5min"), ClientToken="someone-else")
    wizard.load_models()
    fill_valid(wizard, "wiz-5min")
    wizard.output_step.prefix.value = "inference/output/"
    wizard.model_step.field.value = "pump-other"
    wizard.wait()
    wizard.submit_step.button.click()
    wizard.wait()
    conflict = wizard.submit_step.conflict
    assert "model_name cannot be updated" in conflict.message.value
    assert conflict.update_button.disabled


# -- item 7: lifecycle buttons answer at once ---------------------------------------------------------------------
def test_stop_says_stopping_at_once_and_the_status_once_answered(endpoint, wizard, monkeypatch):
    monitor = submit_valid(wizard)
    monitor.auto.value = False
    release = threading.Event()
    real_stop = wizard.services.stop
    monkeypatch.setattr(wizard.services, "stop", lambda name: release.wait(10) and real_stop(name))
    monitor.stop_button.click()
    assert "Stopping wiz-5min" in monitor.action.value  # before the service has answered
    assert monitor.stop_button.disabled and monitor.start_button.disabled and monitor.delete_button.disabled
    monitor.refresh()  # a refresh meanwhile shows the old status but keeps the words and the buttons off
    wizard.wait(timeout=5) if release.is_set() else None
    assert "Stopping wiz-5min" in monitor.action.value and monitor.stop_button.disabled
    release.set()
    wizard.wait()
    assert "Stopping wiz-5min: done" in monitor.action.value
    endpoint.clock.advance(pd.Timedelta(seconds=1))
    monitor.refresh()
    wizard.wait()
    assert "STOPPED" in monitor.status.value and not monitor.start_button.disabled
    monitor.start_button.click()
    wizard.wait()
    assert "the service says PENDING" in monitor.action.value
    endpoint.clock.advance(pd.Timedelta(seconds=1))
    monitor.refresh()
    wizard.wait()
    assert "RUNNING" in monitor.status.value and monitor.action.value == ""  # "says PENDING" is no longer true


def test_contributions_over_hundreds_of_rows_are_binned_not_noise():
    import matplotlib

    matplotlib.use("Agg")
    from lookout_nb import plot

    n = 355
    rows = pd.DataFrame({"timestamp": pd.date_range("2026-01-05", periods=n, freq="min", tz="UTC"),
                         "prediction": 0, "anomaly_score": 0.1,
                         "pump\\a": [i % 2 for i in range(n)], "pump\\b": [1 - i % 2 for i in range(n)]})
    axes = plot.plot_results(rows)
    polys = [c for c in axes.contributions.collections if c.get_gid() == "contribution"]
    assert len(polys[0].get_paths()[0].vertices) <= 2 * plot.CONTRIBUTION_BINS + 8
    assert "mean of each of 48 time bins" in axes.contributions.get_title(loc="left")


# -- item 8 and 9 --------------------------------------------------------------------------------------------------
def test_a_model_trained_at_the_finest_frequency_is_not_called_finer(endpoint, lookout, s3):
    endpoint.backend.put_model(Model(name="pump-5", components={"pump": ["flow"]}, sampling_rate="PT5M"))
    w = Wizard(client=lookout, s3=s3).wait()
    w.model_step.field.value = "pump-5"
    w.wait()
    note = w.schedule_step.rate_note.value
    assert "PT5M, the finest upload frequency the API offers" in note and "finer than every" not in note
    w.close()


def test_the_example_file_name_is_dated_at_the_service_time(endpoint, lookout, s3):
    endpoint.clock.advance(pd.Timedelta(days=3, hours=2, minutes=7))
    w = Wizard(client=lookout, s3=s3).wait()  # no `now`: the service's own clock
    assert "centrifugal-pump_20260108110500.csv" in w.input_step.example.value
    assert "2026-01-08 11:05 UTC" in w.input_step.example.value
    w.close()


# -- item 6: the Monitor shows a time range and reads only what it needs ------------------------------------------
def count_calls(client, event: str) -> list:
    calls = []
    client.meta.events.register(f"before-call.{event}", lambda **kw: calls.append(kw.get("params")))
    return calls


def test_the_monitor_shows_the_chosen_range_and_reads_each_result_once(endpoint, wizard, s3):
    monitor = submit_valid(wizard)
    monitor.auto.value = False
    endpoint.clock.advance(pd.Timedelta(minutes=5 * 100))  # 100 runs
    monitor.range.value = "1h"
    wizard.wait()
    snap = monitor.snapshot
    assert 11 <= len(snap.executions) <= 13 and "in last hour" in monitor.status.value
    assert snap.executions["data_start"].min() >= snap.now - pd.Timedelta(hours=1)
    assert snap.results["timestamp"].min() >= snap.now - pd.Timedelta(hours=1)
    lo = pd.Timestamp(monitor.plan_caption.value.split("Time axis ")[1][:19], tz="UTC")
    assert snap.now - pd.Timedelta(hours=1, minutes=10) <= lo  # the picture spans the range, not 8 hours

    reads = count_calls(s3, "s3.GetObject")
    endpoint.clock.advance(pd.Timedelta(minutes=5))  # one more run: one more result file read, not twelve
    monitor.refresh()
    wizard.wait()
    assert len(reads) == 1 and len(monitor.snapshot.results) > 0

    monitor.range.value = "all"  # everything
    wizard.wait()
    assert len(monitor.snapshot.executions) == 101 and "in everything" in monitor.status.value


# -- item 10: the input-files picture where users look -------------------------------------------------------------
def test_review_shows_the_input_files_of_the_recent_runs_with_a_missing_one_marked(endpoint, wizard, s3):
    fill_valid(wizard)
    endpoint.clock.advance(pd.Timedelta(minutes=30))
    for minute in range(0, 30, 5):  # the motor's files of the last half hour never came
        s3.delete_object(Bucket=demo.DEMO_BUCKET, Key=f"{demo.DEMO_INPUT_PREFIX}motor_2026010509{minute:02d}00.csv")
    wizard.go("Review")
    wizard.wait()
    note = wizard.review_step.files_note.value
    assert "The last 12 runs: " in note and "lnb-warning" in note
    assert int(note.split("The last 12 runs: ")[1].split(" missing")[0]) >= 5
    assert wizard.review_step.files_picture.value[:4].tobytes() == b"\x89PNG"
    assert wizard.review_step.files_picture.layout.display == ""
