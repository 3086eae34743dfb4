"""Errors of the embedded endpoint, in the form of the Lookout for Equipment JSON protocol.

Each one carries the service's error code (the ``__type`` of the JSON body) and an HTTP status, so boto3 raises
``client.exceptions.<Code>`` for it.

>>> err = ConflictException("Inference scheduler pump-1 is RUNNING; stop it first")
>>> err.body()  # doctest: +NORMALIZE_WHITESPACE
{'__type': 'ConflictException', 'message': 'Inference scheduler pump-1 is RUNNING; stop it first',
 'Message': 'Inference scheduler pump-1 is RUNNING; stop it first'}
"""

from __future__ import annotations


class ServiceException(Exception):
    """A refused call: ``code`` is the JSON protocol's ``__type``, ``status`` the HTTP status."""

    code = "InternalServerException"
    status = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def body(self) -> dict:
        """The JSON error body (``message`` for botocore's parser, ``Message`` for the modelled shape)."""
        return {"__type": self.code, "message": self.message, "Message": self.message}


class ValidationException(ServiceException):
    code, status = "ValidationException", 400


class ConflictException(ServiceException):
    code, status = "ConflictException", 400


class ResourceNotFoundException(ServiceException):
    code, status = "ResourceNotFoundException", 400


class ServiceQuotaExceededException(ServiceException):
    code, status = "ServiceQuotaExceededException", 400


class UnknownOperationException(ServiceException):
    code, status = "UnknownOperationException", 400


class InternalServerException(ServiceException):
    code, status = "InternalServerException", 500
