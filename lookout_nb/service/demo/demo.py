"""The demo machine: a trained model of a synthetic pump, its input files, and a feeder that keeps them coming.

- :data:`DEMO_MODEL` (``pump-demo``) has two components, ``centrifugal-pump`` and ``motor``, three sensors each,
  TargetSamplingRate PT1M, trained on :data:`DEMO_TRAINING_SPAN` of generated data by :func:`train_demo`.
- :func:`write_input_files` writes correctly named input files for any time range into any bucket (one file per
  component per slot, rows in UTC inside ``(slot start, slot end]``), or with deliberate mistakes on request.
- :func:`seed` creates :data:`DEMO_BUCKET`, trains the model in an endpoint, and writes a few hours of history
  under :data:`DEMO_INPUT_PREFIX`; :class:`Feeder` then writes each new 5-minute file as the clock passes its
  end, so a scheduler created with :func:`scheduler_kwargs` always finds data.

Sensor values are a deterministic function of the timestamp (daily and shorter cycles plus hashed noise), so the
same range always gives the same bytes. The pump misbehaves every day from 10:30 to 10:45 and from 15:10 to
15:20 UTC (:data:`DAILY_ANOMALIES`). The demo model (:func:`train_demo`) is trained at start through the API on
four days of such data with those episodes labelled, and flags them (from their third minute until its 10-minute
average has passed).

>>> kwargs = scheduler_kwargs("demo-5min")
>>> kwargs["DataInputConfiguration"]["S3InputConfiguration"]
{'Bucket': 'lookout-demo', 'Prefix': 'inference/input/'}
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import threading
import time
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ...contract import servicetime
from ...contract.naming import Naming, expected_keys, to_utc
from ...contract.request import parse_duration
from ...contract.s3keys import s3_uri
from ...contract.schema import ModelSchema
from ..api.records import ACCOUNT, Model
from ..clock import MANUAL_START
from ..learning.training import min_training_rows
from ..storage.s3util import ensure_bucket, list_keys

DEMO_MODEL = "pump-demo"
DEMO_BUCKET = "lookout-demo"
DEMO_INPUT_PREFIX = "inference/input/"
DEMO_OUTPUT_PREFIX = "inference/output/"
DEMO_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/LookoutEquipmentDemo"
DEMO_COMPONENTS = {
    "centrifugal-pump": ["Flow", "DischargePressure", "Vibration"],
    "motor": ["Current", "Temperature", "Vibration"],
}
DEMO_SAMPLING_RATE = "PT1M"
DEMO_FREQUENCY = "PT5M"
#: How the demo input files are named: ``centrifugal-pump_20260105090000.csv`` (UTC, so local time = UTC).
DEMO_NAMING = Naming("yyyyMMddHHmmss", "_", "+00:00")
#: Daily UTC periods in which the first component misbehaves.
DAILY_ANOMALIES = ((dt.time(10, 30), dt.time(10, 45)), (dt.time(15, 10), dt.time(15, 20)))
#: How much history :func:`seed` writes before the clock's current time.
DEFAULT_HISTORY = pd.Timedelta(hours=2)
#: The demo model's training data (every day with its anomalies, labelled), one CSV per component under
#: :data:`DEMO_TRAINING_PREFIX`; the last day is the evaluation window.
DEMO_TRAINING_SPAN = (pd.Timestamp("2026-01-01T00:00Z"), pd.Timestamp("2026-01-05T00:00Z"))
DEMO_TRAINING_PREFIX = "training/"
DEMO_LABELS_PREFIX = "labels/"
DEMO_DATASET = "demo-pump-dataset"
#: Days of generated data a model of :func:`add_trained_model` trains on (at least).
GENERATED_DAYS = pd.Timedelta(days=7)


def describe() -> str:
    """The demo model, bucket and prefixes in one line, for the banners of ``lookout-nb demo`` and ``serve --demo``.

    >>> describe()
    'model pump-demo; input files in s3://lookout-demo/inference/input/, results in s3://lookout-demo/inference/output/'
    """
    return (f"model {DEMO_MODEL}; input files in {s3_uri(DEMO_BUCKET, DEMO_INPUT_PREFIX)}, "
            f"results in {s3_uri(DEMO_BUCKET, DEMO_OUTPUT_PREFIX)}")


#: The mistakes :func:`write_input_files` can make on request, and what each one does.
MISTAKES = {
    "wrong_delimiter": "file names use another component/timestamp delimiter than the naming's",
    "utc_names": "file names carry UTC instead of local time (only visible with a non-zero offset)",
    "local_time_rows": "row timestamps are written in local time instead of UTC (visible with a non-zero offset)",
    "missing_component": "the last component of the model gets no files",
    "missing_column": "the last sensor column of the first component is left out",
    "semicolon_csv": "the CSV columns are separated by ';' instead of ','",
}

# Per sensor: level, daily amplitude, short-cycle amplitude, noise, and the deviation during anomalies.
_PROFILE = {
    "Flow": (120.0, 15.0, 4.0, 1.5, -60.0),
    "DischargePressure": (6.5, 0.6, 0.15, 0.05, 3.0),
    "Vibration": (2.0, 0.3, 0.1, 0.05, 2.5),
    "Current": (42.0, 5.0, 1.0, 0.4, 0.0),
    "Temperature": (65.0, 6.0, 0.5, 0.3, 0.0),
}


def generated_frames(components, times, anomalies=()) -> dict:
    """``{component: frame}`` of generated values at UTC ``times`` (index named ``Timestamp``, as ingested data)."""
    frames = {c: sensor_frame(c, list(s), times, anomalies=anomalies) for c, s in components_of(components).items()}
    for frame in frames.values():
        frame.index.name = "Timestamp"
    return frames


def add_trained_model(endpoint, name: str, components, sampling_rate: str = DEMO_SAMPLING_RATE,
                      region: str = "us-east-1") -> Model:
    """Train model ``name`` of any machine on generated normal data, through the endpoint's own training path:
    dataset ``<name>-dataset`` gets :data:`GENERATED_DAYS` (more for coarse rates) of :func:`sensor_frame` values
    at ``sampling_rate`` ending on the manual clock's first day, then CreateModel trains on it (a model of that
    name is replaced). :func:`write_input_files` data then scores as normal outside its anomalies.

    >>> add_trained_model(endpoint, "fan-model", {"fan": ["Speed", "Temp"]}, "PT5M").sensors  # doctest: +SKIP
    ['fan\\\\Speed', 'fan\\\\Temp']
    """
    from ..api.datasets import IngestedData

    components = components_of(components)
    step = parse_duration(sampling_rate)
    rows = max(int(GENERATED_DAYS / step), 2 * min_training_rows(sum(len(s) for s in components.values())))
    end = MANUAL_START.floor("D")
    frames = generated_frames(components, pd.date_range(end - rows * step, end, freq=step, inclusive="left"))
    backend, dataset = endpoint.backend, f"{name}-dataset"
    if backend.models.find(name) is not None:
        backend.delete_model(region, {"ModelName": name})
    backend.datasets.put_dataset_data(region, dataset, IngestedData(ModelSchema.parse(components), frames))
    backend.create_model(region, {"ModelName": name, "DatasetName": dataset, "ClientToken": f"generated-{name}",
                                  "RoleArn": DEMO_ROLE_ARN,
                                  "DataPreProcessingConfiguration": {"TargetSamplingRate": sampling_rate}})
    model = backend.models.wait_model(name)
    if model.status != "SUCCESS":
        raise RuntimeError(f"model {name} could not be trained on generated data: {model.failed_reason}")
    return model


def scheduler_kwargs(name: str = "pump-demo-scheduler", frequency: str = DEMO_FREQUENCY, delay: int = 0, **changes):
    """create_inference_scheduler kwargs that read the demo input and write to the demo output prefix."""
    kwargs = {
        "ModelName": DEMO_MODEL,
        "InferenceSchedulerName": name,
        "DataUploadFrequency": frequency,
        "DataDelayOffsetInMinutes": delay,
        "DataInputConfiguration": {
            "S3InputConfiguration": {"Bucket": DEMO_BUCKET, "Prefix": DEMO_INPUT_PREFIX},
            "InputTimeZoneOffset": DEMO_NAMING.timezone_offset,
            "InferenceInputNameConfiguration": {
                "TimestampFormat": DEMO_NAMING.timestamp_format,
                "ComponentTimestampDelimiter": DEMO_NAMING.delimiter,
            },
        },
        "DataOutputConfiguration": {"S3OutputConfiguration": {"Bucket": DEMO_BUCKET, "Prefix": DEMO_OUTPUT_PREFIX}},
        "RoleArn": DEMO_ROLE_ARN,
    }
    kwargs.update(changes)
    return kwargs


# -- values ----------------------------------------------------------------------------------------------------
def _noise(seconds: np.ndarray, salt: int) -> np.ndarray:
    """Deterministic noise in [-1, 1) from the timestamp and a salt (splitmix64 of the two)."""
    x = seconds.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(salt)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53) * 2.0 - 1.0


def _in_anomaly(times: pd.DatetimeIndex, anomalies) -> np.ndarray:
    flags = np.zeros(len(times), dtype=bool)
    minutes = times.hour * 60 + times.minute
    for start, end in anomalies:
        if isinstance(start, dt.time):
            lo, hi = start.hour * 60 + start.minute, end.hour * 60 + end.minute
            flags |= np.asarray((minutes > lo) & (minutes <= hi))
        else:
            flags |= np.asarray((times > pd.Timestamp(start)) & (times <= pd.Timestamp(end)))
    return flags


def sensor_frame(component: str, sensors, times, anomalies=DAILY_ANOMALIES) -> pd.DataFrame:
    """Values of ``component``'s sensors at UTC ``times`` (same inputs, same values).

    Only the first demo component (``centrifugal-pump``) reacts to ``anomalies``.
    """
    times = pd.DatetimeIndex(pd.to_datetime(times, utc=True))
    seconds = ((times - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).to_numpy(dtype=np.int64)
    anomalous = _in_anomaly(times, anomalies) if component == next(iter(DEMO_COMPONENTS)) else None
    columns = {}
    for k, sensor in enumerate(sensors):
        level, daily, short, noise, jump = _PROFILE.get(sensor, (50.0, 5.0, 1.0, 0.5, 0.0))
        salt = sum(ord(ch) for ch in f"{component}/{sensor}") * 7919 + k
        phase = (salt % 628) / 100.0
        values = (
            level
            + daily * np.sin(2 * np.pi * seconds / 86400.0 + phase)
            + short * np.sin(2 * np.pi * seconds / 2220.0 + phase)
            + noise * _noise(seconds, salt)
        )
        if anomalous is not None and jump:
            values = values + np.where(anomalous, jump, 0.0)
        columns[sensor] = np.round(values, 4)
    return pd.DataFrame(columns, index=times)


# -- input files -----------------------------------------------------------------------------------------------
def components_of(model_or_components) -> dict[str, list[str]]:
    """``{component: [sensors]}`` from a :class:`Model`, or anything
    :meth:`lookout_nb.contract.schema.ModelSchema.parse`
    reads (a DescribeModel response, its Schema JSON, or ``{component: [sensors]}``)."""
    if isinstance(model_or_components, Model):
        return model_or_components.components
    return {c: list(s) for c, s in ModelSchema.parse(model_or_components).sensors.items()}


def write_input_files(
    s3,
    bucket: str,
    prefix: str,
    model_or_components=None,
    start=None,
    end=None,
    *,
    naming: Naming = DEMO_NAMING,
    frequency: str = DEMO_FREQUENCY,
    sampling_rate: str = DEMO_SAMPLING_RATE,
    mistakes: Iterable[str] = (),
    anomalies=DAILY_ANOMALIES,
    create_bucket: bool = True,
) -> list[str]:
    """Write one input file per component per ``frequency`` slot starting in ``[start, end)``; returns the keys.

    Each file is named for its slot's start (``naming.key``, local time) and holds the rows of
    ``(slot start, slot end]`` every ``sampling_rate``, timestamps in UTC, header ``Timestamp,<sensors>``.
    ``mistakes`` (see :data:`MISTAKES`) breaks the files on purpose for tests and troubleshooting demos.

    >>> write_input_files(s3, "my-bucket", "in/", DEMO_COMPONENTS, "2026-01-05T09:00Z", "2026-01-05T09:10Z")
    ... # doctest: +SKIP
    ['in/centrifugal-pump_20260105090000.csv', 'in/centrifugal-pump_20260105090500.csv', 'in/motor_...', ...]
    """
    mistakes = set([mistakes] if isinstance(mistakes, str) else mistakes)
    unknown = mistakes - set(MISTAKES)
    if unknown:
        raise ValueError(f"unknown mistakes {sorted(unknown)}; choose from {', '.join(MISTAKES)}")
    components = components_of(DEMO_COMPONENTS if model_or_components is None else model_or_components)
    freq, rate = parse_duration(frequency), parse_duration(sampling_rate)
    start = to_utc(start, "start").ceil(freq)
    end = to_utc(end, "end")
    if create_bucket:
        ensure_bucket(s3, bucket)
    name_naming = naming
    if "wrong_delimiter" in mistakes:
        name_naming = Naming(naming.timestamp_format, "-" if naming.delimiter != "-" else "_", naming.timezone_offset)
    if "utc_names" in mistakes:
        name_naming = Naming(name_naming.timestamp_format, name_naming.delimiter, "+00:00")
    names = list(components)
    if "missing_component" in mistakes and names:
        names = names[:-1]
    keys = []
    for slot in pd.date_range(start, end, freq=freq, inclusive="left"):
        times = pd.date_range(slot, slot + freq, freq=rate, inclusive="right")
        for i, component in enumerate(names):
            sensors = list(components[component])
            if "missing_column" in mistakes and i == 0 and len(sensors) > 1:
                sensors = sensors[:-1]
            frame = sensor_frame(component, sensors, times, anomalies=anomalies)
            shown = times + naming.offset if "local_time_rows" in mistakes else times
            key = name_naming.key(component, slot, prefix)
            separator = ";" if "semicolon_csv" in mistakes else ","
            s3.put_object(Bucket=bucket, Key=key, Body=to_csv(frame, shown, separator))
            keys.append(key)
    return keys


def to_csv(frame: pd.DataFrame, times, sep: str = ",") -> bytes:
    """The CSV text of an input file: ``Timestamp`` (ISO, no zone) then the sensor columns."""
    stamps = pd.DatetimeIndex(times).tz_convert("UTC").tz_localize(None).strftime("%Y-%m-%dT%H:%M:%S.%f")
    lines = [sep.join(["Timestamp", *frame.columns])]
    values = frame.to_numpy()
    lines += [sep.join([stamp, *(f"{v:.4f}" for v in row)]) for stamp, row in zip(stamps, values)]
    return ("\n".join(lines) + "\n").encode()


# -- seeding and feeding ---------------------------------------------------------------------------------------
#: The feeder writes at most this many slots per move of the clock (the latest ones before where the move ends:
#: a day of 5-minute files, as many as the runs one move makes per scheduler, see ``backend.CATCH_UP``);
#: earlier slots of a jump get no file.
FEED_WINDOW = 288


class Feeder:
    """Writes each demo input file once the clock has passed its slot's end (driven by the endpoint's clock);
    at most :data:`FEED_WINDOW` slots per move.

    With ``writes`` (a :class:`~..storage.s3clock.StampedWrites` of ``s3``) each file is stamped with its
    slot's end as LastModified, as a machine that uploads on time would: a run that wakes at the slot's end (or
    later) finds it, however late the clock's thread got to write it.
    """

    def __init__(self, s3, since, bucket=DEMO_BUCKET, prefix=DEMO_INPUT_PREFIX, frequency=DEMO_FREQUENCY, writes=None):
        self.s3, self.bucket, self.prefix = s3, bucket, prefix
        self.frequency = frequency
        self.written_until = to_utc(since, "since").floor(parse_duration(frequency))
        self._writes = writes
        self._lock = threading.Lock()

    def catch_up(self, until) -> None:
        """Before the clock moves to ``until``: leave out the slots older than the window before it."""
        freq = parse_duration(self.frequency)
        with self._lock:
            self.written_until = max(self.written_until, to_utc(until, "until").floor(freq) - FEED_WINDOW * freq)

    def fire(self, now) -> list[str]:
        """Write the files of every slot that has ended by ``now`` and was not written yet."""
        freq = parse_duration(self.frequency)
        keys: list[str] = []
        with self._lock:
            complete = to_utc(now, "now").floor(freq)  # slots ending at or before now start before this
            for slot in pd.date_range(self.written_until, complete, freq=freq, inclusive="left"):
                with self._writes.as_of(slot + freq) if self._writes is not None else contextlib.nullcontext():
                    keys += write_input_files(
                        self.s3, self.bucket, self.prefix, DEMO_COMPONENTS, slot, slot + freq,
                        frequency=self.frequency, create_bucket=False,
                    )
                self.written_until = slot + freq
            return keys


def seed(target, history=DEFAULT_HISTORY, now=None, fresh: bool = False, writes=None) -> Feeder | None:
    """Put the demo model into an endpoint and write ``history`` of input files before its current time.

    ``target`` is an :class:`~lookout_nb.service.Endpoint` (model, bucket, files, and a :class:`Feeder` returned
    for it to drive) or an S3 client (bucket and files only: a remote endpoint has no API to add a model).
    Safe to call again: the model is replaced by the same one, existing files are kept. ``fresh=True`` first
    empties :data:`DEMO_BUCKET`, so the bucket shows exactly the history up to the clock's time (moto's S3 is
    shared by every endpoint of a process; a new endpoint starts the demo afresh unless it has a state_dir).
    ``writes`` stamps every file with its slot's end (see :class:`Feeder`).
    """
    endpoint = target if hasattr(target, "backend") else None
    s3 = endpoint.s3() if endpoint is not None else target
    if endpoint is not None:
        now = endpoint.clock.now()
    now = to_utc(now if now is not None else servicetime.now(s3), "now")  # a remote endpoint: its own clock
    freq = parse_duration(DEMO_FREQUENCY)
    end = now.floor(freq)
    ensure_bucket(s3, DEMO_BUCKET)
    existing = list_keys(s3, DEMO_BUCKET, "" if fresh else DEMO_INPUT_PREFIX)
    wanted = pd.date_range(end - pd.Timedelta(history), end, freq=freq, inclusive="left")
    history_keys = set(expected_keys(DEMO_NAMING, DEMO_COMPONENTS, wanted, DEMO_INPUT_PREFIX)["key"])
    history_keys |= set(training_files())
    if fresh:  # keep the history files (same bytes every time), remove everything else
        extra = sorted(existing - history_keys)
        for i in range(0, len(extra), 1000):
            s3.delete_objects(Bucket=DEMO_BUCKET,
                              Delete={"Objects": [{"Key": k} for k in extra[i : i + 1000]], "Quiet": True})
        existing &= history_keys
    missing = [
        slot
        for slot in wanted
        if any(DEMO_NAMING.key(c, slot, DEMO_INPUT_PREFIX) not in existing for c in DEMO_COMPONENTS)
    ]
    for slot in missing:
        with writes.as_of(slot + freq) if writes is not None else contextlib.nullcontext():
            write_input_files(s3, DEMO_BUCKET, DEMO_INPUT_PREFIX, DEMO_COMPONENTS, slot, slot + freq,
                              create_bucket=False)
    present = existing if fresh else (list_keys(s3, DEMO_BUCKET, DEMO_TRAINING_PREFIX)
                                      | list_keys(s3, DEMO_BUCKET, DEMO_LABELS_PREFIX))
    for key, body in training_files().items():
        if key not in present:
            s3.put_object(Bucket=DEMO_BUCKET, Key=key, Body=body)
    if endpoint is not None:
        train_demo(endpoint)
    return Feeder(s3, end, writes=writes)


@functools.lru_cache(maxsize=1)
def training_files() -> dict[str, bytes]:
    """The demo's training CSVs (``training/<component>/<component>.csv``, :data:`DEMO_TRAINING_SPAN` every
    minute, anomalies included) and its label file (``labels/labels.csv``: every daily anomaly, ``start,end``)."""
    start, end = DEMO_TRAINING_SPAN
    times = pd.date_range(start, end, freq=DEMO_SAMPLING_RATE.replace("PT", "").replace("M", "min"), inclusive="right")
    files = {f"{DEMO_TRAINING_PREFIX}{c}/{c}.csv": to_csv(frame, times)
             for c, frame in generated_frames(DEMO_COMPONENTS, times, DAILY_ANOMALIES).items()}
    days = pd.date_range(start.floor("D"), end, freq="D", inclusive="left")
    stamp = "%Y-%m-%dT%H:%M:%S.%f"
    rows = [f"{(d + _since_midnight(a)).strftime(stamp)},{(d + _since_midnight(b)).strftime(stamp)}"
            for d in days for a, b in DAILY_ANOMALIES]
    files[f"{DEMO_LABELS_PREFIX}labels.csv"] = ("\n".join(rows) + "\n").encode()
    return files


def _since_midnight(t: dt.time) -> pd.Timedelta:
    return pd.Timedelta(hours=t.hour, minutes=t.minute)


def train_demo(endpoint, timeout: float = 120.0) -> Model:
    """Train :data:`DEMO_MODEL` through the endpoint's API as a user would: dataset :data:`DEMO_DATASET`, an
    ingestion of the training CSVs, CreateModel with the label file and the last day as evaluation window. A
    model already trained (a restart with a state_dir) is kept; RuntimeError naming the step that failed."""
    backend, lookout = endpoint.backend, endpoint.lookout()
    kept = backend.models.find(DEMO_MODEL)
    if kept is not None and kept.status == "SUCCESS":
        return kept
    if (kept is not None and kept.status != "IN_PROGRESS") or DEMO_MODEL in backend.models.broken_models:
        lookout.delete_model(ModelName=DEMO_MODEL)  # FAILED, or saved by an earlier release: train it again
    if DEMO_DATASET not in backend.datasets.datasets.get("us-east-1", {}):
        schema = ModelSchema.parse(DEMO_COMPONENTS).to_json()
        lookout.create_dataset(DatasetName=DEMO_DATASET, DatasetSchema={"InlineDataSchema": schema},
                               ClientToken=DEMO_DATASET)
    if lookout.describe_dataset(DatasetName=DEMO_DATASET)["Status"] != "ACTIVE":
        job = lookout.start_data_ingestion_job(
            DatasetName=DEMO_DATASET, RoleArn=DEMO_ROLE_ARN, ClientToken=f"{DEMO_DATASET}-training",
            IngestionInputConfiguration={
                "S3InputConfiguration": {"Bucket": DEMO_BUCKET, "Prefix": DEMO_TRAINING_PREFIX}})
        described = _wait(lambda: lookout.describe_data_ingestion_job(JobId=job["JobId"]), timeout)
        if described["Status"] != "SUCCESS":
            raise RuntimeError(f"the demo's training data could not be ingested: {described.get('FailedReason')}")
    if backend.models.find(DEMO_MODEL) is None:
        evaluation = DEMO_TRAINING_SPAN[1] - pd.Timedelta(days=1)
        lookout.create_model(
            ModelName=DEMO_MODEL, DatasetName=DEMO_DATASET, ClientToken=DEMO_MODEL, RoleArn=DEMO_ROLE_ARN,
            DataPreProcessingConfiguration={"TargetSamplingRate": DEMO_SAMPLING_RATE},
            LabelsInputConfiguration={"S3InputConfiguration": {"Bucket": DEMO_BUCKET, "Prefix": DEMO_LABELS_PREFIX}},
            TrainingDataStartTime=DEMO_TRAINING_SPAN[0].to_pydatetime(), TrainingDataEndTime=evaluation.to_pydatetime(),
            EvaluationDataStartTime=evaluation.to_pydatetime(),
            EvaluationDataEndTime=(DEMO_TRAINING_SPAN[1] + pd.Timedelta(minutes=1)).to_pydatetime())
    model = backend.models.wait_model(DEMO_MODEL, timeout)
    if model.status != "SUCCESS":
        raise RuntimeError(f"the demo model could not be trained: {model.failed_reason}")
    return model


def _wait(describe, timeout: float) -> dict:
    """Poll ``describe()`` while its Status is IN_PROGRESS (at most ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        described = describe()
        if described["Status"] != "IN_PROGRESS" or time.monotonic() > deadline:
            return described
        time.sleep(0.01)


__all__ = [
    "DAILY_ANOMALIES", "DEFAULT_HISTORY", "DEMO_BUCKET", "DEMO_COMPONENTS", "DEMO_DATASET", "DEMO_FREQUENCY",
    "DEMO_INPUT_PREFIX", "DEMO_LABELS_PREFIX", "DEMO_MODEL", "DEMO_NAMING", "DEMO_OUTPUT_PREFIX", "DEMO_ROLE_ARN",
    "DEMO_SAMPLING_RATE", "DEMO_TRAINING_PREFIX", "DEMO_TRAINING_SPAN", "GENERATED_DAYS", "MISTAKES", "Feeder",
    "add_trained_model", "components_of", "describe", "generated_frames", "scheduler_kwargs", "seed",
    "sensor_frame", "to_csv", "train_demo", "training_files", "write_input_files",
]
