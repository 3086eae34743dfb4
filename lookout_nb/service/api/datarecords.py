"""Plain records of the endpoint's model-building half: datasets, ingestion jobs, label groups and labels.

Like :mod:`.records`, they hold state only and render themselves as the API's response members; the backend
(:mod:`.datasets`, :mod:`.labels`) changes them under its lock and the store saves them (kinds ``dataset``,
``ingestion``, ``labelgroup``, ``label``; :data:`CHECKS` tells :mod:`.restore` what each saved field must be).

>>> d = Dataset("us-east-1", "pump", pd.Timestamp("2026-01-05T09:00Z"))
>>> d.describe(in_progress=False)["Status"], d.arn.split(":")[5].split("/")[:2]
('CREATED', ['dataset', 'pump'])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .records import ACCOUNT, arn, stable_id

DEFAULT_ROLE = f"arn:aws:iam::{ACCOUNT}:role/LookoutEquipmentDemo"


def dataset_arn(region: str, name: str) -> str:
    """The ARN of dataset ``name`` (the same one a model's DatasetArn names)."""
    return arn(region, "dataset", name, stable_id("dataset", name))


@dataclass
class Dataset:
    """A dataset: its schema (JSON text, None until the first ingestion gives one) and what its data holds.

    ``data_file`` is the name of the file under ``<state_dir>/datasets/`` holding the ingested frames (None: no
    data yet, or a memory-only endpoint); ``has_data`` tells whether an ingestion succeeded.
    """

    region: str
    name: str
    created_at: pd.Timestamp
    updated_at: pd.Timestamp | None = None
    schema: str | None = None
    has_data: bool = False
    data_file: str | None = None
    ingestion: dict | None = None  # IngestionInputConfiguration of the last job started
    quality: dict | None = None  # of the data held (the last SUCCESS job)
    files: dict | None = None
    data_start: pd.Timestamp | None = None
    data_end: pd.Timestamp | None = None
    role_arn: str | None = None
    kms_key_id: str | None = None
    client_token: str = ""
    tags: list = field(default_factory=list)

    @property
    def arn(self) -> str:
        return dataset_arn(self.region, self.name)

    def status(self, in_progress: bool) -> str:
        return "INGESTION_IN_PROGRESS" if in_progress else "ACTIVE" if self.has_data else "CREATED"

    def describe(self, in_progress: bool) -> dict:
        """DescribeDataset's response members."""
        return {
            "DatasetName": self.name, "DatasetArn": self.arn, "CreatedAt": self.created_at,
            "LastUpdatedAt": self.updated_at or self.created_at, "Status": self.status(in_progress),
            "Schema": self.schema, "ServerSideKmsKeyId": self.kms_key_id,
            "IngestionInputConfiguration": self.ingestion, "DataQualitySummary": self.quality,
            "IngestedFilesSummary": self.files, "RoleArn": self.role_arn,
            "DataStartTime": self.data_start, "DataEndTime": self.data_end,
        }

    def summary(self, in_progress: bool) -> dict:
        return {"DatasetName": self.name, "DatasetArn": self.arn, "Status": self.status(in_progress),
                "CreatedAt": self.created_at}


@dataclass
class IngestionJob:
    """A data ingestion job: IN_PROGRESS until its background reading ends in SUCCESS or FAILED."""

    job_id: str
    region: str
    dataset_name: str
    input_config: dict
    role_arn: str
    created_at: pd.Timestamp
    client_token: str = ""
    status: str = "IN_PROGRESS"
    failed_reason: str | None = None
    status_detail: str | None = None
    quality: dict | None = None
    files: dict | None = None
    size: int | None = None
    data_start: pd.Timestamp | None = None
    data_end: pd.Timestamp | None = None
    statistics: list | None = None  # ListSensorStatistics' summaries of a SUCCESS job

    def describe(self) -> dict:
        """DescribeDataIngestionJob's response members."""
        return {
            "JobId": self.job_id, "DatasetArn": dataset_arn(self.region, self.dataset_name),
            "IngestionInputConfiguration": self.input_config, "RoleArn": self.role_arn,
            "CreatedAt": self.created_at, "Status": self.status, "FailedReason": self.failed_reason,
            "DataQualitySummary": self.quality, "IngestedFilesSummary": self.files,
            "StatusDetail": self.status_detail, "IngestedDataSize": self.size,
            "DataStartTime": self.data_start, "DataEndTime": self.data_end,
        }

    def summary(self) -> dict:
        return {"JobId": self.job_id, "DatasetName": self.dataset_name,
                "DatasetArn": dataset_arn(self.region, self.dataset_name),
                "IngestionInputConfiguration": self.input_config, "Status": self.status}


@dataclass
class LabelGroup:
    """A label group: a name, the fault codes its labels may carry."""

    region: str
    name: str
    created_at: pd.Timestamp
    updated_at: pd.Timestamp
    fault_codes: list = field(default_factory=list)
    client_token: str = ""
    tags: list = field(default_factory=list)

    @property
    def arn(self) -> str:
        return arn(self.region, "label-group", self.name, stable_id("label-group", self.name))

    def describe(self) -> dict:
        return {"LabelGroupName": self.name, "LabelGroupArn": self.arn, "FaultCodes": list(self.fault_codes),
                "CreatedAt": self.created_at, "UpdatedAt": self.updated_at}

    def summary(self) -> dict:
        return {"LabelGroupName": self.name, "LabelGroupArn": self.arn, "CreatedAt": self.created_at,
                "UpdatedAt": self.updated_at}


@dataclass
class Label:
    """One label of a group: a time range (start < end) with a rating."""

    region: str
    group: str
    label_id: str
    start: pd.Timestamp
    end: pd.Timestamp
    rating: str
    created_at: pd.Timestamp
    fault_code: str | None = None
    notes: str | None = None
    equipment: str | None = None
    client_token: str = ""

    def describe(self, group_arn: str) -> dict:
        return {**self.summary(group_arn), "Notes": self.notes}

    def summary(self, group_arn: str) -> dict:
        return {"LabelGroupName": self.group, "LabelId": self.label_id, "LabelGroupArn": group_arn,
                "StartTime": self.start, "EndTime": self.end, "Rating": self.rating, "FaultCode": self.fault_code,
                "Equipment": self.equipment, "CreatedAt": self.created_at}


def _ts(v) -> bool:
    return isinstance(v, pd.Timestamp) and v.tzinfo is not None


def _opt(check):
    return lambda v: v is None or check(v)


def _is(*types):
    return lambda v: isinstance(v, types) and not (bool not in types and isinstance(v, bool))


_str, _dict, _list, _int = _is(str), _is(dict), _is(list), _is(int)


def _STATUS(v):
    return v in ("IN_PROGRESS", "SUCCESS", "FAILED")


def _RATING(v):
    return v in ("ANOMALY", "NO_ANOMALY", "NEUTRAL")


#: What every saved field must be; :mod:`.restore` builds the records with these checks.
CHECKS = {
    Dataset: dict(region=_str, name=_str, created_at=_ts, updated_at=_opt(_ts), schema=_opt(_str),
                  has_data=_is(bool), data_file=_opt(_str), ingestion=_opt(_dict), quality=_opt(_dict),
                  files=_opt(_dict), data_start=_opt(_ts), data_end=_opt(_ts), role_arn=_opt(_str),
                  kms_key_id=_opt(_str), client_token=_str, tags=_list),
    IngestionJob: dict(job_id=_str, region=_str, dataset_name=_str, input_config=_dict, role_arn=_str,
                       created_at=_ts, client_token=_str, status=_STATUS, failed_reason=_opt(_str),
                       status_detail=_opt(_str), quality=_opt(_dict), files=_opt(_dict), size=_opt(_int),
                       data_start=_opt(_ts), data_end=_opt(_ts), statistics=_opt(_list)),
    LabelGroup: dict(region=_str, name=_str, created_at=_ts, updated_at=_ts, fault_codes=_list, client_token=_str,
                     tags=_list),
    Label: dict(region=_str, group=_str, label_id=_str, start=_ts, end=_ts, rating=_RATING, created_at=_ts,
                fault_code=_opt(_str), notes=_opt(_str), equipment=_opt(_str), client_token=_str),
}
KINDS = {Dataset: "dataset", IngestionJob: "ingestion", LabelGroup: "labelgroup", Label: "label"}
