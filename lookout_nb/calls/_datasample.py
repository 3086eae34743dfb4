"""How often a dataset's rows come: read from the start of one of its files (one listing page, one ranged GET).

A training's sampling rate finer than the data gives intervals without a row of their own; the API shows no
spacing of a dataset's data, so it is read from the files its last ingestion read.

>>> spacing_of(pd.DatetimeIndex(["2026-01-05 09:00", "2026-01-05 09:01", "2026-01-05 09:02"]))
Timedelta('0 days 00:01:00')
"""

from __future__ import annotations

import pandas as pd

from ..contract.inputfiles import read_input
from ..contract.schema import ModelSchema

#: Bytes read from the start of the file: a few hundred rows of a typical sensor CSV.
SAMPLE_BYTES = 65536


def spacing_of(times: pd.DatetimeIndex) -> pd.Timedelta | None:
    """The median step between distinct sorted times, None with fewer than two."""
    distinct = pd.DatetimeIndex(times).dropna().unique().sort_values()
    if len(distinct) < 2:
        return None
    return pd.Series(distinct).diff().dropna().median()


def data_spacing(dataset: dict, s3) -> tuple[pd.Timedelta, str] | None:
    """``(spacing, s3 URI)`` of the first CSV of a component under the prefix DescribeDataset's ingestion read, or
    None when it cannot be known (no ingestion source, no such file: the check is skipped, never a failure)."""
    source = (dataset.get("IngestionInputConfiguration") or {}).get("S3InputConfiguration") or {}
    bucket, prefix = source.get("Bucket"), source.get("Prefix") or ""
    if not bucket:
        return None
    try:
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=50).get("Contents", [])
        key, size = next((o["Key"], o.get("Size")) for o in listed if _of_component(o["Key"], prefix, dataset))
        with s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{SAMPLE_BYTES - 1}")["Body"] as stream:
            body = stream.read(SAMPLE_BYTES)
    except Exception:  # noqa: BLE001 - no sample: the check is skipped
        return None
    read = read_input(body, key, size=size)
    if read.times is None:
        return None
    spacing = spacing_of(pd.DatetimeIndex(read.times))
    return None if spacing is None else (spacing, f"s3://{bucket}/{key}")


def _of_component(key: str, prefix: str, dataset: dict) -> bool:
    """True for a CSV of one of the dataset's components (a label file beside them is not sensor data): its path
    below ``prefix`` starts with a component's name, as the KeyPatterns have it."""
    if not key.lower().endswith(".csv"):
        return False
    try:
        names = ModelSchema.parse(dataset["Schema"]).names
    except (KeyError, TypeError, ValueError):
        return False
    below = key[len(prefix):].lstrip("/")
    return any(below.startswith(name) for name in names)
