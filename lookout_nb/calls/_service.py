"""Calling the Lookout for Equipment API: typed errors, every page of a listing, UTC timestamps.

botocore raises one ``ClientError`` for every refusal and has neither paginators nor waiters for this service;
this module turns refusals into the toolkit's exception family (keeping the service's own message) and loops on
``NextToken``.

>>> error_class("ThrottlingException").__name__
'Throttled'
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from ..contract.naming import to_utc
from ..errors import (
    AccessDenied,
    Problem,
    RequestInvalid,
    ResourceConflict,
    ResourceNotFound,
    SchedulerConflict,
    ServiceError,
    ServiceUnavailable,
    Throttled,
    read_error,
)

#: Service error code -> the toolkit's exception class.
ERRORS: dict[str, type[ServiceError]] = {
    "ResourceNotFoundException": ResourceNotFound,
    "AccessDeniedException": AccessDenied,
    "AccessDenied": AccessDenied,
    "UnrecognizedClientException": AccessDenied,
    "InvalidSignatureException": AccessDenied,
    "ExpiredTokenException": AccessDenied,
    "ThrottlingException": Throttled,
    "Throttling": Throttled,
    "TooManyRequestsException": Throttled,
    "InternalServerException": ServiceUnavailable,
    "InternalFailure": ServiceUnavailable,
    "ServiceUnavailable": ServiceUnavailable,
    "ServiceUnavailableException": ServiceUnavailable,
    "ConflictException": ResourceConflict,
    "NoSuchKey": ResourceNotFound,
    "NoSuchBucket": ResourceNotFound,
}

#: Largest page the API allows (MaxResults max).
PAGE_SIZE = 500


def error_class(code: str, status: int = 400) -> type[ServiceError]:
    """The exception class for a service error code (5xx without a known code: ServiceUnavailable)."""
    if code in ERRORS:
        return ERRORS[code]
    return ServiceUnavailable if status >= 500 else ServiceError


def call(client, operation: str, **params) -> dict:
    """Call ``client.<operation>(**params)`` (snake_case name) and raise typed errors.

    Example
    -------
    >>> call(client, "describe_inference_scheduler", InferenceSchedulerName="pump")  # doctest: +SKIP
    """
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    method = getattr(client, operation)
    api_name = client.meta.method_to_api_mapping.get(operation, operation)
    try:
        return method(**params)
    except ClientError as exc:
        raise service_error(exc, api_name) from exc
    except (ConnectionError, HTTPClientError) as exc:
        raise ServiceUnavailable(f"{api_name}: the endpoint could not be reached: {exc}", code="",
                                 operation=api_name) from exc


def service_error(exc, operation: str) -> Exception:
    """The toolkit's exception for a botocore ``ClientError`` (the service's message kept verbatim); a conflict is
    a :class:`SchedulerConflict` for an inference scheduler's operation, else a :class:`ResourceConflict`.

    >>> class ClientError(Exception):
    ...     response = {"Error": {"Code": "ConflictException", "Message": "Dataset d is used by model m"}}
    >>> type(service_error(ClientError(), "DeleteDataset")).__name__
    'ResourceConflict'
    >>> type(service_error(ClientError(), "DeleteInferenceScheduler")).__name__
    'SchedulerConflict'
    """
    parts = read_error(exc)
    code, message, status = parts.code, parts.message, parts.status or 400
    if code == "ValidationException":
        return RequestInvalid([Problem(_named_field(message), f"the service refused it: {message}")])
    cls = error_class(code, status)
    if cls is ResourceConflict and "InferenceScheduler" in operation:
        cls = SchedulerConflict
    return cls(f"{operation}: {message} ({code or status})", code=code, operation=operation)


def _named_field(message: str) -> str:
    """The API path a validation message names (AWS writes ``dataInputConfiguration.s3InputConfiguration.prefix``).

    >>> _named_field("Value at 'dataUploadFrequency' failed to satisfy constraint")
    'DataUploadFrequency'
    """
    from ..contract.request import FIELD_BY_PATH

    lowered = message.lower()
    named = [path for path in FIELD_BY_PATH if path.lower() in lowered]
    return max(named, key=len) if named else "request"


def pages(client, operation: str, items_key: str, **params) -> Iterator[dict]:
    """Every item of a ``NextToken``-paged listing, across all pages.

    Example
    -------
    >>> list(pages(client, "list_inference_schedulers", "InferenceSchedulerSummaries"))  # doctest: +SKIP
    """
    params = {k: v for k, v in params.items() if v is not None}
    params.setdefault("MaxResults", PAGE_SIZE)
    while True:
        page = call(client, operation, **params)
        yield from page.get(items_key, [])
        token = page.get("NextToken")
        if not token:
            return
        params["NextToken"] = token


def utc(value) -> pd.Timestamp | None:
    """A tz-aware UTC Timestamp (naive values are taken as UTC, as botocore does); None stays None.

    >>> utc("2024-01-01 05:30+05:30")
    Timestamp('2024-01-01 00:00:00+0000', tz='UTC')
    """
    return None if value is None else to_utc(value)


def wire_time(value):
    """A datetime to send to botocore (tz-aware UTC), or None."""
    ts = utc(value)
    return None if ts is None else ts.to_pydatetime()
