"""The Lookout for Equipment JSON 1.0 protocol: parse, check, call the backend, serialise.

A request is ``POST /`` with ``X-Amz-Target: AWSLookoutEquipmentFrontendService.<Operation>`` and a JSON body.
Inputs are checked with :func:`lookout_nb.contract.servicemodel.check_input` (the same checks the toolkit runs before
submitting); timestamps travel as epoch seconds both ways; errors are ``{"__type": ..., "message": ...}`` with
HTTP 400 (500 for internal errors) so boto3 raises ``client.exceptions.<Code>``. The region of ARNs is the one
in the request's SigV4 credential scope.

>>> region_of("AWS4-HMAC-SHA256 Credential=AKID/20260105/eu-west-1/lookoutequipment/aws4_request, ...")
'eu-west-1'
"""

from __future__ import annotations

import json
import logging
import re
import uuid

import pandas as pd
from werkzeug.wrappers import Request, Response

from ...contract import servicemodel
from ...contract.naming import to_utc
from ..api.backend import Backend
from ..api.exceptions import InternalServerException, ServiceException, UnknownOperationException, ValidationException
from ..api.schedulers import format_problems
from ..state.store import StoreError
from .auth import REGION_KEY

TARGET_PREFIX = "AWSLookoutEquipmentFrontendService."
DEFAULT_REGION = "us-east-1"
_CREDENTIAL = re.compile(r"Credential=[^/,\s]*/\d{8}/([a-z0-9-]+)/")
log = logging.getLogger(__name__)

#: Operation -> Backend method name.
OPERATIONS = {
    "CreateInferenceScheduler": "create_scheduler",
    "DescribeInferenceScheduler": "describe_scheduler",
    "ListInferenceSchedulers": "list_schedulers",
    "UpdateInferenceScheduler": "update_scheduler",
    "StartInferenceScheduler": "start_scheduler",
    "StopInferenceScheduler": "stop_scheduler",
    "DeleteInferenceScheduler": "delete_scheduler",
    "ListInferenceExecutions": "list_executions",
    "ListInferenceEvents": "list_events",
    "CreateModel": "create_model",
    "DescribeModel": "describe_model",
    "ListModels": "list_models",
    "DeleteModel": "delete_model",
    "ListTagsForResource": "list_tags",
    "TagResource": "tag_resource",
    "UntagResource": "untag_resource",
    "CreateDataset": "create_dataset",
    "DescribeDataset": "describe_dataset",
    "ListDatasets": "list_datasets",
    "DeleteDataset": "delete_dataset",
    "StartDataIngestionJob": "start_ingestion",
    "DescribeDataIngestionJob": "describe_ingestion",
    "ListDataIngestionJobs": "list_ingestions",
    "CreateLabelGroup": "create_label_group",
    "DescribeLabelGroup": "describe_label_group",
    "ListLabelGroups": "list_label_groups",
    "UpdateLabelGroup": "update_label_group",
    "DeleteLabelGroup": "delete_label_group",
    "CreateLabel": "create_label",
    "DescribeLabel": "describe_label",
    "ListLabels": "list_labels",
    "DeleteLabel": "delete_label",
    "UpdateModel": "update_model",
    "ListModelVersions": "list_model_versions",
    "DescribeModelVersion": "describe_model_version",
    "UpdateActiveModelVersion": "update_active_model_version",
    "CreateRetrainingScheduler": "create_retraining_scheduler",
    "DescribeRetrainingScheduler": "describe_retraining_scheduler",
    "ListRetrainingSchedulers": "list_retraining_schedulers",
    "UpdateRetrainingScheduler": "update_retraining_scheduler",
    "StartRetrainingScheduler": "start_retraining_scheduler",
    "StopRetrainingScheduler": "stop_retraining_scheduler",
    "DeleteRetrainingScheduler": "delete_retraining_scheduler",
    "ListSensorStatistics": "list_sensor_statistics",
    "ImportDataset": "import_dataset",
    "ImportModelVersion": "import_model_version",
    "PutResourcePolicy": "put_resource_policy",
    "DescribeResourcePolicy": "describe_resource_policy",
    "DeleteResourcePolicy": "delete_resource_policy",
}


def region_of(authorization: str | None) -> str:
    """The region of a SigV4 Authorization header's credential scope (us-east-1 if unsigned)."""
    m = _CREDENTIAL.search(authorization or "")
    return m.group(1) if m else DEFAULT_REGION


def is_lookout_request(environ) -> bool:
    """Whether a WSGI request is for the Lookout for Equipment API: it has an X-Amz-Target header (S3 has none;
    an empty or unknown target is answered ``UnknownOperationException``)."""
    return "HTTP_X_AMZ_TARGET" in environ


def to_wire(value):
    """Response members as JSON: timestamps become epoch seconds (floats), recursively."""
    if isinstance(value, pd.Timestamp):
        return value.value / 1e9
    if isinstance(value, dict):
        return {k: to_wire(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [to_wire(v) for v in value]
    return value


def from_wire(operation: str, params: dict) -> dict:
    """Request members for the backend: top-level timestamps (epoch seconds or ISO text) become UTC Timestamps."""
    shape = servicemodel.input_shape(operation)
    out = dict(params)
    for name, member in shape.members.items():
        value = out.get(name)
        if member.type_name == "timestamp" and value is not None:
            try:
                seconds = isinstance(value, (int, float)) and not isinstance(value, bool)
                out[name] = to_utc(pd.Timestamp(value, unit="s", tz="UTC") if seconds else value, name)  # refuses NaT
            except (ValueError, TypeError, OverflowError):
                raise ValidationException(f"{name}: {value!r} is not a timestamp") from None
    return out


class LookoutApp:
    """The WSGI application of the Lookout for Equipment API over a :class:`Backend`."""

    def __init__(self, backend: Backend):
        self.backend = backend

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            status, body = 200, self.handle(
                request.headers.get("X-Amz-Target", ""), request.get_data(), request.headers.get("Authorization"),
                region=environ.get(REGION_KEY),
            )
        except ServiceException as err:
            status, body = err.status, err.body()
        except StoreError as err:  # the change could not be saved (e.g. disk full) and was not made
            log.warning("lookout_nb.service: %s", err)
            err = InternalServerException(str(err))
            status, body = err.status, err.body()
        except Exception as err:  # a bug of the endpoint: say so in the protocol's own form
            log.exception("lookout_nb.service: internal error")
            err = InternalServerException(f"internal error of the embedded endpoint: {type(err).__name__}: {err}")
            status, body = err.status, err.body()
        response = Response(
            json.dumps(body),
            status=status,
            headers={"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": str(uuid.uuid4())},
        )
        return response(environ, start_response)

    def handle(self, target: str, data: bytes, authorization: str | None = None, region: str | None = None) -> dict:
        """Run one call: ``handle("AWSLookoutEquipmentFrontendService.ListModels", b"{}")`` -> response members.

        ``region``: of the verified signature (the endpoint has credentials), else read from ``authorization``."""
        operation = target[len(TARGET_PREFIX) :] if target.startswith(TARGET_PREFIX) else target
        method = OPERATIONS.get(operation)
        if method is None:
            raise UnknownOperationException(
                f"Operation {operation or '(none)'} is not supported by the embedded endpoint")
        try:
            params = json.loads(data or b"{}")
            if not isinstance(params, dict):
                raise ValidationException("the request body must be a JSON object")
            problems = servicemodel.check_input(operation, params)
        except ValueError as err:
            raise ValidationException(f"the request body is not JSON: {err}") from None
        except RecursionError:
            raise ValidationException(f"the request body is JSON nested too deeply for {operation}") from None
        if problems:
            raise ValidationException(format_problems(problems))
        result = getattr(self.backend, method)(region or region_of(authorization), from_wire(operation, params))
        return to_wire(result)
