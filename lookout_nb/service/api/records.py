"""Plain records of the embedded endpoint: models, schedulers, executions, and their API views.

The records hold state only; the services of :mod:`.backend` change them under the core's lock and
:mod:`..state.store` saves them. Each record renders itself as the API's response members (timestamps stay
:class:`pandas.Timestamp`; the protocol layer turns them into epoch seconds).

>>> m = Model("pump", {"pump": ["Flow", "Pressure"]}, sampling_rate="PT1M")
>>> m.describe("us-east-1")["Status"], m.trained_model is None
('SUCCESS', True)
>>> json.loads(m.schema_json())["Components"][0]["Columns"][1]
{'Name': 'Flow', 'Type': 'DOUBLE'}
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import pandas as pd

from ...contract.schema import ModelSchema

ACCOUNT = "123456789012"
_EPOCH = pd.Timestamp("2025-06-01T00:00:00Z")


def arn(region: str, kind: str, *parts: str) -> str:
    """``arn:aws:lookoutequipment:<region>:123456789012:<kind>/<parts...>``."""
    return f"arn:aws:lookoutequipment:{region}:{ACCOUNT}:{kind}/{'/'.join(parts)}"


def kms_arn(region: str, key: str | None) -> str | None:
    """The KMS key ARN of a ServerSideKmsKeyId given as an id, an alias or an ARN (None stays None).

    >>> kms_arn("eu-west-1", "alias/lookout")
    'arn:aws:kms:eu-west-1:123456789012:alias/lookout'
    """
    if not key or key.startswith("arn:"):
        return key
    return f"arn:aws:kms:{region}:{ACCOUNT}:{key if key.startswith('alias/') else 'key/' + key}"


def stable_id(*parts: str) -> str:
    """A short id that is the same for the same parts (ARN suffixes that survive restarts)."""
    return hashlib.sha1("/".join(parts).encode()).hexdigest()[:32]


@dataclass
class Model:
    """A model: what CreateModel asked for, its training status, and (once SUCCESS) the trained detector.

    ``components`` is the schema it trains on (``{component: [sensors]}``); ``trained`` the
    :meth:`~..learning.training.TrainedModel.to_dict` of a SUCCESS training (scheduled runs score with it,
    :attr:`trained_model`). The four window times are those training used (defaults filled in, see
    :mod:`.models`); ``region`` is the region of its dataset.
    """

    name: str
    components: dict[str, list[str]]
    sampling_rate: str = "PT1M"
    dataset_name: str = ""
    region: str = "us-east-1"
    role_arn: str = f"arn:aws:iam::{ACCOUNT}:role/LookoutEquipmentDemo"
    created_at: pd.Timestamp = _EPOCH
    status: str = "SUCCESS"
    training_start: pd.Timestamp | None = None
    training_end: pd.Timestamp | None = None
    evaluation_start: pd.Timestamp | None = None
    evaluation_end: pd.Timestamp | None = None
    labels_config: dict | None = None
    off_condition: str | None = None
    kms_key_id: str | None = None
    client_token: str = ""
    fingerprint: str = ""
    failed_reason: str | None = None
    started_at: pd.Timestamp | None = None
    ended_at: pd.Timestamp | None = None
    trained: dict | None = None
    diagnostics_config: dict | None = None  # ModelDiagnosticsOutputConfiguration (api/versions/diagnostics.py)
    version: int = 1  # the number of the version ``trained`` is (the active one: api/versions/)

    def __post_init__(self):
        self.dataset_name = self.dataset_name or f"{self.name}-dataset"

    @property
    def trained_model(self):
        """The :class:`~..learning.training.TrainedModel` to score with (None before a SUCCESS training)."""
        if self.trained is None:
            return None
        cached = self.__dict__.get("_trained_model")
        if cached is None or cached[0] is not self.trained:
            from ..learning.training import TrainedModel

            cached = self.__dict__["_trained_model"] = (self.trained, TrainedModel.from_dict(self.trained))
        return cached[1]

    @property
    def metrics(self) -> dict | None:
        return self.trained.get("metrics") if self.trained else None

    @property
    def quality(self) -> str:
        """ModelQuality: every evaluation label found -> QUALITY_THRESHOLD_MET, some missed -> POOR_QUALITY_DETECTED,
        no label in the evaluation window -> CANNOT_DETERMINE_QUALITY."""
        labelled = (self.metrics or {}).get("labeled_event_metrics") or {}
        if not labelled.get("num_labeled"):
            return "CANNOT_DETERMINE_QUALITY"
        if labelled["num_identified"] == labelled["num_labeled"]:
            return "QUALITY_THRESHOLD_MET"
        return "POOR_QUALITY_DETECTED"

    @property
    def sensors(self) -> list[str]:
        """Every ``component\\sensor`` name, in schema order."""
        return [f"{c}\\{s}" for c, names in self.components.items() for s in names]

    def schema_json(self) -> str:
        """The dataset schema as the API returns it (a JSON string)."""
        return ModelSchema.parse(self.components).to_json()

    def arn(self, region: str) -> str:
        return arn(region, "model", self.name, stable_id("model", self.name))

    def dataset_arn(self, region: str) -> str:
        return arn(region, "dataset", self.dataset_name, stable_id("dataset", self.dataset_name))

    def version_arn(self, region: str) -> str:
        return f"{arn(region, 'model', self.name, stable_id('model', self.name))}/model-version/1"

    def describe(self, region: str) -> dict:
        """DescribeModel's response members (None members are left out on the wire)."""
        done = self.status == "SUCCESS"
        out = {
            "ModelName": self.name, "ModelArn": self.arn(region), "DatasetName": self.dataset_name,
            "DatasetArn": self.dataset_arn(region), "Schema": self.schema_json(),
            "LabelsInputConfiguration": self.labels_config,
            "TrainingDataStartTime": self.training_start, "TrainingDataEndTime": self.training_end,
            "EvaluationDataStartTime": self.evaluation_start, "EvaluationDataEndTime": self.evaluation_end,
            "RoleArn": self.role_arn, "DataPreProcessingConfiguration": {"TargetSamplingRate": self.sampling_rate},
            "Status": self.status, "TrainingExecutionStartTime": self.started_at,
            "TrainingExecutionEndTime": self.ended_at, "FailedReason": self.failed_reason,
            "ModelMetrics": json.dumps(self.metrics) if done and self.metrics is not None else None,
            "LastUpdatedTime": self.ended_at or self.created_at, "CreatedAt": self.created_at,
            "ServerSideKmsKeyId": kms_arn(region, self.kms_key_id), "OffCondition": self.off_condition,
            "ModelDiagnosticsOutputConfiguration": self.diagnostics_config,
        }
        if done:
            out.update(ActiveModelVersion=1, ActiveModelVersionArn=self.version_arn(region),
                       ModelVersionActivatedAt=self.ended_at or self.created_at, ModelQuality=self.quality)
        return out

    def summary(self, region: str) -> dict:
        """ListModels' summary members."""
        out = {"ModelName": self.name, "ModelArn": self.arn(region), "DatasetName": self.dataset_name,
               "DatasetArn": self.dataset_arn(region), "Status": self.status, "CreatedAt": self.created_at}
        if self.status == "SUCCESS":
            out.update(ActiveModelVersion=1, ActiveModelVersionArn=self.version_arn(region), ModelQuality=self.quality)
        return out


@dataclass
class Execution:
    """One inference run: the window it read and how it ended.

    ``anomalies`` keeps the anomalous rows (``[iso timestamp, {sensor: share}]``) for ListInferenceEvents.
    """

    scheduled_start: pd.Timestamp
    data_start: pd.Timestamp
    data_end: pd.Timestamp
    input_config: dict
    output_config: dict
    status: str = "IN_PROGRESS"
    failed_reason: str | None = None
    result_object: dict | None = None
    anomalies: list = field(default_factory=list)
    model_version: int = 1  # the model's active version when the run was claimed

    def summary(self, scheduler: Scheduler, model_arn: str) -> dict:
        """ListInferenceExecutions' summary members."""
        out = {
            "ModelName": scheduler.model_name,
            "ModelArn": model_arn,
            "InferenceSchedulerName": scheduler.name,
            "InferenceSchedulerArn": scheduler.arn,
            "ScheduledStartTime": self.scheduled_start,
            "DataStartTime": self.data_start,
            "DataEndTime": self.data_end,
            "DataInputConfiguration": self.input_config,
            "DataOutputConfiguration": self.output_config,
            "Status": self.status,
            "ModelVersion": self.model_version,
            "ModelVersionArn": f"{model_arn}/model-version/{self.model_version}",
        }
        if self.result_object:
            out["CustomerResultObject"] = dict(self.result_object)
        if self.failed_reason:
            out["FailedReason"] = self.failed_reason
        return out


#: The statuses in which a scheduler (inference or retraining) acts on its boundaries.
RUNNING_STATES = ("PENDING", "RUNNING")


def settle_status(record, now: pd.Timestamp, settled_after: pd.Timestamp) -> str:
    """A scheduler's status at ``now`` (inference or retraining: ``record.state`` and ``record.changed_at``): PENDING
    becomes RUNNING and STOPPING becomes STOPPED once the clock is past ``settled_after``.

    >>> from types import SimpleNamespace
    >>> r = SimpleNamespace(state="PENDING", changed_at=None)
    >>> settle_status(r, pd.Timestamp("2026-01-05T09:01Z"), pd.Timestamp("2026-01-05T09:00Z")), r.changed_at
    ('RUNNING', Timestamp('2026-01-05 09:01:00+0000', tz='UTC'))
    """
    if record.state in ("PENDING", "STOPPING") and now > settled_after:
        record.state = "RUNNING" if record.state == "PENDING" else "STOPPED"
        record.changed_at = now
    return record.state


@dataclass
class Scheduler:
    """An inference scheduler: its configuration, status and next run (its executions are rows of the store,
    :mod:`..state.history`; ``made`` counts them: the sequence number of the next one).

    ``state`` is the status last set by a call; :meth:`status` settles PENDING -> RUNNING and
    STOPPING -> STOPPED once the clock has moved past ``changed_at`` (+ the clock's settle time).
    ``next_boundary`` is the next frequency boundary to run (None when stopped): one strictly after the time
    the scheduler was created or last started.
    """

    region: str
    name: str
    uid: str
    model_name: str
    frequency: str
    delay_minutes: int
    input_config: dict
    output_config: dict
    role_arn: str
    kms_key_id: str | None
    client_token: str
    fingerprint: str
    created_at: pd.Timestamp
    updated_at: pd.Timestamp
    state: str = "PENDING"
    changed_at: pd.Timestamp = None
    next_boundary: pd.Timestamp | None = None
    tags: list = field(default_factory=list)
    #: How many executions it has made (the sequence number of the next one; the retention removes old ones).
    made: int = 0

    @property
    def arn(self) -> str:
        return arn(self.region, "inference-scheduler", self.name, self.uid)

    def status(self, now: pd.Timestamp, settle: pd.Timedelta) -> str:
        """The status at ``now``, settling transitional states once the clock has moved on."""
        return settle_status(self, now, self.changed_at + settle)

    @property
    def runs(self) -> bool:
        """Whether boundaries still lead to runs (created or started, not stopped)."""
        return self.state in RUNNING_STATES

    def kms_key_arn(self) -> str | None:
        return kms_arn(self.region, self.kms_key_id)

    def describe(self, status: str, model_arn: str, latest: str | None = None) -> dict:
        """DescribeInferenceScheduler's response members; ``latest``: LatestInferenceResult (ANOMALOUS / NORMAL,
        of the latest successful execution; None before any)."""
        out = {
            "ModelArn": model_arn,
            "ModelName": self.model_name,
            "InferenceSchedulerName": self.name,
            "InferenceSchedulerArn": self.arn,
            "Status": status,
            "DataDelayOffsetInMinutes": self.delay_minutes,
            "DataUploadFrequency": self.frequency,
            "CreatedAt": self.created_at,
            "UpdatedAt": self.updated_at,
            "DataInputConfiguration": self.input_config,
            "DataOutputConfiguration": self.output_config,
            "RoleArn": self.role_arn,
        }
        if self.kms_key_id:
            out["ServerSideKmsKeyId"] = self.kms_key_arn()
        if latest:
            out["LatestInferenceResult"] = latest
        return out

    def summary(self, status: str, model_arn: str, latest: str | None = None) -> dict:
        """ListInferenceSchedulers' summary members (``latest`` as in :meth:`describe`)."""
        out = {
            "ModelName": self.model_name,
            "ModelArn": model_arn,
            "InferenceSchedulerName": self.name,
            "InferenceSchedulerArn": self.arn,
            "Status": status,
            "DataDelayOffsetInMinutes": self.delay_minutes,
            "DataUploadFrequency": self.frequency,
        }
        if latest:
            out["LatestInferenceResult"] = latest
        return out

    def brief(self, status: str, model_arn: str) -> dict:
        """Start/StopInferenceScheduler's response members."""
        return {
            "ModelArn": model_arn,
            "ModelName": self.model_name,
            "InferenceSchedulerName": self.name,
            "InferenceSchedulerArn": self.arn,
            "Status": status,
        }
