"""Datasets and data ingestion jobs of the embedded endpoint (the datasets service of :class:`~.backend.Backend`).

CreateDataset, StartDataIngestionJob (files read in a background thread by :mod:`..learning.ingest`) and the
other dataset operations; what they do where the service documents nothing (a SUCCESS ingestion replaces the
dataset's data, a FAILED one keeps it; one job at a time per dataset) is in ``docs/endpoint.md`` (Datasets and
ingestion). The data is saved as a data file (:mod:`..storage.datafiles`) of the state store (its ``files``: under
``<state_dir>/datasets/``, or in the PostgreSQL database that every serve process reads) before the job reports
SUCCESS, and read back lazily after a restart or by another serve process.

The seams other parts code against: :meth:`Datasets.dataset`, :meth:`Datasets.dataset_data` and
:meth:`Datasets.put_dataset_data`. DeleteDataset refuses while a model uses the dataset: it asks
:attr:`Datasets.users` (the models service, wired by :class:`~.backend.Backend`): ``users.dataset_in_use(region,
name)``.

>>> import pandas as pd
>>> from lookout_nb.service.api.core import Core
>>> from lookout_nb.service.clock import ManualClock
>>> b = Datasets(Core(ManualClock()))
>>> t = pd.date_range("2026-01-01", periods=3, freq="min", tz="UTC", name="Timestamp")
>>> b.put_dataset_data("us-east-1", "pump", IngestedData(ModelSchema.parse({"pump": ["Flow"]}),
...                    {"pump": pd.DataFrame({"Flow": [1.0, 2.0, 3.0]}, index=t)}))
>>> b.describe_dataset("us-east-1", {"DatasetName": "pump"})["Status"]
'ACTIVE'
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from typing import Protocol

from ...contract.schema import ModelSchema, SchemaError
from ..learning import ingest
from ..state.files import DataFiles
from ..storage import datafiles
from .core import Core, page
from .datarecords import DEFAULT_ROLE, Dataset, IngestionJob
from .exceptions import (
    ConflictException,
    InternalServerException,
    ResourceNotFoundException,
    ValidationException,
)
from .records import stable_id
from .rules import check_schema

log = logging.getLogger(__name__)
INTERRUPTED = "The endpoint stopped while this ingestion was in progress; start the ingestion again"


@dataclass
class IngestedData:
    """What a dataset holds after a SUCCESS ingestion: its schema, and per component a frame indexed by UTC time
    (sorted, unique, named ``Timestamp``) with one float64 column per sensor of the schema."""

    schema: ModelSchema
    frames: dict


class DatasetUsers(Protocol):
    """Who may use a dataset (the models service): DeleteDataset asks it."""

    def dataset_in_use(self, region: str, dataset_name: str) -> list[str]: ...


class NoUsers:
    """No resource uses a dataset (a datasets service on its own)."""

    def dataset_in_use(self, region: str, dataset_name: str) -> list[str]:
        return []


def data_file_name(region: str, dataset: str, job_id: str) -> str:
    """The data file (of the store's ``files``, see :mod:`..storage.datafiles`) of ``dataset``'s data as
    ingestion ``job_id`` left it.

    >>> data_file_name("us-east-1", "pump", "0f3c").endswith("-0f3c.npz")
    True
    """
    return f"{stable_id('data', region, dataset)}-{job_id}.npz"


def parse_schema(text: str) -> ModelSchema:
    """The ModelSchema of an InlineDataSchema; ValidationException saying what is wrong and what is expected.

    >>> parse_schema('{"Components": [{"ComponentName": "pump", "Columns": [{"Name": "Timestamp", '
    ...              '"Type": "DATETIME"}, {"Name": "Flow", "Type": "DOUBLE"}]}]}').sensors
    {'pump': ('Flow',)}
    """
    field = "DatasetSchema.InlineDataSchema"
    try:
        schema = ModelSchema.parse(text)
        components = json.loads(text)["Components"]
    except (SchemaError, ValueError, KeyError, TypeError) as err:
        raise ValidationException(f"{field}: {err}") from None
    check_schema(schema.columns, field)
    for comp in components:
        name, columns = comp.get("ComponentName"), comp.get("Columns") or []
        types = [c.get("Type") for c in columns]
        if len(types) < 2 or types[0] != "DATETIME" or any(t != "DOUBLE" for t in types[1:]):
            raise ValidationException(
                f"{field}: component {name} must have a first column of Type DATETIME (the timestamp) and at least "
                f"one sensor column of Type DOUBLE (found types {types})")
    return schema


class Datasets:
    """The dataset and ingestion operations (the files are read with ``core.data_reader``)."""

    def __init__(self, core: Core, users: DatasetUsers | None = None):
        self.core = core
        #: Asked before DeleteDataset: the models service once the Backend wires it.
        self.users: DatasetUsers = users or NoUsers()
        self.datasets: dict[str, dict[str, Dataset]] = {}  # region -> name -> dataset
        self.ingestions: dict[str, dict[str, IngestionJob]] = {}  # region -> job id -> job
        self.dataset_cache: dict[tuple[str, str], IngestedData] = {}

    def _datasets(self, region: str) -> dict[str, Dataset]:
        return self.datasets.setdefault(region, {})

    def _jobs_of(self, region: str) -> dict[str, IngestionJob]:
        return self.ingestions.setdefault(region, {})

    def dataset(self, region: str, name: str) -> Dataset:
        """Dataset ``name`` of ``region``; ResourceNotFoundException naming it when there is none."""
        found = self._datasets(region).get(name)
        if found is None:
            raise ResourceNotFoundException(f"Dataset {name} does not exist")
        return found

    def _running_job(self, region: str, name: str) -> IngestionJob | None:
        return next((j for j in self._jobs_of(region).values() if j.dataset_name == name and j.status == "IN_PROGRESS"),
                    None)

    def _files(self) -> DataFiles | None:
        store = self.core.store
        return store.files if store is not None else None

    # -- datasets ----------------------------------------------------------------------------------------------
    def create_dataset(self, region: str, params: dict) -> dict:
        name, token = params["DatasetName"], params["ClientToken"]
        inline = (params.get("DatasetSchema") or {}).get("InlineDataSchema")
        schema = parse_schema(inline) if inline else None
        with self.core.lock, self.core.change() as change:
            existing = self._datasets(region).get(name)
            if existing is not None:
                if existing.client_token != token:
                    raise ConflictException(f"Dataset {name} already exists")
                return {"DatasetName": name, "DatasetArn": existing.arn, "Status": self._dataset_status(existing)}
            now = self.core.clock.now()
            d = Dataset(region, name, now, now, schema.to_json() if schema else None,
                        kms_key_id=params.get("ServerSideKmsKeyId"), client_token=token,
                        tags=list(params.get("Tags") or []))
            change.entry("dataset", region, self._datasets(region), name)
            self._datasets(region)[name] = d
            return {"DatasetName": name, "DatasetArn": d.arn, "Status": "CREATED"}

    def _dataset_status(self, d: Dataset) -> str:
        return d.status(self._running_job(d.region, d.name) is not None)

    def describe_dataset(self, region: str, params: dict) -> dict:
        with self.core.lock:
            d = self.dataset(region, params["DatasetName"])
            return d.describe(self._running_job(region, d.name) is not None)

    def list_datasets(self, region: str, params: dict) -> dict:
        begins = params.get("DatasetNameBeginsWith")
        with self.core.lock:
            items = [d.summary(self._running_job(region, d.name) is not None)
                     for name, d in sorted(self._datasets(region).items()) if not begins or name.startswith(begins)]
        return page(items, params, "DatasetSummaries")

    def delete_dataset(self, region: str, params: dict) -> dict:
        name = params["DatasetName"]
        with self.core.lock, self.core.change() as change:
            d = self.dataset(region, name)
            job = self._running_job(region, name)
            if job is not None:
                raise ConflictException(f"Dataset {name} has data ingestion job {job.job_id} in progress; wait for it "
                                        "to end (DescribeDataIngestionJob), then delete the dataset")
            users = self.users.dataset_in_use(region, name)
            if users:
                raise ConflictException(f"Dataset {name} is used by model{'s' if len(users) > 1 else ''} "
                                        f"{', '.join(users)}; delete {'them' if len(users) > 1 else 'it'} first")
            change.entry("dataset", region, self._datasets(region), name)
            del self._datasets(region)[name]
            jobs = self._jobs_of(region)
            for job_id in [j.job_id for j in jobs.values() if j.dataset_name == name]:
                change.entry("ingestion", region, jobs, job_id)
                del jobs[job_id]
        self.dataset_cache.pop((region, name), None)
        files = self._files()
        if d.data_file and files is not None:
            files.remove(d.data_file)
        return {}

    # -- the data ----------------------------------------------------------------------------------------------
    def dataset_data(self, region: str, dataset_name: str) -> IngestedData:
        """The data of a dataset (read from its file once after a restart, or when another serve process ingested
        it). ResourceNotFoundException for an unknown dataset, ValidationException when no ingestion succeeded yet."""
        with self.core.lock:
            d = self.dataset(region, dataset_name)
            cached = self.dataset_cache.get((region, dataset_name))
            if cached is not None:
                return cached
            if not d.has_data:
                raise ValidationException(f"Dataset {dataset_name} has no ingested data yet: start a data ingestion "
                                          "job (StartDataIngestionJob) and wait for its SUCCESS")
            files, name = self._files(), d.data_file
            if files is None or not name:
                raise InternalServerException(
                    f"Dataset {dataset_name}: its data is not kept by this endpoint; ingest it again")
        try:  # outside the lock: the other operations (of every serve process) go on while the file is read
            with files.open(name) as stream:
                schema, frames = datafiles.read(stream)
        except ValueError as err:
            raise InternalServerException(f"Dataset {dataset_name}: {err}; ingest the data again") from None
        data = IngestedData(schema, frames)
        with self.core.lock:
            now = self._datasets(region).get(dataset_name)
            if now is not None and now.data_file == name:  # not ingested again meanwhile
                self.dataset_cache[region, dataset_name] = data
        return data

    def put_dataset_data(self, region: str, dataset_name: str, data: IngestedData) -> None:
        """Make ``data`` the dataset's data (creating the dataset if it is absent), durably."""
        self._store_data(region, dataset_name, data)

    def _store_data(self, region: str, name: str, data: IngestedData,
                    succeeded: tuple[str, ingest.Ingested] | None = None) -> None:
        """Write the data file, then commit the dataset (and, given ``succeeded``: an ingestion job's id and its
        result, the job's SUCCESS) naming it; the file it replaces is removed after the commit, the new one when
        the commit fails."""
        files, file = self._files(), None
        if files is not None:
            file = data_file_name(region, name, succeeded[0] if succeeded else uuid.uuid4().hex)
            with files.create(file) as out:  # streamed: the whole file is never in memory
                datafiles.write(out, data.schema, data.frames)
        frames = [f for f in data.frames.values() if len(f)]
        try:
            with self.core.lock:  # cached before the lock goes: a client never sees SUCCESS with the old data
                with self.core.change() as change:
                    table, now = self._datasets(region), self.core.clock.now()
                    change.entry("dataset", region, table, name)
                    d = table.setdefault(name, Dataset(region, name, now, client_token=uuid.uuid4().hex))
                    old = d.data_file
                    d.schema, d.has_data, d.data_file, d.updated_at = data.schema.to_json(), True, file, now
                    d.data_start = min((f.index[0] for f in frames), default=None)
                    d.data_end = max((f.index[-1] for f in frames), default=None)
                    if succeeded is not None:
                        self._succeed(change, region, succeeded[0], d, succeeded[1])
                self.dataset_cache[region, name] = data
        except BaseException:
            if files is not None and file is not None:
                files.remove(file)
            raise
        if old and old != file and files is not None:
            files.remove(old)

    def _succeed(self, change, region: str, job_id: str, d: Dataset, result: ingest.Ingested) -> None:
        """Record ingestion ``job_id``'s SUCCESS and its summaries on the dataset ``d`` (inside ``change``)."""
        job = self._jobs_of(region)[job_id]
        change.entry("ingestion", region, self._jobs_of(region), job_id)
        d.quality, d.files = result.quality, result.files
        job.status, job.quality, job.files, job.size = "SUCCESS", result.quality, result.files, result.size
        job.data_start, job.data_end, job.status_detail = result.start, result.end, result.detail
        job.statistics = result.statistics

    # -- ingestion jobs ----------------------------------------------------------------------------------------
    def start_ingestion(self, region: str, params: dict) -> dict:
        name, token = params["DatasetName"], params["ClientToken"]
        config = params["IngestionInputConfiguration"]
        try:
            ingest.delimiter_of(config["S3InputConfiguration"].get("KeyPattern"))
        except ValueError as err:
            raise ValidationException(str(err)) from None
        with self.core.lock, self.core.change() as change:
            d = self.dataset(region, name)
            jobs = self._jobs_of(region)
            same = next((j for j in jobs.values() if j.client_token == token and j.dataset_name == name), None)
            if same is not None:
                return {"JobId": same.job_id, "Status": same.status}
            running = self._running_job(region, name)
            if running is not None:
                raise ConflictException(f"Dataset {name} has data ingestion job {running.job_id} in progress; wait "
                                        "for it to end before starting another one")
            job = IngestionJob(uuid.uuid4().hex, region, name, config, params.get("RoleArn") or DEFAULT_ROLE,
                               self.core.clock.now(), client_token=token)
            change.entry("ingestion", region, jobs, job.job_id)
            change.entry("dataset", region, self._datasets(region), name)
            jobs[job.job_id] = job
            d.ingestion, d.role_arn = config, job.role_arn
        self.core.work.background(f"ingest-{job.job_id[:8]}", self._run_job, region, job.job_id)
        return {"JobId": job.job_id, "Status": "IN_PROGRESS"}

    def resume_ingestion(self, region: str, job_id: str) -> None:
        """Run ingestion job ``job_id`` (IN_PROGRESS) again: it was taken over from a serve process that died."""
        with self.core.lock:
            job = self._jobs_of(region).get(job_id)
            if job is None or job.status != "IN_PROGRESS":
                return
        log.warning("lookout_nb.service: ingestion job %s, in progress in a serve process that stopped beating, is "
                    "run again here", job_id)
        self.core.work.background(f"ingest-{job_id[:8]}", self._run_job, region, job_id)

    def _run_job(self, region: str, job_id: str) -> None:
        """The job's background thread: read the files, then record SUCCESS (with the data) or FAILED."""
        with self.core.lock:
            job = self._jobs_of(region)[job_id]
            d = self._datasets(region)[job.dataset_name]
            schema = ModelSchema.parse(d.schema) if d.schema else None
        s3 = job.input_config["S3InputConfiguration"]
        try:
            if self.core.data_reader is None:
                raise ingest.IngestFailed("This endpoint has no S3 to read the files from")
            result = ingest.ingest(self.core.data_reader, s3["Bucket"], s3.get("Prefix"), s3.get("KeyPattern"),
                                   schema, self.core.work.stopping)
            self._store_data(region, job.dataset_name, IngestedData(result.schema, result.frames), (job_id, result))
        except ingest.IngestFailed as err:
            self._fail_job(region, job_id, str(err), err.files)
        except Exception as err:
            log.exception("lookout_nb.service: ingestion job %s failed", job_id)
            self._fail_job(region, job_id, f"Internal error of the embedded endpoint: {type(err).__name__}: {err}")

    def _fail_job(self, region: str, job_id: str, reason: str, files: dict | None = None) -> None:
        try:
            with self.core.lock, self.core.change() as change:
                jobs = self._jobs_of(region)
                if job_id not in jobs:
                    return
                change.entry("ingestion", region, jobs, job_id)
                jobs[job_id].status, jobs[job_id].failed_reason, jobs[job_id].files = "FAILED", reason[:5000], files
        except Exception:  # e.g. the store closed while the endpoint stops: the restart FAILS it
            log.warning("lookout_nb.service: could not record the end of ingestion job %s", job_id, exc_info=True)

    def describe_ingestion(self, region: str, params: dict) -> dict:
        with self.core.lock:
            job = self._jobs_of(region).get(params["JobId"])
            if job is None:
                raise ResourceNotFoundException(f"Data ingestion job {params['JobId']} does not exist")
            return job.describe()

    def list_ingestions(self, region: str, params: dict) -> dict:
        name, status = params.get("DatasetName"), params.get("Status")
        with self.core.lock:
            jobs = sorted(self._jobs_of(region).values(), key=lambda j: (j.created_at, j.job_id), reverse=True)
            items = [j.summary() for j in jobs
                     if (not name or j.dataset_name == name) and (not status or j.status == status)]
        return page(items, params, "DataIngestionJobSummaries")
