"""A model's schema: its components and their columns, read from DescribeModel's ``Schema`` JSON text.

Every component of the schema needs one input file per slot, whose header is the timestamp column followed by
the component's sensor columns.

>>> import json
>>> schema = ModelSchema.parse('{"Components": [{"ComponentName": "pump", "Columns": ['
...     '{"Name": "Timestamp", "Type": "DATETIME"}, {"Name": "Flow", "Type": "DOUBLE"}]}]}')
>>> schema.names, schema.sensors["pump"], schema.columns["pump"]
(('pump',), ('Flow',), ('Timestamp', 'Flow'))
>>> json.loads(ModelSchema.parse({"pump": ["Flow"], "motor": ["Current"]}).to_json())["Components"][1]["Columns"]
[{'Name': 'Timestamp', 'Type': 'DATETIME'}, {'Name': 'Current', 'Type': 'DOUBLE'}]
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import LookoutNbError

TIMESTAMP_COLUMN = "Timestamp"


class SchemaError(LookoutNbError, ValueError):
    """A model schema (or a list of components) that cannot be read; the message says what was expected."""


@dataclass(frozen=True)
class ModelSchema:
    """Components in schema order, each with its full header: the timestamp column, then the sensors."""

    columns: dict[str, tuple[str, ...]]

    @property
    def names(self) -> tuple[str, ...]:
        """The component names, in schema order."""
        return tuple(self.columns)

    @property
    def sensors(self) -> dict[str, tuple[str, ...]]:
        """``{component: sensor columns}``: the header without its timestamp column."""
        return {name: cols[1:] for name, cols in self.columns.items()}

    @classmethod
    def parse(cls, source) -> ModelSchema:
        """A schema from what users and services hold.

        ``source`` is a DescribeModel response (or a ModelInfo), its ``Schema`` JSON text (or that text decoded), a
        mapping ``{component: [sensors]}``, a list of component names (no sensors known), or a ModelSchema. JSON is read
        with ``json.loads``, never ``eval``.
        """
        if isinstance(source, ModelSchema):
            return source
        if isinstance(getattr(source, "raw", None), Mapping):  # a ModelInfo: its DescribeModel response
            source = source.raw
        if isinstance(source, Mapping) and "Schema" in source and "Components" not in source:
            source = source["Schema"]  # a DescribeModel response
        if isinstance(source, str):
            try:
                source = json.loads(source)
            except json.JSONDecodeError as exc:
                raise SchemaError(
                    f"expected a list of component names or a model schema {_EXAMPLE}; got a string that is not "
                    f"JSON ({exc}): to name one component, pass [{source!r}]"
                ) from exc
        if isinstance(source, Mapping) and "Components" in source:
            return cls(_columns_of(source["Components"]))
        if isinstance(source, Mapping):
            return cls(_checked({name: (TIMESTAMP_COLUMN, *_names(sensors, name)) for name, sensors in source.items()}))
        if isinstance(source, (list, tuple)) or hasattr(source, "tolist"):  # names in a list, Index or array
            names = source.tolist() if hasattr(source, "tolist") else list(source)
            return cls(_checked({name: (TIMESTAMP_COLUMN,) for name in names}, listed=names))
        raise SchemaError(
            f"expected a model schema {_EXAMPLE} or a list of component names, not {type(source).__name__}")

    def to_json(self) -> str:
        """The ``Schema`` JSON text of DescribeModel: a DATETIME timestamp column and DOUBLE sensors."""
        components = [
            {
                "ComponentName": name,
                "Columns": [{"Name": cols[0], "Type": "DATETIME"}, *({"Name": c, "Type": "DOUBLE"} for c in cols[1:])],
            }
            for name, cols in self.columns.items()
        ]
        return json.dumps({"Components": components})


_EXAMPLE = '{"Components": [{"ComponentName": ..., "Columns": [{"Name": "Timestamp", "Type": "DATETIME"}, ...]}]}'


def _columns_of(components) -> dict[str, tuple[str, ...]]:
    if not isinstance(components, list):
        raise SchemaError(f'a model schema needs a "Components" list: {_EXAMPLE}')
    out = {}
    for i, comp in enumerate(components):
        if not isinstance(comp, Mapping) or not isinstance(comp.get("Columns", []), list):
            raise SchemaError(f"Components[{i}] must be an object with ComponentName and Columns: {_EXAMPLE}")
        columns = [c.get("Name") if isinstance(c, Mapping) else None for c in comp.get("Columns", [])]
        name = comp.get("ComponentName")
        out[name] = tuple(_names(columns, name)) or (TIMESTAMP_COLUMN,)
    return _checked(out, listed=[c.get("ComponentName") if isinstance(c, Mapping) else None for c in components])


def _names(values, component) -> list[str]:
    names = list(values)
    if any(not isinstance(n, str) or not n for n in names):
        raise SchemaError(f"component {component!r}: every column name must be a non-empty string")
    return names


def _checked(columns: dict, listed=None) -> dict[str, tuple[str, ...]]:
    listed = list(columns) if listed is None else listed
    bad = [n for n in listed if not isinstance(n, str) or not n]
    if bad:
        raise SchemaError(f"every component name must be a non-empty string (got {bad[0]!r})")
    repeated = sorted({n for n in listed if listed.count(n) > 1})
    if repeated:
        raise SchemaError(f"each component must appear once ({', '.join(repeated)} repeated)")
    return columns
