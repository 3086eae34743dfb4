"""Rules of CreateDataset and CreateModel that botocore's model cannot express, checked before anything is made.

The service documents none of them (the schema is a JSON string to botocore, the four window times are plain
timestamps); the endpoint's readings are in ``docs/endpoint.md`` (Validation):

- a schema lists at least one component; a component name is a safe path segment (it names S3 folders and
  files): 1 to 200 letters, digits, ``_``, ``-`` or ``.``, starting with a letter or digit; a component's
  column names are unique;
- each time of a model's windows (given, or its default from the data) lies between 1970-01-01 and 2262-01-01,
  the range the endpoint's clock and saved state hold; each window ends after it starts; the evaluation window
  does not overlap the training window.

>>> check_schema({"pump": ("Timestamp", "Flow")}, "DatasetSchema.InlineDataSchema")
>>> check_schema({"../etc": ("Timestamp", "Flow")}, "DatasetSchema.InlineDataSchema")
Traceback (most recent call last):
...
lookout_nb.service.api.exceptions.ValidationException: DatasetSchema.InlineDataSchema: ComponentName '../etc' is \
not allowed: use 1 to 200 letters, digits, '_', '-' or '.', starting with a letter or digit (e.g. 'centrifugal-pump')
"""

from __future__ import annotations

import re

import pandas as pd

from ..clock import EARLIEST, LATEST
from .exceptions import ValidationException

_COMPONENT = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.-]{0,199}")
#: The window members of CreateModel, in time order.
WINDOW_FIELDS = ("TrainingDataStartTime", "TrainingDataEndTime", "EvaluationDataStartTime", "EvaluationDataEndTime")


def check_schema(columns: dict, field: str) -> None:
    """ValidationException naming ``field`` and what to change when ``{component: header}`` breaks a rule."""
    if not columns:
        raise ValidationException(f"{field}: Components is empty: list at least one component with its timestamp "
                                  "and sensor columns")
    for name, header in columns.items():
        if not _COMPONENT.fullmatch(name):
            raise ValidationException(f"{field}: ComponentName {name!r} is not allowed: use 1 to 200 letters, "
                                      "digits, '_', '-' or '.', starting with a letter or digit (e.g. "
                                      "'centrifugal-pump')")
        repeated = sorted({c for c in header if header.count(c) > 1})
        if repeated:
            raise ValidationException(f"{field}: component {name} has the column name{'s' if len(repeated) > 1 else ''}"
                                      f" {', '.join(repeated)} more than once: give each column its own name")


def check_windows(params: dict, windows: tuple, first: pd.Timestamp | None) -> None:
    """ValidationException naming the member when CreateModel's windows (``(train start, train end, evaluation
    start, evaluation end)`` with the defaults filled in) break a rule; ``first`` is the data's first row."""
    for name, when in zip(WINDOW_FIELDS, windows):
        if not EARLIEST <= when <= LATEST:
            given = f"{name} {when:%Y-%m-%dT%H:%M:%SZ}" if params.get(name) else (
                f"{name} (left out: taken from the dataset's data, which spans from {first:%Y-%m-%dT%H:%M:%SZ})")
            raise ValidationException(f"{given} is outside the times the endpoint supports ({EARLIEST:%Y-%m-%d} to "
                                      f"{LATEST:%Y-%m-%d}); give {name} within that range")
    train_start, train_end, eval_start, eval_end = windows
    for (start_name, start), (end_name, end) in ((("TrainingDataStartTime", train_start),
                                                  ("TrainingDataEndTime", train_end)),
                                                 (("EvaluationDataStartTime", eval_start),
                                                  ("EvaluationDataEndTime", eval_end))):
        if end <= start:
            raise ValidationException(f"{end_name} {_iso(end)} is not after {start_name} {_iso(start)}: a window "
                                      "must end after it starts")
    if eval_start < train_end and train_start < eval_end:
        raise ValidationException(
            f"The evaluation window ({_iso(eval_start)} to {_iso(eval_end)}) overlaps the training window "
            f"({_iso(train_start)} to {_iso(train_end)}): start the evaluation (EvaluationDataStartTime) at or after "
            "TrainingDataEndTime, or end it before TrainingDataStartTime")


def _iso(when: pd.Timestamp) -> str:
    return f"{when:%Y-%m-%dT%H:%M:%SZ}"
