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
from typing import TYPE_CHECKING

from .contract.naming import Naming, NamingCandidate, detect_naming, input_key, parse_input_key
from .contract.request import SchedulerRequest, parse_duration
from .contract.schema import ModelSchema, SchemaError
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

if TYPE_CHECKING:  # the lazy names, for type checkers and editors (tests/test_house.py keeps both in step)
    from .calls.datafolder import check_folder
    from .calls.datasets import (
        DatasetInfo,
        IngestionResult,
        create_dataset,
        delete_dataset,
        describe_dataset,
        ingest,
        ingestion_jobs,
        list_datasets,
        quality_table,
    )
    from .calls.evaluation import evaluation_summary, evaluation_table, plot_evaluation
    from .calls.labels import create_label_group, delete_label_group, list_labels, read_labels
    from .calls.models import ModelInfo, delete_model, describe_model, list_models, model_info, train
    from .calls.scheduler import (
        delete,
        describe,
        events,
        executions,
        list_schedulers,
        request_from_scheduler,
        results,
        start,
        stop,
        submit,
        update,
        wait_for_status,
    )
    from .calls.versions import activate_version, model_versions, retrain, retraining, stop_retraining
    from .contract.filematch import match_files
    from .contract.servicetime import service_now
    from .contract.timing import next_runs, offset_for_zone, plan_schedule
    from .plot import plot_results, plot_schedule, plot_versions
    from .preview import InputPreview, preview_input
    from .wizard import Wizard

__version__ = "0.1.0"

#: Public names served lazily, by the module that defines them.
_LAZY = {
    "plan_schedule": "contract.timing",
    "match_files": "contract.filematch",
    "next_runs": "contract.timing",
    "offset_for_zone": "contract.timing",
    "service_now": "contract.servicetime",
    "preview_input": "preview",
    "InputPreview": "preview",
    "submit": "calls.scheduler",
    "describe": "calls.scheduler",
    "wait_for_status": "calls.scheduler",
    "start": "calls.scheduler",
    "stop": "calls.scheduler",
    "update": "calls.scheduler",
    "delete": "calls.scheduler",
    "request_from_scheduler": "calls.scheduler",
    "list_schedulers": "calls.scheduler",
    "list_models": "calls.models",
    "describe_model": "calls.models",
    "model_info": "calls.models",
    "train": "calls.models",
    "delete_model": "calls.models",
    "ModelInfo": "calls.models",
    "create_dataset": "calls.datasets",
    "describe_dataset": "calls.datasets",
    "list_datasets": "calls.datasets",
    "delete_dataset": "calls.datasets",
    "ingest": "calls.datasets",
    "ingestion_jobs": "calls.datasets",
    "quality_table": "calls.datasets",
    "DatasetInfo": "calls.datasets",
    "IngestionResult": "calls.datasets",
    "check_folder": "calls.datafolder",
    "read_labels": "calls.labels",
    "create_label_group": "calls.labels",
    "list_labels": "calls.labels",
    "delete_label_group": "calls.labels",
    "evaluation_table": "calls.evaluation",
    "evaluation_summary": "calls.evaluation",
    "plot_evaluation": "calls.evaluation",
    "executions": "calls.scheduler",
    "results": "calls.scheduler",
    "events": "calls.scheduler",
    "retrain": "calls.versions",
    "retraining": "calls.versions",
    "stop_retraining": "calls.versions",
    "model_versions": "calls.versions",
    "activate_version": "calls.versions",
    "plot_versions": "plot",
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
