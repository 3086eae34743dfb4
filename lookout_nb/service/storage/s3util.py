"""Small S3 helpers of the demo seeder (any S3 client: the endpoint's, MinIO, AWS).

>>> ensure_bucket(s3, "my-bucket")          # doctest: +SKIP
>>> sorted(list_keys(s3, "my-bucket", "in/"))  # doctest: +SKIP
['in/a.csv', 'in/b.csv']
"""

from __future__ import annotations


def ensure_bucket(s3, bucket: str) -> None:
    """Create ``bucket`` unless it exists (safe to call again, also from several threads)."""
    try:
        s3.head_bucket(Bucket=bucket)
    except Exception:  # noqa: BLE001 - any S3 client's error (absent, or not ours to see): try to create it
        try:
            s3.create_bucket(Bucket=bucket)
        except Exception as err:  # created meanwhile by another thread or test
            if "BucketAlready" not in str(err):
                raise


def list_keys(s3, bucket: str, prefix: str = "") -> set[str]:
    """Every key of ``bucket`` under ``prefix`` (all pages)."""
    keys: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.update(obj["Key"] for obj in page.get("Contents", []))
    return keys
