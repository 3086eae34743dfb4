"""Listing the input prefix (ListObjectsV2, at most ``max_keys`` keys), S3 errors as findings, and the checks on
the listing itself: ``no-files``, ``listing-truncated``, ``empty-file``.

>>> keys = pd.DataFrame({"key": [], "size": []})
>>> [f.code for f in listing_findings(keys, "my-input", "in", truncated=False, calls=1)]
['no-files']
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..contract.s3keys import s3_uri
from ..errors import read_error
from ._findings import Finding
from ._text import brief, quote

#: Error codes that mean the credentials may not list or read the input.
DENIED = ("AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken",
          "NoCredentialsError")


@dataclass
class Listing:
    """The keys listed (``key, size, last_modified``, folder markers left out; None when S3 refused), whether the
    listing stopped at ``max_keys``, the ListObjectsV2 calls made, and the finding that stopped it, if any."""

    table: pd.DataFrame | None = None
    truncated: bool = False
    calls: int = 0
    failure: Finding | None = None


def list_input(s3, bucket: str, prefix: str, *, max_keys: int, progress: bool) -> Listing:
    """Page through ListObjectsV2 (at most ``max_keys`` keys); an S3 error ends it as the listing's ``failure``."""
    listing = Listing()
    rows: list = []
    try:
        with _progress(progress, bucket, prefix) as bar:
            token = None
            while len(rows) < max_keys:
                listing.calls += 1
                page = s3.list_objects_v2(**_page(bucket, prefix, max_keys - len(rows), token))
                rows += [{"key": o["Key"], "size": o["Size"], "last_modified": o["LastModified"]}
                         for o in page.get("Contents", [])]
                bar.update(len(page.get("Contents", [])))
                token = page.get("NextContinuationToken") if page.get("IsTruncated") else None
                if token is None:
                    break
            listing.truncated = token is not None
    except Exception as exc:  # noqa: BLE001 - every S3 failure is reported, none is raised
        listing.truncated, listing.failure = False, s3_finding(exc, bucket, prefix)
        return listing
    table = pd.DataFrame(rows, columns=["key", "size", "last_modified"])
    table["last_modified"] = pd.to_datetime(table["last_modified"], utc=True)
    listing.table = table[~table["key"].str.endswith("/")].reset_index(drop=True)  # folder markers are not files
    return listing


def _page(bucket: str, prefix: str, remaining: int, token: str | None) -> dict:
    params = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": min(1000, remaining)}
    if token:
        params["ContinuationToken"] = token
    return params


def _progress(enabled: bool, bucket: str, prefix: str):
    """A tqdm.auto bar for long listings (shown after half a second; a widget in notebooks)."""
    from tqdm.auto import tqdm

    return tqdm(desc=f"listing {s3_uri(bucket, prefix)}", unit=" keys", disable=not enabled, delay=0.5, leave=False)


def s3_finding(exc: BaseException, bucket: str, prefix: str) -> Finding:
    """The finding for an S3 failure: missing bucket, denied access, unreachable endpoint."""
    error = read_error(exc)
    if error.code == "NoSuchBucket" or error.status == 404:
        return Finding("bucket-not-found", "error", f"bucket {bucket!r} does not exist: check "
                       "DataInputConfiguration.S3InputConfiguration.Bucket (and, when AWS_ENDPOINT_URL or "
                       "AWS_ENDPOINT_URL_S3 is set, that the bucket is in the S3 it names)")
    if error.code in DENIED or error.status == 403:
        return Finding("access-denied", "error", f"access to {s3_uri(bucket, prefix)} was denied "
                       f"({error.code or error.status}): grant s3:ListBucket on the bucket and s3:GetObject on the "
                       "prefix to these credentials and to the scheduler's RoleArn")
    return Finding("s3-unreachable", "error", f"could not list {s3_uri(bucket, prefix)}: {brief(exc)}; check the "
                   "endpoint URL (AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_S3, when set), the network and the region")


def listing_findings(keys: pd.DataFrame, bucket: str, prefix: str, *, truncated: bool, calls: int) -> list[Finding]:
    """no-files, listing-truncated and empty (zero-byte) files."""
    out = []
    if keys.empty:
        hint = "" if prefix.endswith("/") or not prefix else " (the prefix does not end with '/')"
        out.append(Finding("no-files", "error", f"no input file under {s3_uri(bucket, prefix)}{hint}: upload one "
                           "CSV per component and slot there, or fix the bucket/prefix"))
    if truncated:
        out.append(Finding("listing-truncated", "warning", f"the listing stopped after {len(keys):,} keys "
                           f"({calls} ListObjectsV2 calls); gap and missing-component checks were skipped "
                           "because later keys were not seen: raise max_keys to check everything"))
    empty = keys.loc[keys["size"] == 0, "key"]
    if len(empty):
        out.append(Finding("empty-file", "error", f"{len(empty)} input files are empty (0 bytes): "
                           f"{quote(empty)}; their runs fail: upload the header and rows", tuple(empty)))
    return out
