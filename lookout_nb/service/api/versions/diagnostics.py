"""The pointwise model diagnostics a training writes when its model has a ModelDiagnosticsOutputConfiguration.

The service documents a compressed JSON file named ``model_diagnostics_results.json.gz`` under the configured
prefix, and DescribeModel / DescribeModelVersion reporting its path; its content is not documented. The endpoint
writes ``<Prefix><model>/model-version/<n>/model_diagnostics_results.json.gz``: gzip of JSON Lines, one record per
row of the version's evaluation window on its sampling grid, each of the form of an inference's results.jsonl
(``timestamp``, ``prediction``, ``prediction_reason``, ``anomaly_score``, ``diagnostics``), scored by the version.
The version's ModelDiagnosticsResultsObject is then ``{Bucket, Key}``.

>>> diagnostics_key("diagnostics/", "pump", 2)
'diagnostics/pump/model-version/2/model_diagnostics_results.json.gz'
>>> json.loads(gzip.decompress(jsonl_gz([{"timestamp": "t", "prediction": 0}])))
{'timestamp': 't', 'prediction': 0}
"""

from __future__ import annotations

import gzip
import json

from ...learning.training import TrainedModel, combine, score

FILE = "model_diagnostics_results.json.gz"


def diagnostics_key(prefix: str | None, model: str, version: int) -> str:
    return f"{prefix or ''}{model}/model-version/{version}/{FILE}"


def jsonl_gz(records: list[dict]) -> bytes:
    """The records as gzip-compressed JSON Lines (mtime 0: the same records give the same bytes)."""
    text = "".join(json.dumps(r) + "\n" for r in records)
    return gzip.compress(text.encode(), mtime=0)


def pointwise(trained: dict, frames: dict, components: dict, rate: str) -> list[dict]:
    """The scored rows of the version's evaluation window, from the dataset's ``frames``."""
    model = TrainedModel.from_dict(trained)
    grid = combine(frames, components, rate)
    start, end = model.evaluation_window
    window = grid[(grid.index >= start) & (grid.index < end)]
    lookback = getattr(model.detector, "lookback", 0)
    history = grid[grid.index < start].iloc[-lookback:] if lookback else None
    return score(model, window, history) if len(window) else []


def write(s3, config: dict, model: str, version: int, records: list[dict]) -> dict:
    """Put the file; returns ModelDiagnosticsResultsObject. Any S3 error goes to the caller."""
    out = config["S3OutputConfiguration"]
    key = diagnostics_key(out.get("Prefix"), model, version)
    s3.put_object(Bucket=out["Bucket"], Key=key, Body=jsonl_gz(records), ContentType="application/gzip")
    return {"Bucket": out["Bucket"], "Key": key}


__all__ = ["FILE", "diagnostics_key", "jsonl_gz", "pointwise", "write"]
