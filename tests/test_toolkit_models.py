"""Models against the embedded endpoint: from a folder of CSVs to a trained, evaluated model and a scheduler on it;
each bad input named (a window without data, labels ending before they start, a dataset a model uses, ...)."""

from __future__ import annotations

import pandas as pd
import pytest

import lookout_nb as lnb
from lookout_nb.service.demo import synth

ROLE = "arn:aws:iam::123456789012:role/LookoutEquipmentDemo"
START = pd.Timestamp("2025-12-01", tz="UTC")
TRAINING = ("2025-12-01", "2025-12-25")
EVALUATION = ("2025-12-25", "2026-01-05")


@pytest.fixture(scope="module")
def machine():
    """Five weeks of the machine up to the endpoint's clock, with two in-range faults in the evaluation window."""
    return synth.generate(days=35, start=START, seed=7, rate="PT5M",
                          faults=[("frozen", "2025-12-28T09:00Z", "8h"), ("current_rise", "2026-01-02T09:00Z", "8h")])


@pytest.fixture
def dataset(tmp_path, machine, lookout, s3, unique_bucket):
    machine.write_csv(tmp_path / "csvs")
    ds = lnb.create_dataset("pump-data", tmp_path / "csvs", bucket=unique_bucket, client=lookout, s3=s3,
                            progress=False)
    lnb.ingest(ds, role_arn=ROLE, client=lookout, poll=0.1, progress=False)
    return ds


def train(lookout, **changes):
    kwargs = dict(training=TRAINING, evaluation=EVALUATION, sampling_rate="PT5M", off_condition=synth.OFF_CONDITION,
                  role_arn=ROLE, client=lookout, poll=0.1, progress=False)
    return lnb.train(changes.pop("name", "pump-model"), changes.pop("dataset", "pump-data"), **{**kwargs, **changes})


def test_a_model_trained_on_the_folder_finds_its_labelled_fault_and_runs_a_scheduler(dataset, machine, tmp_path,
                                                                                     lookout, s3, endpoint,
                                                                                     unique_bucket):
    model = train(lookout, labels=tmp_path / "csvs" / "labels.csv")
    assert (model.status, model.dataset, model.sampling_rate) == ("SUCCESS", "pump-data", "PT5M")
    assert model.training == tuple(pd.Timestamp(t, tz="UTC") for t in TRAINING)
    assert model.off_condition == synth.OFF_CONDITION and model.labels.startswith("pump-model-labels-")
    assert lnb.list_labels(model.labels, client=lookout)[["start", "end"]].values.tolist() == [
        [lb.start, lb.end] for lb in machine.labels]
    assert model.found == (2, 2) and model.events >= 2
    table = lnb.evaluation_table(model)
    assert table[table.kind == "labelled"]["found"].all()

    listed = lnb.list_models(details=True, client=lookout).set_index("name").loc["pump-model"]
    assert (listed["dataset"], listed["sampling_rate"], listed["events"]) == ("pump-data", "PT5M", model.events)
    assert listed["training_start"] == pd.Timestamp(TRAINING[0], tz="UTC")
    assert lnb.model_info("pump-model", client=lookout) == model
    assert train(lookout, labels=tmp_path / "csvs" / "labels.csv").arn == model.arn  # the same training: one model
    with pytest.raises(lnb.ResourceConflict, match="model 'pump-model' exists already with another configuration"):
        train(lookout, labels=machine.labels[:1])  # other labels: another model, so another name

    # A scheduler on the model scores files named as it expects.
    naming = lnb.Naming("yyyyMMddHHmmss", "_", "+00:00")
    later = synth.generate(days=1, start="2026-01-05T08:00Z", seed=8, rate="PT5M", off_periods=False)
    for end in pd.date_range("2026-01-05T09:00Z", periods=3, freq="1h"):
        for component, frame in later.frames.items():
            rows = frame[(frame.index > end - pd.Timedelta("1h")) & (frame.index <= end)]
            s3.put_object(Bucket=unique_bucket, Key=naming.key(component, end - pd.Timedelta("1h"), "in/"),
                          Body=rows.to_csv(date_format="%Y-%m-%dT%H:%M:%S").encode())
    req = lnb.SchedulerRequest(model_name="pump-model", scheduler_name="pump-1h", upload_frequency="PT1H",
                               input_bucket=unique_bucket, input_prefix="in/", output_bucket=unique_bucket,
                               output_prefix="out/", role_arn=ROLE, timestamp_format="yyyyMMddHHmmss", delimiter="_",
                               timezone_offset="+00:00")
    lnb.submit(req, client=lookout, wait=False)
    endpoint.clock.advance(pd.Timedelta("2h"))
    runs = lnb.executions("pump-1h", client=lookout)
    assert runs["status"].tolist() == ["SUCCESS", "SUCCESS"], runs["failed_reason"].tolist()
    assert len(lnb.results("pump-1h", client=lookout, s3=s3)) == 24


def test_a_window_without_data_is_named_with_the_datasets_span(dataset, lookout):
    with pytest.raises(lnb.InvalidArgument) as caught:
        train(lookout, training=("2024-01-01", "2024-06-01"))
    assert str(caught.value) == ("training: the window 2024-01-01 00:00:00+00:00 to 2024-06-01 00:00:00+00:00 holds "
                                 "no data: dataset pump-data has data from 2025-12-01 00:00:00+00:00 to 2026-01-04 "
                                 "23:55:00+00:00; choose a window inside it")
    with pytest.raises(lnb.InvalidArgument, match=r"evaluation: the window .* must end after it starts"):
        train(lookout, evaluation=("2026-01-05", "2025-12-25"))


def test_too_little_training_data_is_a_failed_model_whose_reason_says_what_to_do(dataset, lookout):
    with pytest.raises(lnb.JobFailed) as caught:
        train(lookout, name="short", training=("2025-12-01", "2025-12-02"))
    assert caught.value.result.status == "FAILED"
    assert "Too little data to train" in str(caught.value) and "widen the training window" in str(caught.value)
    assert lnb.list_models(status="FAILED", client=lookout)["name"].tolist() == ["short"]


def test_a_label_that_ends_before_it_starts_is_named_by_file_and_row(dataset, lookout, tmp_path):
    bad = tmp_path / "labels.csv"
    bad.write_text("2025-12-28T09:00:00,2025-12-28T17:00:00\n2026-01-02T17:00:00,2026-01-02T09:00:00\n")
    with pytest.raises(lnb.InvalidArgument) as caught:
        train(lookout, labels=bad)
    assert str(caught.value).startswith(f"label file {bad} row 2: the end 2026-01-02 09:00:00+00:00 is not after "
                                        "the start 2026-01-02 17:00:00+00:00; swap them")
    with pytest.raises(lnb.InvalidArgument, match=r"labels\[1\]: the start 'yesterday' is not a time"):
        train(lookout, labels=[("2025-12-28T09:00", "2025-12-28T17:00"), ("yesterday", "2026-01-02")])
    assert lnb.list_models(client=lookout)["name"].tolist() == ["pump-demo"]  # nothing was created


def test_arguments_the_service_would_refuse_are_named_before_the_call(dataset, lookout):
    with pytest.raises(lnb.InvalidArgument, match=r"sampling_rate: 'PT2M' is not a TargetSamplingRate; use one of"):
        train(lookout, sampling_rate="PT2M")
    with pytest.raises(lnb.InvalidArgument, match=r"off_condition: .* names 'pump\\\\Speed', not a sensor of "):
        train(lookout, off_condition="pump\\Speed < 100")
    with pytest.raises(lnb.InvalidArgument, match=r"schema: component motor of dataset pump-data has no sensor Torque"):
        train(lookout, schema={"motor": ["Current", "Torque"]})
    with pytest.raises(lnb.InvalidArgument, match=r"dataset: there is no dataset 'nope'; create it"):
        train(lookout, dataset="nope")


def test_a_dataset_without_data_cannot_train(lookout):
    lnb.create_dataset("empty", schema={"pump": ["Flow"]}, client=lookout)
    with pytest.raises(lnb.InvalidArgument, match=r"dataset: 'empty' has no ingested data yet \(status CREATED\); "
                                                  r"ingest its files first"):
        train(lookout, dataset="empty")


def test_a_dataset_a_model_uses_cannot_be_deleted_until_the_model_is(dataset, lookout):
    train(lookout)
    with pytest.raises(lnb.ResourceConflict) as caught:
        lnb.delete_dataset("pump-data", client=lookout)
    message = str(caught.value)
    assert "dataset 'pump-data' cannot be deleted now" in message and "pump-model" in message
    assert "delete the models trained on it first (delete_model)" in message
    lnb.delete_model("pump-model", client=lookout)
    assert "pump-model" not in lnb.list_models(client=lookout)["name"].tolist()
    lnb.delete_dataset("pump-data", client=lookout)
    assert "pump-data" not in lnb.list_datasets(client=lookout)["name"].tolist()


def test_a_sampling_rate_finer_than_the_data_is_named_with_the_rate_to_use(dataset, lookout, s3):
    with pytest.raises(lnb.InvalidArgument, match=r"sampling_rate: PT1M is finer than the data of dataset pump-data: "
                       r"its rows come every 5 min \(s3://.*\.csv\).*use PT5M or coarser"):
        train(lookout, sampling_rate="PT1M", s3=s3)


def test_labels_outside_the_data_are_named_with_the_datasets_span(dataset, lookout, s3):
    with pytest.raises(lnb.InvalidArgument, match=r"labels: 1 of 2 labels lie outside the data of dataset pump-data "
                       r"\(2025-12-01 .*\): 2024-01-01 00:00:00\+00:00 to 2024-01-02.*correct their dates"):
        train(lookout, labels=[("2024-01-01", "2024-01-02"), ("2025-12-28T09:00", "2025-12-28T17:00")], s3=s3)


def test_a_label_file_with_a_header_row_is_read_without_it(tmp_path):
    from lookout_nb.contract.labelrows import parse_label_rows

    path = tmp_path / "labels.csv"
    path.write_text("start,end\n2025-12-28T09:00:00,2025-12-28T17:00:00\n")
    assert lnb.read_labels(path) == [(pd.Timestamp("2025-12-28T09:00Z"), pd.Timestamp("2025-12-28T17:00Z"))]
    with pytest.raises(lnb.InvalidArgument, match=r"labels\.csv row 1 is a header .*no header row; remove that first"):
        parse_label_rows(path.read_text(), "labels.csv")  # as the service reads label files on S3


def test_the_data_spacing_is_read_from_a_components_file_not_a_label_file_beside_it():
    import io
    import json

    from lookout_nb.calls._datasample import data_spacing

    bodies = {"p/a-labels.csv": b"2025-12-01T00:00:00,2025-12-02T00:00:00\n2025-12-05T00:00:00,2025-12-06T00:00:00\n",
              "p/pump/pump.csv": b"Timestamp,Speed\n" + b"".join(
                  f"2025-12-01T00:{m:02d}:00,1\n".encode() for m in range(0, 30, 5))}

    class FakeS3:
        def list_objects_v2(self, Bucket, Prefix, MaxKeys):
            return {"Contents": [{"Key": k, "Size": len(b)} for k, b in sorted(bodies.items())]}

        def get_object(self, Bucket, Key, Range):
            return {"Body": io.BytesIO(bodies[Key])}

    schema = {"Components": [{"ComponentName": "pump", "Columns": [{"Name": "Timestamp", "Type": "DATETIME"},
                                                                    {"Name": "Speed", "Type": "DOUBLE"}]}]}
    dataset = {"Schema": json.dumps(schema),
               "IngestionInputConfiguration": {"S3InputConfiguration": {"Bucket": "b", "Prefix": "p/"}}}
    assert data_spacing(dataset, FakeS3()) == (pd.Timedelta("5min"), "s3://b/p/pump/pump.csv")
