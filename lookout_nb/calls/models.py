"""Models: train one on an ingested dataset and wait for it, describe, list (with their evaluation), delete.

Every function takes ``client=`` (a ``lookoutequipment`` client) or ``session=``; otherwise boto3's defaults apply.

>>> import lookout_nb as lnb
>>> model = lnb.train("pump-model", "pump-data", training=("2025-11-20", "2025-12-20"),     # doctest: +SKIP
...                   evaluation=("2025-12-20", "2026-01-05"), labels="labels.csv",
...                   sampling_rate="PT5M", off_condition="hx-pump\\\\Speed < 100", role_arn=role)
>>> model.status, model.events                                                             # doctest: +SKIP
('SUCCESS', 2)

:func:`train` checks what it can before the call (the dataset has data, each window holds some of it, the
sampling rate is one the API offers, the OffCondition names a sensor of the schema, labels end after they start)
and names the argument, file or row at fault; what only training can find ends in a FAILED model whose reason
:class:`~lookout_nb.errors.JobFailed` carries.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pandas as pd

from ..contract import servicemodel
from ..contract._aws import lookout_client, s3_client
from ..contract.request import parse_duration
from ..contract.schema import ModelSchema
from ..errors import InvalidArgument, JobFailed, ResourceConflict, ResourceNotFound, ServiceError
from . import _tables
from ._datasample import data_spacing
from ._service import call, pages, utc, wire_time
from ._wait import wait_while

__all__ = ["ModelInfo", "delete_model", "describe_model", "list_models", "model_info", "train"]

DETAIL_COLUMNS = {"sampling_rate": _tables.TEXT, "training_start": _tables.TIME, "training_end": _tables.TIME,
                  "evaluation_start": _tables.TIME, "evaluation_end": _tables.TIME, "events": "Int64",
                  "labelled": "Int64", "found": "Int64"}
_CONDITION = re.compile(r"^\s*(?P<sensor>[^<>=]+?)\s*(<=|>=|==|<|>)\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")


@dataclass(frozen=True)
class ModelInfo:
    """A model as DescribeModel shows it: dataset, sampling rate, windows, labels, status and evaluation."""

    name: str
    status: str
    dataset: str | None = None
    sampling_rate: str | None = None
    training: tuple = (None, None)
    evaluation: tuple = (None, None)
    off_condition: str | None = None
    labels: str | None = None
    failed_reason: str | None = None
    quality: str | None = None
    schema: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict, repr=False)
    arn: str | None = None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_describe(cls, raw: dict | ModelInfo) -> ModelInfo:
        """A ModelInfo from DescribeModel's answer (a ModelInfo is returned as it is)."""
        if isinstance(raw, ModelInfo):
            return raw
        try:
            schema = {c: list(s) for c, s in ModelSchema.parse(raw).sensors.items()} if raw.get("Schema") else {}
        except ValueError:
            schema = {}
        try:
            metrics = json.loads(raw["ModelMetrics"]) if isinstance(raw.get("ModelMetrics"), str) else {}
        except json.JSONDecodeError:
            metrics = {}
        labels = raw.get("LabelsInputConfiguration") or {}
        s3 = labels.get("S3InputConfiguration") or {}
        where = labels.get("LabelGroupName") or (f"s3://{s3.get('Bucket')}/{s3.get('Prefix') or ''}" if s3 else None)
        return cls(raw.get("ModelName") or "", raw.get("Status", ""), raw.get("DatasetName"),
                   (raw.get("DataPreProcessingConfiguration") or {}).get("TargetSamplingRate"),
                   (utc(raw.get("TrainingDataStartTime")), utc(raw.get("TrainingDataEndTime"))),
                   (utc(raw.get("EvaluationDataStartTime")), utc(raw.get("EvaluationDataEndTime"))),
                   raw.get("OffCondition"), where, raw.get("FailedReason"), raw.get("ModelQuality"), schema,
                   metrics if isinstance(metrics, dict) else {}, raw.get("ModelArn"),
                   {k: v for k, v in raw.items() if k != "ResponseMetadata"})

    def __getitem__(self, member: str):
        """A member of DescribeModel's answer, as when :func:`describe_model` returned that dict: ``info["Status"]``."""
        return self.raw[member]

    def get(self, member: str, default=None):
        """A member of DescribeModel's answer, or ``default``."""
        return self.raw.get(member, default)

    @property
    def events(self) -> int | None:
        """How many anomalous ranges the evaluation predicted (None before the model is evaluated)."""
        ranges = self.metrics.get("predicted_ranges")
        return None if ranges is None else len(ranges)

    @property
    def found(self) -> tuple[int, int] | None:
        """``(labelled ranges found, labelled ranges)`` of the evaluation, None without labels' metrics."""
        m = self.metrics.get("labeled_event_metrics")
        return None if not m else (int(m.get("num_identified", 0)), int(m.get("num_labeled", 0)))

    def _repr_html_(self) -> str:
        span = lambda w: f"{w[0]} to {w[1]}" if w[0] is not None else ""  # noqa: E731
        rows = {"Status": self.status, "Dataset": self.dataset, "Sampling rate": self.sampling_rate,
                "Training window": span(self.training), "Evaluation window": span(self.evaluation),
                "Labels": self.labels, "Off condition": self.off_condition,
                "Evaluation events": self.events, "Labelled ranges found":
                f"{self.found[0]} of {self.found[1]}" if self.found else None, "Quality": self.quality}
        if self.failed_reason:
            rows["Failed because"] = self.failed_reason
        body = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                       for k, v in rows.items() if v not in (None, ""))
        return f"<div><b>Model {html.escape(str(self.name))}</b><table>{body}</table></div>"


# -- reading ----------------------------------------------------------------------------------------------------
def describe_model(name: str, client=None, session=None) -> ModelInfo:
    """The model's dataset, sampling rate, windows, labels, status and evaluation as a :class:`ModelInfo`, as
    :func:`train` returns it; DescribeModel's whole answer is its ``raw`` (``info["Schema"]`` reads a member of it,
    as when this function returned that dict).

    Example
    -------
    >>> describe_model("pump-demo").sampling_rate                       # doctest: +SKIP
    'PT1M'
    >>> ModelSchema.parse(describe_model("pump-demo")).names            # doctest: +SKIP
    ('centrifugal-pump', 'motor')
    """
    return ModelInfo.from_describe(_describe_raw(name, lookout_client(client, session)))


#: The name this function had when ``describe_model`` returned DescribeModel's dict.
model_info = describe_model


def _describe_raw(name: str, client) -> dict:
    return call(client, "describe_model", ModelName=name)


def list_models(status: str | None = None, details: bool = False, client=None, session=None) -> pd.DataFrame:
    """Every model of the account (all pages), one row each: ``name, status, quality, dataset, created_at, arn``.

    Only models with status ``SUCCESS`` can run inference. With ``details`` each model is described too (up to
    eight at a time), adding ``sampling_rate, training_start, training_end, evaluation_start, evaluation_end,
    events`` (predicted ranges of the evaluation), ``labelled`` and ``found`` (labelled ranges, and how many of them
    a predicted range overlaps).

    Example
    -------
    >>> list_models(status="SUCCESS")["name"].tolist()                 # doctest: +SKIP
    ['pump-demo']
    """
    client = lookout_client(client, session)
    table = _tables.models_frame(pages(client, "list_models", "ModelSummaries", Status=status))
    if not details:
        return table
    with ThreadPoolExecutor(max_workers=8) as pool:
        infos = list(pool.map(lambda n: _info_or_none(n, client), table["name"].tolist()))
    rows = [_detail_row(info) for info in infos]
    extra = _tables.typed_frame(rows, DETAIL_COLUMNS)
    return pd.concat([table, extra], axis=1)


def _info_or_none(name: str, client) -> ModelInfo | None:
    try:
        return model_info(name, client=client)
    except ServiceError:  # deleted between the listing and now, or not ours to describe: its listed row stays
        return None


def _detail_row(info: ModelInfo | None) -> dict:
    if info is None:
        return {}
    found = info.found
    return {"sampling_rate": info.sampling_rate, "training_start": info.training[0], "training_end": info.training[1],
            "evaluation_start": info.evaluation[0], "evaluation_end": info.evaluation[1], "events": info.events,
            "labelled": found[1] if found else None, "found": found[0] if found else None}


# -- train ----------------------------------------------------------------------------------------------------------
def _window(value, name: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    try:
        start, end = value
        start, end = utc(start), utc(end)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"{name}: expected (start, end) times, got {value!r} ({exc})") from None
    if start is None or end is None or end <= start:
        raise InvalidArgument(f"{name}: the window ({start}, {end}) must end after it starts")
    return start, end


def _check_window(window, name: str, dataset: dict) -> None:
    first, last = utc(dataset.get("DataStartTime")), utc(dataset.get("DataEndTime"))
    if first is None or last is None:
        return
    if window[1] <= first or window[0] > last:
        raise InvalidArgument(f"{name}: the window {window[0]} to {window[1]} holds no data: dataset "
                              f"{dataset['DatasetName']} has data from {first} to {last}; choose a window inside it")


def _schema(schema, dataset: dict) -> ModelSchema:
    have = ModelSchema.parse(dataset["Schema"]).sensors
    if schema is None:
        return ModelSchema.parse(dataset["Schema"])
    wanted = ModelSchema.parse(schema)
    for component, sensors in wanted.sensors.items():
        if component not in have:
            raise InvalidArgument(f"schema: dataset {dataset['DatasetName']} has no component {component!r}; its "
                                  f"components are {', '.join(have)}")
        missing = [s for s in sensors if s not in have[component]]
        if missing:
            raise InvalidArgument(f"schema: component {component} of dataset {dataset['DatasetName']} has no sensor "
                                  f"{', '.join(missing)}; its sensors are {', '.join(have[component])}")
    return wanted


def _check_condition(text: str, schema: ModelSchema) -> None:
    names = [f"{c}\\{s}" for c, ss in schema.sensors.items() for s in ss]
    match = _CONDITION.match(text)
    if not match:
        raise InvalidArgument(f"off_condition: {text!r} cannot be read: write component\\sensor, one of < <= > >= ==, "
                              f"then a number, e.g. '{names[0]} < 100'")
    if match["sensor"] not in names:
        raise InvalidArgument(f"off_condition: {text!r} names {match['sensor']!r}, not a sensor of the model; use "
                              f"one of {', '.join(names)}")


def _check_rate(rate: str, rates: tuple, dataset: dict, s3) -> None:
    """InvalidArgument when ``rate`` is finer than the rows of the dataset's files (read from one of them)."""
    found = data_spacing(dataset, s3)
    if found is None or parse_duration(rate) >= found[0]:
        return
    spacing, where = found
    fitting = [r for r in rates if parse_duration(r) >= spacing]
    advice = f"use {fitting[0]} or coarser" if fitting else "leave it out"
    raise InvalidArgument(f"sampling_rate: {rate} is finer than the data of dataset {dataset['DatasetName']}: its "
                          f"rows come every {_duration_text(spacing)} ({where}), so most intervals would hold no row "
                          f"of their own; {advice} (left out, the service picks a rate the data has)")


def _duration_text(step: pd.Timedelta) -> str:
    """``1 min``, ``30 s``, ``1 h 30 min``: a time step as a person writes it."""
    seconds = int(step.total_seconds())
    parts = [(seconds // 3600, "h"), (seconds % 3600 // 60, "min"), (seconds % 60, "s")]
    return " ".join(f"{n} {unit}" for n, unit in parts if n) or f"{step.total_seconds():g} s"


def _check_label_ranges(pairs, dataset: dict) -> None:
    """InvalidArgument naming the labels that overlap none of the dataset's data."""
    first, last = utc(dataset.get("DataStartTime")), utc(dataset.get("DataEndTime"))
    if first is None or last is None:
        return
    outside = [(a, b) for a, b in pairs if b <= first or a >= last]
    if outside:
        shown = "; ".join(f"{a} to {b}" for a, b in outside[:3]) + (f" and {len(outside) - 3} more"
                                                                     if len(outside) > 3 else "")
        raise InvalidArgument(f"labels: {len(outside)} of {len(pairs)} label{'s' if len(pairs) > 1 else ''} lie "
                              f"outside the data of dataset {dataset['DatasetName']} ({first} to {last}): {shown}; "
                              "correct their dates (label times are UTC) or leave them out")


def _labels_config(name: str, labels, label_group, client, dataset: dict) -> dict | None:
    from .labels import create_label_group, read_labels

    if label_group and labels is not None:
        raise InvalidArgument("labels: give labels or label_group, not both")
    if label_group:
        return {"LabelGroupName": label_group}
    if labels is None:
        return None
    if isinstance(labels, str) and labels.startswith("s3://"):
        from .datasets import s3_location

        bucket, prefix = s3_location(labels)
        return {"S3InputConfiguration": {"Bucket": bucket, "Prefix": prefix}}
    pairs = read_labels(labels)
    _check_label_ranges(pairs, dataset)
    digest = hashlib.sha256(repr([(a.isoformat(), b.isoformat()) for a, b in pairs]).encode()).hexdigest()[:8]
    # Named by its content: other labels make another group (and so another request for the same model name,
    # which the service refuses as a conflict rather than returning the model trained on the old labels).
    return {"LabelGroupName": create_label_group(f"{name}-labels-{digest}", pairs, client=client)}


def _dataset(name: str, client) -> dict:
    try:
        raw = call(client, "describe_dataset", DatasetName=name)
    except ResourceNotFound as exc:
        raise InvalidArgument(f"dataset: there is no dataset {name!r}; create it with create_dataset and ingest its "
                              "data first") from exc
    if raw.get("Status") != "ACTIVE" or not raw.get("Schema"):
        raise InvalidArgument(f"dataset: {name!r} has no ingested data yet (status {raw.get('Status')}); ingest its "
                              "files first (ingest) and wait for SUCCESS")
    return raw


def train(name: str, dataset, *, role_arn: str, training=None, evaluation=None, labels=None,
          label_group: str | None = None, sampling_rate: str | None = None, off_condition: str | None = None,
          schema=None, tags=None,
          wait: bool = True, timeout: float = 7200, poll: float = 30.0, progress: bool = True, client=None,
          s3=None, session=None) -> ModelInfo:
    """Train model ``name`` on ``dataset`` (a name or a :class:`~lookout_nb.calls.datasets.DatasetInfo`); with
    ``wait``, wait for the end of training (``timeout`` seconds, progress bar) and return it.

    ``training`` and ``evaluation`` are ``(start, end)`` windows (naive times are UTC; left out, the service
    chooses: on the embedded endpoint the first 80% of the data trains and the rest evaluates). ``labels`` are fault
    ranges left out of what the model learns as normal and scored in its evaluation: ``s3://bucket/prefix/`` of
    label CSVs, or a local label CSV, a folder of them, ``(start, end)`` pairs or a DataFrame, which are checked
    and put in a label group ``<name>-labels-<digest of the labels>``; ``label_group`` names an existing group.
    ``schema`` picks a subset of the dataset's sensors (``{component: [sensors]}``). Labels outside the dataset's
    data and a ``sampling_rate`` finer than its rows (read from one of its files through ``s3``) are refused.
    Training the same model again
    returns it (other settings under the same name are a :class:`~lookout_nb.errors.ResourceConflict`); a FAILED
    training raises :class:`~lookout_nb.errors.JobFailed` with the service's reason.

    Example
    -------
    >>> train("pump-model", "pump-data", training=("2025-11-20", "2025-12-20"),           # doctest: +SKIP
    ...       evaluation=("2025-12-20", "2026-01-05"), role_arn=role).events
    2
    """
    client = lookout_client(client, session)
    dataset_name = getattr(dataset, "name", dataset)
    raw_dataset = _dataset(dataset_name, client)
    windows = {key: _window(value, key) for key, value in (("training", training), ("evaluation", evaluation))
               if value is not None}
    for key, window in windows.items():
        _check_window(window, key, raw_dataset)
    model_schema = _schema(schema, raw_dataset)
    rates = servicemodel.enum("TargetSamplingRate")
    if sampling_rate is not None and sampling_rate not in rates:
        raise InvalidArgument(f"sampling_rate: {sampling_rate!r} is not a TargetSamplingRate; use one of "
                              f"{', '.join(rates)}")
    if sampling_rate is not None:
        _check_rate(sampling_rate, rates, raw_dataset, s3_client(s3, session))
    if off_condition:
        _check_condition(off_condition, model_schema)
    params = {"ModelName": name, "DatasetName": dataset_name, "RoleArn": role_arn,
              "DatasetSchema": {"InlineDataSchema": model_schema.to_json()}}
    for key, member in (("training", "Training"), ("evaluation", "Evaluation")):
        if key in windows:
            params[f"{member}DataStartTime"], params[f"{member}DataEndTime"] = map(wire_time, windows[key])
    labels_config = _labels_config(name, labels, label_group, client, raw_dataset)
    if labels_config:
        params["LabelsInputConfiguration"] = labels_config
    if sampling_rate:
        params["DataPreProcessingConfiguration"] = {"TargetSamplingRate": sampling_rate}
    if off_condition:
        params["OffCondition"] = off_condition
    if tags:
        params["Tags"] = [{"Key": k, "Value": v} for k, v in dict(tags).items()]
    params["ClientToken"] = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:64]
    try:
        call(client, "create_model", **params)
    except ResourceConflict as exc:
        raise ResourceConflict(f"model {name!r} exists already with another configuration: choose another name, or "
                               f"delete it first (delete_model({name!r})). The service said: {exc}",
                               operation="CreateModel") from exc
    describe = lambda: _describe_raw(name, client)  # noqa: E731
    raw = wait_while(describe, "IN_PROGRESS", what=f"the training of model {name}", timeout=timeout, poll=poll,
                     progress=progress) if wait else describe()
    info = ModelInfo.from_describe(raw)
    if info.status == "FAILED":
        raise JobFailed(f"the training of model {name!r} FAILED: {info.failed_reason}", info)
    return info


def delete_model(name: str, client=None, session=None) -> None:
    """Delete a model (its dataset can be deleted then); refused (:class:`~lookout_nb.errors.ResourceConflict`)
    while it trains. Schedulers on it FAIL their later runs, so stop and delete them first.

    Example
    -------
    >>> delete_model("pump-model")                                      # doctest: +SKIP
    """
    try:
        call(lookout_client(client, session), "delete_model", ModelName=name)
    except ResourceConflict as exc:
        raise ResourceConflict(f"model {name!r} cannot be deleted now: {exc}", operation="DeleteModel") from exc
