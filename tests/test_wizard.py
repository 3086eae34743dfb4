"""The wizard, headless: build it against the embedded endpoint, set values, click buttons, read what it shows.

No browser here: widgets work without a frontend, ``button.click()`` runs the handlers, and ``wizard.wait()``
returns once every worker the wizard started has finished, so nothing depends on timing.
"""

from __future__ import annotations

import json
import re
import threading
import time

import pandas as pd
import pytest

import lookout_nb as lnb
from lookout_nb.contract import servicemodel
from lookout_nb.service.api.records import Model
from lookout_nb.service.demo import demo
from lookout_nb.wizard import Wizard

pytest.importorskip("ipywidgets")


@pytest.fixture(autouse=True)
def no_auto_refresh_left():
    """Every test ends with no auto-refresh thread alive: deleting, closing the monitor or the wizard stops it."""
    yield
    for thread in threading.enumerate():
        if thread.name == "lookout-nb-auto-refresh":
            thread.join(10)
    assert not [t for t in threading.enumerate() if t.name == "lookout-nb-auto-refresh" and t.is_alive()]


@pytest.fixture
def new_wizard():
    """Make wizards (``new_wizard(**kwargs)``) that are closed after the test, passed or failed."""
    made = []

    def make(**kwargs):
        made.append(Wizard(**kwargs))
        return made[-1]

    yield make
    for w in made:
        w.close()


@pytest.fixture
def wizard(endpoint, lookout, s3):
    w = Wizard(client=lookout, s3=s3, now=endpoint.clock.now)
    w.wait()
    yield w
    w.close()


def fill_valid(w: Wizard, name: str = "wiz-5min") -> None:
    """Fill every field the way a user would for the demo data."""
    w.model_step.field.value = demo.DEMO_MODEL
    w.wait()
    w.schedule_step.name.value = name
    w.input_step.bucket.value = demo.DEMO_BUCKET
    w.input_step.prefix.value = demo.DEMO_INPUT_PREFIX
    w.output_step.bucket.value = demo.DEMO_BUCKET
    w.output_step.prefix.value = f"{name}/output/"
    w.access_step.role.value = demo.DEMO_ROLE_ARN


def submit_valid(w: Wizard):
    """Fill every field, press Submit and wait: the Monitor of the new scheduler."""
    fill_valid(w)
    w.submit_step.button.click()
    w.wait()
    return w.monitor


def press_and_settle(w: Wizard, button, endpoint) -> None:
    """Click a monitor button (Stop, Start), let the service settle (one second on its clock) and read it again."""
    button.click()
    w.wait()
    endpoint.clock.advance(pd.Timedelta(seconds=1))
    w.monitor.refresh()
    w.wait()


def count_creates(client) -> list:
    calls = []
    client.meta.events.register("before-call.lookoutequipment.CreateInferenceScheduler",
                                lambda **kw: calls.append(kw.get("params")))
    return calls


# -- step 1: model ---------------------------------------------------------------------------------------------------
def test_only_trained_models_are_offered_and_all_are_listed(endpoint, lookout, s3):
    endpoint.backend.put_model(Model(name="fan-training", components={"fan": ["rpm"]}, status="IN_PROGRESS"))
    w = Wizard(client=lookout, s3=s3).wait()
    offered = [value for _, value in w.model_step.field.widget.options]
    assert offered == [None, demo.DEMO_MODEL]
    assert "fan-training" in w.model_step.listing.value and "IN_PROGRESS" in w.model_step.listing.value
    assert "not trained" in w.model_step.listing.value


def test_choosing_the_model_shows_its_schema_and_limits_the_frequencies(endpoint, lookout, s3):
    endpoint.backend.put_model(Model(name="slow-pump", components={"pump": ["flow", "head"]}, sampling_rate="PT10M"))
    w = Wizard(client=lookout, s3=s3).wait()
    w.model_step.field.value = demo.DEMO_MODEL
    w.wait()
    details = w.model_step.details.value
    for component, sensors in demo.DEMO_COMPONENTS.items():
        assert component in details and all(s in details for s in sensors)
    assert "PT1M" in details and "QUALITY_THRESHOLD_MET" in details
    assert w.schedule_step.frequency.widget.options[0][1] == "PT5M"

    w.model_step.field.value = "slow-pump"
    w.wait()
    assert [v for _, v in w.schedule_step.frequency.widget.options] == ["PT10M", "PT15M", "PT30M", "PT1H"]
    assert w.request.upload_frequency == "PT10M"  # PT5M is finer than the model: moved to the finest allowed


def test_the_model_step_shows_the_active_version_and_the_retraining_schedule(endpoint, lookout, s3):
    w = Wizard(client=lookout, s3=s3).wait()
    w.model_step.field.value = demo.DEMO_MODEL
    w.wait()
    assert "inference runs with version 1" in w.model_step.details.value
    assert "no retraining scheduler" in w.model_step.details.value
    lookout.create_retraining_scheduler(ModelName=demo.DEMO_MODEL, RetrainingFrequency="P1M", LookbackWindow="P180D",
                                        PromoteMode="MANUAL")
    w.model_step.reload.click()
    w.model_step.field.value = None
    w.model_step.field.value = demo.DEMO_MODEL
    w.wait()
    assert "retraining PENDING: next on 2026-01-06 UTC" in w.model_step.details.value


def test_the_model_step_shows_each_models_dataset_rate_training_window_and_evaluation_events(endpoint, lookout, s3):
    metrics = {"labeled_ranges": [{"start": "2025-12-24T06:00:00", "end": "2025-12-24T14:00:00"}],
               "labeled_event_metrics": {"num_labeled": 1, "num_identified": 1, "total_warning_time_in_seconds": 60.0},
               "predicted_ranges": [{"start": s, "end": e, "diagnostics": []} for s, e in
                                    [("2025-12-24T11:00:00", "2025-12-24T15:00:00"),
                                     ("2025-12-28T10:00:00", "2025-12-28T12:00:00")]]}
    endpoint.backend.put_model(Model(
        name="pump-trained", components={"hx-pump": ["Flow", "Speed"]}, sampling_rate="PT15M",
        dataset_name="pump-data", training_start=pd.Timestamp("2025-11-20", tz="UTC"),
        training_end=pd.Timestamp("2025-12-20", tz="UTC"), evaluation_start=pd.Timestamp("2025-12-20", tz="UTC"),
        evaluation_end=pd.Timestamp("2026-01-05", tz="UTC"), trained={"metrics": metrics}))  # described, not scored
    w = Wizard(client=lookout, s3=s3).wait()
    listing = w.model_step.listing.value
    row = re.search(r"<tr>(?:(?!</tr>).)*pump-trained(?:(?!</tr>).)*</tr>", listing, re.S).group(0)
    cells = re.findall(r"<td>(.*?)</td>", row, re.S)
    assert cells[2:6] == ["pump-data", "PT15M", "2025-11-20 to 2025-12-20", "2"]
    demo_row = re.search(r"<tr>(?:(?!</tr>).)*pump-demo(?:(?!</tr>).)*</tr>", listing, re.S).group(0)
    assert "PT1M" in demo_row and demo.DEMO_MODEL in demo_row

    w.model_step.field.value = "pump-trained"
    w.wait()
    details = w.model_step.details.value
    assert "trained on 2025-11-20 to 2025-12-20 UTC" in details
    assert "evaluated on 2025-12-20 to 2026-01-05 UTC: 2 events found (they cover 1 of 1 labelled range(s))" in details
    assert "dataset pump-data" in details and "<code>PT15M</code>" in details
    # The Schedule step offers only upload frequencies no finer than the model's sampling rate.
    assert [v for _, v in w.schedule_step.frequency.widget.options] == ["PT15M", "PT30M", "PT1H"]
    assert w.request.upload_frequency == "PT15M"


def test_a_model_trained_from_csvs_shows_its_real_evaluation_in_the_model_step(endpoint, lookout, s3, unique_bucket,
                                                                                tmp_path):
    from lookout_nb.service.demo import synth

    machine = synth.generate(days=12, start="2025-12-24", rate="PT5M", seed=2,
                             faults=[("current_rise", "2026-01-03T09:00Z", "8h")])
    machine.write_csv(tmp_path / "csvs")
    ds = lnb.create_dataset("wiz-data", tmp_path / "csvs", bucket=unique_bucket, client=lookout, s3=s3,
                            progress=False)
    lnb.ingest(ds, role_arn=demo.DEMO_ROLE_ARN, client=lookout, poll=0.1, progress=False)
    model = lnb.train("wiz-model", ds, training=("2025-12-24", "2026-01-02"), evaluation=("2026-01-02", "2026-01-05"),
                      sampling_rate="PT10M", labels=machine.labels, role_arn=demo.DEMO_ROLE_ARN, client=lookout,
                      poll=0.1, progress=False)
    w = Wizard(client=lookout, s3=s3).wait()
    w.model_step.field.value = "wiz-model"
    w.wait()
    details = w.model_step.details.value
    assert f"evaluated on 2026-01-02 to 2026-01-05 UTC: {model.events} event" in details
    assert "(they cover 1 of 1 labelled range(s))" in details and "dataset wiz-data" in details
    assert [v for _, v in w.schedule_step.frequency.widget.options] == ["PT10M", "PT15M", "PT30M", "PT1H"]


# -- step 2: schedule and inline problems ----------------------------------------------------------------------------
def test_each_field_shows_the_cores_problem_as_you_type(wizard):
    name = wizard.schedule_step.name
    assert name.problem.value == ""  # untouched: no red yet
    name.value = "pump 5min"
    expected = [p.message for p in wizard.request.field_problems("scheduler_name")]
    assert expected and name.messages == expected
    assert "not allowed" in name.problem.value
    assert wizard.submit_step.button.disabled
    name.value = "pump-5min"
    assert name.messages == [] and name.problem.value == ""

    wizard.input_step.prefix.value = "input"
    assert "end it with '/'" in wizard.input_step.prefix.messages[0]
    assert "end it with &#x27;/&#x27;" in wizard.input_step.prefix.problem.value
    wizard.input_step.offset.value = "+15:00"
    assert "-12:00 and +14:00" in wizard.input_step.offset.problem.value


def test_review_shows_the_problems_of_untouched_fields(wizard):
    assert wizard.output_step.bucket.problem.value == ""
    wizard.go("Review")
    wizard.wait()
    assert "is required" in wizard.output_step.bucket.problem.value
    assert "is required" in wizard.access_step.role.problem.value
    assert "problem(s) to fix" in wizard.review_step.summary.value


def test_a_taken_scheduler_name_is_warned_about(endpoint, lookout, s3):
    lookout.create_inference_scheduler(**demo.scheduler_kwargs("taken-name"), ClientToken="t1")
    w = Wizard(client=lookout, s3=s3).wait()
    w.schedule_step.name.value = "taken-name"
    assert "exists already" in w.schedule_step.exists.value
    w.schedule_step.name.value = "free-name"
    assert w.schedule_step.exists.value == ""


# -- step 3: input ---------------------------------------------------------------------------------------------------
def test_zone_helper_fills_the_offset_and_reports_unknown_zones(wizard):
    wizard.input_step.zone.value = "Asia/Kolkata"
    wizard.input_step.fill_offset.click()
    wizard.wait()
    assert wizard.request.timezone_offset == "+05:30"
    assert "+05:30" in wizard.input_step.zone_note.value

    wizard.input_step.zone.value = "Mars/Olympus_Mons"
    wizard.input_step.fill_offset.click()  # must not raise
    wizard.wait()
    assert wizard.errors.messages and "Filling the offset failed" in wizard.errors.messages[0]
    assert wizard.request.timezone_offset == "+05:30"


def test_zone_helper_warns_inline_when_the_zone_changes_its_offset_within_a_year(wizard):
    wizard.input_step.zone.value = "Europe/Paris"  # the endpoint's clock is in January: +01:00, +02:00 in summer
    wizard.input_step.fill_offset.click()
    wizard.wait()
    assert wizard.request.timezone_offset == "+01:00"
    note = wizard.input_step.zone_note.value
    assert "Europe/Paris is +01:00 now" in note and "+02:00" in note and "daylight saving" in note
    assert wizard.errors.messages == []

    wizard.input_step.zone.value = "Asia/Kolkata"
    wizard.input_step.fill_offset.click()
    wizard.wait()
    assert "daylight saving" not in wizard.input_step.zone_note.value


def test_preview_detects_the_naming_and_use_detected_applies_it(wizard):
    fill_valid(wizard)
    wizard.input_step.delimiter.value = "-"
    wizard.input_step.timestamp_format.value = "EPOCH"
    wizard.input_step.preview_button.click()
    wizard.wait()
    step = wizard.input_step
    assert "key(s) under the prefix" in step.summary.value
    assert "yyyyMMddHHmmss" in step.detected.value and "centrifugal-pump" in step.detected.value
    assert "lnb-findings-error" in step.findings.value  # the names do not follow the fields' naming
    assert not step.use_detected.disabled

    step.use_detected.click()
    assert (wizard.request.timestamp_format, wizard.request.delimiter) == ("yyyyMMddHHmmss", "_")
    assert step.use_detected.disabled
    step.preview_button.click()
    wizard.wait()
    assert "lnb-findings-error" not in step.findings.value
    for component in demo.DEMO_COMPONENTS:
        assert f"Sample rows of {component}" in step.samples.value
    assert "Flow" in step.samples.value


def test_preview_of_a_missing_bucket_shows_a_finding_not_a_traceback(wizard):
    wizard.input_step.bucket.value = "no-such-bucket-here"
    wizard.input_step.preview_button.click()
    wizard.wait()
    assert wizard.errors.messages == []
    assert "no-such-bucket-here" in wizard.input_step.findings.value


# -- step 5: tags ----------------------------------------------------------------------------------------------------
def test_tags_editor_adds_and_removes_rows_and_shows_problems_per_row(wizard):
    tags = wizard.access_step.tags
    tags.add.click()
    tags.rows[0].key.value, tags.rows[0].value.value = "team", "reliability"
    tags.add.click()
    tags.rows[1].key.value, tags.rows[1].value.value = "bad key", "x"
    assert wizard.request.tags == [{"Key": "team", "Value": "reliability"}, {"Key": "bad key", "Value": "x"}]
    assert tags.rows[0].problem.value == ""
    assert "not allowed" in tags.rows[1].problem.value
    tags.rows[1].remove.click()
    assert wizard.request.tags == [{"Key": "team", "Value": "reliability"}]
    assert wizard.validate() == [p for p in wizard.validate() if not p.field.startswith("Tags")]


# -- step 6: review --------------------------------------------------------------------------------------------------
def test_review_shows_the_exact_exports_and_the_next_runs(wizard, tmp_path):
    fill_valid(wizard)
    wizard.go("Review")
    wizard.wait()
    request = wizard.request
    review = wizard.review_step
    assert "valid" in review.summary.value
    assert "create_inference_scheduler(" in review.python.value
    assert json.loads(request.to_json())["InferenceSchedulerName"] == "wiz-5min"
    assert "AWS::LookoutEquipment::InferenceScheduler" in review.cloudformation.value
    assert "scheduler_request.json" in review.downloads.value
    # The clock is the endpoint's: 09:00, so the next runs wake at 09:05, 09:10, ...
    assert "2026-01-05 09:05:00" in review.next_runs.value
    assert wizard.errors.messages == []
    assert review.picture.value[:4].tobytes() == b"\x89PNG"

    review.folder.value = str(tmp_path)
    review.save.click()
    assert json.loads((tmp_path / "scheduler_request.json").read_text()) == json.loads(request.to_json())
    assert (tmp_path / "create_scheduler.py").read_text() == request.to_python()


def test_review_says_why_no_run_can_be_planned():
    request = lnb.SchedulerRequest.from_boto3(demo.scheduler_kwargs("odd")).replace(upload_frequency="PT7M")
    w = Wizard(request=request, load=False)
    w.go("Review")
    w.wait()
    shown = w.review_step.next_runs.value
    assert "No plan yet" in shown and "DataUploadFrequency" in shown
    assert w.review_step.picture.layout.display == "none"
    w.close()


def test_showing_the_review_validates_once(wizard, monkeypatch):
    calls = []
    validate = wizard.validate
    monkeypatch.setattr(wizard, "validate", lambda: calls.append(1) or validate())
    wizard.go("Review")
    wizard.wait()
    assert len(calls) == 1


def test_going_to_an_unknown_step_names_the_steps(wizard):
    with pytest.raises(ValueError, match=r"1 Model.*8 Monitor"):
        wizard.go("Nowhere")


# -- step 7: submit and monitor --------------------------------------------------------------------------------------
def test_submit_is_disabled_while_invalid_and_a_double_click_submits_once(endpoint, wizard, lookout):
    assert wizard.submit_step.button.disabled
    fill_valid(wizard)
    assert not wizard.submit_step.button.disabled
    creates = count_creates(lookout)
    wizard.submit_step.button.click()
    wizard.submit_step.button.click()
    wizard.wait()
    assert len(creates) == 1
    assert wizard.errors.messages == []
    assert wizard.tabs.selected_index == wizard.steps.index(wizard.monitor)
    assert "PENDING" in wizard.monitor.status.value
    assert "inference-scheduler/wiz-5min" in wizard.monitor.status.value

    # A retry of the same request (same stable token) is the same scheduler, not a conflict.
    wizard.submit_step.button.click()
    wizard.wait()
    assert wizard.errors.messages == []
    assert len(lnb.list_schedulers(client=lookout)) == 1


def test_monitor_shows_running_executions_and_pictures_after_the_clock_moves(endpoint, wizard):
    submit_valid(wizard)
    endpoint.clock.advance(pd.Timedelta(minutes=16))
    wizard.monitor.refresh_button.click()
    wizard.wait()
    monitor = wizard.monitor
    assert "RUNNING" in monitor.status.value
    assert monitor.executions.value.count("SUCCESS") == 3  # 09:05, 09:10, 09:15
    assert "2026-01-05 09:15:00" in monitor.executions.value
    assert wizard.errors.messages == []
    assert monitor.plan_picture.value[:4].tobytes() == b"\x89PNG"
    assert monitor.results_picture.value[:4].tobytes() == b"\x89PNG"
    assert "scored row(s)" in monitor.results_note.value


def test_stop_start_and_delete_from_the_monitor(endpoint, wizard, lookout):
    monitor = submit_valid(wizard)
    assert monitor.delete_button.disabled  # only a stopped scheduler can be deleted
    monitor.stop_button.click()
    wizard.wait()
    endpoint.clock.advance(pd.Timedelta(seconds=1))
    monitor.refresh_button.click()
    wizard.wait()
    assert "STOPPED" in monitor.status.value and not monitor.start_button.disabled

    press_and_settle(wizard, monitor.start_button, endpoint)
    assert "RUNNING" in monitor.status.value

    press_and_settle(wizard, monitor.stop_button, endpoint)
    monitor.delete_button.click()
    assert monitor.delete_button.description == "Confirm delete"
    assert len(lnb.list_schedulers(client=lookout)) == 1  # nothing deleted on the first click
    monitor.delete_button.click()
    wizard.wait()
    assert len(lnb.list_schedulers(client=lookout)) == 0
    assert "was deleted" in monitor.header.value
    assert wizard.errors.messages == []
    assert not wizard.submit_step.button.disabled  # the same request may create it again


def test_a_refresh_still_reading_when_the_scheduler_is_deleted_says_nothing(endpoint, wizard):
    monitor = submit_valid(wizard)
    monitor.auto.value = False
    press_and_settle(wizard, monitor.stop_button, endpoint)
    deleted, real = threading.Event(), wizard.services.executions

    def slow_executions(*args, **kwargs):
        deleted.wait(10)  # the scheduler is deleted while this refresh reads it
        return real(*args, **kwargs)

    wizard.services.executions = slow_executions
    monitor.refresh()
    monitor.delete_button.click()
    monitor.delete_button.click()
    for _ in range(200):
        if "was deleted" in monitor.header.value:
            break
        time.sleep(0.05)
    deleted.set()
    wizard.wait()
    assert "was deleted" in monitor.header.value
    assert wizard.errors.messages == []  # not "Refreshing ... failed: ResourceNotFoundException"


def test_auto_refresh_runs_in_the_background_until_unticked(endpoint, wizard):
    monitor = submit_valid(wizard)
    first = monitor.snapshot
    monitor.interval.value = 1
    assert monitor.interval_chosen  # the user's period stays
    assert monitor.auto.value and monitor.auto_refreshing
    endpoint.clock.advance(pd.Timedelta(minutes=6))
    for _ in range(200):  # the background thread refreshes on its own; no click
        if monitor.snapshot is not first and "SUCCESS" in monitor.executions.value:
            break
        time.sleep(0.05)
    assert "SUCCESS" in monitor.executions.value
    monitor.auto.value = False
    assert not monitor.auto_refreshing and monitor.auto_thread is None


def test_a_conflicting_submit_shows_the_differences_in_the_wizard(endpoint, lookout, s3):
    lookout.create_inference_scheduler(**demo.scheduler_kwargs("wiz-5min"), ClientToken="someone-else")
    w = Wizard(client=lookout, s3=s3).wait()
    fill_valid(w, "wiz-5min")
    w.schedule_step.frequency.value = "PT10M"
    w.submit_step.button.click()
    w.wait()
    conflict = w.submit_step.conflict
    assert "already exists" in conflict.message.value and w.errors.messages == []  # shown once, in the step
    assert conflict.message.value.count("upload_frequency") == 1 and "Differences:" not in conflict.message.value
    assert "refused" in w.submit_step.outcome.value and "refused" in w.status.html.value
    assert not w.submit_step.button.disabled  # the user can fix the request and submit again
    assert w.monitor.name is None


def test_an_unreachable_endpoint_is_an_error_in_the_wizard():
    import boto3
    from botocore.config import Config

    config = Config(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=1)
    client = boto3.client("lookoutequipment", endpoint_url="http://127.0.0.1:9", region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="y", config=config)
    w = Wizard(client=client, s3=client).wait()
    assert any("Loading models failed" in m for m in w.errors.messages)
    assert "failed" in w.status.html.value
    w.errors.dismiss.click()
    assert w.errors.messages == [] and w.errors.html.value == ""


# -- state -----------------------------------------------------------------------------------------------------------
def test_state_round_trips_through_json_with_the_same_token(wizard, lookout, s3):
    fill_valid(wizard)
    wizard.access_step.tags.value = {"team": "reliability"}
    wizard.input_step.zone.value = "Europe/Paris"
    wizard.go("Output")
    text = wizard.to_json()
    again = Wizard.from_json(text, client=lookout, s3=s3).wait()
    assert again.request == wizard.request
    assert again.request.to_boto3()["ClientToken"] == wizard.request.to_boto3()["ClientToken"]
    assert again.tabs.selected_index == 3 and again.input_step.zone.value == "Europe/Paris"


def test_a_prefilled_request_comes_back_unchanged(lookout, s3):
    request = lnb.SchedulerRequest.from_boto3(demo.scheduler_kwargs("prefilled"))
    w = Wizard(client=lookout, s3=s3, request=request).wait()
    assert w.request == request  # unset naming members stay unset: same content, same stable token
    assert w.request.stable_token() == request.stable_token()
    assert w.validate() == []
    assert w.model_step.info is not None and w.model_step.info.name == demo.DEMO_MODEL


@pytest.mark.parametrize("changes, field, message", [
    ({"delay_offset_minutes": 90}, "delay_offset_minutes", "at most 60"),
    ({"delay_offset_minutes": -3}, "delay_offset_minutes", "at least 0"),
    ({"delay_offset_minutes": "5"}, "delay_offset_minutes", "whole number"),
    ({"delay_offset_minutes": True}, "delay_offset_minutes", "whole number"),
    ({"input_prefix": 7}, "input_prefix", "must be a string"),
    ({"timestamp_format": 5}, "timestamp_format", ""),
    ({"tags": "team"}, "tags", "must be a list"),
    ({"tags": [{"Key": "team", "Value": 5}]}, "tags", "must be a string"),
    ({"tags": ["team"]}, "tags", ""),
])
def test_a_prefilled_value_no_input_can_hold_is_kept_and_reported_not_changed(changes, field, message):
    request = lnb.SchedulerRequest.from_boto3(demo.scheduler_kwargs("prefilled")).replace(**changes)
    w = Wizard(request=request, load=False)
    assert w.request == request and getattr(w.request, field) == changes[field]
    shown = w.fields[field]
    assert shown.messages and message in " ".join(shown.messages)
    assert w.request.problems() == request.problems()
    w.close()


def test_reading_the_model_keeps_an_unset_frequency_unset(endpoint, lookout, s3):
    endpoint.backend.put_model(Model(name="slow-pump", components={"pump": ["flow", "head"]}, sampling_rate="PT10M"))
    request = lnb.SchedulerRequest(model_name="slow-pump", scheduler_name="s")
    w = Wizard(client=lookout, s3=s3, request=request).wait()
    assert w.model_step.info is not None and w.model_step.info.sampling_rate == "PT10M"
    assert w.request == request  # the frequency stays unset (the core says "is required"), not PT10M
    assert "is required" in " ".join(w.schedule_step.frequency.messages)
    w.close()


def test_a_held_value_is_replaced_once_the_user_touches_the_input():
    request = lnb.SchedulerRequest(delay_offset_minutes=90, input_prefix=7, tags="team")
    w = Wizard(request=request, load=False)
    w.schedule_step.delay.widget.value = 10
    w.input_step.prefix.widget.value = "in/"
    w.access_step.tags.add_row("team", "reliability")
    assert (w.request.delay_offset_minutes, w.request.input_prefix) == (10, "in/")
    assert w.request.tags == [{"Key": "team", "Value": "reliability"}]
    w.close()


def test_from_json_with_wrong_types_fills_every_field_and_reports_them():
    w = Wizard.from_json(json.dumps({"Tags": "team", "InferenceSchedulerName": "s",
                                     "DataInputConfiguration": {"S3InputConfiguration": {"Prefix": 7}}}), load=False)
    assert (w.request.tags, w.request.input_prefix, w.request.scheduler_name) == ("team", 7, "s")
    assert "must be a list" in w.access_step.tags.problem.value
    assert "must be a string" in w.input_step.prefix.problem.value
    w.close()


def test_fill_replaces_every_field_even_when_values_are_wrong():
    w = Wizard(request=lnb.SchedulerRequest.from_boto3(demo.scheduler_kwargs("first")), load=False)
    second = lnb.SchedulerRequest(scheduler_name="second", input_prefix=7, tags="team", delay_offset_minutes=90)
    w.fill(second)
    assert w.request == second  # nothing of the first request left behind
    w.close()


def test_a_fill_that_fails_part_way_leaves_the_previous_request(monkeypatch):
    from lookout_nb.wizard.steps import tags

    first = lnb.SchedulerRequest.from_boto3(demo.scheduler_kwargs("first"))
    w = Wizard(request=first, load=False)

    def broken(_tags):
        raise RuntimeError("the tags editor broke")

    monkeypatch.setattr(tags, "tag_pairs", broken)  # tags are filled last: every other field is new by then
    with pytest.raises(RuntimeError):
        w.fill(lnb.SchedulerRequest(scheduler_name="second", input_prefix="other/", tags={"a": "b"}))
    assert w.request == first
    w.close()


def test_an_empty_prefix_and_empty_tags_stay_as_given():
    request = lnb.SchedulerRequest.from_boto3(demo.scheduler_kwargs("prefilled")).replace(input_prefix="", tags=[])
    w = Wizard(request=request, load=False)
    assert w.request.to_boto3() == request.to_boto3()
    w.close()


def test_from_scheduler_prefills_and_monitors_it(endpoint, lookout, s3, request):
    lookout.create_inference_scheduler(**demo.scheduler_kwargs("existing", DataUploadFrequency="PT10M"),
                                       ClientToken="t")
    w = Wizard.from_scheduler("existing", client=lookout, s3=s3)
    request.addfinalizer(w.close)
    w.wait()
    assert w.request.scheduler_name == "existing" and w.request.upload_frequency == "PT10M"
    assert w.monitor.name == "existing" and "inference-scheduler/existing" in w.monitor.status.value
    assert w.tabs.selected_index == w.steps.index(w.monitor)
    assert w.monitor.auto.value and w.monitor.auto_refreshing  # monitoring is live from the start


def test_save_and_load_state_buttons(wizard, tmp_path, lookout, s3):
    fill_valid(wizard)
    wizard.review_step.state_path.value = str(tmp_path / "state.json")
    wizard.review_step.save_state.click()
    other = Wizard(client=lookout, s3=s3).wait()
    other.review_step.state_path.value = str(tmp_path / "state.json")
    other.review_step.load_state.click()
    other.wait()
    assert other.request == wizard.request
    other.review_step.state_path.value = str(tmp_path / "missing.json")
    other.review_step.load_state.click()
    assert "Loading the state failed" in other.errors.messages[0]


def test_every_step_is_reachable_and_labelled(wizard):
    fill_valid(wizard)
    titles = [wizard.tabs.get_title(i) for i in range(len(wizard.tabs.children))]
    assert titles == ["1 Model", "2 Schedule", "3 Input", "4 Output", "5 Access & tags", "6 Review", "7 Submit",
                      "8 Monitor"]
    for i in range(len(titles)):
        wizard.next_button.click() if i else wizard.go(0)
        assert wizard.tabs.selected_index == i
    assert wizard.next_button.disabled
    wizard.back_button.click()
    assert wizard.tabs.selected_index == len(titles) - 2
    import ipywidgets as widgets

    def walk(widget):
        yield widget
        for child in getattr(widget, "children", ()):
            yield from walk(child)

    buttons = [w for w in walk(wizard) if isinstance(w, widgets.Button)]
    assert buttons and all(b.description and b.tooltip for b in buttons)
    names = {b.description for b in buttons}
    assert {"Preview input", "Use detected naming", "Submit scheduler", "Refresh", "Stop scheduler",
            "Start scheduler", "Delete scheduler", "Add tag", "Fill offset from zone"} <= names
    inputs = [w for w in walk(wizard) if isinstance(w, (widgets.Text, widgets.Dropdown, widgets.IntSlider))]
    assert all(i.description for i in inputs)


def test_a_chosen_frequency_finer_than_the_model_is_kept_and_reported(endpoint, lookout, s3):
    """Nothing the user chose is changed behind their back: a model trained at PT10M flags PT5M, it keeps it."""
    from lookout_nb.wizard.steps.schedule import ScheduleStep

    step = ScheduleStep()
    step.set_sampling_rate("PT1M")
    step.frequency.widget.value = "PT15M"
    step.frequency.widget.value = "PT5M"  # the user picks it (the default, untouched, would move)
    step.set_sampling_rate("PT10M")
    assert step.frequency.value == "PT5M"
    fresh = ScheduleStep()  # an untouched default moves to the finest frequency the model allows
    fresh.set_sampling_rate("PT10M")
    assert fresh.frequency.value == "PT10M"


# -- the monitor is live ---------------------------------------------------------------------------------------------
def until(condition, timeout: float = 30) -> bool:
    """Poll ``condition()`` until true (a bound on waiting for a background thread, never asserted as a duration)."""
    pause = threading.Event()
    for _ in range(int(timeout / 0.05)):
        if condition():
            return True
        pause.wait(0.05)
    return condition()


CAPTION = re.compile(r"Time axis (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) to (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC; "
                     r"now (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC")


def caption_times(monitor) -> tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp]:
    found = CAPTION.search(monitor.plan_caption.value)
    assert found, monitor.plan_caption.value
    return tuple(pd.Timestamp(t, tz="UTC") for t in found.groups())


def test_after_submit_the_monitor_refreshes_by_itself_and_now_moves(endpoint, wizard):
    monitor = submit_valid(wizard)
    progress = wizard.status.html.value
    assert monitor.auto.value and monitor.auto_refreshing  # on without a click
    assert "lnb-auto-refresh" in monitor.auto._dom_classes
    start, end, now = caption_times(monitor)
    assert now == endpoint.clock.now()  # the service's time, not the wall clock
    assert start <= pd.Timestamp("2026-01-05 09:00Z") and now < end  # from the first planned run's window

    endpoint.clock.advance(pd.Timedelta(minutes=16))  # nobody clicks Refresh from here on
    assert until(lambda: monitor.executions.value.count("SUCCESS") == 3)
    assert until(lambda: caption_times(monitor)[2] == endpoint.clock.now())
    assert "RUNNING" in monitor.status.value and "scored row(s)" in monitor.results_note.value
    start, end, now = caption_times(monitor)
    assert start <= pd.Timestamp("2026-01-05 09:00Z")  # still from the first planned run
    assert now < end <= now + pd.Timedelta(minutes=15)  # a little after now: the next wake-ups
    assert wizard.status.html.value == progress  # the auto-refreshes leave the progress line alone
    assert wizard.errors.messages == []


def test_the_executions_table_has_one_body_row_per_execution(endpoint, wizard):
    submit_valid(wizard)
    endpoint.clock.advance(pd.Timedelta(minutes=21))
    wizard.monitor.refresh()
    wizard.wait()
    body = re.search(r"<tbody>(.*)</tbody>", wizard.monitor.executions.value, re.S).group(1)
    assert body.count("<tr>") == 4 == len(lnb.executions("wiz-5min", client=wizard.services.client))


class Ticking:
    """A service clock and a real clock that move together at ``speed`` each time the service is asked."""

    def __init__(self, speed: float, start="2026-01-05 09:00Z"):
        self.speed, self.service, self.real = speed, pd.Timestamp(start), 0.0

    def now(self) -> pd.Timestamp:
        self.real += 2.0
        self.service += pd.Timedelta(seconds=2 * self.speed)
        return self.service

    def monotonic(self) -> float:
        return self.real


@pytest.mark.parametrize("speed, frequency, period", [
    (60, "PT5M", 1),      # the 60x demo: a run every 5 real seconds, refresh every second
    (60, "PT1H", 12),     # a fifth of an hour is 12 minutes of service time: 12 real seconds at 60x
    (1, "PT5M", 30),      # AWS, real time: a fifth of 5 minutes is 60 s, clamped to 30
    (0, "PT5M", 5),       # a manual clock that nobody moves: look every few seconds
])
def test_the_refresh_period_suits_the_speed_of_the_service_clock(new_wizard, lookout, s3, speed, frequency, period):
    clock = Ticking(speed)
    w = new_wizard(client=lookout, s3=s3, now=clock.now).wait()
    w.monitor.pace = lnb.wizard.pace.Pace(real=clock.monotonic)
    fill_valid(w)
    w.schedule_step.frequency.value = frequency
    w.submit_step.button.click()
    w.wait()
    assert w.monitor.interval.value == 2  # the speed is not known after one reading: look again soon
    w.monitor.refresh_button.click()
    w.wait()
    assert w.monitor.interval.value == period


def test_auto_refresh_stops_when_the_monitor_or_the_wizard_is_closed(new_wizard, lookout, s3):
    w = new_wizard(client=lookout, s3=s3).wait()
    fill_valid(w)
    w.submit_step.button.click()
    w.wait()
    thread = w.monitor.auto_thread
    assert thread.is_alive()
    w.monitor.box.close()  # the monitor's widgets closed (its output cleared)
    thread.join(10)
    assert not thread.is_alive() and not w.monitor.auto_refreshing

    other = new_wizard(client=lookout, s3=s3).wait()
    other.monitor.attach("wiz-5min")
    thread = other.monitor.auto_thread
    assert thread.is_alive()
    other.close()
    assert not thread.is_alive()


def test_deleting_the_scheduler_stops_auto_refresh(endpoint, wizard):
    monitor = submit_valid(wizard)
    thread = monitor.auto_thread
    press_and_settle(wizard, monitor.stop_button, endpoint)
    monitor.delete_button.click()
    monitor.delete_button.click()
    wizard.wait()
    thread.join(10)
    assert not thread.is_alive() and not monitor.auto.value and monitor.auto.disabled


# -- the DOM contract of the browser tests ---------------------------------------------------------------------------
def test_review_shows_the_service_time_and_the_first_wake_up_first(endpoint, wizard):
    endpoint.clock.advance(pd.Timedelta(minutes=7, seconds=30))
    fill_valid(wizard)
    wizard.go("Review")
    wizard.wait()
    assert "2026-01-05 09:07:30 UTC" in wizard.review_step.service_now.value
    assert "lnb-service-now" in wizard.review_step.service_now._dom_classes
    first_cell = re.search(r"<tbody>\s*<tr>\s*<td>([^<]*)</td>", wizard.review_step.next_runs.value).group(1)
    assert first_cell == "2026-01-05 09:10:00"


# -- list 5 of issue 11: stale or wrong text -------------------------------------------------------------------------
def test_the_preview_verdict_follows_the_naming_fields(wizard):
    fill_valid(wizard)
    step = wizard.input_step
    step.preview_button.click()
    wizard.wait()
    assert "the fields already use it" in step.detected.value and step.use_detected.disabled
    step.delimiter.value = "-"
    assert "the fields already use it" not in step.detected.value and not step.use_detected.disabled
    assert "fields changed since this preview" in step.findings.value
    assert "No findings" not in step.findings.value  # the old verdict is withdrawn
    step.timestamp_format.value = "EPOCH"
    assert "the fields already use it" not in step.detected.value


def test_use_detected_naming_checks_the_input_again(wizard):
    fill_valid(wizard)
    step = wizard.input_step
    step.delimiter.value = "-"
    step.preview_button.click()
    wizard.wait()
    assert "name-mismatch" in step.findings.value
    step.use_detected.click()
    wizard.wait()
    assert "Applied to the fields" in step.detected.value
    assert "name-mismatch" not in step.findings.value and "lnb-findings-error" not in step.findings.value
    assert "the fields already use it" in step.detected.value


def test_the_daylight_saving_note_goes_when_the_zone_is_cleared_or_changed(wizard):
    step = wizard.input_step
    step.zone.value = "Europe/Paris"
    step.fill_offset.click()
    wizard.wait()
    assert "daylight saving" in step.zone_note.value
    step.zone.value = ""
    assert step.zone_note.value == ""
    step.zone.value = "Europe/Paris"
    step.fill_offset.click()
    wizard.wait()
    step.offset.value = "+05:30"  # an offset typed by hand: the note about Paris's offset no longer applies
    assert step.zone_note.value == ""


def test_the_example_file_name_follows_the_naming_fields_and_the_model(wizard):
    step = wizard.input_step  # the demo's only trained model is chosen: its first component names the example
    assert "centrifugal-pump_20260105090000.csv" in step.example.value
    step.delimiter.value = "-"
    step.timestamp_format.value = "yyyy-MM-dd-HH-mm-ss"
    assert "centrifugal-pump-2026-01-05-09-00-00.csv" in step.example.value
    step.timestamp_format.value = "EPOCH"
    step.delimiter.value = ""
    assert "centrifugal-pump1767603600.csv" in step.example.value
    step.timestamp_format.value = "yyyyMMddHHmmss"
    step.offset.value = "+05:30"
    step.prefix.value = "in/"
    assert "in/centrifugal-pump20260105143000.csv" in step.example.value  # names carry local time
    wizard.model_step.field.value = None
    assert "in/pump20260105143000.csv" in step.example.value  # no model: a generic component
    step.offset.value = "+25:00"
    assert "No example name" in step.example.value


def test_the_request_printed_right_after_the_wizard_has_the_model_the_dropdown_shows(endpoint, lookout, s3,
                                                                                      monkeypatch):
    """Run All: the next cell prints ``wizard.request`` while the models are still being listed in a worker."""
    from lookout_nb.wizard.backend import Services

    listed = threading.Event()
    models = Services.models

    def slow_models(self):
        listed.wait(10)  # the listing answers only after the next cell has started reading
        return models(self)

    monkeypatch.setattr(Services, "models", slow_models)
    w = Wizard(client=lookout, s3=s3)
    threading.Timer(0.2, listed.set).start()
    printed = w.request.to_python()  # what `print(wizard.request.to_python())` prints, no wait() before it
    assert w.model_step.field.widget.value == demo.DEMO_MODEL
    assert f"ModelName='{demo.DEMO_MODEL}'" in printed or f'"ModelName": "{demo.DEMO_MODEL}"' in printed
    w.close()


def test_next_refuses_a_step_with_problems_and_says_why(wizard):
    fill_valid(wizard)
    wizard.go("Schedule")
    wizard.schedule_step.name.widget.value = ""  # the user empties the name
    assert not wizard.next()
    wizard.next_button.click()
    assert wizard.tabs.selected_index == 1  # still on Schedule
    assert "is required" in wizard.schedule_step.name.problem.value
    assert "InferenceSchedulerName" in wizard.nav_note.value
    wizard.schedule_step.name.value = "wiz-5min"
    wizard.next_button.click()
    assert wizard.tabs.selected_index == 2 and wizard.nav_note.value == ""


def _table_cells(html_text: str) -> tuple[list[str], list[list[str]]]:
    head = re.findall(r"<th[^>]*>(.*?)</th>", re.search(r"<thead>(.*?)</thead>", html_text, re.S).group(1), re.S)
    body = re.search(r"<tbody>(.*?)</tbody>", html_text, re.S).group(1)
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]
    return head, rows


def test_the_models_table_has_a_header_over_every_column_aligned_as_its_cells(endpoint, lookout, s3):
    endpoint.backend.put_model(Model(name="fan-training", components={"fan": ["rpm"]}, status="IN_PROGRESS"))
    w = Wizard(client=lookout, s3=s3).wait()
    head, rows = _table_cells(w.model_step.listing.value)
    assert all(h.strip() for h in head) and len(rows) == 2
    assert all(len(row) == len(head) for row in rows)
    assert "text-align: right" not in w.model_step.listing.value  # pandas' header style would misalign it
    assert "text-align:left" in w.model_step.listing.value
    w.close()


def test_background_listings_do_not_speak_on_the_progress_line(wizard):
    assert "Listing schedulers" not in wizard.status.html.value
    wizard.load_scheduler_names()
    wizard.wait()
    assert "Listing schedulers" not in wizard.status.html.value


def test_no_button_is_shrunk_below_its_description(wizard):
    import ipywidgets as widgets

    def walk(widget):
        yield widget
        for child in getattr(widget, "children", ()):
            yield from walk(child)

    buttons = [b for b in walk(wizard) if isinstance(b, widgets.Button)]
    assert buttons and all(b.layout.flex == "0 0 auto" and b.layout.width == "auto" for b in buttons), [
        b.description for b in buttons if b.layout.flex != "0 0 auto"]


def test_the_output_prefix_message_reads_as_words_with_an_output_example(wizard):
    wizard.output_step.prefix.value = "results"
    message = wizard.output_step.prefix.messages[0]
    assert "'output/'" in message and "input/" not in message
    assert "\\" not in message and "pattern" not in message
    wizard.input_step.prefix.value = "data"
    assert "'input/'" in wizard.input_step.prefix.messages[0]


@pytest.mark.parametrize("shape_name", [n for n in servicemodel.service_model().shape_names
                                        if servicemodel.shape(n).metadata.get("pattern")])
def test_every_patterned_shape_has_a_sentence_and_no_raw_regex(shape_name):
    from lookout_nb.contract.servicemodel import check, shape

    value = "\u00e9\u0301" * 3000 + "/"  # long, a combining mark, ending in '/': wrong for most shapes
    for candidate in (value, "aws:", " bad value ", "x" * 3):
        for problem in check(candidate, shape(shape_name), path=shape_name):
            assert "\\u" not in problem.message and "pattern" not in problem.message, problem


def test_the_sampling_rate_note_names_the_finest_frequency_really_offered(endpoint, lookout, s3):
    endpoint.backend.put_model(Model(name="slow-pump", components={"pump": ["flow"]}, sampling_rate="PT10M"))
    w = Wizard(client=lookout, s3=s3).wait()
    w.model_step.field.value = demo.DEMO_MODEL  # trained at PT1M, finer than PT5M, the API's finest
    w.wait()
    note = w.schedule_step.rate_note.value
    assert "finer than PT1M" not in note and "all are offered (PT5M to PT1H)" in note
    w.model_step.field.value = "slow-pump"
    w.wait()
    assert "PT5M is finer than that and not offered; the finest offered is PT10M" in w.schedule_step.rate_note.value
    w.close()


def test_review_tables_do_not_wrap_dates_or_keys(wizard):
    fill_valid(wizard)
    wizard.go("Review")
    wizard.wait()
    shown = wizard.review_step.next_runs.value
    assert "white-space:nowrap" in shown and "overflow-x:auto" in shown
    assert "inference/input/centrifugal-pump_" in shown


def test_tag_rows_line_up_with_the_other_fields(wizard):
    from lookout_nb.wizard.fields import LABEL_WIDTH

    tags = wizard.access_step.tags
    tags.add.click()
    row = tags.rows[0]
    assert row.key.style.description_width == wizard.access_step.role.widget.style.description_width == LABEL_WIDTH
    assert row.problem.layout.margin == wizard.access_step.role.problem.layout.margin


def test_review_says_when_it_plans_on_the_computers_clock(monkeypatch):
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    w = Wizard(request=lnb.SchedulerRequest.from_boto3(demo.scheduler_kwargs("no-service")), load=False)
    try:
        w.go("Review")
        w.wait()
        shown = w.review_step.service_now.value
        assert "lnb-warning" in shown and "s clock now:" in shown and "no client could be made" in shown
    finally:
        w.close()


def test_a_monitor_switched_to_another_scheduler_mid_refresh_shows_the_new_one(endpoint, lookout, wizard, monkeypatch):
    for name in ("slow-a", "fast-b"):
        lookout.create_inference_scheduler(**demo.scheduler_kwargs(name), ClientToken=name)
    describe, started = wizard.services.describe, threading.Event()

    def slow_for_a(name):
        if name == "slow-a":
            started.set()
            threading.Event().wait(0.5)  # still reading A when the user picks B
        return describe(name)

    monkeypatch.setattr(wizard.services, "describe", slow_for_a)
    monitor = wizard.monitor
    monitor.attach("slow-a", live=False)
    assert started.wait(10)
    monitor.attach("fast-b", live=False)
    wizard.wait()
    assert monitor.name == "fast-b" and monitor.snapshot.info.name == "fast-b"
    assert "fast-b" in monitor.header.value


def test_the_clock_note_is_of_the_latest_reading_only(endpoint, lookout):
    from lookout_nb.wizard.backend import Services

    services = Services(client=lookout)
    services.time_notes.append("an earlier reading failed")
    assert services.now() == endpoint.clock.now() and services.time_notes == []
