"""Helpers of the dataset, ingestion and label tests: upload CSVs, create a dataset, wait for a job."""

from __future__ import annotations

import time

import pandas as pd

from lookout_nb.contract.schema import ModelSchema

ROLE = "arn:aws:iam::123456789012:role/lookout-test"


def csv_of(frame: pd.DataFrame, fmt: str = "%Y-%m-%dT%H:%M:%S.%f") -> bytes:
    """A frame as the CSV a user uploads: header ``Timestamp,<sensors>``, ISO UTC rows."""
    out = frame.copy()
    out.index = out.index.strftime(fmt)
    return out.to_csv(index_label="Timestamp").encode()


def upload(s3, bucket: str, frames: dict, prefix: str = "train/", pattern: str = "{c}/{c}.csv") -> list[str]:
    """Put one CSV per component at ``prefix + pattern`` (``{c}`` the component); returns the keys."""
    keys = []
    for c, frame in frames.items():
        key = prefix + pattern.format(c=c)
        s3.put_object(Bucket=bucket, Key=key, Body=csv_of(frame))
        keys.append(key)
    return keys


def schema_json(components: dict) -> str:
    """The InlineDataSchema of ``{component: [sensors]}``."""
    return ModelSchema.parse(components).to_json()


def create_dataset(lookout, name: str, components: dict | None = None) -> dict:
    """CreateDataset with the schema of ``components`` (none: the first ingestion gives it)."""
    extra = {"DatasetSchema": {"InlineDataSchema": schema_json(components)}} if components else {}
    return lookout.create_dataset(DatasetName=name, ClientToken=f"tok-{name}", **extra)


def ingest(lookout, dataset: str, bucket: str, prefix: str = "train/", key_pattern: str | None = None,
           token: str | None = None) -> dict:
    """Start an ingestion job (the SDK sends only Bucket and Prefix) and wait for its end; its description."""
    config = {"Bucket": bucket, "Prefix": prefix, **({"KeyPattern": key_pattern} if key_pattern else {})}
    job = lookout.start_data_ingestion_job(DatasetName=dataset,
                                           IngestionInputConfiguration={"S3InputConfiguration": config}, RoleArn=ROLE,
                                           ClientToken=token or f"{dataset}-{time.monotonic_ns()}")
    assert job["Status"] == "IN_PROGRESS"
    return wait_job(lookout, job["JobId"])


def wait_job(lookout, job_id: str, timeout: float = 60.0) -> dict:
    """Poll DescribeDataIngestionJob while it is IN_PROGRESS (as the SDK's ingest_data does)."""
    deadline = time.monotonic() + timeout
    while True:
        d = lookout.describe_data_ingestion_job(JobId=job_id)
        if d["Status"] != "IN_PROGRESS":
            return d
        assert time.monotonic() < deadline, f"ingestion job {job_id} still IN_PROGRESS after {timeout}s"
        time.sleep(0.05)


def frame(start: str, periods: int, columns: dict, freq: str = "1min") -> pd.DataFrame:
    """A sensor frame: ``frame("2026-01-01", 3, {"Flow": [1, 2, 3]})``."""
    index = pd.date_range(start, periods=periods, freq=freq, tz="UTC", name="Timestamp")
    return pd.DataFrame(columns, index=index)
