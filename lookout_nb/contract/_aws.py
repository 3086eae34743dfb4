"""Clients for the Lookout for Equipment and S3 APIs, made only when a caller needs one.

Endpoints follow boto3's own convention (``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_S3``,
``AWS_ENDPOINT_URL_LOOKOUTEQUIPMENT``), so the embedded endpoint needs no project-specific switch. Clients made
here use botocore's ``standard`` retry mode.

>>> import boto3
>>> session = boto3.session.Session(region_name="eu-west-1")
>>> client = lookout_client(session=session)
>>> client.meta.service_model.service_name, s3_client(session=session).meta.config.s3["addressing_style"]
('lookoutequipment', 'path')
>>> lookout_client(client) is client    # a client given is used as it is
True
"""

from __future__ import annotations

RETRIES = {"mode": "standard", "max_attempts": 5}


def _config():
    from botocore.config import Config

    return Config(retries=RETRIES, s3={"addressing_style": "path"})


def _session(session=None):
    import boto3

    return session or boto3.session.Session()


def lookout_client(client=None, session=None):
    """``client`` itself, or a new ``lookoutequipment`` client from ``session`` (or boto3's default)."""
    return client or _session(session).client("lookoutequipment", config=_config())


def s3_client(s3=None, session=None):
    """``s3`` itself, or a new S3 client from ``session`` (or boto3's default), path-style addressing."""
    return s3 or _session(session).client("s3", config=_config())
