"""``SchedulerRequest``: a CreateInferenceScheduler request that knows the API's real rules.

>>> req = SchedulerRequest(model_name="pump", scheduler_name="pump-5min", upload_frequency="PT5M",
...                        input_bucket="my-input", input_prefix="in", output_bucket="my-output",
...                        role_arn="arn:aws:iam::123456789012:role/L4E")
>>> [str(p) for p in req.problems()]  # doctest: +NORMALIZE_WHITESPACE
["DataInputConfiguration.S3InputConfiguration.Prefix: 'in' is not allowed: leave it empty or end it with '/'
  (for example 'input/'), in at most 1023 printable Latin-1 characters"]
>>> req.replace(input_prefix="in/").problems()
[]
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import html
import json
import pprint
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .._palette import level_colour
from ..errors import NamingError, Problem, RequestInvalid
from . import servicemodel
from .naming import Naming, parse_offset

OPERATION = "CreateInferenceScheduler"

#: Python name -> path of the member in the boto3 kwargs of create_inference_scheduler.
FIELDS: dict[str, tuple[str, ...]] = {
    "model_name": ("ModelName",),
    "scheduler_name": ("InferenceSchedulerName",),
    "upload_frequency": ("DataUploadFrequency",),
    "delay_offset_minutes": ("DataDelayOffsetInMinutes",),
    "input_bucket": ("DataInputConfiguration", "S3InputConfiguration", "Bucket"),
    "input_prefix": ("DataInputConfiguration", "S3InputConfiguration", "Prefix"),
    "timezone_offset": ("DataInputConfiguration", "InputTimeZoneOffset"),
    "timestamp_format": ("DataInputConfiguration", "InferenceInputNameConfiguration", "TimestampFormat"),
    "delimiter": ("DataInputConfiguration", "InferenceInputNameConfiguration", "ComponentTimestampDelimiter"),
    "output_bucket": ("DataOutputConfiguration", "S3OutputConfiguration", "Bucket"),
    "output_prefix": ("DataOutputConfiguration", "S3OutputConfiguration", "Prefix"),
    "output_kms_key_id": ("DataOutputConfiguration", "KmsKeyId"),
    "role_arn": ("RoleArn",),
    "server_side_kms_key_id": ("ServerSideKmsKeyId",),
    "tags": ("Tags",),
    "client_token": ("ClientToken",),
}
#: API path (``DataInputConfiguration.S3InputConfiguration.Prefix``) -> Python name.
FIELD_BY_PATH = {".".join(path): name for name, path in FIELDS.items()}

_FREQUENCIES = functools.partial(servicemodel.enum, "DataUploadFrequency")
_DURATION = re.compile(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?")


def parse_duration(text: str) -> pd.Timedelta:
    """An ISO 8601 duration of the API (``PT5M``, ``PT1H``, ``PT30S``) as a Timedelta.

    >>> parse_duration("PT1H")
    Timedelta('0 days 01:00:00')
    """
    m = _DURATION.fullmatch(text) if isinstance(text, str) else None
    if not m or not any(m.groups()):
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as PT5M or PT1H")
    h, mi, s = (int(g or 0) for g in m.groups())
    return pd.Timedelta(hours=h, minutes=mi, seconds=s)


@dataclass
class SchedulerRequest:
    """Every member of CreateInferenceScheduler under a Python name; any value is accepted, ``problems()`` judges.

    ``tags`` may be a mapping ``{"key": "value"}`` or the API's list of ``{"Key": ..., "Value": ...}``.
    When ``client_token`` is None, :meth:`to_boto3` derives a stable token from the content, so the same request
    submitted twice creates one scheduler.
    """

    model_name: str | None = None
    scheduler_name: str | None = None
    upload_frequency: str | None = None
    delay_offset_minutes: int | None = None
    input_bucket: str | None = None
    input_prefix: str | None = None
    timezone_offset: str | None = None
    timestamp_format: str | None = None
    delimiter: str | None = None
    output_bucket: str | None = None
    output_prefix: str | None = None
    output_kms_key_id: str | None = None
    role_arn: str | None = None
    server_side_kms_key_id: str | None = None
    tags: object = None
    client_token: str | None = None
    #: Problems of the kwargs given to :meth:`from_boto3` that no field can hold (unknown members, a string where
    #: a mapping belongs); kept so that ``problems()`` still reports them.
    unplaced: tuple = dataclasses.field(default=(), repr=False, compare=False)

    # -- conversions -------------------------------------------------------------------------------------------
    @classmethod
    def from_boto3(cls, kwargs: Mapping) -> SchedulerRequest:
        """A request from create_inference_scheduler kwargs, however incomplete or wrong (never raises for values).

        Members no field can hold (unknown names, a string where a mapping belongs) are reported by ``problems()``.
        """
        if not isinstance(kwargs, Mapping):
            return cls(unplaced=(Problem("request", f"must be a mapping of {OPERATION} members"),))
        values: dict[str, Any] = {}
        for name, path in FIELDS.items():
            node: Any = kwargs
            for part in path:
                node = node.get(part) if isinstance(node, Mapping) else None
            values[name] = node
        request = cls(**values)
        rebuilt = set(servicemodel.check_input(OPERATION, request.to_boto3(token=False)))
        request.unplaced = tuple(p for p in servicemodel.check_input(OPERATION, kwargs) if p not in rebuilt)
        return request

    def to_boto3(self, *, token: bool = True) -> dict:
        """Exactly the kwargs of ``client.create_inference_scheduler`` (unset optional members left out).

        With ``token=False`` a derived client token is left out too (an explicit one always stays).
        """
        out = self._members()
        if token and self.client_token is None:
            out["ClientToken"] = self.stable_token()
        return out

    def _members(self) -> dict:
        out: dict = {}
        for name, path in FIELDS.items():
            value = getattr(self, name)
            if name == "tags" and isinstance(value, Mapping):
                value = [{"Key": k, "Value": v} for k, v in value.items()]
            if value is None:
                continue
            node = out
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = value
        return out

    def stable_token(self) -> str:
        """A client token derived from the content: the same request always gives the same token.

        >>> SchedulerRequest(model_name="a").stable_token() == SchedulerRequest(model_name="a").stable_token()
        True
        """
        content = self._members()
        content.pop("ClientToken", None)
        digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
        return f"lookout-nb-{digest[:40]}"

    def to_json(self, indent: int = 2) -> str:
        """The request as JSON in the API's own spelling (a derived token is left out)."""
        return json.dumps(self.to_boto3(token=False), indent=indent, default=str)

    @classmethod
    def from_json(cls, text: str) -> SchedulerRequest:
        """The inverse of :meth:`to_json`; raises ValueError with the position when the JSON is malformed."""
        data = json.loads(text)
        if not isinstance(data, Mapping):
            raise ValueError("the JSON must be an object of CreateInferenceScheduler members")
        return cls.from_boto3(data)

    def to_python(self) -> str:
        """The exact boto3 call as Python code, ready to paste into a script."""
        lines = ["import boto3", "", 'client = boto3.client("lookoutequipment")',
                 "response = client.create_inference_scheduler("]
        for key, value in self.to_boto3().items():
            text = pprint.pformat(value, indent=1, width=100, sort_dicts=False).replace("\n", "\n    ")
            lines.append(f"    {key}={text},")
        lines.append(")")
        return "\n".join(lines) + "\n"

    def to_cloudformation(self, logical_id: str | None = None) -> dict:
        """A CloudFormation template with one ``AWS::LookoutEquipment::InferenceScheduler`` resource.

        The resource's properties have the API's names; CloudFormation has no client token. Never raises: the
        logical ID keeps only the letters and digits of ``logical_id`` (or of the scheduler's name), and is
        ``InferenceScheduler`` when none are left or the name is not a string (``problems()`` judges the request).

        >>> list(SchedulerRequest(scheduler_name="pump-5min").to_cloudformation()["Resources"])
        ['Pump5min']
        """
        props = self.to_boto3(token=False)
        props.pop("ClientToken", None)
        name = self.scheduler_name if isinstance(self.scheduler_name, str) else ""
        logical_id = re.sub(r"[^0-9A-Za-z]+", "", logical_id)[:255] if isinstance(logical_id, str) else ""
        if not logical_id:
            logical_id = "".join(p.capitalize() for p in re.split(r"[^0-9a-zA-Z]+", name))[:255] or "InferenceScheduler"
        return {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": f"Lookout for Equipment inference scheduler {name}".strip()[:1024],
            "Resources": {logical_id: {"Type": "AWS::LookoutEquipment::InferenceScheduler", "Properties": props}},
        }

    def replace(self, **changes) -> SchedulerRequest:
        """A copy with some fields changed: ``req.replace(upload_frequency="PT10M")``."""
        return dataclasses.replace(self, **changes)

    # -- derived values ----------------------------------------------------------------------------------------
    @property
    def naming(self) -> Naming:
        """The input naming convention (unset members take the defaults); raises NamingError if invalid."""
        return Naming(self.timestamp_format, self.delimiter, self.timezone_offset)

    @property
    def frequency(self) -> pd.Timedelta | None:
        """The upload frequency as a Timedelta, or None when unset or not one of the API's values."""
        if not isinstance(self.upload_frequency, str) or self.upload_frequency not in _FREQUENCIES():
            return None
        return parse_duration(self.upload_frequency)

    @property
    def delay(self) -> pd.Timedelta:
        """DataDelayOffsetInMinutes as a Timedelta (zero when unset)."""
        minutes = self.delay_offset_minutes
        return pd.Timedelta(minutes=minutes if isinstance(minutes, int) and not isinstance(minutes, bool) else 0)

    # -- validation --------------------------------------------------------------------------------------------
    def problems(self, target_sampling_rate: str | None = None) -> list[Problem]:
        """Every problem of the request at once; ``[]`` when it is valid.

        ``target_sampling_rate`` is the model's ``DataPreProcessingConfiguration.TargetSamplingRate`` when known:
        an upload frequency finer than it cannot work.
        """
        members = self._members()
        if self.client_token is None:
            members["ClientToken"] = "derived-token"  # stands for stable_token(), which is always valid
        unplaced = {p.field for p in self.unplaced}
        found = list(self.unplaced)
        found += [p for p in servicemodel.check_input(OPERATION, members) if p.field not in unplaced]
        flagged = {p.field for p in found}
        found += [p for p in self._cross_field_problems(members, target_sampling_rate) if p.field not in flagged]
        return found

    def validate(self, target_sampling_rate: str | None = None) -> SchedulerRequest:
        """Raise :class:`RequestInvalid` listing every problem; return the request itself when valid."""
        found = self.problems(target_sampling_rate)
        if found:
            raise RequestInvalid(found)
        return self

    def field_problems(self, name: str, target_sampling_rate: str | None = None) -> list[Problem]:
        """The problems of one field, by Python name (``"input_prefix"``): what a form shows beside the field."""
        path = ".".join(FIELDS[name])
        return [p for p in self.problems(target_sampling_rate) if p.field == path or p.field.startswith(path + "[")]

    def _cross_field_problems(self, members, target_sampling_rate):
        """Rules the service model cannot express."""
        if isinstance(self.timezone_offset, str) and self.timezone_offset:
            try:
                parse_offset(self.timezone_offset)
            except NamingError:
                yield Problem(
                    ".".join(FIELDS["timezone_offset"]),
                    f"{self.timezone_offset!r} is not a real UTC offset: "
                    "use +HH:MM or -HH:MM between -12:00 and +14:00",
                )
        s3_input = members.get("DataInputConfiguration", {})
        given = "DataInputConfiguration" in members
        if isinstance(s3_input, dict) and given and "S3InputConfiguration" not in s3_input:
            # The API model leaves it optional, but a scheduler cannot run without input (CloudFormation requires it).
            yield Problem(
                ".".join(FIELDS["input_bucket"]), "is required: name the S3 bucket that holds the input files"
            )
        freq = self.frequency
        if freq is not None and target_sampling_rate:
            try:
                rate = parse_duration(target_sampling_rate)
            except ValueError:
                rate = None
            if rate is not None and freq < rate:
                allowed = [f for f in servicemodel.enum("DataUploadFrequency") if parse_duration(f) >= rate]
                yield Problem(
                    "DataUploadFrequency",
                    f"{self.upload_frequency} is finer than the model's sampling rate {target_sampling_rate}; "
                    f"use one of {', '.join(allowed) or 'PT1H'}",
                )
        tags = members.get("Tags")
        if isinstance(tags, list):
            seen = set()
            for i, tag in enumerate(tags):
                key = tag.get("Key") if isinstance(tag, Mapping) else None
                if isinstance(key, str) and key in seen:
                    yield Problem(f"Tags[{i}].Key", f"{key!r} is used twice; each tag key must be unique")
                seen.add(key)

    # -- notebook display --------------------------------------------------------------------------------------
    def _repr_html_(self) -> str:
        problems = self.problems()
        by_field: dict[str, list[str]] = {}
        for p in problems:
            by_field.setdefault(FIELD_BY_PATH.get(p.field) or field_for_path(p.field), []).append(p.message)
        rows = []
        for name, path in FIELDS.items():
            value = getattr(self, name)
            shown = "<i>derived</i> " + self.stable_token() if name == "client_token" and value is None else repr(value)
            issue = "<br>".join(html.escape(m) for m in by_field.get(name, []))
            style = f' style="color:{level_colour("error")}"' if issue else ""
            rows.append(
                f"<tr><td><code>{'.'.join(path)}</code></td>"
                f"<td>{html.escape(shown) if value is not None else shown}</td>"
                f"<td{style}>{issue or '&#10003;'}</td></tr>"
            )
        verdict = "valid" if not problems else f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        return (
            f"<div><b>SchedulerRequest</b> ({verdict})<table><thead><tr><th>Field</th><th>Value</th><th>Check</th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        )


def field_for_path(path: str) -> str:
    """The Python field that holds an API path, ``""`` for none.

    >>> field_for_path("Tags[3].Key"), field_for_path("DataInputConfiguration.InputTimeZoneOffset")
    ('tags', 'timezone_offset')
    """
    for name, parts in FIELDS.items():
        full = ".".join(parts)
        if path == full or path.startswith(full + "[") or path.startswith(full + "."):
            return name
    return ""
