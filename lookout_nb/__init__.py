"""lookout_nb: build, check, preview, submit and plot Amazon Lookout for Equipment inference schedulers.

>>> import lookout_nb as lnb
>>> req = lnb.SchedulerRequest(model_name="pump", upload_frequency="PT2M")
>>> [p.field for p in req.problems()][:2]
['InferenceSchedulerName', 'DataInputConfiguration']

Importing the package loads neither matplotlib nor ipywidgets and creates no AWS client: the modules that need
them are imported on first use of their names.
"""

from __future__ import annotations

import importlib

from .errors import (
    AccessDenied,
    DataFilesInvalid,
    InvalidArgument,
    JobFailed,
    LookoutNbError,
    LookoutNbWarning,
    NamingError,
    Problem,
    RequestInvalid,
    ResourceConflict,
    ResourceNotFound,
    SchedulerConflict,
    ServiceError,
    ServiceUnavailable,
    Throttled,
    WaitTimeout,
)
from .naming import Naming, NamingCandidate, detect_naming, input_key, parse_input_key
from .request import SchedulerRequest, parse_duration
from .schema import ModelSchema, SchemaError

__version__ = "0.1.0"

#: Public names served lazily, by the module that defines them.
_LAZY = {
    "plan_schedule": "timing",
    "match_files": "filematch",
    "next_runs": "timing",
    "offset_for_zone": "timing",
    "service_now": "servicetime",
    "preview_input": "preview",
    "InputPreview": "preview",
    "submit": "scheduler",
    "describe": "scheduler",
    "wait_for_status": "scheduler",
    "start": "scheduler",
    "stop": "scheduler",
    "update": "scheduler",
    "delete": "scheduler",
    "request_from_scheduler": "scheduler",
    "list_schedulers": "scheduler",
    "list_models": "models",
    "describe_model": "models",
    "model_info": "models",
    "train": "models",
    "delete_model": "models",
    "ModelInfo": "models",
    "create_dataset": "datasets",
    "describe_dataset": "datasets",
    "list_datasets": "datasets",
    "delete_dataset": "datasets",
    "ingest": "datasets",
    "ingestion_jobs": "datasets",
    "quality_table": "datasets",
    "DatasetInfo": "datasets",
    "IngestionResult": "datasets",
    "check_folder": "datafolder",
    "read_labels": "labels",
    "create_label_group": "labels",
    "list_labels": "labels",
    "delete_label_group": "labels",
    "evaluation_table": "evaluation",
    "evaluation_summary": "evaluation",
    "plot_evaluation": "evaluation",
    "executions": "scheduler",
    "results": "scheduler",
    "events": "scheduler",
    "plot_schedule": "plot",
    "plot_results": "plot",
    "Wizard": "wizard",
}

__all__ = [
    "AccessDenied",
    "DataFilesInvalid",
    "InvalidArgument",
    "JobFailed",
    "LookoutNbError",
    "LookoutNbWarning",
    "ModelSchema",
    "Naming",
    "NamingCandidate",
    "NamingError",
    "Problem",
    "RequestInvalid",
    "ResourceConflict",
    "ResourceNotFound",
    "SchedulerConflict",
    "SchedulerRequest",
    "SchemaError",
    "ServiceError",
    "ServiceUnavailable",
    "Throttled",
    "WaitTimeout",
    "detect_naming",
    "input_key",
    "parse_duration",
    "parse_input_key",
    *_LAZY,
]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lookout_nb' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
