"""Model versions (the versions service of :class:`~..backend.Backend`): every training makes a version, one
version is *active* (the one DescribeModel reports and inference schedulers score with), UpdateActiveModelVersion
activates another (rollback); DescribeModel and ListModels gain the version and retraining members; UpdateModel
changes a model's labels, role and diagnostics output.

The models service calls :meth:`Versions.trained` when a CreateModel training ends (inside its change), so the
first version is written with the model. The choices are in ``docs/endpoint.md`` (Model versions).

>>> from lookout_nb.service.api.backend import Backend
>>> from lookout_nb.service.clock import ManualClock
>>> Backend(ManualClock()).list_model_versions("us-east-1", {"ModelName": "nope"})
Traceback (most recent call last):
...
lookout_nb.service.api.exceptions.ResourceNotFoundException: Model nope does not exist
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pandas as pd

from ..change import Change
from ..core import Core, page
from ..exceptions import ConflictException, ResourceNotFoundException, ValidationException
from ..records import Model, kms_arn
from . import diagnostics
from .records import Lineage, ModelVersion

log = logging.getLogger(__name__)

#: The retraining members ListModels' summaries carry (DescribeModel carries them all).
SUMMARY_MEMBERS = ("LatestScheduledRetrainingStatus", "LatestScheduledRetrainingModelVersion",
                   "LatestScheduledRetrainingStartTime", "NextScheduledRetrainingStartDate",
                   "RetrainingSchedulerStatus")


def version_key(name: str, version: int) -> str:
    """The store row name of a version: ``version_key("pump", 2) == "pump/00000002"``."""
    return f"{name}/{version:08d}"


class Versions:
    """The version operations over the models service ``models`` (and ``labels`` for UpdateModel's check)."""

    def __init__(self, core: Core, models, labels):
        self.core, self.models, self.labels = core, models, labels
        self.versions: dict[str, ModelVersion] = {}  # version_key -> version
        self.lineages: dict[str, Lineage] = {}  # model name -> lineage
        #: Asked for a model's retraining members (the retraining service, wired by the Backend).
        self.retraining: Any = None
        #: The S3 client diagnostics files are written with (the endpoint sets it at start; None: not written).
        self.writer = None

    # -- the seams ---------------------------------------------------------------------------------------------
    def of(self, name: str) -> list[ModelVersion]:
        """The versions of model ``name``, oldest first (a trained model saved by an earlier release, or put with
        ``put_model``, has the one version its record holds: see :meth:`ensure`)."""
        with self.core.lock:
            found = sorted((v for v in self.versions.values() if v.model_name == name), key=lambda v: v.version)
            m = self.models.find(name)
            if not found and m is not None and m.status != "IN_PROGRESS" and name not in self.lineages:
                first = ModelVersion.of(m, 1, "TRAINING", m.created_at)
                return [first]
            return found

    def ensure(self, change: Change, name: str) -> None:
        """Record the version :meth:`of` makes up for a model without any (before a change adds another)."""
        if name not in self.lineages and not any(v.model_name == name for v in self.versions.values()):
            for v in self.of(name):
                self.put(change, v)
                if v.status == "SUCCESS":
                    self.lineage(name, change).activate(v.version, v.ended_at or v.created_at)

    def version(self, name: str, number: int) -> ModelVersion:
        self.models.model(name)  # ResourceNotFoundException naming the model
        found = self.versions.get(version_key(name, number))
        if found is None and number == 1 and name not in self.lineages:
            found = next(iter(self.of(name)), None)
        if found is None:
            raise ResourceNotFoundException(f"Model {name} has no version {number} (ListModelVersions lists them)")
        return found

    def lineage(self, name: str, change: Change | None = None) -> Lineage:
        if change is not None:
            change.entry("lineage", "", self.lineages, name)
        return self.lineages.setdefault(name, Lineage(name))

    def put(self, change: Change, v: ModelVersion) -> None:
        key = version_key(v.model_name, v.version)
        change.entry("modelversion", "", self.versions, key)
        self.versions[key] = v

    def next_number(self, name: str) -> int:
        """The number of the next version of model ``name`` (of the versions recorded: call :meth:`ensure` first
        where a made-up version 1 must be kept)."""
        return max((v.version for v in self.versions.values() if v.model_name == name), default=0) + 1

    def trained(self, change: Change, m: Model) -> None:
        """A CreateModel training of ``m`` ended (called by the models service inside its change): its version
        is recorded, and activated when it succeeded."""
        now = self.core.clock.now()
        v = ModelVersion.of(m, self.next_number(m.name), "TRAINING", now)
        v.created_at = m.created_at
        self.put(change, v)
        if m.status == "SUCCESS":
            self.lineage(m.name, change).activate(v.version, m.ended_at or now)
            self.diagnose(v)

    def diagnose(self, v: ModelVersion) -> None:
        """Write the pointwise diagnostics of SUCCESS version ``v`` in the background when its model asks for them
        (:mod:`.diagnostics`); a failure to write is logged and leaves ModelDiagnosticsResultsObject out."""
        if v.diagnostics_config and v.status == "SUCCESS" and self.writer is not None:
            self.core.work.background(f"diagnose-{v.model_name[:16]}", self._diagnose, v.model_name, v.version)

    def _diagnose(self, name: str, number: int) -> None:
        try:
            with self.core.lock:
                v = self.versions[version_key(name, number)]
                m = self.models.model(name)
            if v.trained is None or v.diagnostics_config is None:
                return
            data = self.models.datasets.dataset_data(m.region, v.dataset_name)
            records = diagnostics.pointwise(v.trained, data.frames, v.components, v.sampling_rate)
            written = diagnostics.write(self.writer, v.diagnostics_config, name, number, records)
            with self.core.lock, self.core.change() as change:
                if self.versions.get(version_key(name, number)) is v:
                    change.entry("modelversion", "", self.versions, version_key(name, number))
                    v.diagnostics_object = written
        except Exception:  # any failure (S3, a deleted model or dataset): logged, nothing written
            log.warning("lookout_nb.service: the diagnostics of version %d of model %s were not written", number,
                        name, exc_info=True)

    def drop(self, change: Change, name: str) -> None:
        """Delete every version and the lineage of model ``name`` (it is being deleted)."""
        for v in self.of(name):
            key = version_key(name, v.version)
            change.entry("modelversion", "", self.versions, key)
            del self.versions[key]
        change.entry("lineage", "", self.lineages, name)
        self.lineages.pop(name, None)

    # -- the API -----------------------------------------------------------------------------------------------
    def list_model_versions(self, region: str, params: dict) -> dict:
        name = params["ModelName"]
        lo, hi = params.get("MinModelVersion"), params.get("MaxModelVersion")
        after, before = params.get("CreatedAtStartTime"), params.get("CreatedAtEndTime")
        if lo is not None and hi is not None and lo > hi:
            raise ValidationException(f"MinModelVersion {lo} is greater than MaxModelVersion {hi}")
        with self.core.lock:
            self.models.model(name)
            items = [v.summary() for v in reversed(self.of(name))  # newest first, as the service lists them
                     if (params.get("Status") is None or v.status == params["Status"])
                     and (params.get("SourceType") is None or v.source_type == params["SourceType"])
                     and (lo is None or v.version >= lo) and (hi is None or v.version <= hi)
                     and (after is None or v.created_at >= after) and (before is None or v.created_at <= before)]
        return page(items, params, "ModelVersionSummaries")

    def describe_model_version(self, region: str, params: dict) -> dict:
        with self.core.lock:
            v = self.version(params["ModelName"], params["ModelVersion"])
            out = v.describe()
            out["ServerSideKmsKeyId"] = kms_arn(region, v.kms_key_id)
            return out

    def update_active_model_version(self, region: str, params: dict) -> dict:
        name, number = params["ModelName"], params["ModelVersion"]
        with self.core.lock, self.core.change() as change:
            m = self.models.model(name)
            self.ensure(change, name)
            v = self.version(name, number)
            if v.status != "SUCCESS":
                raise ValidationException(f"Version {number} of model {name} is {v.status}; only a version whose "
                                          "training succeeded (SUCCESS) can be activated")
            lineage = self.lineage(name, change)
            if lineage.active == number:
                raise ValidationException(f"Version {number} is already the active version of model {name}")
            change.entry("model", "", self.models.models, name)
            lineage.activate(number, self.core.clock.now())
            v.onto(m)
            return {"ModelName": name, "ModelArn": m.arn(region), "CurrentActiveVersion": number,
                    "PreviousActiveVersion": lineage.previous,
                    "CurrentActiveVersionArn": v.arn, "PreviousActiveVersionArn": self._arn(name, lineage.previous)}

    def _arn(self, name: str, number: int | None) -> str | None:
        v = self.versions.get(version_key(name, number)) if number is not None else None
        return v.arn if v else None

    def active_members(self, m: Model) -> dict:
        """The version members of DescribeModel and ListModels for model ``m``."""
        lineage = self.lineages.get(m.name)
        if lineage is None or lineage.active is None:  # no version recorded: the record's own members
            return {}
        out = {"ActiveModelVersion": lineage.active, "ActiveModelVersionArn": self._arn(m.name, lineage.active),
               "ModelVersionActivatedAt": lineage.activated_at}
        if lineage.previous is not None:
            prior = self.versions.get(version_key(m.name, lineage.previous))
            out.update(PreviousActiveModelVersion=lineage.previous,
                       PreviousActiveModelVersionArn=self._arn(m.name, lineage.previous),
                       PreviousModelVersionActivatedAt=lineage.previous_at,
                       PriorModelMetrics=json.dumps(prior.metrics) if prior and prior.metrics else None)
        return out

    def describe_model(self, region: str, params: dict) -> dict:
        with self.core.lock:
            m = self.models.model(params["ModelName"])
            out = {**m.describe(region), **self.active_members(m)}
            if self.retraining is not None:
                out.update(self.retraining.model_members(region, m.name))
            out["ModelDiagnosticsOutputConfiguration"] = m.diagnostics_config
            active = self.versions.get(version_key(m.name, out.get("ActiveModelVersion") or 0))
            if active is not None and active.diagnostics_object:
                out["ModelDiagnosticsOutputConfiguration"] = diagnostics_reported(active)
            return out

    def list_models(self, region: str, params: dict) -> dict:
        out = self.models.list_models(region, params)
        with self.core.lock:
            for summary in out["ModelSummaries"]:
                m = self.models.find(summary["ModelName"])
                if m is not None:
                    summary.update(self.active_members(m))
                    summary.pop("ModelVersionActivatedAt", None)
                    for k in ("PreviousActiveModelVersion", "PreviousActiveModelVersionArn",
                              "PreviousModelVersionActivatedAt", "PriorModelMetrics"):
                        summary.pop(k, None)
                    if self.retraining is not None:
                        members = self.retraining.model_members(region, m.name)
                        summary.update({k: v for k, v in members.items() if k in SUMMARY_MEMBERS})
                    summary["ModelDiagnosticsOutputConfiguration"] = m.diagnostics_config
        return out

    def delete_model(self, region: str, params: dict) -> dict:
        name = params["ModelName"]
        with self.core.lock:
            if self.retraining is not None and name in self.models.models:
                self.retraining.check_deletable(region, name)
            self.models.delete_model(region, params)
            with self.core.change() as change:
                self.drop(change, name)
        return {}

    def update_model(self, region: str, params: dict) -> dict:
        name = params["ModelName"]
        labels = params.get("LabelsInputConfiguration")
        diagnostics = params.get("ModelDiagnosticsOutputConfiguration")
        if labels is not None and not (labels.get("LabelGroupName") or labels.get("S3InputConfiguration")):
            raise ValidationException("LabelsInputConfiguration: give LabelGroupName or S3InputConfiguration")
        with self.core.lock, self.core.change() as change:
            m = self.models.model(name)
            if m.status == "IN_PROGRESS":
                raise ConflictException(f"Model {name} is training (IN_PROGRESS); update it once DescribeModel shows "
                                        "SUCCESS or FAILED")
            if labels and labels.get("LabelGroupName"):
                self.labels.group(region, labels["LabelGroupName"])  # ResourceNotFoundException naming it
            if diagnostics is not None and not (params.get("RoleArn") or m.role_arn):
                raise ValidationException("ModelDiagnosticsOutputConfiguration needs a RoleArn to write with")
            change.entry("model", "", self.models.models, name)
            if labels is not None:
                m.labels_config = labels
            if params.get("RoleArn"):
                m.role_arn = params["RoleArn"]
            if diagnostics is not None:
                m.diagnostics_config = diagnostics
        return {}


def diagnostics_reported(v: ModelVersion) -> dict:
    """ModelDiagnosticsOutputConfiguration as DescribeModel reports it once written: the Prefix holds the path and
    the file name of the diagnostics file (as the service documents)."""
    config = json.loads(json.dumps(v.diagnostics_config or {}))
    config.setdefault("S3OutputConfiguration", {})["Prefix"] = (v.diagnostics_object or {}).get("Key", "")
    return config


def days(start: pd.Timestamp | None, end: pd.Timestamp | None) -> int | None:
    """Whole days between two times (None when either is missing)."""
    return int((end - start) / pd.Timedelta(days=1)) if start is not None and end is not None else None
