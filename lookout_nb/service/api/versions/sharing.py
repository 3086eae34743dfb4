"""ListSensorStatistics, ImportDataset, ImportModelVersion and the resource policies (the sharing service of
:class:`~..backend.Backend`). Imports copy by ARN within this endpoint (any region of it); policies are stored and
validated, not enforced (one account: nobody else calls). The choices are in ``docs/endpoint.md``.

>>> check_policy('{"Version": "2012-10-17", "Statement": []}')
'ResourcePolicy: Statement must be a non-empty list of statements'
"""

from __future__ import annotations

import json
import re
import uuid

from ..core import Core, page
from ..datasets import IngestedData
from ..exceptions import ConflictException, ResourceNotFoundException, ValidationException
from ..records import Model, stable_id
from .records import ModelVersion, Policy

_ARN = re.compile(r"^arn:aws[^:]*:lookoutequipment:([a-z0-9-]*):\d{12}:(model|dataset)/([0-9a-zA-Z_-]{1,200})/"
                  r"[^/]+(?:/model-version/(\d+))?$")


def parse_arn(text: str, field: str) -> tuple[str, str, str, int | None]:
    """``(region, kind, name, version)`` of a model, model-version or dataset ARN of this endpoint."""
    m = _ARN.match(text or "")
    if not m:
        raise ValidationException(f"{field}: {text!r} is not a model, model version or dataset ARN of this endpoint")
    region, kind, name, version = m.groups()
    return region, kind, name, int(version) if version else None


def check_policy(text: str) -> str | None:
    """Why a ResourcePolicy text is refused (None: a JSON policy document with statements)."""
    try:
        doc = json.loads(text)
    except ValueError as err:
        return f"ResourcePolicy is not JSON: {err}"
    if not isinstance(doc, dict) or not isinstance(doc.get("Version"), str):
        return "ResourcePolicy must be a JSON object with a Version (e.g. \"2012-10-17\") and a Statement list"
    statements = doc.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        return "ResourcePolicy: Statement must be a non-empty list of statements"
    for i, st in enumerate(statements):
        if not isinstance(st, dict) or st.get("Effect") not in ("Allow", "Deny"):
            return f"ResourcePolicy: statement {i} needs an Effect of Allow or Deny"
        if "Principal" not in st or "Action" not in st:
            return f"ResourcePolicy: statement {i} needs a Principal and an Action"
    return None


class Sharing:
    """Statistics, imports and policies over the datasets, models and versions services."""

    def __init__(self, core: Core, datasets, models, versions):
        self.core, self.datasets, self.models, self.versions = core, datasets, models, versions
        self.policies: dict[str, Policy] = {}  # resource ARN -> policy

    # -- sensor statistics -------------------------------------------------------------------------------------
    def list_sensor_statistics(self, region: str, params: dict) -> dict:
        name, job_id = params["DatasetName"], params.get("IngestionJobId")
        with self.core.lock:
            self.datasets.dataset(region, name)
            jobs = [j for j in self.datasets.ingestions.get(region, {}).values() if j.dataset_name == name]
            if job_id is not None:
                job = next((j for j in jobs if j.job_id == job_id), None)
                if job is None:
                    raise ResourceNotFoundException(f"Dataset {name} has no data ingestion job {job_id}")
            else:
                done = sorted((j for j in jobs if j.status == "SUCCESS"), key=lambda j: j.created_at)
                if not done:
                    raise ResourceNotFoundException(f"Dataset {name} has no successful data ingestion job yet")
                job = done[-1]
            if job.status != "SUCCESS":
                raise ValidationException(f"Data ingestion job {job.job_id} is {job.status}; sensor statistics come "
                                          "with a SUCCESS ingestion")
            items = [dict(s) for s in job.statistics or []]
        return page(items, params, "SensorStatisticsSummaries")

    # -- imports -----------------------------------------------------------------------------------------------
    def import_dataset(self, region: str, params: dict) -> dict:
        source_region, kind, source, _ = parse_arn(params["SourceDatasetArn"], "SourceDatasetArn")
        if kind != "dataset":
            raise ValidationException(f"SourceDatasetArn {params['SourceDatasetArn']} is not a dataset ARN")
        name = params.get("DatasetName") or source
        with self.core.lock:
            d = self.datasets.dataset(source_region, source)
            existing = self.datasets.datasets.get(region, {}).get(name)
            if existing is not None and existing.client_token != params["ClientToken"]:
                raise ConflictException(f"Dataset {name} already exists")
            data = self.datasets.dataset_data(source_region, source) if d.has_data else None
            schema = json.loads(d.schema) if d.schema else None
            created = self.datasets.create_dataset(region, {
                "DatasetName": name, "ClientToken": params["ClientToken"], "Tags": params.get("Tags"),
                "ServerSideKmsKeyId": params.get("ServerSideKmsKeyId"),
                "DatasetSchema": {"InlineDataSchema": json.dumps(schema)} if schema else None})
            if data is not None and existing is None:
                self.datasets.put_dataset_data(region, name, IngestedData(data.schema, data.frames))
                created["Status"] = "ACTIVE"
        job = stable_id("import", region, name, params["ClientToken"])
        return {**created, "JobId": job}

    def import_model_version(self, region: str, params: dict) -> dict:
        _, kind, source, number = parse_arn(params["SourceModelVersionArn"], "SourceModelVersionArn")
        if kind != "model" or number is None:
            raise ValidationException(f"SourceModelVersionArn {params['SourceModelVersionArn']} is not a model "
                                      "version ARN (arn:...:model/<name>/<id>/model-version/<n>)")
        name = params.get("ModelName") or source
        now = self.core.clock.now()
        with self.core.lock, self.core.change() as change:
            src = self.versions.version(source, number)
            if src.status != "SUCCESS":
                raise ValidationException(f"Version {number} of model {source} is {src.status}; only a SUCCESS "
                                          "version can be imported")
            dataset = self.datasets.datasets.get(region, {}).get(params["DatasetName"])
            if dataset is None:
                raise ResourceNotFoundException(f"Dataset {params['DatasetName']} does not exist; create or import "
                                                "it (CreateDataset, ImportDataset) first")
            m = self.models.find(name)
            if m is not None and m.components != src.components:
                raise ValidationException(f"Model {name} exists with another schema than version {number} of "
                                          f"{source}; import into a new ModelName")
            if m is not None and m.status == "IN_PROGRESS":
                raise ConflictException(f"Model {name} is training (IN_PROGRESS); import once it ended")
            if m is None:
                m = Model(name, dict(src.components), src.sampling_rate, dataset.name, region,
                          params.get("RoleArn") or src.role_arn or "", now, "SUCCESS",
                          labels_config=params.get("LabelsInputConfiguration") or src.labels_config,
                          kms_key_id=params.get("ServerSideKmsKeyId"), client_token=params["ClientToken"],
                          trained=src.trained, started_at=now, ended_at=now)
                src.onto(m)
                change.entry("model", "", self.models.models, name)
                self.models.models[name] = m
                if params.get("Tags"):
                    change.entry("tags", "", self.models.model_tags, name)
                    self.models.model_tags[name] = [dict(t) for t in params["Tags"]]
            else:
                self.versions.ensure(change, name)
            v = ModelVersion(name, self.versions.next_number(name), region, "IMPORT", "SUCCESS", now, dataset.name,
                             dict(src.components), src.sampling_rate, m.role_arn, m.labels_config, src.off_condition,
                             params.get("ServerSideKmsKeyId"), src.training_start, src.training_end,
                             src.evaluation_start, src.evaluation_end, src.started_at, src.ended_at, None,
                             src.trained, source_version_arn=src.arn, import_start=now, import_end=now,
                             imported_size=len(json.dumps(src.trained)))
            self.versions.put(change, v)
            lineage = self.versions.lineage(name, change)
            if lineage.active is None:
                lineage.activate(v.version, now)
            return {"ModelName": name, "ModelArn": m.arn(region), "ModelVersionArn": v.arn, "ModelVersion": v.version,
                    "Status": "SUCCESS"}

    # -- resource policies -------------------------------------------------------------------------------------
    def _resource(self, region: str, resource_arn: str) -> None:
        arn_region, kind, name, number = parse_arn(resource_arn, "ResourceArn")
        if kind == "dataset":
            found = self.datasets.datasets.get(arn_region, {}).get(name)
            if found is None or found.arn != resource_arn:
                raise ResourceNotFoundException(f"Resource {resource_arn} does not exist")
            return
        m = self.models.find(name)
        if m is None or m.arn(arn_region) != resource_arn.split("/model-version/")[0]:
            raise ResourceNotFoundException(f"Resource {resource_arn} does not exist")
        if number is not None:
            self.versions.version(name, number)

    def put_resource_policy(self, region: str, params: dict) -> dict:
        resource, text = params["ResourceArn"], params["ResourcePolicy"]
        why = check_policy(text)
        if why:
            raise ValidationException(why)
        with self.core.lock, self.core.change() as change:
            self._resource(region, resource)
            old = self.policies.get(resource)
            given = params.get("PolicyRevisionId")
            if old is not None and given != old.revision:
                raise ConflictException(f"Resource {resource} has a policy of revision {old.revision}; pass it as "
                                        "PolicyRevisionId to replace it (DescribeResourcePolicy gives it)")
            if old is None and given:
                raise ConflictException(f"Resource {resource} has no policy; leave PolicyRevisionId out")
            now = self.core.clock.now()
            change.entry("policy", "", self.policies, resource)
            self.policies[resource] = Policy(resource, text, uuid.uuid4().hex, old.created_at if old else now, now)
            return {"ResourceArn": resource, "PolicyRevisionId": self.policies[resource].revision}

    def _policy(self, region: str, resource: str) -> Policy:
        self._resource(region, resource)
        found = self.policies.get(resource)
        if found is None:
            raise ResourceNotFoundException(f"Resource {resource} has no resource policy")
        return found

    def describe_resource_policy(self, region: str, params: dict) -> dict:
        with self.core.lock:
            p = self._policy(region, params["ResourceArn"])
            return {"PolicyRevisionId": p.revision, "ResourcePolicy": p.text, "CreationTime": p.created_at,
                    "LastModifiedTime": p.updated_at}

    def delete_resource_policy(self, region: str, params: dict) -> dict:
        with self.core.lock, self.core.change() as change:
            p = self._policy(region, params["ResourceArn"])
            change.entry("policy", "", self.policies, p.resource_arn)
            del self.policies[p.resource_arn]
        return {}
