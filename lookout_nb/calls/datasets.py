"""Datasets: create one from a local folder of CSVs (uploaded) or an S3 prefix, ingest it and wait, list, delete.

Every function takes ``client=`` (a ``lookoutequipment`` client), ``s3=`` where it reads or writes S3, or
``session=``; otherwise boto3's defaults apply. Refusals become the toolkit's typed errors.

>>> import lookout_nb as lnb
>>> ds = lnb.create_dataset("pump-data", "pump-csvs/", bucket="my-bucket")   # doctest: +SKIP
>>> job = lnb.ingest(ds, role_arn="arn:aws:iam::123456789012:role/L4E")     # doctest: +SKIP
>>> job.quality_table()                                                     # doctest: +SKIP

``create_dataset`` checks a local folder first (:func:`lookout_nb.calls.datafolder.check_folder`: every file that an
ingestion would discard or fail on is named before anything is sent), takes the schema from the files' headers
unless one is given, uploads the files under ``s3://bucket/prefix/<component>/`` (the layout of the default
KeyPattern ``{prefix}/{component_name}/*``) and creates the dataset. ``ingest`` starts a data ingestion job, waits
for it with a timeout and a progress bar, and returns an :class:`IngestionResult` (raising
:class:`~lookout_nb.errors.JobFailed` with the service's reason when the job FAILS).
"""

from __future__ import annotations

import hashlib
import html
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..contract._aws import lookout_client, s3_client
from ..contract._display import whole
from ..contract.schema import ModelSchema
from ..errors import InvalidArgument, JobFailed, ResourceConflict
from . import _tables
from ._service import call, pages, utc
from ._wait import wait_while
from .datafolder import base_prefix, check_bucket, check_folder, upload_folder

__all__ = ["DatasetInfo", "IngestionResult", "create_dataset", "delete_dataset", "describe_dataset", "ingest",
           "ingestion_jobs", "list_datasets", "quality_table", "s3_location"]

DATASET_COLUMNS = {"name": _tables.TEXT, "status": _tables.TEXT, "created_at": _tables.TIME, "arn": _tables.TEXT}
JOB_COLUMNS = {"job_id": _tables.TEXT, "dataset": _tables.TEXT, "status": _tables.TEXT, "bucket": _tables.TEXT,
               "prefix": _tables.TEXT}
#: DataQualitySummary entries: (path, affected sensors key, count key, what it means and what to do).
_QUALITY = (
    ("MissingSensorData", "AffectedSensorCount", "TotalNumberOfMissingValues",
     "empty cells: training fills short gaps from neighbouring rows; long gaps weaken the model"),
    ("InvalidSensorData", "AffectedSensorCount", "TotalNumberOfInvalidValues",
     "cells that are not numbers or are infinite, read as missing: fix them in the files"),
    ("UnsupportedTimestamps", None, "TotalNumberOfUnsupportedTimestamps",
     "rows whose timestamp cannot be read were dropped: write ISO 8601 UTC times"),
    ("DuplicateTimestamps", None, "TotalNumberOfDuplicateTimestamps",
     "repeated timestamps: the first row of each was kept"),
    ("InsufficientSensorData.MissingCompleteSensorData", "AffectedSensorCount", None,
     "sensors without a single value: leave them out of the model's schema"),
    ("InsufficientSensorData.SensorsWithShortDateRange", "AffectedSensorCount", None,
     "sensors whose values span less than 14 days: the service wants months of history"),
)


def s3_location(uri: str) -> tuple[str, str]:
    """``(bucket, prefix)`` of ``s3://bucket/prefix``; InvalidArgument naming the value otherwise.

    >>> s3_location("s3://lookout-data/datasets/pump/")
    ('lookout-data', 'datasets/pump/')
    """
    if not isinstance(uri, str) or not uri.startswith("s3://") or not uri[5:].split("/", 1)[0]:
        raise InvalidArgument(f"source: {uri!r} is not an S3 location: write s3://bucket/prefix/")
    bucket, _, prefix = uri[5:].partition("/")
    return bucket, prefix


@dataclass(frozen=True)
class DatasetInfo:
    """A dataset as DescribeDataset shows it, with ``source``: where its files are (``s3://...``) when known."""

    name: str
    arn: str
    status: str
    schema: dict = field(default_factory=dict)
    source: str | None = None
    data_start: pd.Timestamp | None = None
    data_end: pd.Timestamp | None = None
    created_at: pd.Timestamp | None = None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_describe(cls, raw: dict, source: str | None = None) -> DatasetInfo:
        schema = ModelSchema.parse(raw["Schema"]).sensors if raw.get("Schema") else {}
        s3 = ((raw.get("IngestionInputConfiguration") or {}).get("S3InputConfiguration") or {})
        if source is None and s3.get("Bucket"):
            source = f"s3://{s3['Bucket']}/{s3.get('Prefix') or ''}"
        return cls(raw["DatasetName"], raw["DatasetArn"], raw["Status"], {c: list(s) for c, s in schema.items()},
                   source, utc(raw.get("DataStartTime")), utc(raw.get("DataEndTime")), utc(raw.get("CreatedAt")), raw)

    def _repr_html_(self) -> str:
        schema = "; ".join(f"{c}: {', '.join(s)}" for c, s in self.schema.items()) or "none yet"
        rows = {"Status": self.status, "Schema": schema, "Source": self.source or "", "Data from": self.data_start,
                "Data to": self.data_end, "ARN": self.arn}
        return _html_table(f"Dataset {self.name}", rows)


@dataclass(frozen=True)
class IngestionResult:
    """A data ingestion job: status, the files read and discarded, the data's time span and its quality."""

    job_id: str
    dataset: str
    status: str
    source: str
    failed_reason: str | None = None
    status_detail: str | None = None
    total_files: int | None = None
    ingested_files: int | None = None
    discarded_files: tuple = ()
    data_start: pd.Timestamp | None = None
    data_end: pd.Timestamp | None = None
    quality: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_describe(cls, raw: dict, dataset: str) -> IngestionResult:
        files = raw.get("IngestedFilesSummary") or {}
        s3 = (raw.get("IngestionInputConfiguration") or {}).get("S3InputConfiguration") or {}
        discarded = tuple(f"s3://{d.get('Bucket')}/{d.get('Key')}" for d in files.get("DiscardedFiles") or ())
        return cls(raw["JobId"], dataset, raw["Status"], f"s3://{s3.get('Bucket')}/{s3.get('Prefix') or ''}",
                   raw.get("FailedReason"), raw.get("StatusDetail"), files.get("TotalNumberOfFiles"),
                   files.get("IngestedNumberOfFiles"), discarded, utc(raw.get("DataStartTime")),
                   utc(raw.get("DataEndTime")), raw.get("DataQualitySummary") or {})

    def quality_table(self) -> pd.DataFrame:
        """The job's DataQualitySummary as a table (see :func:`quality_table`)."""
        return quality_table(self.quality)

    def _repr_html_(self) -> str:
        rows = {"Status": self.status, "Source": self.source, "Files": f"{self.ingested_files} of "
                f"{self.total_files} ingested", "Data from": self.data_start, "Data to": self.data_end}
        if self.failed_reason:
            rows["Failed because"] = self.failed_reason
        if self.discarded_files:
            rows["Discarded"] = ", ".join(self.discarded_files)
        table = self.quality_table()
        shown = table[table["count"] > 0]
        quality = shown.to_html(index=False) if len(shown) else "<p>No data quality problem found.</p>"
        return _html_table(f"Ingestion {self.job_id} of {self.dataset}", rows) + quality


def quality_table(summary: dict) -> pd.DataFrame:
    """A DataQualitySummary as one row per check: ``check, affected_sensors, count, meaning``.

    >>> table = quality_table({"DuplicateTimestamps": {"TotalNumberOfDuplicateTimestamps": 3}})
    >>> table.loc[table["count"] > 0, ["check", "count"]].to_dict("records")
    [{'check': 'DuplicateTimestamps', 'count': 3}]
    """
    rows = []
    for path, sensors_key, count_key, meaning in _QUALITY:
        node = summary or {}
        for part in path.split("."):
            node = (node or {}).get(part) or {}
        sensors = node.get(sensors_key) if sensors_key else None
        count = node.get(count_key) if count_key else sensors
        rows.append({"check": path.split(".")[-1], "affected_sensors": sensors, "count": count or 0,
                     "meaning": meaning})
    frame = pd.DataFrame(rows, columns=["check", "affected_sensors", "count", "meaning"])
    return whole(frame.astype({"check": _tables.TEXT, "affected_sensors": "Int64", "count": "Int64",
                               "meaning": _tables.TEXT}))


def _html_table(title: str, rows: dict) -> str:
    body = "".join(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
                   f"<td>{html.escape('' if v is None else str(v))}</td></tr>" for k, v in rows.items())
    return f"<div><b>{html.escape(title)}</b><table>{body}</table></div>"


# -- create ---------------------------------------------------------------------------------------------------------
def create_dataset(name: str, source=None, *, schema=None, bucket: str | None = None, prefix: str | None = None,
                   check: bool = True, tags=None, progress: bool = True, client=None, s3=None,
                   session=None) -> DatasetInfo:
    """Create dataset ``name`` from ``source``: a local folder (checked, then uploaded) or ``s3://bucket/prefix``.

    A local folder is laid out as :mod:`lookout_nb.calls.datafolder` says (one sub-folder per component). With
    ``check`` its files are read first and every one an ingestion would discard or fail on is named in a
    :class:`~lookout_nb.errors.DataFilesInvalid` before anything is sent. The files go to ``s3://bucket/prefix/``
    (``prefix`` defaults to ``<name>/``). ``schema`` (``{component: [sensors]}`` or the service's JSON) defaults to
    the files' headers; for an S3 source without one, the first ingestion gives the schema. Creating the same
    dataset again returns it (the client token comes from the name and schema).

    Example
    -------
    >>> create_dataset("pump-data", "pump-csvs/", bucket="lookout-data").source      # doctest: +SKIP
    's3://lookout-data/pump-data/'
    """
    client = lookout_client(client, session)
    location = report = None
    if isinstance(source, str) and source.startswith("s3://"):
        location = source if source.endswith("/") or not s3_location(source)[1] else source + "/"
    elif source is not None:
        report = check_folder(source, schema)
        if check:
            report.raise_for_errors()
        if not bucket:
            raise InvalidArgument("bucket: a local folder is uploaded to S3 before the ingestion reads it; give "
                                  "bucket='...' (and prefix=..., default '<dataset name>/')")
        s3 = s3_client(s3, session)
        check_bucket(s3, bucket)
        location = f"s3://{bucket}/{base_prefix(prefix if prefix is not None else name)}"
        schema = schema if schema is not None else report.schema
    _create(name, schema, tags, client)
    if report is not None:  # after the dataset is created: a name taken with another schema uploads nothing
        upload_folder(source, str(bucket), s3_location(str(location))[1], s3, report, progress=progress)
    return describe_dataset(name, client=client, source=location)


def _create(name: str, schema, tags, client) -> None:
    params: dict[str, Any] = {"DatasetName": name}
    if schema is not None:
        params["DatasetSchema"] = {"InlineDataSchema": ModelSchema.parse(schema).to_json()}
    if tags:
        params["Tags"] = [{"Key": k, "Value": v} for k, v in dict(tags).items()]
    params["ClientToken"] = _token(params)
    try:
        call(client, "create_dataset", **params)
    except ResourceConflict as exc:
        raise ResourceConflict(f"dataset {name!r} already exists with another schema: choose another name, or "
                               f"delete it first (delete_dataset({name!r})). The service said: {exc}",
                               operation="CreateDataset") from exc


def _token(params: dict) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:64]


def describe_dataset(name: str, client=None, session=None, source: str | None = None) -> DatasetInfo:
    """The dataset's status, schema, data span and source (the last ingestion's S3 location unless given).

    Example
    -------
    >>> describe_dataset("pump-data").status                                        # doctest: +SKIP
    'ACTIVE'
    """
    raw = call(lookout_client(client, session), "describe_dataset", DatasetName=name)
    return DatasetInfo.from_describe(raw, source)


def list_datasets(name_prefix: str | None = None, client=None, session=None) -> pd.DataFrame:
    """Every dataset (all pages): ``name, status, created_at, arn``.

    Example
    -------
    >>> list_datasets()["name"].tolist()                                            # doctest: +SKIP
    ['pump-data']
    """
    items = pages(lookout_client(client, session), "list_datasets", "DatasetSummaries",
                  DatasetNameBeginsWith=name_prefix)
    rows = [{"name": i.get("DatasetName"), "status": i.get("Status"), "created_at": i.get("CreatedAt"),
             "arn": i.get("DatasetArn")} for i in items]
    return _tables.typed_frame(rows, DATASET_COLUMNS)


def delete_dataset(name: str, client=None, session=None) -> None:
    """Delete a dataset; refused (:class:`~lookout_nb.errors.ResourceConflict` naming them) while models use it
    or an ingestion runs.

    Example
    -------
    >>> delete_dataset("pump-data")                                                 # doctest: +SKIP
    """
    try:
        call(lookout_client(client, session), "delete_dataset", DatasetName=name)
    except ResourceConflict as exc:
        raise ResourceConflict(f"dataset {name!r} cannot be deleted now: {exc}; delete the models trained on it "
                               "first (delete_model), or wait for its ingestion to end",
                               operation="DeleteDataset") from exc


# -- ingest ---------------------------------------------------------------------------------------------------------
def ingest(dataset, source: str | None = None, *, role_arn: str, key_pattern: str | None = None, wait: bool = True,
           timeout: float = 1800, poll: float = 10.0, progress: bool = True, client=None,
           session=None) -> IngestionResult:
    """Start a data ingestion job of ``dataset`` (a name or a :class:`DatasetInfo`) reading ``source``
    (``s3://bucket/prefix/``, default: where :func:`create_dataset` uploaded the files); with ``wait``, wait
    for its end (``timeout`` seconds, progress bar) and return it.

    A FAILED job raises :class:`~lookout_nb.errors.JobFailed` carrying the service's reason (it names the file
    and column) and the :class:`IngestionResult` as ``.result``. A SUCCESS ingestion replaces the dataset's data.

    Example
    -------
    >>> job = ingest("pump-data", "s3://lookout-data/pump-data/", role_arn=role)    # doctest: +SKIP
    >>> job.status, job.quality_table()["count"].sum()                              # doctest: +SKIP
    ('SUCCESS', 0)
    """
    name = dataset.name if isinstance(dataset, DatasetInfo) else dataset
    source = source or (dataset.source if isinstance(dataset, DatasetInfo) else None)
    if not source:
        raise InvalidArgument(f"source: give the S3 location of dataset {name!r}'s files (s3://bucket/prefix/)")
    bucket, prefix = s3_location(source)
    s3_config = {"Bucket": bucket, "Prefix": prefix}
    if key_pattern:
        s3_config["KeyPattern"] = key_pattern
    client = lookout_client(client, session)
    try:
        started = call(client, "start_data_ingestion_job", DatasetName=name, RoleArn=role_arn,
                       IngestionInputConfiguration={"S3InputConfiguration": s3_config}, ClientToken=uuid.uuid4().hex)
    except ResourceConflict as exc:
        raise ResourceConflict(f"dataset {name!r} is being ingested already: {exc}; wait for that job "
                               "(ingestion_jobs(dataset=...)) to end", operation="StartDataIngestionJob") from exc
    job_id = started["JobId"]
    describe = lambda: call(client, "describe_data_ingestion_job", JobId=job_id)  # noqa: E731
    raw = wait_while(describe, "IN_PROGRESS", what=f"ingestion job {job_id} of dataset {name}", timeout=timeout,
                     poll=poll, progress=progress) if wait else describe()
    result = IngestionResult.from_describe(raw, name)
    if result.status == "FAILED":
        raise JobFailed(f"the ingestion of dataset {name!r} from {source} FAILED: {result.failed_reason}", result)
    return result


def ingestion_jobs(dataset: str | None = None, status: str | None = None, client=None, session=None) -> pd.DataFrame:
    """Data ingestion jobs (all pages, newest first): ``job_id, dataset, status, bucket, prefix``.

    Example
    -------
    >>> ingestion_jobs("pump-data", status="FAILED")                               # doctest: +SKIP
    """
    items = pages(lookout_client(client, session), "list_data_ingestion_jobs", "DataIngestionJobSummaries",
                  DatasetName=dataset, Status=status)
    rows = []
    for i in items:
        s3 = (i.get("IngestionInputConfiguration") or {}).get("S3InputConfiguration") or {}
        rows.append({"job_id": i.get("JobId"), "dataset": i.get("DatasetName"), "status": i.get("Status"),
                     "bucket": s3.get("Bucket"), "prefix": s3.get("Prefix")})
    return _tables.typed_frame(rows, JOB_COLUMNS)
