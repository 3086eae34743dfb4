"""Models of the embedded endpoint (the models service of :class:`~.backend.Backend`): CreateModel trains a real
detector.

CreateModel checks what it can at once (the dataset exists and holds data, the label group exists, the schema is
JSON of the service's form) and answers IN_PROGRESS; a background thread then trains with
:func:`..learning.training.train` on the dataset's data and records SUCCESS (the trained detector, saved in
``state.db`` with the model, and its ``ModelMetrics``) or FAILED with a reason naming the window, sensor, label
file or condition. TrainingExecutionStartTime/EndTime are service-clock times. The choices where the service
documents nothing are in ``docs/endpoint.md`` (Models).

The data comes from the datasets service (:meth:`.datasets.Datasets.dataset_data`) and the ANOMALY ranges from
the labels service (:meth:`.labels.Labels.label_ranges`), by explicit calls.

>>> from lookout_nb.service.api.core import Core
>>> from lookout_nb.service.clock import ManualClock
>>> Models(Core(ManualClock()), datasets=None, labels=None).describe_model("us-east-1", {"ModelName": "nope"})
Traceback (most recent call last):
...
lookout_nb.service.api.exceptions.ResourceNotFoundException: Model nope does not exist
"""

from __future__ import annotations

import json
import logging
import threading
from typing import TYPE_CHECKING, Protocol

import pandas as pd

from ...contract.request import parse_duration
from ..learning.ingest import IngestFailed
from ..learning.training import SAMPLING_RATES, TrainingFailed, train
from .change import Change
from .core import Core, page
from .datarecords import DEFAULT_ROLE
from .datasets import parse_schema
from .exceptions import ConflictException, InternalServerException, ResourceNotFoundException, ServiceException
from .labels import LabelFileError, read_s3_labels
from .records import Model
from .rules import check_windows

if TYPE_CHECKING:
    from .datasets import Datasets
    from .labels import Labels

log = logging.getLogger(__name__)
STOPPED = "The endpoint stopped while this model was training; delete it (DeleteModel) and create it again"
#: The share of the data span that training takes when no window is given.
TRAINING_SHARE = 0.8


def default_rate(frames: dict) -> str:
    """The finest supported TargetSamplingRate no finer than the data's median row spacing.

    >>> t = pd.date_range("2026-01-01", periods=4, freq="5min", tz="UTC")
    >>> default_rate({"pump": pd.DataFrame({"Flow": [1.0, 2, 3, 4]}, index=t)})
    'PT5M'
    """
    gaps = [pd.Timedelta(f.index.to_series().diff().median()) for f in frames.values() if len(f) > 1]
    spacing = min(gaps) if gaps else pd.Timedelta(minutes=1)
    return next((r for r in SAMPLING_RATES if parse_duration(r) >= spacing), SAMPLING_RATES[-1])


def resolve_windows(params: dict, first: pd.Timestamp, last: pd.Timestamp, rate: str) -> tuple:
    """``(training start, training end, evaluation start, evaluation end)`` with the defaults of the module
    docstring filled in, for data from ``first`` to ``last``.

    >>> first, last = pd.Timestamp("2026-01-01", tz="UTC"), pd.Timestamp("2026-01-10T23:59", tz="UTC")
    >>> w = resolve_windows({}, first, last, "PT1M")
    >>> [t.strftime("%m-%d %H:%M") for t in w]
    ['01-01 00:00', '01-09 00:00', '01-09 00:00', '01-11 00:00']
    """
    step = parse_duration(rate)
    start = params.get("TrainingDataStartTime") or first
    end = params.get("EvaluationDataEndTime") or last.ceil(step) + step
    split = start + ((end - start) * TRAINING_SHARE).floor(step)
    train_end = params.get("TrainingDataEndTime") or params.get("EvaluationDataStartTime") or split
    eval_start = params.get("EvaluationDataStartTime") or train_end
    return start, train_end, eval_start, end


class TrainingObserver(Protocol):
    """Who is told when a CreateModel training ends, inside its change (the versions service)."""

    def trained(self, change: Change, m: Model) -> None: ...


class NoObserver:
    """Nobody is told (a models service on its own)."""

    def trained(self, change: Change, m: Model) -> None:
        pass


class Models:
    """The model operations; ``datasets`` and ``labels`` are the services a model is trained from."""

    def __init__(self, core: Core, datasets: Datasets, labels: Labels):
        self.core = core
        self.datasets = datasets
        self.labels = labels
        self.models: dict[str, Model] = {}
        self.model_tags: dict[str, list] = {}  # model name -> tags
        self.broken_models: dict[str, str] = {}  # name -> why its saved record was not restored
        self._trainings: dict[str, threading.Thread] = {}
        #: Told when a training ends (the versions service once the Backend wires it; it records the version).
        self.versions: TrainingObserver = NoObserver()

    def put_model(self, model: Model) -> Model:
        """Add or replace a model record as it is (tests use it for models in any status)."""
        with self.core.lock, self.core.change() as change:
            change.entry("model", "", self.models, model.name)
            self.models[model.name] = model
            return model

    def model(self, name: str) -> Model:
        with self.core.lock:
            found = self.models.get(name)
            if found is None and name in self.broken_models:
                raise InternalServerException(f"Model {name} could not be restored from the saved state: "
                                              f"{self.broken_models[name]}. Delete it (DeleteModel) and create it "
                                              "again")
        if found is None:
            raise ResourceNotFoundException(f"Model {name} does not exist")
        return found

    def find(self, name: str) -> Model | None:
        """Model ``name``, or None when there is none (a scheduler's model may have been deleted)."""
        with self.core.lock:
            return self.models.get(name)

    def tags_of(self, region: str, resource_arn: str, change: Change | None = None) -> list | None:
        """The tag list of the model of ``resource_arn`` (touched in ``change`` when the caller changes it), or
        None when no model has that ARN."""
        for m in self.models.values():
            if m.arn(region) == resource_arn:
                if change is not None:
                    change.entry("tags", "", self.model_tags, m.name)
                return self.model_tags.setdefault(m.name, [])
        return None

    def dataset_in_use(self, region: str, dataset_name: str) -> list[str]:
        """The names of the models trained (or training) on the dataset."""
        with self.core.lock:
            return sorted(m.name for m in self.models.values() if m.region == region and m.dataset_name == dataset_name)

    # -- the API -----------------------------------------------------------------------------------------------
    def create_model(self, region: str, params: dict) -> dict:
        name, token = params["ModelName"], params["ClientToken"]
        fingerprint = json.dumps({k: v for k, v in params.items() if k != "ClientToken"}, sort_keys=True, default=str)
        try:  # the dataset's data read before the lock (of every serve process), not while holding it
            self.datasets.dataset_data(region, params["DatasetName"])
        except ServiceException:
            pass  # answered under the lock, as before
        with self.core.lock, self.core.change() as change:
            existing = self.models.get(name)
            if existing is not None:
                if existing.client_token != token or existing.fingerprint != fingerprint:
                    raise ConflictException(f"Model {name} already exists")
                return {"ModelArn": existing.arn(region), "Status": existing.status}
            if name in self.broken_models:
                raise ConflictException(f"Model {name} exists but could not be restored from the saved state "
                                        f"({self.broken_models[name]}); delete it first")
            model = self._new_model(region, params, token, fingerprint)
            change.entry("model", "", self.models, name)
            self.models[name] = model
            if params.get("Tags"):
                change.entry("tags", "", self.model_tags, name)
                self.model_tags[name] = [dict(t) for t in params["Tags"]]
        with self.core.lock:  # the thread may end before it is recorded: _train pops it under the lock
            self._trainings[name] = self.core.work.background(f"train-{name[:20]}", self._train, name)
        return {"ModelArn": model.arn(region), "Status": "IN_PROGRESS"}

    def _new_model(self, region: str, params: dict, token: str, fingerprint: str) -> Model:
        """The IN_PROGRESS record of a CreateModel (under the lock); the checks that answer at once."""
        dataset = self.datasets.dataset(region, params["DatasetName"])
        data = self.datasets.dataset_data(region, dataset.name)  # ValidationException when nothing was ingested yet
        inline = (params.get("DatasetSchema") or {}).get("InlineDataSchema")
        components = parse_schema(inline).sensors if inline else data.schema.sensors
        labels = params.get("LabelsInputConfiguration") or None
        if labels and labels.get("LabelGroupName"):
            self.labels.group(region, labels["LabelGroupName"])  # ResourceNotFoundException naming it
        preprocessing = params.get("DataPreProcessingConfiguration") or {}
        rate = preprocessing.get("TargetSamplingRate") or default_rate(data.frames)
        frames = [f for f in data.frames.values() if len(f)]
        first = min(f.index[0] for f in frames) if frames else self.core.clock.now()
        last = max(f.index[-1] for f in frames) if frames else first
        windows = resolve_windows(params, first, last, rate)
        check_windows(params, windows, first)
        now = self.core.clock.now()
        return Model(
            name=params["ModelName"], components={c: list(s) for c, s in components.items()}, sampling_rate=rate,
            dataset_name=dataset.name, region=region, role_arn=params.get("RoleArn") or DEFAULT_ROLE, created_at=now,
            status="IN_PROGRESS", training_start=windows[0], training_end=windows[1], evaluation_start=windows[2],
            evaluation_end=windows[3], labels_config=labels, off_condition=params.get("OffCondition"),
            kms_key_id=params.get("ServerSideKmsKeyId"), client_token=token, fingerprint=fingerprint,
            started_at=now, diagnostics_config=params.get("ModelDiagnosticsOutputConfiguration"))

    def describe_model(self, region: str, params: dict) -> dict:
        return self.model(params["ModelName"]).describe(region)

    def list_models(self, region: str, params: dict) -> dict:
        with self.core.lock:
            models = sorted(self.models.values(), key=lambda m: m.name)
        begins, dataset, status = (params.get(k) for k in ("ModelNameBeginsWith", "DatasetNameBeginsWith", "Status"))
        items = [
            m.summary(region)
            for m in models
            if (not begins or m.name.startswith(begins))
            and (not dataset or m.dataset_name.startswith(dataset))
            and (not status or m.status == status)
        ]
        return page(items, params, "ModelSummaries")

    def delete_model(self, region: str, params: dict) -> dict:
        name = params["ModelName"]
        with self.core.lock, self.core.change() as change:
            if name in self.broken_models and name not in self.models:
                change.entry("model", "", {}, name)  # absent in memory: its row is deleted
                change.entry("tags", "", self.model_tags, name)
                self.model_tags.pop(name, None)
                change.commit()
                del self.broken_models[name]
                return {}
            model = self.model(name)
            if model.status == "IN_PROGRESS":
                raise ConflictException(f"Model {name} is training (IN_PROGRESS); wait until DescribeModel shows "
                                        "SUCCESS or FAILED, then delete it")
            change.entry("model", "", self.models, name)
            change.entry("tags", "", self.model_tags, name)
            del self.models[name]
            self.model_tags.pop(name, None)
        return {}

    # -- training ----------------------------------------------------------------------------------------------
    def resume_training(self, name: str) -> None:
        """Train model ``name`` (IN_PROGRESS) again: its training was taken over from a serve process that died."""
        with self.core.lock:
            if name not in self.models or self.models[name].status != "IN_PROGRESS" or name in self._trainings:
                return
            self._trainings[name] = self.core.work.background(f"train-{name[:20]}", self._train, name)

    def wait_model(self, name: str, timeout: float = 120.0) -> Model:
        """Wait for model ``name``'s training thread to end (in-process callers: the demo, ``add_model``)."""
        thread = self._trainings.get(name)
        if thread is not None:
            thread.join(timeout)
        return self.model(name)

    def _train(self, name: str) -> None:
        """The training thread: train on the dataset's data, then record SUCCESS or FAILED."""
        with self.core.lock:
            m = self.models[name]
        try:
            trained = self._fit(m)
        except (TrainingFailed, ServiceException, LabelFileError, IngestFailed) as err:  # IngestFailed: S3 refused
            self._end_training(name, reason=getattr(err, "reason", None) or str(err))
        except Exception as err:
            log.exception("lookout_nb.service: training model %s failed", name)
            self._end_training(name, reason=f"Internal error of the embedded endpoint: {type(err).__name__}: {err}")
        else:
            self._end_training(name, trained=trained.to_dict(), components=trained_components(trained.sensors))
        finally:
            with self.core.lock:
                self._trainings.pop(name, None)

    def fit(self, m: Model):
        """Train on model record ``m``'s dataset, schema, windows and labels (retrainings call it with their
        windows); TrainingFailed, ServiceException or LabelFileError saying why it cannot."""
        return self._fit(m)

    def _fit(self, m: Model):
        data = self.datasets.dataset_data(m.region, m.dataset_name)
        have = data.schema.sensors
        for component, sensors in m.components.items():
            if component not in have:
                raise TrainingFailed(f"DatasetSchema names component {component}, which dataset {m.dataset_name} "
                                     f"does not have (its components: {', '.join(have)})")
            unknown = [s for s in sensors if s not in have[component]]
            if unknown:
                names = ", ".join(f"{component}{chr(92)}{s}" for s in unknown)
                raise TrainingFailed(f"DatasetSchema names sensor {names}"
                                     f", which dataset {m.dataset_name} does not have (component {component} has "
                                     f"{', '.join(have[component])})")
        labels = self._model_labels(m)
        return self.core.work.call(train, data.frames, m.components, m.sampling_rate,  # a Dask task with DaskWork
                                   (m.training_start, m.training_end), (m.evaluation_start, m.evaluation_end),
                                   labels=labels, off_condition=m.off_condition)

    def _model_labels(self, m: Model) -> list:
        config = m.labels_config or {}
        ranges = []
        if config.get("LabelGroupName"):
            ranges += self.labels.label_ranges(m.region, config["LabelGroupName"])
        s3 = config.get("S3InputConfiguration")
        if s3:
            if self.core.data_reader is None:
                raise TrainingFailed("This endpoint has no S3 to read the label files from")
            ranges += read_s3_labels(self.core.data_reader, s3["Bucket"], s3.get("Prefix") or "")
        return sorted(ranges)

    def _end_training(self, name: str, reason: str | None = None, trained: dict | None = None, components=None) -> None:
        if self.core.work.stopping() and reason is None:
            reason, trained = STOPPED, None
        try:
            with self.core.lock, self.core.change() as change:
                m = self.models.get(name)
                if m is None or m.status != "IN_PROGRESS":
                    return
                change.entry("model", "", self.models, name)
                m.ended_at = self.core.clock.now()
                if trained is not None:
                    m.status, m.trained, m.components = "SUCCESS", trained, components
                else:
                    m.status, m.failed_reason = "FAILED", (reason or "unknown")[:5000]
                self.versions.trained(change, m)
        except Exception:  # e.g. the store closed while the endpoint stops: the restart FAILS it
            log.warning("lookout_nb.service: could not record the end of training model %s", name, exc_info=True)


def trained_components(sensors) -> dict[str, list[str]]:
    """``{component: [sensors]}`` of ``component\\sensor`` names, in order.

    >>> trained_components(["pump\\\\Flow", "pump\\\\Head", "motor\\\\Amps"])
    {'pump': ['Flow', 'Head'], 'motor': ['Amps']}
    """
    out: dict[str, list[str]] = {}
    for name in sensors:
        component, _, sensor = name.partition("\\")
        out.setdefault(component, []).append(sensor)
    return out


__all__ = ["Models", "default_rate", "resolve_windows", "trained_components"]
