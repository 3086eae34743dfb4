"""Records of the versions room: a model's versions and its active-version lineage, retraining schedulers,
resource policies; each renders its API members (timestamps stay :class:`pandas.Timestamp`).

>>> v = ModelVersion("pump", 1, "us-east-1", "TRAINING", "SUCCESS", pd.Timestamp("2026-01-05", tz="UTC"))
>>> v.arn.endswith("/model-version/1"), v.summary()["SourceType"]
(True, 'TRAINING')
>>> next_retraining(pd.Timestamp("2026-01-01", tz="UTC"), "P1M", pd.Timestamp("2026-02-10", tz="UTC"))
Timestamp('2026-03-01 00:00:00+0000', tz='UTC')
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import pandas as pd

from ..records import RUNNING_STATES, Model, arn, settle_status, stable_id

_PERIOD = re.compile(r"^P(?:(\d)Y)?(?:(\d{1,2})M)?(?:(\d{1,3})D)?$")
#: The documented bounds of RetrainingFrequency.
SHORTEST, LONGEST = pd.Timedelta(days=30), "P1Y"


def model_arn(region: str, name: str) -> str:
    return arn(region, "model", name, stable_id("model", name))


def version_arn(region: str, name: str, version: int) -> str:
    return f"{model_arn(region, name)}/model-version/{version}"


def period(text: str) -> pd.DateOffset:
    """The calendar offset of an ISO 8601 period of years, months and days (``P1M``, ``P3M15D``, ``P150D``);
    ValueError when it is not one.

    >>> pd.Timestamp("2026-01-01") + period("P3M15D")
    Timestamp('2026-04-16 00:00:00')
    """
    m = _PERIOD.match(text or "")
    if not m or not any(m.groups()):
        raise ValueError(f"{text!r} is not a period of years, months and days such as P30D, P1M or P3M15D")
    years, months, days = (int(g or 0) for g in m.groups())
    return pd.DateOffset(years=years, months=months, days=days)


def check_frequency(text: str) -> str | None:
    """Why RetrainingFrequency ``text`` is refused (None: it is between P30D and P1Y).

    >>> check_frequency("P7D")
    'RetrainingFrequency P7D is shorter than 30 days (P30D), the shortest the service allows'
    """
    try:
        offset = period(text)
    except ValueError as err:
        return f"RetrainingFrequency: {err}"
    start = pd.Timestamp("2026-01-01", tz="UTC")
    if start + offset < start + SHORTEST:
        return f"RetrainingFrequency {text} is shorter than 30 days (P30D), the shortest the service allows"
    if start + offset > start + period(LONGEST):
        return f"RetrainingFrequency {text} is longer than one year (P1Y), the longest the service allows"
    return None


def next_retraining(start: pd.Timestamp, frequency: str, after: pd.Timestamp) -> pd.Timestamp:
    """The first of ``start + k * frequency`` (k >= 0) at or after ``after``."""
    offset, k = period(frequency), 0
    when = start
    while when < after:
        k += 1
        when = start + k * offset
    return when


@dataclass
class ModelVersion:
    """One version of a model: what it was trained (or imported) on, how it ended, and how it was promoted."""

    model_name: str
    version: int
    region: str
    source_type: str  # TRAINING | RETRAINING | IMPORT
    status: str  # IN_PROGRESS | SUCCESS | FAILED | IMPORT_IN_PROGRESS | CANCELED
    created_at: pd.Timestamp
    dataset_name: str = ""
    components: dict = field(default_factory=dict)
    sampling_rate: str = "PT1M"
    role_arn: str | None = None
    labels_config: dict | None = None
    off_condition: str | None = None
    kms_key_id: str | None = None
    training_start: pd.Timestamp | None = None
    training_end: pd.Timestamp | None = None
    evaluation_start: pd.Timestamp | None = None
    evaluation_end: pd.Timestamp | None = None
    started_at: pd.Timestamp | None = None
    ended_at: pd.Timestamp | None = None
    failed_reason: str | None = None
    trained: dict | None = None
    diagnostics_config: dict | None = None
    diagnostics_object: dict | None = None
    source_version_arn: str | None = None
    import_start: pd.Timestamp | None = None
    import_end: pd.Timestamp | None = None
    imported_size: int | None = None
    prior_metrics: dict | None = None
    available_days: int | None = None
    promotion_result: str | None = None
    promotion_reason: str | None = None

    @classmethod
    def of(cls, m: Model, version: int, source_type: str, now: pd.Timestamp) -> ModelVersion:
        """The version a training of model ``m`` makes (its fields as the model record holds them now)."""
        return cls(m.name, version, m.region, source_type, m.status, now, m.dataset_name,
                   {c: list(s) for c, s in m.components.items()}, m.sampling_rate, m.role_arn, m.labels_config,
                   m.off_condition, m.kms_key_id, m.training_start, m.training_end, m.evaluation_start,
                   m.evaluation_end, m.started_at, m.ended_at, m.failed_reason, m.trained, m.diagnostics_config)

    def onto(self, m: Model) -> None:
        """Make model record ``m`` score with this version (what UpdateActiveModelVersion and promotion do)."""
        m.trained, m.components, m.sampling_rate = self.trained, dict(self.components), self.sampling_rate
        m.training_start, m.training_end = self.training_start, self.training_end
        m.evaluation_start, m.evaluation_end = self.evaluation_start, self.evaluation_end
        m.off_condition, m.started_at, m.ended_at = self.off_condition, self.started_at, self.ended_at
        m.version = self.version

    @property
    def arn(self) -> str:
        return version_arn(self.region, self.model_name, self.version)

    @property
    def metrics(self) -> dict | None:
        return self.trained.get("metrics") if self.trained else None

    @property
    def quality(self) -> str | None:
        if self.status != "SUCCESS":
            return None
        return Model(self.model_name, self.components, trained=self.trained).quality

    def _model(self) -> Model:
        return Model(self.model_name, self.components, self.sampling_rate, self.dataset_name, self.region)

    def summary(self) -> dict:
        """ListModelVersions' summary members."""
        return {"ModelName": self.model_name, "ModelArn": model_arn(self.region, self.model_name),
                "ModelVersion": self.version, "ModelVersionArn": self.arn, "CreatedAt": self.created_at,
                "Status": self.status, "SourceType": self.source_type, "ModelQuality": self.quality}

    def describe(self) -> dict:
        """DescribeModelVersion's response members (None members are left out on the wire)."""
        m = self._model()
        return {
            **self.summary(), "DatasetName": self.dataset_name, "DatasetArn": m.dataset_arn(self.region),
            "Schema": m.schema_json() if self.components else None, "LabelsInputConfiguration": self.labels_config,
            "TrainingDataStartTime": self.training_start, "TrainingDataEndTime": self.training_end,
            "EvaluationDataStartTime": self.evaluation_start, "EvaluationDataEndTime": self.evaluation_end,
            "RoleArn": self.role_arn, "DataPreProcessingConfiguration": {"TargetSamplingRate": self.sampling_rate},
            "TrainingExecutionStartTime": self.started_at, "TrainingExecutionEndTime": self.ended_at,
            "FailedReason": self.failed_reason,
            "ModelMetrics": json.dumps(self.metrics) if self.metrics is not None else None,
            "LastUpdatedTime": self.ended_at or self.created_at, "ServerSideKmsKeyId": self.kms_key_id,
            "OffCondition": self.off_condition, "SourceModelVersionArn": self.source_version_arn,
            "ImportJobStartTime": self.import_start, "ImportJobEndTime": self.import_end,
            "ImportedDataSizeInBytes": self.imported_size,
            "PriorModelMetrics": json.dumps(self.prior_metrics) if self.prior_metrics is not None else None,
            "RetrainingAvailableDataInDays": self.available_days, "AutoPromotionResult": self.promotion_result,
            "AutoPromotionResultReason": self.promotion_reason,
            "ModelDiagnosticsOutputConfiguration": self.diagnostics_config,
            "ModelDiagnosticsResultsObject": self.diagnostics_object,
        }


@dataclass
class Lineage:
    """Which version of a model is active, since when, and which one was before it."""

    model_name: str
    active: int | None = None
    activated_at: pd.Timestamp | None = None
    previous: int | None = None
    previous_at: pd.Timestamp | None = None

    def activate(self, version: int, now: pd.Timestamp) -> None:
        if self.active is not None and self.active != version:
            self.previous, self.previous_at = self.active, self.activated_at
        self.active, self.activated_at = version, now


@dataclass
class Retraining:
    """A model's retraining scheduler: when it retrains, on how much data, and how it promotes."""

    model_name: str
    region: str
    start_date: pd.Timestamp
    frequency: str
    lookback: str
    promote_mode: str
    created_at: pd.Timestamp
    updated_at: pd.Timestamp
    client_token: str = ""
    state: str = "PENDING"
    changed_at: pd.Timestamp | None = None
    next_run: pd.Timestamp | None = None
    latest_version: int | None = None

    def status(self, now: pd.Timestamp, settle: pd.Timedelta) -> str:
        """The status at ``now``: PENDING -> RUNNING and STOPPING -> STOPPED once the clock has moved on."""
        return settle_status(self, now, (self.changed_at or self.created_at) + settle)

    @property
    def runs(self) -> bool:
        """Whether the retraining dates still lead to trainings (created or started, not stopped)."""
        return self.state in RUNNING_STATES

    def summary(self, status: str) -> dict:
        return {"ModelName": self.model_name, "ModelArn": model_arn(self.region, self.model_name),
                "Status": status, "RetrainingStartDate": self.start_date, "RetrainingFrequency": self.frequency,
                "LookbackWindow": self.lookback}

    def describe(self, status: str) -> dict:
        return {**self.summary(status), "PromoteMode": self.promote_mode, "CreatedAt": self.created_at,
                "UpdatedAt": self.updated_at}


@dataclass
class Policy:
    """A resource policy: the JSON text as put, its revision id and times."""

    resource_arn: str
    text: str
    revision: str
    created_at: pd.Timestamp
    updated_at: pd.Timestamp
