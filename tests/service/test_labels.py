"""Label groups, labels and label files over real HTTP with boto3."""

from __future__ import annotations

import pandas as pd
import pytest

from lookout_nb.service import start
from lookout_nb.service.api.exceptions import ResourceNotFoundException
from lookout_nb.service.api.labels import LabelFileError, read_s3_labels
from lookout_nb.service.learning.ingest import S3Reader

T = pd.Timestamp("2026-01-01T00:00Z")
AN_HOUR_LATER = T + pd.Timedelta("1h")


def _label(lookout, group="faults", start=T, end=AN_HOUR_LATER, rating="ANOMALY", token=None, **extra):
    return lookout.create_label(LabelGroupName=group, StartTime=start, EndTime=end, Rating=rating,
                                ClientToken=token or f"{group}-{start}-{rating}-{extra}", **extra)["LabelId"]


def test_label_groups_create_describe_list_update_delete(lookout):
    arn = lookout.create_label_group(LabelGroupName="faults", FaultCodes=["bearing"], ClientToken="g1")["LabelGroupArn"]
    assert lookout.create_label_group(LabelGroupName="faults", ClientToken="g1")["LabelGroupArn"] == arn
    with pytest.raises(lookout.exceptions.ConflictException, match="Label group faults already exists"):
        lookout.create_label_group(LabelGroupName="faults", ClientToken="other")
    lookout.create_label_group(LabelGroupName="other", ClientToken="g2")
    d = lookout.describe_label_group(LabelGroupName="faults")
    assert (d["FaultCodes"], d["CreatedAt"]) == (["bearing"], pd.Timestamp("2026-01-05T09:00Z"))
    lookout.update_label_group(LabelGroupName="faults", FaultCodes=["bearing", "seal"])
    assert lookout.describe_label_group(LabelGroupName="faults")["FaultCodes"] == ["bearing", "seal"]
    names = lookout.list_label_groups(LabelGroupNameBeginsWith="fa")["LabelGroupSummaries"]
    assert [g["LabelGroupName"] for g in names] == ["faults"]
    lookout.delete_label_group(LabelGroupName="faults")
    with pytest.raises(lookout.exceptions.ResourceNotFoundException, match="Label group faults does not exist"):
        lookout.describe_label_group(LabelGroupName="faults")


def test_a_label_must_end_after_it_starts(lookout):
    lookout.create_label_group(LabelGroupName="faults", ClientToken="g")
    with pytest.raises(lookout.exceptions.ValidationException,
                       match=r"EndTime 2026-01-01T00:00:00.*after StartTime 2026-01-01T01"):
        _label(lookout, start=T + pd.Timedelta("1h"), end=T)
    with pytest.raises(lookout.exceptions.ResourceNotFoundException, match="Label group nope does not exist"):
        _label(lookout, group="nope")


def test_a_fault_code_must_be_one_of_the_groups(lookout):
    lookout.create_label_group(LabelGroupName="faults", FaultCodes=["bearing"], ClientToken="g")
    with pytest.raises(lookout.exceptions.ValidationException,
                       match="FaultCode 'seal' is not one of label group faults"):
        _label(lookout, FaultCode="seal")
    assert _label(lookout, FaultCode="bearing")


def test_labels_describe_list_filters_and_delete(lookout):
    lookout.create_label_group(LabelGroupName="faults", ClientToken="g")
    a = _label(lookout, start=T, end=T + pd.Timedelta("1h"), FaultCode="bearing", Equipment="pump-1", Notes="noisy")
    b = _label(lookout, start=T + pd.Timedelta(days=1), end=T + pd.Timedelta("25h"), Equipment="pump-2")
    c = _label(lookout, start=T + pd.Timedelta(days=2), end=T + pd.Timedelta("49h"), rating="NO_ANOMALY")
    d = lookout.describe_label(LabelGroupName="faults", LabelId=a)
    assert (d["StartTime"], d["Notes"], d["FaultCode"], d["Rating"]) == (T, "noisy", "bearing", "ANOMALY")
    def ids(**f):
        return [lb["LabelId"] for lb in lookout.list_labels(LabelGroupName="faults", **f)["LabelSummaries"]]
    assert ids() == [a, b, c]
    assert ids(IntervalStartTime=T + pd.Timedelta("2h"), IntervalEndTime=T + pd.Timedelta("30h")) == [b]
    assert ids(FaultCode="bearing") == [a] and ids(Equipment="pump-2") == [b]
    lookout.delete_label(LabelGroupName="faults", LabelId=a)
    with pytest.raises(lookout.exceptions.ResourceNotFoundException,
                       match=f"Label {a} does not exist in label group faults"):
        lookout.describe_label(LabelGroupName="faults", LabelId=a)
    assert ids() == [b, c]


def test_label_ranges_are_the_anomaly_labels_and_go_with_their_group(endpoint, lookout):
    lookout.create_label_group(LabelGroupName="faults", ClientToken="g")
    _label(lookout, start=T + pd.Timedelta(days=1), end=T + pd.Timedelta("25h"))
    _label(lookout, start=T, end=T + pd.Timedelta("1h"))
    _label(lookout, start=T + pd.Timedelta(days=3), end=T + pd.Timedelta("73h"), rating="NEUTRAL")
    assert endpoint.backend.label_ranges("us-east-1", "faults") == [
        (T, T + pd.Timedelta("1h")), (T + pd.Timedelta(days=1), T + pd.Timedelta("25h"))]
    lookout.delete_label_group(LabelGroupName="faults")
    lookout.create_label_group(LabelGroupName="faults", ClientToken="g2")
    assert endpoint.backend.label_ranges("us-east-1", "faults") == []  # the labels went with their group
    with pytest.raises(ResourceNotFoundException, match="Label group gone does not exist"):
        endpoint.backend.label_ranges("us-east-1", "gone")


def test_label_files_from_s3_and_their_errors_name_the_file_and_row(s3, unique_bucket):
    reader = S3Reader(s3)
    s3.put_object(Bucket=unique_bucket, Key="labels/a.csv",
                  Body=b"2019-08-08T00:00:00.000000,2019-08-09T00:00:00.000000,bearing,notes\n\n"
                       b"2019-07-01T00:00:00,2019-07-01T06:00:00\n")
    assert read_s3_labels(reader, unique_bucket, "labels/") == [
        (pd.Timestamp("2019-07-01T00:00Z"), pd.Timestamp("2019-07-01T06:00Z")),
        (pd.Timestamp("2019-08-08T00:00Z"), pd.Timestamp("2019-08-09T00:00Z"))]
    s3.put_object(Bucket=unique_bucket, Key="bad/b.csv", Body=b"2019-08-08T00:00:00,2019-08-09T00:00:00\n"
                                                           b"2019-08-10T00:00:00,2019-08-09T00:00:00\n")
    with pytest.raises(LabelFileError,
                       match=rf"s3://{unique_bucket}/bad/b.csv row 2: the end .* is not after the start"):
        read_s3_labels(reader, unique_bucket, "bad/")
    s3.put_object(Bucket=unique_bucket, Key="hdr/c.csv", Body=b"start,end\n2019-08-08,2019-08-09\n")
    with pytest.raises(LabelFileError, match=r"hdr/c.csv row 1 is a header \(start,end\), not a label: .*no header"):
        read_s3_labels(reader, unique_bucket, "hdr/")
    with pytest.raises(LabelFileError, match=rf"No label file under s3://{unique_bucket}/none/"):
        read_s3_labels(reader, unique_bucket, "none/")


def test_a_restart_with_state_dir_keeps_label_groups_and_labels(tmp_path):
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        lookout = ep.lookout()
        lookout.create_label_group(LabelGroupName="faults", FaultCodes=["bearing"], ClientToken="g")
        label = _label(lookout, FaultCode="bearing")
    with start(port=0, clock="manual", demo=False, state_dir=tmp_path) as ep:
        lookout = ep.lookout()
        assert ep.problems == []
        assert lookout.describe_label_group(LabelGroupName="faults")["FaultCodes"] == ["bearing"]
        assert lookout.describe_label(LabelGroupName="faults", LabelId=label)["EndTime"] == T + pd.Timedelta("1h")
        assert ep.backend.label_ranges("us-east-1", "faults") == [(T, T + pd.Timedelta("1h"))]
