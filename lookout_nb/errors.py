"""The exception family of lookout_nb.

Every error the toolkit raises on purpose derives from :class:`LookoutNbError`, so a notebook can catch them all
with one ``except``. A :class:`Problem` names one field of a request by its API path
(``DataInputConfiguration.S3InputConfiguration.Prefix``, ``Tags[3].Key``) and says what is allowed.
:func:`read_error` is the one reader of what a botocore error says (code, message, HTTP status).

>>> err = RequestInvalid([Problem("ModelName", "is required")])
>>> str(err)
'the request has 1 problem:\\n- ModelName: is required'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request: the field's API path and what is allowed there."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class LookoutNbWarning(UserWarning):
    """A warning from lookout_nb (for example a time zone whose offset changes with daylight saving)."""


class LookoutNbError(Exception):
    """Base class of every error lookout_nb raises on purpose."""


class RequestInvalid(LookoutNbError, ValueError):
    """A request has one or more problems; ``.problems`` lists them all."""

    def __init__(self, problems):
        self.problems = list(problems)
        n = len(self.problems)
        lines = "\n".join(f"- {p}" for p in self.problems)
        super().__init__(f"the request has {n} problem{'s' if n != 1 else ''}:\n{lines}")


class InvalidArgument(LookoutNbError, ValueError):
    """A function argument cannot be used; the message names the argument and says what it takes."""


class NamingError(LookoutNbError, ValueError):
    """An input file name does not follow the configured naming convention."""


class ServiceError(LookoutNbError):
    """The Lookout for Equipment endpoint refused a call; ``.code`` is the service's error code."""

    def __init__(self, message: str, code: str = "", operation: str = ""):
        self.code = code
        self.operation = operation
        super().__init__(message)


class ResourceConflict(ServiceError):
    """The service refused a change that conflicts with a resource's state (a dataset a model uses, a job that
    runs, a name taken); the message names the resource and says what to do first."""

    def __init__(self, message: str, **kw):
        super().__init__(message, code=kw.pop("code", "ConflictException"), **kw)


class SchedulerConflict(ResourceConflict):
    """A scheduler of that name exists with a different configuration; ``.differences`` lists the fields."""

    def __init__(self, message: str, differences=(), **kw):
        self.differences = list(differences)
        super().__init__(message, **kw)


class ResourceNotFound(ServiceError):
    """The model or scheduler named does not exist."""


class AccessDenied(ServiceError):
    """The credentials may not perform this call."""


class Throttled(ServiceError):
    """The service throttled the call even after botocore's retries."""


class ServiceUnavailable(ServiceError):
    """The service had an internal error or could not be reached."""


@dataclass(frozen=True)
class ErrorParts:
    """What an AWS error says: the service's ``code``, its ``message`` and the HTTP ``status``.

    ``answered`` is False for an error raised before any response came (no credentials, no connection): ``code``
    is then the exception's class name and ``status`` 0.
    """

    code: str
    message: str
    status: int = 0
    answered: bool = False


def read_error(exc: BaseException) -> ErrorParts:
    """The code, message and HTTP status of a botocore error (any exception with a ``response`` mapping, as
    botocore's ``ClientError`` has); for any other exception, its class name and text.

    >>> class ClientError(Exception):
    ...     response = {"Error": {"Code": "NoSuchBucket", "Message": "The specified bucket does not exist"},
    ...                 "ResponseMetadata": {"HTTPStatusCode": 404}}
    >>> read_error(ClientError("An error occurred (NoSuchBucket)"))
    ErrorParts(code='NoSuchBucket', message='The specified bucket does not exist', status=404, answered=True)
    >>> read_error(TimeoutError("read timed out"))
    ErrorParts(code='TimeoutError', message='read timed out', status=0, answered=False)
    """
    response = getattr(exc, "response", None)
    if not isinstance(response, Mapping):
        return ErrorParts(type(exc).__name__, str(exc))
    error = response.get("Error") or {}
    status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0
    return ErrorParts(error.get("Code") or "", error.get("Message") or str(exc), int(status), answered=True)


class DataFilesInvalid(LookoutNbError, ValueError):
    """Files that an ingestion would discard or fail on, found before anything was sent; ``.problems`` lists
    every one (each names its file, and its column or row when it has one)."""

    def __init__(self, problems, where: str = "the data files"):
        self.problems = list(problems)
        n = len(self.problems)
        shown = "\n".join(f"- {p}" for p in self.problems[:20])
        more = f"\n- ... and {n - 20} more" if n > 20 else ""
        super().__init__(f"{where}: {n} problem{'s' if n != 1 else ''}, nothing was uploaded:\n{shown}{more}")


class JobFailed(LookoutNbError):
    """An ingestion job or a training ended FAILED; the message is the service's FailedReason and ``.result``
    what the service said about the job (an :class:`~lookout_nb.calls.datasets.IngestionResult` or model info)."""

    def __init__(self, message: str, result=None):
        self.result = result
        super().__init__(message)


class WaitTimeout(LookoutNbError, TimeoutError):
    """A status was not reached in time; ``.last_status`` is what was seen last."""

    def __init__(self, message: str, last_status: str | None = None):
        self.last_status = last_status
        super().__init__(message)
