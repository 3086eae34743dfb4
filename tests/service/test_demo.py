"""The demo machine and the input-file generator."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from lookout_nb.contract.naming import Naming
from lookout_nb.service.demo import demo
from lookout_nb.service.learning import training


def test_generated_files_are_named_and_filled_as_the_service_expects(s3, unique_bucket):
    keys = demo.write_input_files(s3, unique_bucket, "in/", None, "2026-01-05T09:00Z", "2026-01-05T09:10Z",
                                  naming=Naming("yyyy-MM-dd-HH-mm-ss", "-", "+01:00"), create_bucket=False)
    assert keys == [
        "in/centrifugal-pump-2026-01-05-10-00-00.csv", "in/motor-2026-01-05-10-00-00.csv",
        "in/centrifugal-pump-2026-01-05-10-05-00.csv", "in/motor-2026-01-05-10-05-00.csv",
    ]
    frame = pd.read_csv(io.BytesIO(s3.get_object(Bucket=unique_bucket, Key=keys[0])["Body"].read()))
    assert list(frame.columns) == ["Timestamp", "Flow", "DischargePressure", "Vibration"]
    assert list(frame["Timestamp"]) == [f"2026-01-05T09:0{i}:00.000000" for i in range(1, 6)]  # UTC rows


def test_generated_values_are_deterministic(s3, unique_bucket):
    span = ("2026-01-05T09:00Z", "2026-01-05T09:05Z")
    a = demo.write_input_files(s3, unique_bucket, "a/", None, *span, create_bucket=False)
    b = demo.write_input_files(s3, unique_bucket, "b/", None, *span, create_bucket=False)

    def body(k):
        return s3.get_object(Bucket=unique_bucket, Key=k)["Body"].read()
    assert [body(k) for k in a] == [body(k) for k in b]


def test_each_mistake_changes_what_is_written(s3, unique_bucket):
    span = ("2026-01-05T09:00Z", "2026-01-05T09:05Z")
    naming = Naming("yyyyMMddHHmmss", "_", "+02:00")
    def write(prefix, mistake):
        return demo.write_input_files(s3, unique_bucket, prefix, None, *span, naming=naming,
                                      mistakes={mistake} if mistake else (), create_bucket=False)

    def body(key):
        return s3.get_object(Bucket=unique_bucket, Key=key)["Body"].read().decode()
    good = write("good/", None)
    assert good == ["good/centrifugal-pump_20260105110000.csv", "good/motor_20260105110000.csv"]
    assert write("d/", "wrong_delimiter") == ["d/centrifugal-pump-20260105110000.csv", "d/motor-20260105110000.csv"]
    assert write("u/", "utc_names") == ["u/centrifugal-pump_20260105090000.csv", "u/motor_20260105090000.csv"]
    assert write("m/", "missing_component") == ["m/centrifugal-pump_20260105110000.csv"]
    assert body(write("c/", "missing_column")[0]).splitlines()[0] == "Timestamp,Flow,DischargePressure"
    assert body(write("s/", "semicolon_csv")[0]).splitlines()[0] == "Timestamp;Flow;DischargePressure;Vibration"
    assert body(write("l/", "local_time_rows")[0]).splitlines()[1].startswith("2026-01-05T11:01:00")
    with pytest.raises(ValueError, match="wrong_delimiter"):
        write("x/", "typo")


def test_components_from_a_describe_model_response(lookout):
    described = lookout.describe_model(ModelName=demo.DEMO_MODEL)
    assert demo.components_of(described) == demo.DEMO_COMPONENTS


def test_seed_is_safe_to_call_again(endpoint, s3):
    before = s3.list_objects_v2(Bucket=demo.DEMO_BUCKET, Prefix=demo.DEMO_INPUT_PREFIX)["KeyCount"]
    demo.seed(endpoint)
    assert s3.list_objects_v2(Bucket=demo.DEMO_BUCKET, Prefix=demo.DEMO_INPUT_PREFIX)["KeyCount"] == before
    assert endpoint.lookout().describe_model(ModelName=demo.DEMO_MODEL)["Status"] == "SUCCESS"


def test_the_demo_model_is_trained_through_the_api_on_its_training_files(lookout, s3):
    d = lookout.describe_model(ModelName=demo.DEMO_MODEL)
    assert (d["Status"], d["DatasetName"], d["ModelQuality"]) == ("SUCCESS", demo.DEMO_DATASET, "QUALITY_THRESHOLD_MET")
    assert d["LabelsInputConfiguration"]["S3InputConfiguration"]["Prefix"] == demo.DEMO_LABELS_PREFIX
    assert lookout.describe_dataset(DatasetName=demo.DEMO_DATASET)["Status"] == "ACTIVE"
    [job] = lookout.list_data_ingestion_jobs(DatasetName=demo.DEMO_DATASET)["DataIngestionJobSummaries"]
    assert job["Status"] == "SUCCESS"
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=demo.DEMO_BUCKET, Prefix=demo.DEMO_TRAINING_PREFIX)["Contents"]}
    assert keys == {f"training/{c}/{c}.csv" for c in demo.DEMO_COMPONENTS}
    metrics = json.loads(d["ModelMetrics"])
    assert [r["start"][11:16] for r in metrics["labeled_ranges"]] == ["10:30", "15:10"]  # the evaluation day's episodes
    assert metrics["labeled_event_metrics"]["num_identified"] == 2
    assert metrics["unknown_event_metrics"]["num_identified"] == 0
    for r in metrics["predicted_ranges"]:
        top = max(r["diagnostics"], key=lambda x: x["value"])
        assert top["name"].startswith("centrifugal-pump\\")
        assert sum(x["value"] for x in r["diagnostics"]) == pytest.approx(1, abs=1e-3)


def test_the_trained_demo_model_flags_the_pump_episodes_of_the_input_files(endpoint):
    model = endpoint.backend.model(demo.DEMO_MODEL).trained_model
    times = pd.date_range("2026-01-05T09:00Z", "2026-01-05T16:00Z", freq="1min", inclusive="right")
    frame = pd.concat([demo.sensor_frame(c, s, times).add_prefix(f"{c}\\") for c, s in demo.DEMO_COMPONENTS.items()],
                      axis=1)
    rows = training.score(model, frame.iloc[60:], history=frame.iloc[:60])
    flags = pd.Series([r["prediction"] for r in rows], index=times[60:])
    anomalous = flags[flags == 1].index
    # each episode is found within its first three minutes and ends within the detector's 10-row window after it
    assert anomalous[(anomalous.hour == 10)].min() == pd.Timestamp("2026-01-05T10:33Z")
    assert anomalous[(anomalous.hour == 10)].max() <= pd.Timestamp("2026-01-05T10:55Z")
    assert anomalous[(anomalous.hour == 15)].min() <= pd.Timestamp("2026-01-05T15:13Z")
    assert set(anomalous.hour) == {10, 15}


def test_any_machine_can_be_added_and_scores_its_generated_data_as_normal(endpoint, lookout, s3, unique_bucket):
    endpoint.add_model("fan-model", {"fan": ["Speed", "Temperature"], "belt": ["Tension"]}, "PT5M")
    described = lookout.describe_model(ModelName="fan-model")
    assert described["DataPreProcessingConfiguration"]["TargetSamplingRate"] == "PT5M"
    demo.write_input_files(s3, unique_bucket, "fan/", lookout.describe_model(ModelName="fan-model"),
                           "2026-01-05T08:00Z", "2026-01-05T10:00Z", frequency="PT15M", sampling_rate="PT5M",
                           create_bucket=False)
    kwargs = demo.scheduler_kwargs("fan-15", frequency="PT15M", ModelName="fan-model")
    kwargs["DataInputConfiguration"]["S3InputConfiguration"] = {"Bucket": unique_bucket, "Prefix": "fan/"}
    lookout.create_inference_scheduler(**kwargs, ClientToken="fan")
    endpoint.clock.set("2026-01-05T09:30Z")
    runs = lookout.list_inference_executions(InferenceSchedulerName="fan-15")["InferenceExecutionSummaries"]
    assert [r["Status"] for r in runs] == ["SUCCESS", "SUCCESS"]
    assert lookout.describe_inference_scheduler(InferenceSchedulerName="fan-15")["LatestInferenceResult"] == "NORMAL"
