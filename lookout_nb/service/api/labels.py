"""Label groups and labels of the embedded endpoint (the labels service of :class:`~.backend.Backend`), and
labels read from S3 CSVs for CreateModel's ``LabelsInputConfiguration.S3InputConfiguration``.

A label is a time range ``StartTime < EndTime`` with a Rating (ANOMALY, NO_ANOMALY, NEUTRAL); when its group
lists FaultCodes, a label's FaultCode must be one of them. Deleting a group deletes its labels.
:meth:`Labels.label_ranges` gives a group's ANOMALY ranges, the ones training leaves out and evaluation
scores. A label CSV has no header; each row is ``start,end[,extra...]`` (ISO timestamps, UTC unless they carry
an offset): :func:`read_s3_labels`.

>>> from lookout_nb.service.learning.ingest import FolderReader
>>> read_s3_labels(FolderReader("/data"), "", "labels/")         # doctest: +SKIP
[(Timestamp('2019-08-08 00:00:00+0000', tz='UTC'), Timestamp('2019-08-09 00:00:00+0000', tz='UTC'))]
"""

from __future__ import annotations

import uuid

import pandas as pd

from ...contract.labelrows import parse_label_rows
from ...contract.s3keys import s3_uri
from ...errors import InvalidArgument, LookoutNbError
from ..learning.ingest import IngestFailed
from .core import Core, page
from .datarecords import Label, LabelGroup
from .exceptions import (
    ConflictException,
    ResourceNotFoundException,
    ValidationException,
)

#: Where a model's label files are named in CreateModel (what a listing error points to).
FIELD = "LabelsInputConfiguration.S3InputConfiguration"


class LabelFileError(LookoutNbError, ValueError):
    """A label file that cannot be read; the message names the file and row and says how to fix it."""


def parse_labels(text: str, where: str) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """The ranges of one label file's text (``where`` names it in errors), read by the toolkit's
    :func:`lookout_nb.contract.labelrows.parse_label_rows`; its errors as :class:`LabelFileError`.

    >>> parse_labels("2019-08-08T00:00:00,2019-08-09T00:00:00,fault-1\\n", "labels.csv")[0][1]
    Timestamp('2019-08-09 00:00:00+0000', tz='UTC')
    >>> try:
    ...     parse_labels("2019-08-09,2019-08-08\\n", "labels.csv")
    ... except LabelFileError as err:
    ...     print(str(err)[:40])
    labels.csv row 1: the end 2019-08-08 00:
    """
    try:
        return parse_label_rows(text, where)
    except InvalidArgument as err:
        raise LabelFileError(str(err)) from None


def read_s3_labels(s3_reader, bucket: str, prefix: str) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Every range of the label files under ``s3://bucket/prefix`` (sorted); LabelFileError naming the file and
    row of the first bad one, or the place when there is no file. ``s3_reader`` is an :class:`.ingest.S3Reader`
    (or anything with ``keys(bucket, prefix, field)`` and ``body(bucket, key)``)."""
    try:
        listed = s3_reader.keys(bucket, prefix or "", field=FIELD)
    except IngestFailed as err:  # e.g. no such bucket: the FailedReason names the labels' place, not the data's
        raise LabelFileError(str(err)) from None
    keys = [k for k, _ in listed if not k.endswith("/")]
    if not keys:
        raise LabelFileError(f"No label file under {s3_uri(bucket, prefix)}: upload CSVs of start,end rows there "
                             f"({FIELD})")
    ranges = []
    for key in keys:
        try:
            text = s3_reader.body(bucket, key).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise LabelFileError(
                f"Label file {s3_uri(bucket, key)} is not UTF-8 text; write it as CSV rows start,end") from None
        ranges += parse_labels(text, f"Label file {s3_uri(bucket, key)}")
    return sorted(ranges)


class Labels:
    """The label group and label operations."""

    def __init__(self, core: Core):
        self.core = core
        self.label_groups: dict[str, dict[str, LabelGroup]] = {}  # region -> name -> group
        self.labels: dict[str, dict[str, Label]] = {}  # region -> "<group>/<label id>" -> label

    def _groups(self, region: str) -> dict[str, LabelGroup]:
        return self.label_groups.setdefault(region, {})

    def _labels(self, region: str) -> dict[str, Label]:
        return self.labels.setdefault(region, {})

    def group(self, region: str, name: str) -> LabelGroup:
        """Label group ``name`` of ``region``; ResourceNotFoundException naming it when there is none."""
        found = self._groups(region).get(name)
        if found is None:
            raise ResourceNotFoundException(f"Label group {name} does not exist")
        return found

    def _label(self, region: str, group: str, label_id: str) -> Label:
        self.group(region, group)
        found = self._labels(region).get(f"{group}/{label_id}")
        if found is None:
            raise ResourceNotFoundException(f"Label {label_id} does not exist in label group {group}")
        return found

    def create_label_group(self, region: str, params: dict) -> dict:
        name, token = params["LabelGroupName"], params["ClientToken"]
        with self.core.lock, self.core.change() as change:
            existing = self._groups(region).get(name)
            if existing is not None:
                if existing.client_token != token:
                    raise ConflictException(f"Label group {name} already exists")
                return {"LabelGroupName": name, "LabelGroupArn": existing.arn}
            now = self.core.clock.now()
            group = LabelGroup(region, name, now, now, list(params.get("FaultCodes") or []), token,
                               list(params.get("Tags") or []))
            change.entry("labelgroup", region, self._groups(region), name)
            self._groups(region)[name] = group
            return {"LabelGroupName": name, "LabelGroupArn": group.arn}

    def describe_label_group(self, region: str, params: dict) -> dict:
        with self.core.lock:
            return self.group(region, params["LabelGroupName"]).describe()

    def list_label_groups(self, region: str, params: dict) -> dict:
        begins = params.get("LabelGroupNameBeginsWith")
        with self.core.lock:
            items = [g.summary() for n, g in sorted(self._groups(region).items()) if not begins or n.startswith(begins)]
        return page(items, params, "LabelGroupSummaries")

    def update_label_group(self, region: str, params: dict) -> dict:
        with self.core.lock, self.core.change() as change:
            group = self.group(region, params["LabelGroupName"])
            change.entry("labelgroup", region, self._groups(region), group.name)
            if "FaultCodes" in params:
                group.fault_codes = list(params["FaultCodes"] or [])
            group.updated_at = self.core.clock.now()
            return {}

    def delete_label_group(self, region: str, params: dict) -> dict:
        with self.core.lock, self.core.change() as change:
            group = self.group(region, params["LabelGroupName"])
            labels = self._labels(region)
            for key in [k for k, label in labels.items() if label.group == group.name]:
                change.entry("label", region, labels, key)
                del labels[key]
            change.entry("labelgroup", region, self._groups(region), group.name)
            del self._groups(region)[group.name]
            return {}

    def create_label(self, region: str, params: dict) -> dict:
        name, start, end = params["LabelGroupName"], params["StartTime"], params["EndTime"]
        if end <= start:
            raise ValidationException(f"EndTime {end.isoformat()} must be after StartTime {start.isoformat()}; swap "
                                      "them or correct the one that is wrong")
        with self.core.lock, self.core.change() as change:
            group = self.group(region, name)
            code = params.get("FaultCode")
            if code and group.fault_codes and code not in group.fault_codes:
                raise ValidationException(f"FaultCode {code!r} is not one of label group {name}'s FaultCodes "
                                          f"({', '.join(group.fault_codes)}); add it with UpdateLabelGroup first")
            labels = self._labels(region)
            same = next((lb for lb in labels.values()
                         if lb.group == name and lb.client_token == params["ClientToken"]), None)
            if same is not None:
                return {"LabelId": same.label_id}
            label = Label(region, name, uuid.uuid4().hex, start, end, params["Rating"], self.core.clock.now(), code,
                          params.get("Notes"), params.get("Equipment"), params["ClientToken"])
            key = f"{name}/{label.label_id}"
            change.entry("label", region, labels, key)
            labels[key] = label
            return {"LabelId": label.label_id}

    def describe_label(self, region: str, params: dict) -> dict:
        with self.core.lock:
            label = self._label(region, params["LabelGroupName"], params["LabelId"])
            return label.describe(self.group(region, label.group).arn)

    def list_labels(self, region: str, params: dict) -> dict:
        name = params["LabelGroupName"]
        after, before = params.get("IntervalStartTime"), params.get("IntervalEndTime")
        code, equipment = params.get("FaultCode"), params.get("Equipment")
        with self.core.lock:
            group = self.group(region, name)
            found = sorted((lb for lb in self._labels(region).values() if lb.group == name),
                           key=lambda lb: (lb.start, lb.label_id))
            items = [lb.summary(group.arn) for lb in found
                     if (after is None or lb.end >= after) and (before is None or lb.start <= before)
                     and (not code or lb.fault_code == code) and (not equipment or lb.equipment == equipment)]
        return page(items, params, "LabelSummaries")

    def delete_label(self, region: str, params: dict) -> dict:
        with self.core.lock, self.core.change() as change:
            label = self._label(region, params["LabelGroupName"], params["LabelId"])
            key = f"{label.group}/{label.label_id}"
            change.entry("label", region, self._labels(region), key)
            del self._labels(region)[key]
            return {}

    def label_ranges(self, region: str, label_group_name: str) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
        """The ANOMALY ranges of a label group, sorted (ResourceNotFoundException if it is unknown)."""
        with self.core.lock:
            self.group(region, label_group_name)
            return sorted((lb.start, lb.end) for lb in self._labels(region).values()
                          if lb.group == label_group_name and lb.rating == "ANOMALY")
