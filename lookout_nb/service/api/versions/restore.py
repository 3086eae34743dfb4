"""Loading the versions room's records from ``state.db``: versions, lineages, retraining schedulers, policies.

Each record is checked field by field like the other rooms' (:func:`..restore.build`'s rules: a record that
cannot be restored is left out and named); a retraining that was IN_PROGRESS when the process ended is CANCELED
(saved so; on a shared store a live process takes it over instead, see :mod:`...runner.takeover`); versions of a
model that is gone are dropped.

>>> problems = load(backend, Store(state_dir))     # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from ...learning.training import TrainedModel
from ...state.state import decode
from ..change import Change
from .records import Lineage, ModelVersion, Policy, Retraining, check_frequency
from .retraining import CANCELLED

KINDS = {ModelVersion: "modelversion", Lineage: "lineage", Retraining: "retraining", Policy: "policy"}
_TYPES = {"pd.Timestamp | None": (pd.Timestamp, type(None)), "pd.Timestamp": (pd.Timestamp,),
          "str": (str,), "str | None": (str, type(None)), "int": (int,), "int | None": (int, type(None)),
          "dict": (dict,), "dict | None": (dict, type(None)), "list": (list,)}


def build(cls, doc):
    """A record of ``cls`` from a saved document; ValueError naming the first bad field."""
    if not isinstance(doc, dict):
        raise ValueError(f"it is not a JSON object ({str(doc)[:80]})")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(doc) - set(fields))
    if unknown:
        raise ValueError(f"field {unknown[0]!r} is not a field of a saved {KINDS[cls]}")
    values = {}
    for name, value in doc.items():
        value = decode(value)
        allowed = _TYPES.get(str(fields[name].type), (object,))
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            raise ValueError(f"field {name!r} has an invalid value {str(value)[:80]!r}")
        if isinstance(value, pd.Timestamp) and value.tzinfo is None:
            raise ValueError(f"field {name!r} is a time without a time zone")
        values[name] = value
    try:
        record = cls(**values)
    except TypeError as err:
        raise ValueError(str(err)) from None
    if isinstance(record, Retraining) and check_frequency(record.frequency):
        raise ValueError(check_frequency(record.frequency))
    if isinstance(record, ModelVersion) and record.trained is not None:
        try:
            TrainedModel.from_dict(record.trained)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise ValueError(f"field 'trained' is not a trained model that reads back ({err})") from None
    return record


def load(backend, store) -> list[str]:
    """Put the records of ``store`` into ``backend.versions``, ``.retraining`` and ``.sharing`` (under the core's
    lock); returns one line per record that could not be restored."""
    problems = []
    for kind, (table, make) in backend.shared_tables().items():
        for _, name, doc in store.rows(kind):
            try:
                table[name] = make(doc)
            except ValueError as err:
                problems.append(f"{kind} {name}: {err}; it is left out")
    change = Change(store)
    models = backend.models.models
    for key, v in list(backend.versions.versions.items()):
        if v.model_name not in models:
            change.entry("modelversion", "", backend.versions.versions, key)
            del backend.versions.versions[key]
        elif v.status == "IN_PROGRESS" and v.source_type == "RETRAINING" and not getattr(store, "shared", False):
            # (on a shared store a retraining in progress is a live process's, or taken over: state/claims.py)
            change.entry("modelversion", "", backend.versions.versions, key)
            v.status, v.failed_reason = "CANCELED", CANCELLED
            v.promotion_result, v.promotion_reason = "RETRAINING_CANCELLED", CANCELLED
    change.commit()
    return problems
