"""The API of the embedded service: the resource services composed on one core, behind the operation names
the protocol dispatches (``backend.create_model(region, params)`` is ``backend.models.create_model(...)``).

Each resource service is handed the same :class:`~.core.Core` (lock, clock, store, S3 reader, executor); a rule
between resources is an explicit call wired here: DeleteDataset asks the models service whether a model uses the
dataset (``datasets.users``), a model is trained from the datasets and labels services, a scheduler runs a model
of the models service, and tags span schedulers and models (:class:`Tags`).

>>> from lookout_nb.service.clock import ManualClock
>>> b = Backend(ManualClock())
>>> b.list_models("us-east-1", {})["ModelSummaries"]
[]
>>> b.datasets.users is b.models
True
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from ..work import InProcess
from .core import Core
from .datasets import Datasets
from .exceptions import ResourceNotFoundException
from .labels import Labels
from .models import Models
from .schedulers import Schedulers
from .versions import restore as versions_restore
from .versions.records import Lineage, ModelVersion, Policy, Retraining
from .versions.retraining import Retrainings
from .versions.sharing import Sharing
from .versions.versions import Versions


class Route:
    """``create_model = Route("models")``: the method of the same name of the backend's ``models`` service."""

    def __init__(self, service: str):
        self.service = service
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, backend: Backend | None, owner: type | None = None) -> Callable[[str, dict], dict]:
        if backend is None:
            return self  # type: ignore[return-value]  # the class attribute itself
        return getattr(getattr(backend, self.service), self.name)


class Tags:
    """The tag operations: a tag list belongs to a scheduler or a model, found by ARN."""

    def __init__(self, core: Core, schedulers: Schedulers, models: Models):
        self.core, self.schedulers, self.models = core, schedulers, models

    def _tagged(self, region: str, resource_arn: str, change=None) -> list:
        for service in (self.schedulers, self.models):
            tags = service.tags_of(region, resource_arn, change)
            if tags is not None:
                return tags
        raise ResourceNotFoundException(f"Resource {resource_arn} does not exist")

    def list_tags(self, region: str, params: dict) -> dict:
        with self.core.lock:
            return {"Tags": [dict(t) for t in self._tagged(region, params["ResourceArn"])]}

    def tag_resource(self, region: str, params: dict) -> dict:
        with self.core.lock, self.core.change() as change:
            tags = self._tagged(region, params["ResourceArn"], change)
            new = {t["Key"]: t["Value"] for t in params["Tags"]}
            tags[:] = [t for t in tags if t["Key"] not in new] + [{"Key": k, "Value": v} for k, v in new.items()]
            return {}

    def untag_resource(self, region: str, params: dict) -> dict:
        with self.core.lock, self.core.change() as change:
            tags = self._tagged(region, params["ResourceArn"], change)
            tags[:] = [t for t in tags if t["Key"] not in set(params["TagKeys"])]
            return {}


class Backend:
    """The state and operations of the embedded Lookout for Equipment service: :attr:`schedulers`,
    :attr:`models`, :attr:`datasets`, :attr:`labels`, :attr:`tags`, and the versions room's :attr:`versions`,
    :attr:`retraining` and :attr:`sharing`, sharing :attr:`core`."""

    create_scheduler = Route("schedulers")
    describe_scheduler = Route("schedulers")
    list_schedulers = Route("schedulers")
    update_scheduler = Route("schedulers")
    start_scheduler = Route("schedulers")
    stop_scheduler = Route("schedulers")
    delete_scheduler = Route("schedulers")
    list_executions = Route("schedulers")
    list_events = Route("schedulers")
    create_model = Route("models")
    describe_model = Route("versions")  # the model's members with its version and retraining members
    list_models = Route("versions")
    delete_model = Route("versions")  # refused while a retraining scheduler exists; drops the versions
    update_model = Route("versions")
    list_model_versions = Route("versions")
    describe_model_version = Route("versions")
    update_active_model_version = Route("versions")
    create_retraining_scheduler = Route("retraining")
    describe_retraining_scheduler = Route("retraining")
    list_retraining_schedulers = Route("retraining")
    update_retraining_scheduler = Route("retraining")
    start_retraining_scheduler = Route("retraining")
    stop_retraining_scheduler = Route("retraining")
    delete_retraining_scheduler = Route("retraining")
    list_sensor_statistics = Route("sharing")
    import_dataset = Route("sharing")
    import_model_version = Route("sharing")
    put_resource_policy = Route("sharing")
    describe_resource_policy = Route("sharing")
    delete_resource_policy = Route("sharing")
    create_dataset = Route("datasets")
    describe_dataset = Route("datasets")
    list_datasets = Route("datasets")
    delete_dataset = Route("datasets")
    start_ingestion = Route("datasets")
    describe_ingestion = Route("datasets")
    list_ingestions = Route("datasets")
    create_label_group = Route("labels")
    describe_label_group = Route("labels")
    list_label_groups = Route("labels")
    update_label_group = Route("labels")
    delete_label_group = Route("labels")
    create_label = Route("labels")
    describe_label = Route("labels")
    list_labels = Route("labels")
    delete_label = Route("labels")
    list_tags = Route("tags")
    tag_resource = Route("tags")
    untag_resource = Route("tags")
    # the in-process seams (the demo, Endpoint.add_model and tests use them)
    model = Route("models")
    put_model = Route("models")
    wait_model = Route("models")
    dataset_data = Route("datasets")
    put_dataset_data = Route("datasets")
    label_ranges = Route("labels")

    def __init__(self, clock, work: InProcess | None = None):
        self.core = Core(clock, work=work or InProcess())
        self.labels = Labels(self.core)
        self.datasets = Datasets(self.core)
        self.models = Models(self.core, self.datasets, self.labels)
        self.datasets.users = self.models  # DeleteDataset refuses while a model uses the dataset
        self.schedulers = Schedulers(self.core, self.models)
        self.tags = Tags(self.core, self.schedulers, self.models)
        self.versions = Versions(self.core, self.models, self.labels)
        self.models.versions = self.versions  # a CreateModel training records its version
        self.retraining = Retrainings(self.core, self.models, self.versions, self.datasets)
        self.versions.retraining = self.retraining  # DescribeModel's retraining members, DeleteModel's check
        self.sharing = Sharing(self.core, self.datasets, self.models, self.versions)

    def next_due(self, until):
        """The earliest moment <= ``until`` at which an inference run or a retraining is due, or None."""
        due = [t for t in (self.schedulers.next_due(until), self.retraining.next_due(until)) if t is not None]
        return min(due, default=None)

    def load(self, store) -> list[str]:
        """Restore the versions room's records from ``store`` (:func:`.restore.load` calls it); the problems."""
        return versions_restore.load(self, store)

    def shared_tables(self) -> dict[str, tuple[dict, Callable[[dict], object]]]:
        """The versions room's tables by record kind, each with its builder: where another serve process's changes
        of those kinds go (:func:`.sync.apply`)."""
        tables: dict[type, dict] = {ModelVersion: self.versions.versions, Lineage: self.versions.lineages,
                                    Retraining: self.retraining.schedulers, Policy: self.sharing.policies}
        return {versions_restore.KINDS[cls]: (table, functools.partial(versions_restore.build, cls))
                for cls, table in tables.items()}

    def stop_jobs(self, timeout: float = 30.0) -> None:
        """Ask the running ingestions and trainings to stop (they FAIL) and wait for their threads."""
        self.core.work.stop(timeout)
