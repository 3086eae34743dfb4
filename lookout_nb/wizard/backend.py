"""The wizard's one door to the services: every method delegates to a lookout_nb module.

The wizard holds no AWS logic. It turns widget values into a :class:`~lookout_nb.contract.request.SchedulerRequest` and
calls the toolkit's own functions (``scheduler``, ``preview``, ``timing``) with the clients it was given, so the
same wizard runs against AWS or the embedded endpoint.

>>> services = Services(now="2026-01-05T09:00Z")  # clients are made on first use, from boto3's defaults
>>> services.now()                                  # without ``now``: the service's own clock
Timestamp('2026-01-05 09:00:00+0000', tz='UTC')
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..calls import models, scheduler
from ..calls.models import ModelInfo as Described
from ..contract import _aws, servicetime
from ..contract.naming import to_utc
from ..contract.schema import ModelSchema, SchemaError
from ..errors import ResourceNotFound
from ..preview import preview_input


@dataclass(frozen=True)
class ModelSummary:
    """One model of the account: name, training status and quality, and (when it was described) its dataset,
    sampling rate, training window and the number of events its evaluation found."""

    name: str
    status: str
    quality: str | None = None
    dataset: str | None = None
    sampling_rate: str | None = None
    training_start: pd.Timestamp | None = None
    training_end: pd.Timestamp | None = None
    events: int | None = None

    @property
    def trained(self) -> bool:
        """Only a model whose training succeeded can run inference."""
        return self.status == "SUCCESS"


@dataclass(frozen=True)
class ModelInfo:
    """What the wizard needs of DescribeModel: schema, sampling rate, quality, dataset, windows, evaluation.

    >>> info = ModelInfo.from_describe({"ModelName": "m", "Status": "SUCCESS",
    ...     "Schema": '{"Components": [{"ComponentName": "pump", "Columns": [{"Name": "Timestamp"}, {"Name": "s1"}]}]}',
    ...     "DataPreProcessingConfiguration": {"TargetSamplingRate": "PT5M"},
    ...     "ModelMetrics": '{"predicted_ranges": [{"start": "2026-01-02T00:00:00", "end": "2026-01-02T01:00:00"}]}'})
    >>> info.components, info.sampling_rate, info.events
    ({'pump': ['s1']}, 'PT5M', 1)
    """

    name: str
    status: str
    components: dict = field(default_factory=dict)
    sampling_rate: str | None = None
    quality: str | None = None
    role_arn: str | None = None
    dataset: str | None = None
    arn: str | None = None
    training: tuple = (None, None)
    evaluation: tuple = (None, None)
    events: int | None = None
    found: tuple | None = None
    off_condition: str | None = None
    labels: str | None = None
    #: The version schedulers score with, since when, and the one before it (None before any version).
    active_version: int | None = None
    activated_at: pd.Timestamp | None = None
    previous_version: int | None = None
    #: The retraining scheduler's status, its next retraining, and the latest retraining's version and status.
    retraining: str | None = None
    next_retraining: pd.Timestamp | None = None
    latest_retraining: tuple | None = None

    @classmethod
    def from_describe(cls, response: dict | Described) -> ModelInfo:
        try:
            components = {name: list(sensors) for name, sensors in ModelSchema.parse(response).sensors.items()}
        except SchemaError:
            components = {}
        described = Described.from_describe(response)
        return cls(
            name=response.get("ModelName") or "",
            status=response.get("Status", ""),
            components=components,
            sampling_rate=described.sampling_rate,
            quality=response.get("ModelQuality"),
            role_arn=response.get("RoleArn"),
            dataset=response.get("DatasetName"),
            arn=response.get("ModelArn"),
            training=described.training,
            evaluation=described.evaluation,
            events=described.events,
            found=described.found,
            off_condition=described.off_condition,
            labels=described.labels,
            active_version=response.get("ActiveModelVersion"),
            activated_at=_utc(response.get("ModelVersionActivatedAt")),
            previous_version=response.get("PreviousActiveModelVersion"),
            retraining=response.get("RetrainingSchedulerStatus"),
            next_retraining=_utc(response.get("NextScheduledRetrainingStartDate")),
            latest_retraining=(response["LatestScheduledRetrainingModelVersion"],
                               response.get("LatestScheduledRetrainingStatus"))
            if response.get("LatestScheduledRetrainingModelVersion") is not None else None,
        )


def _utc(value) -> pd.Timestamp | None:
    return None if value is None else to_utc(value)


class Services:
    """Clients (made lazily) and the toolkit calls the wizard composes (not the endpoint's
    :class:`lookout_nb.service.api.backend.Backend`: this one only calls the toolkit's functions).

    ``now`` is a callable returning the current UTC time, or a fixed time; the default is the time of the
    service the client talks to (:func:`lookout_nb.contract.servicetime.now`: the embedded endpoint's clock, or the real
    time on AWS). When the service gives no time, the wall clock stands in and ``time_notes`` says why.
    """

    def __init__(self, client=None, s3=None, session=None, now=None):
        self._client = client
        self._s3 = s3
        self.session = session
        self._now = now
        #: Why "now" is the wall clock rather than the service's time (empty while the service gives its time).
        self.time_notes: list[str] = []

    # -- clients ---------------------------------------------------------------------------------------------
    @property
    def client(self):
        """The lookoutequipment client (made from boto3's defaults on first use)."""
        if self._client is None:
            self._client = _aws.lookout_client(None, self.session)
        return self._client

    @property
    def s3(self):
        """The S3 client (made from boto3's defaults on first use)."""
        if self._s3 is None:
            self._s3 = _aws.s3_client(None, self.session)
        return self._s3

    def now(self) -> pd.Timestamp:
        """The current time as the scheduler sees it (tz-aware UTC)."""
        value = self._now() if callable(self._now) else self._now
        if value is not None:
            return to_utc(value, "now")
        try:
            client = self.client
        except Exception:  # noqa: BLE001 - e.g. no region: servicetime makes the same attempt and notes why
            client = None
        self.time_notes.clear()  # the notes say why this reading is the wall clock, not why an earlier one was
        return servicetime.now(client, self.session, notes=self.time_notes)

    # -- models ----------------------------------------------------------------------------------------------
    def models(self) -> list[ModelSummary]:
        """Every model of the account, trained or not, each described (ListModels, then DescribeModel each)."""
        table = models.list_models(details=True, client=self.client)
        return [
            ModelSummary(row.name, row.status or "", _text(row.quality), _text(row.dataset), _text(row.sampling_rate),
                         _time(row.training_start), _time(row.training_end), _int(row.events))
            for row in table.itertuples(index=False)
        ]

    def model(self, name: str) -> ModelInfo:
        """Schema, sampling rate, quality, windows and evaluation of one model (DescribeModel)."""
        return ModelInfo.from_describe(models.describe_model(name, client=self.client))

    # -- schedulers ------------------------------------------------------------------------------------------
    def scheduler_names(self) -> set[str]:
        """Names of the schedulers that exist now."""
        return set(scheduler.list_schedulers(client=self.client)["name"])

    def submit(self, request, target_sampling_rate=None):
        """Create the scheduler (idempotent through the request's token); returns at once, usually PENDING.

        The wizard does not wait for RUNNING: its monitor shows the status and refreshes by itself.
        """
        return scheduler.submit(request, client=self.client, wait=False, target_sampling_rate=target_sampling_rate)

    def update(self, name: str, **changes):
        """Change the updatable fields ``changes`` of the scheduler ``name``; returns it described."""
        return scheduler.update(name, client=self.client, **changes)

    def existing(self, request):
        """``None`` when no scheduler has the request's name, else how it differs from the request (a list,
        empty when it matches)."""
        try:
            current = scheduler.request_from_scheduler(request.scheduler_name, client=self.client)
        except ResourceNotFound:
            return None
        return scheduler.differences(current, request)

    def describe(self, name: str) -> scheduler.SchedulerInfo:
        return scheduler.describe(name, client=self.client)

    def start(self, name: str):
        return scheduler.start(name, wait=False, client=self.client)

    def stop(self, name: str):
        return scheduler.stop(name, wait=False, client=self.client)

    def delete(self, name: str):
        """Delete a STOPPED scheduler (the monitor offers Delete only then)."""
        return scheduler.delete(name, client=self.client)

    def executions(self, name: str, start=None) -> pd.DataFrame:
        """The runs whose data starts at or after ``start`` (all when None), oldest first."""
        return scheduler.executions(name, start=start, client=self.client)

    def results(self, name: str, start=None) -> pd.DataFrame:
        """The scored rows of the successful runs whose data starts at or after ``start`` (all when None)."""
        return scheduler.results(name, start=start, client=self.client, s3=self.s3)

    def request_from_scheduler(self, name: str):
        return scheduler.request_from_scheduler(name, client=self.client)

    # -- input -----------------------------------------------------------------------------------------------
    def preview(self, request, components=None, target_sampling_rate=None):
        """What the input location holds (keys, detected naming, samples, findings)."""
        return preview_input(
            request, s3=self.s3, client=self.client, components=components, now=self.now(),
            target_sampling_rate=target_sampling_rate, progress=False,
        )


def _text(value) -> str | None:
    """A nullable text cell as str or None (pandas gives <NA> for a missing one)."""
    return None if pd.isna(value) else str(value)


def _time(value) -> pd.Timestamp | None:
    return None if pd.isna(value) else pd.Timestamp(value)


def _int(value) -> int | None:
    return None if pd.isna(value) else int(value)
