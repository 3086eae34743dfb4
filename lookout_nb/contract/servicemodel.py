"""Constraints of the Lookout for Equipment API, read from botocore's own service model at run time.

botocore checks only required members, types and minimums; ``max``, ``pattern`` and ``enum`` reach the server
unchecked. :func:`check` checks all of them, recursively, and names each problem by its API path.

>>> [str(p) for p in check(61, "DataDelayOffsetInMinutes", path="DataDelayOffsetInMinutes")]
['DataDelayOffsetInMinutes: must be at most 60 (got 61)']
>>> check_input("DescribeInferenceScheduler", {"InferenceSchedulerName": "pump-1"})
[]
"""

from __future__ import annotations

import datetime as _dt
import functools
import re

from ..errors import Problem

SERVICE = "lookoutequipment"

#: Java-only regex classes used by the model, and their Python equivalents.
_JAVA_CLASSES = {
    r"\p{ASCII}": r"[\x00-\x7F]",
    # \P{M} and \p{M} together mean "any character"; keep the translation exact for each one.
    r"[\P{M}\p{M}]": r"[\s\S]",
    r"\P{M}": r"[^\u0300-\u036F]",
    r"\p{M}": r"[\u0300-\u036F]",
}


_NAME = "use 1 to 200 letters, digits, '_' or '-'"
_L4E_ARN = "use a Lookout for Equipment ARN such as arn:aws:lookoutequipment:us-east-1:123456789012:{kind}/..."
_ANY_TEXT = "use 1 to {n} characters"

#: What each patterned shape allows, in words: the message a person reads (the raw pattern, with its escapes such
#: as \u0009, is never shown). ``{example}`` is filled per field (an output prefix gets an output-like example).
_HINTS = {
    "ModelName": _NAME,
    "InferenceSchedulerName": _NAME,
    "InferenceSchedulerIdentifier": _NAME,
    "DatasetName": _NAME,
    "DatasetIdentifier": _NAME,
    "LabelGroupName": _NAME,
    "ComponentName": "use 1 to 200 letters, digits, '.', '_' or '-'",
    "SensorName": "use 1 to 200 letters, digits or : # $ . - _",
    "S3Bucket": "use 3 to 63 lowercase letters, digits, '.' or '-', starting and ending with a letter or digit",
    "S3Prefix": "leave it empty or end it with '/' (for example '{example}'), in at most 1023 printable Latin-1 "
                "characters",
    "S3Key": "use 1 to 1024 characters, not ending with '/'",
    "TimeZoneOffset": "use +HH:MM or -HH:MM, for example +00:00 or +05:30",
    "FileNameTimestampFormat": "use one of EPOCH, yyyy-MM-dd-HH-mm-ss, yyyyMMddHHmmss (case matters)",
    "ComponentTimestampDelimiter": "use '', '-', '_' or one whitespace character",
    "IamRoleArn": "use an IAM role ARN such as arn:aws:iam::123456789012:role/LookoutAccess",
    "NameOrArn": "use a KMS key id, alias or ARN (letters, digits and :_/+=,@.-)",
    "TagKey": "use letters, digits and + - = . _ : /, not starting with 'aws:'",
    "TagValue": "use letters, digits, spaces and _ + - = . : / @",
    "IdempotenceToken": "use 1 to 256 ASCII characters",
    "NextToken": "pass the NextToken of the previous page (up to 8192 ASCII characters)",
    "KmsKeyArn": "use a KMS key ARN such as "
                 "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "DatasetArn": _L4E_ARN.format(kind="dataset"),
    "InferenceSchedulerArn": _L4E_ARN.format(kind="inference-scheduler"),
    "LabelGroupArn": _L4E_ARN.format(kind="label-group"),
    "ModelArn": _L4E_ARN.format(kind="model"),
    "ModelVersionArn": _L4E_ARN.format(kind="model") + "/model-version/1",
    "ResourceArn": _L4E_ARN.format(kind="model"),
    "IngestionJobId": "use up to 32 hexadecimal digits",
    "LabelId": "use up to 32 hexadecimal digits",
    "PolicyRevisionId": "use hexadecimal digits",
    "LookbackWindow": "use P180D, P360D, P540D or P720D",
    "RetrainingFrequency": "use a period of years, months and days such as P1M or P30D",
    "Policy": "use printable Latin-1 text (tabs and line breaks allowed)",
    "BoundedLengthString": _ANY_TEXT.format(n=5000),
    "Comments": _ANY_TEXT.format(n=2560),
    "Equipment": _ANY_TEXT.format(n=200),
    "FaultCode": _ANY_TEXT.format(n=100),
}
#: The example of a prefix, by the first word of its path that names what it holds.
_PREFIX_EXAMPLES = (("Output", "output/"), ("Label", "labels/"), ("", "input/"))


def hint(shape_name: str, path: str = "") -> str | None:
    """What the patterned shape ``shape_name`` allows, in words, for the field at ``path`` (None if unknown).

    >>> hint("S3Prefix", "DataOutputConfiguration.S3OutputConfiguration.Prefix")
    "leave it empty or end it with '/' (for example 'output/'), in at most 1023 printable Latin-1 characters"
    """
    text = _HINTS.get(shape_name)
    if text is None or "{example}" not in text:
        return text
    return text.format(example=next(example for word, example in _PREFIX_EXAMPLES if word in path))


@functools.lru_cache(maxsize=1)
def service_model():
    """The botocore ``ServiceModel`` of ``lookoutequipment`` (loaded once, without creating a client)."""
    import botocore.session

    return botocore.session.get_session().get_service_model(SERVICE)


def shape(name):
    """The botocore shape called ``name``, e.g. ``shape("IamRoleArn").metadata["pattern"]``."""
    return service_model().shape_for(name)


@functools.cache
def enum(name: str) -> tuple[str, ...]:
    """The allowed values of an enum shape.

    >>> enum("DataUploadFrequency")
    ('PT5M', 'PT10M', 'PT15M', 'PT30M', 'PT1H')
    """
    return tuple(shape(name).enum)


@functools.cache
def compile_pattern(pattern: str) -> re.Pattern:
    """Compile a model pattern for full-string matching, translating Java-only classes."""
    for java, py in _JAVA_CLASSES.items():
        pattern = pattern.replace(java, py)
    return re.compile(pattern)


def input_shape(operation: str):
    """The input structure shape of an operation, e.g. ``input_shape("CreateInferenceScheduler")``."""
    return service_model().operation_model(operation).input_shape


def check_input(operation: str, params) -> list[Problem]:
    """Every problem of ``params`` as the input of ``operation`` (unknown members included)."""
    return check(params, input_shape(operation))


def check(value, shape_or_name, path: str = "") -> list[Problem]:
    """Check ``value`` against a shape (a botocore Shape or its name); return every problem found.

    ``path`` names the value in the problems; members of a structure are named below it
    (``path=""`` for an operation's input gives ``DataInputConfiguration.S3InputConfiguration.Prefix``).
    """
    sh = shape(shape_or_name) if isinstance(shape_or_name, str) else shape_or_name
    problems: list[Problem] = []
    _CHECKERS.get(sh.type_name, _check_nothing)(value, sh, path, problems)
    return problems


def _check_structure(value, sh, path, out):
    if not isinstance(value, dict):
        out.append(Problem(path or sh.name, f"must be a mapping of {', '.join(sh.members)} (got {_kind(value)})"))
        return
    for name in sh.required_members:
        if value.get(name) is None:
            out.append(Problem(_join(path, name), "is required"))
    for name, item in value.items():
        member = sh.members.get(name)
        if member is None:
            out.append(Problem(_join(path, name), f"is not a member; expected one of {', '.join(sh.members)}"))
        elif item is not None:
            _CHECKERS.get(member.type_name, _check_nothing)(item, member, _join(path, name), out)


def _check_list(value, sh, path, out):
    if not isinstance(value, (list, tuple)):
        out.append(Problem(path, f"must be a list (got {_kind(value)})"))
        return
    _check_range(len(value), sh.metadata, path, out, unit=" items")
    member = sh.member
    for i, item in enumerate(value):
        _CHECKERS.get(member.type_name, _check_nothing)(item, member, f"{path}[{i}]", out)


def _check_string(value, sh, path, out):
    if not isinstance(value, str):
        out.append(Problem(path, f"must be a string (got {_kind(value)})"))
        return
    if sh.enum:
        if value not in sh.enum:
            out.append(Problem(path, f"must be one of {', '.join(sh.enum)} (got {value!r})"))
        return
    before = len(out)
    _check_range(len(value), sh.metadata, path, out, unit=" characters")
    pattern = sh.metadata.get("pattern")
    if pattern and len(out) == before and not compile_pattern(pattern).fullmatch(value):
        words = hint(sh.name, path)
        out.append(Problem(path, f"{value!r} is not allowed: {words}" if words else
                           f"{value!r} does not match the API's pattern for {sh.name}: {pattern}"))


def _check_integer(value, sh, path, out):
    if isinstance(value, bool) or not isinstance(value, int):
        out.append(Problem(path, f"must be a whole number (got {_kind(value)})"))
        return
    _check_range(value, sh.metadata, path, out)


def _check_timestamp(value, sh, path, out):
    if not isinstance(value, (_dt.datetime, _dt.date, int, float, str)) or isinstance(value, bool):
        out.append(Problem(path, f"must be a datetime (got {_kind(value)})"))


def _check_boolean(value, sh, path, out):
    if not isinstance(value, bool):
        out.append(Problem(path, f"must be true or false (got {_kind(value)})"))


def _check_nothing(value, sh, path, out):
    """Shapes the scheduler never uses (blob, map, document): accepted as they are."""


def _check_range(n, meta, path, out, unit=""):
    low, high = meta.get("min"), meta.get("max")
    if low is not None and n < low:
        out.append(Problem(path, f"must be at least {low}{unit} (got {n})"))
    elif high is not None and n > high:
        out.append(Problem(path, f"must be at most {high}{unit} (got {n})"))


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _kind(value) -> str:
    return "nothing" if value is None else f"{type(value).__name__} {value!r}"[:80]


_CHECKERS = {
    "structure": _check_structure,
    "list": _check_list,
    "string": _check_string,
    "integer": _check_integer,
    "long": _check_integer,
    "timestamp": _check_timestamp,
    "boolean": _check_boolean,
}
