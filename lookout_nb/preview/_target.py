"""Where to look and what the request says of it: bucket, prefix, model, frequency and delay.

>>> target = read_target("s3://my-input/in/")
>>> target.bucket, target.prefix, target.request
('my-input', 'in/', None)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..contract.request import SchedulerRequest
from ..contract.s3keys import split_s3_uri
from ..errors import Problem, RequestInvalid


@dataclass(frozen=True)
class Target:
    """The input location, and the request's settings when a request was given."""

    bucket: str
    prefix: str
    request: SchedulerRequest | None = None
    model_name: str | None = None
    frequency: pd.Timedelta | None = None
    delay: pd.Timedelta = field(default_factory=lambda: pd.Timedelta(0))


def read_target(value) -> Target:
    """Bucket, prefix and request settings from a SchedulerRequest, ``s3://bucket/prefix`` or ``(bucket, prefix)``.

    >>> read_target(("my-input", "in/")).prefix
    'in/'
    """
    if isinstance(value, SchedulerRequest):
        if not value.input_bucket:
            raise RequestInvalid([Problem("DataInputConfiguration.S3InputConfiguration.Bucket",
                                          "is required to preview the input")])
        return Target(value.input_bucket, value.input_prefix or "", value, value.model_name or None,
                      value.frequency, value.delay)
    if isinstance(value, str) and value.startswith("s3://"):
        return Target(*split_s3_uri(value))
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(v, str) for v in value):
        return Target(value[0], value[1])
    raise TypeError("preview_input takes a SchedulerRequest, 's3://bucket/prefix/' or (bucket, prefix)")
