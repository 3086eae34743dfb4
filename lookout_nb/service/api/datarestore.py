"""Loading the datasets, ingestion jobs, label groups and labels of ``state.db`` into a backend (called by
:func:`.restore.load`): each record checked field by field; one that cannot be restored is left out and named
(one line of the returned problems, logged by the caller), the others load. An ingestion job that was
IN_PROGRESS when the process ended is FAILED with a reason (saved so); a dataset whose data file is missing is
named too (its DescribeDataset still answers; reading its data says to ingest again).

>>> problems = load(backend, store)     # doctest: +SKIP
"""

from __future__ import annotations

from ..storage import datafiles
from .change import Change
from .datarecords import CHECKS, KINDS, Dataset, IngestionJob, Label, LabelGroup
from .datasets import INTERRUPTED
from .restore import CHECKS as RESTORE_CHECKS
from .restore import KIND, build

RESTORE_CHECKS.update(CHECKS)
KIND.update(KINDS)
_WHAT = {Dataset: "dataset", IngestionJob: "data ingestion job", LabelGroup: "label group", Label: "label"}


def _key(record) -> str:
    if isinstance(record, (Dataset, LabelGroup)):
        return record.name
    if isinstance(record, IngestionJob):
        return record.job_id
    return f"{record.group}/{record.label_id}"


def _tables(backend) -> dict:
    return {Dataset: backend.datasets, IngestionJob: backend.ingestions, LabelGroup: backend.label_groups,
            Label: backend.labels}


def load(backend, store) -> list[str]:
    """Put the model-building records of ``store`` into ``backend`` (under its lock); returns the problems."""
    problems = []
    for cls, tables in _tables(backend).items():
        for region, name, doc in store.rows(KINDS[cls]):
            try:
                record = build(cls, doc)
                if (record.region, _key(record)) != (region, name):
                    raise ValueError(
                        f"its region and name ({record.region!r}, {_key(record)!r}) are not those of its row")
            except ValueError as err:
                problems.append(f"{_WHAT[cls]} {name} ({region}): {err}")
                continue
            tables.setdefault(region, {})[name] = record
    folder = store.path.parent / datafiles.FOLDER
    for region, table in backend.datasets.items():
        for d in table.values():
            if d.has_data and (not d.data_file or not (folder / d.data_file).is_file()):
                problems.append(f"dataset {d.name} ({region}): its data file {folder / (d.data_file or '?')} is "
                                "missing; start a data ingestion job again")
    change = Change(store)
    for region, jobs in backend.ingestions.items():
        for job_id, job in jobs.items():
            if job.status == "IN_PROGRESS":
                change.entry("ingestion", region, jobs, job_id)
                job.status, job.failed_reason = "FAILED", INTERRUPTED
    change.commit()
    return problems
