"""How often a dataset's rows come: read from the start of one of its files (one listing page, one ranged GET).

A training's sampling rate finer than the data gives intervals without a row of their own; the API shows no
spacing of a dataset's data, so it is read from the files its last ingestion read.

>>> spacing_of(pd.DatetimeIndex(["2026-01-05 09:00", "2026-01-05 09:01", "2026-01-05 09:02"]))
Timedelta('0 days 00:01:00')
"""

from __future__ import annotations

import pandas as pd

from .inputfiles import read_input

#: Bytes read from the start of the file: a few hundred rows of a typical sensor CSV.
SAMPLE_BYTES = 65536


def spacing_of(times: pd.DatetimeIndex) -> pd.Timedelta | None:
    """The median step between distinct sorted times, None with fewer than two."""
    distinct = pd.DatetimeIndex(times).dropna().unique().sort_values()
    if len(distinct) < 2:
        return None
    return pd.Series(distinct).diff().dropna().median()


def data_spacing(dataset: dict, s3) -> tuple[pd.Timedelta, str] | None:
    """``(spacing, s3 URI)`` of the first CSV under the prefix DescribeDataset's ingestion read, or None when it
    cannot be known (no ingestion source, no readable file: the check is skipped, never a failure)."""
    source = (dataset.get("IngestionInputConfiguration") or {}).get("S3InputConfiguration") or {}
    bucket, prefix = source.get("Bucket"), source.get("Prefix") or ""
    if not bucket:
        return None
    try:
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=50).get("Contents", [])
        key = next(o["Key"] for o in listed if o["Key"].lower().endswith(".csv"))
        size = next(o.get("Size") for o in listed if o["Key"] == key)
        with s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{SAMPLE_BYTES - 1}")["Body"] as stream:
            body = stream.read(SAMPLE_BYTES)
    except Exception:  # noqa: BLE001 - no sample: the check is skipped
        return None
    read = read_input(body, key, size=size)
    if read.times is None:
        return None
    spacing = spacing_of(pd.DatetimeIndex(read.times))
    return None if spacing is None else (spacing, f"s3://{bucket}/{key}")
