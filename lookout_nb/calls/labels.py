"""Labels: time ranges known to be faults, from CSV files or pairs, checked before use, as a label group or on S3.

A label file has no header (a local file's first row of names is skipped); each row is ``start,end[,fault
code,...]`` with ISO 8601 times (UTC unless they carry
an offset), as the service reads label CSVs. :func:`read_labels` reads files or pairs and names the file and row
(or the pair) of each mistake; :func:`create_label_group` makes a label group holding them (the labels a model
can be trained with through ``LabelsInputConfiguration.LabelGroupName``).

>>> read_labels([("2026-01-24T06:00", "2026-01-24T14:00")])
[(Timestamp('2026-01-24 06:00:00+0000', tz='UTC'), Timestamp('2026-01-24 14:00:00+0000', tz='UTC'))]
>>> read_labels([("2026-01-24T14:00", "2026-01-24T06:00")])
Traceback (most recent call last):
...
lookout_nb.errors.InvalidArgument: labels[0]: the end 2026-01-24 06:00:00+00:00 is not after the start 2026-01-24 \
14:00:00+00:00; swap them
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pandas as pd

from ..contract._aws import lookout_client
from ..contract.labelrows import pair, parse_label_rows
from ..errors import InvalidArgument, ResourceConflict
from . import _tables
from ._service import call, pages, wire_time

__all__ = ["create_label_group", "delete_label_group", "list_labels", "parse_label_rows", "read_labels"]

LABEL_COLUMNS = {"start": _tables.TIME, "end": _tables.TIME, "rating": _tables.TEXT, "fault_code": _tables.TEXT,
                 "label_id": _tables.TEXT}


def _file_labels(path: Path) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidArgument(f"label file {path} is not UTF-8 text; write it as CSV rows start,end") from None
    out = parse_label_rows(text, f"label file {path}", skip_header=True)  # a header is what a spreadsheet writes
    if not out:
        raise InvalidArgument(f"label file {path} holds no label: write one start,end row per fault")
    return out


def read_labels(labels) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """UTC ``(start, end)`` pairs from a label CSV file, a folder of them, ``(start, end)`` pairs, or a DataFrame
    whose first two columns are start and end; :class:`InvalidArgument` naming the file and row (or the pair) of
    a time that cannot be read or an end that is not after its start."""
    if isinstance(labels, (str, Path)):
        path = Path(labels).expanduser()
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            if not files:
                raise InvalidArgument(f"labels: folder {path} holds no label file")
            return sorted(pair for f in files for pair in _file_labels(f))
        if not path.is_file():
            raise InvalidArgument(f"labels: {str(path)!r} is neither a label file nor a folder of them")
        return sorted(_file_labels(path))
    if isinstance(labels, pd.DataFrame):
        labels = list(labels.iloc[:, :2].itertuples(index=False, name=None))
    out = []
    for i, item in enumerate(labels):
        if hasattr(item, "start") and hasattr(item, "end"):
            item = (item.start, item.end)
        try:
            start, end = tuple(item)[:2]
        except (TypeError, ValueError):
            raise InvalidArgument(f"labels[{i}]: expected a (start, end) pair, got {item!r}") from None
        out.append(pair(start, end, f"labels[{i}]"))
    return sorted(out)


def create_label_group(name: str, labels=(), fault_codes=None, fault_code: str | None = None, client=None,
                       session=None) -> str:
    """Create label group ``name`` holding ``labels`` (anything :func:`read_labels` reads) rated ANOMALY; returns
    its name. The labels are checked before anything is sent; running it again adds nothing new.

    Example
    -------
    >>> create_label_group("pump-faults", "labels.csv")                   # doctest: +SKIP
    'pump-faults'
    """
    pairs = read_labels(labels)
    client = lookout_client(client, session)
    params: dict[str, Any] = {"LabelGroupName": name, "ClientToken": _token(name, *(fault_codes or ()))}
    if fault_codes:
        params["FaultCodes"] = list(fault_codes)
    try:
        call(client, "create_label_group", **params)
    except ResourceConflict as exc:
        raise ResourceConflict(f"label group {name!r} exists already (made by another call): choose another name or "
                               f"delete it first (delete_label_group({name!r})). The service said: {exc}",
                               operation="CreateLabelGroup") from exc
    for start, end in pairs:
        extra = {"FaultCode": fault_code} if fault_code else {}
        call(client, "create_label", LabelGroupName=name, StartTime=wire_time(start), EndTime=wire_time(end),
             Rating="ANOMALY", ClientToken=_token(name, start.isoformat(), end.isoformat()), **extra)
    return name


def _token(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:64]


def list_labels(group: str, start=None, end=None, client=None, session=None) -> pd.DataFrame:
    """The labels of a group overlapping ``[start, end]`` (all pages): ``start, end, rating, fault_code, label_id``.

    Example
    -------
    >>> list_labels("pump-faults")                                        # doctest: +SKIP
    """
    items = pages(lookout_client(client, session), "list_labels", "LabelSummaries", LabelGroupName=group,
                  IntervalStartTime=wire_time(start), IntervalEndTime=wire_time(end))
    rows = [{"start": i.get("StartTime"), "end": i.get("EndTime"), "rating": i.get("Rating"),
             "fault_code": i.get("FaultCode"), "label_id": i.get("LabelId")} for i in items]
    return _tables.typed_frame(rows, LABEL_COLUMNS).sort_values("start", ignore_index=True)


def delete_label_group(name: str, client=None, session=None) -> None:
    """Delete a label group and its labels.

    Example
    -------
    >>> delete_label_group("pump-faults")                                 # doctest: +SKIP
    """
    call(lookout_client(client, session), "delete_label_group", LabelGroupName=name)
