"""What the files must hold: the model's components and columns (DescribeModel's schema) and its sampling rate.

Trouble reading the model is a finding, never an exception: the checks then use the files alone.

>>> expected = read_expected(None, None, None, components=["pump", "motor"])
>>> expected.components, expected.columns, expected.findings
(('pump', 'motor'), None, [])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..contract import _aws
from ..contract.schema import ModelSchema, SchemaError
from ..errors import ResourceNotFound
from ._findings import Finding
from ._text import brief


@dataclass(frozen=True)
class Expected:
    """Components and their columns (from the model's schema, else the components given; None: unknown), the
    TargetSamplingRate (given, else the model's), and the findings of reading the model."""

    components: tuple | None = None
    columns: dict | None = None
    rate: str | None = None
    findings: list = field(default_factory=list)


def read_expected(model_name, client, session, *, components=None, target_sampling_rate=None) -> Expected:
    """What DescribeModel says the files hold; the given ``components`` and ``target_sampling_rate`` fill in."""
    model, found = _describe(model_name, client, session)
    preprocessing = (model or {}).get("DataPreProcessingConfiguration") or {}
    rate = target_sampling_rate or preprocessing.get("TargetSamplingRate")
    schema = None
    if model is not None:
        try:
            schema = ModelSchema.parse(model)
        except SchemaError as exc:
            found.append(Finding("model-unavailable", "info", f"the schema of model {model_name!r} could not be "
                                 f"read ({exc}); components and columns are checked against the files only"))
    if schema is not None:
        return Expected(schema.names, schema.columns, rate, found)
    return Expected(None if components is None else tuple(components), None, rate, found)


def _describe(model_name, client, session) -> tuple[Mapping | None, list[Finding]]:
    """DescribeModel's answer (None when there is none) and the findings of asking."""
    if not model_name:
        if client is None:
            return None, []
        return None, [Finding("model-unavailable", "info", "a Lookout client was given but no model name: "
                              "components and columns come from the file names and contents only")]
    try:
        from ..calls._service import call

        return call(_aws.lookout_client(client, session), "describe_model", ModelName=model_name), []
    except ResourceNotFound:
        return None, [Finding("model-not-found", "warning", f"no model named {model_name!r}: check "
                              "ModelName (components and columns are checked against the files only)")]
    except Exception as exc:  # noqa: BLE001 - no credentials, no region, unreachable, refused: all say the same
        return None, [Finding("model-unavailable", "info", f"could not read model {model_name!r} "
                              f"({brief(exc)}); components and columns are checked against the files only")]

