"""Where objects sit in S3: the key of an input file and ``s3://`` URIs, built here and nowhere else.

An input file's key is the prefix as written (it ends with ``/`` or is empty), then the component, the delimiter,
the timestamp and ``.csv``; the parts are joined as they are, never with an added ``/``.

>>> join_input_key("in/", "pump", "_", "20220330110000")
'in/pump_20220330110000.csv'
>>> s3_uri("lookout-demo", "inference/input/")
's3://lookout-demo/inference/input/'
>>> split_s3_uri("s3://lookout-demo/inference/input/")
('lookout-demo', 'inference/input/')
"""

from __future__ import annotations

__all__ = ["join_input_key", "s3_uri", "split_s3_uri"]


def join_input_key(prefix, component, delimiter, stamp):
    """``prefix + component + delimiter + stamp + ".csv"``; ``component`` or ``stamp`` may be many (a pandas
    Series or a numpy array of strings), and the keys come back the same way.

    >>> import numpy as np
    >>> join_input_key("", "motor", "-", np.array(["20220330110000", "20220330110500"], dtype=object)).tolist()
    ['motor-20220330110000.csv', 'motor-20220330110500.csv']
    """
    return prefix + component + delimiter + stamp + ".csv"


def s3_uri(bucket: str, key: str | None = "") -> str:
    """The ``s3://bucket/key`` of an object or a prefix (``key`` empty or None: the bucket's top).

    >>> s3_uri("lookout-demo", None)
    's3://lookout-demo/'
    """
    return f"s3://{bucket}/{key or ''}"


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``(bucket, key)`` of an ``s3://bucket/key`` URI (the key may be a prefix, or empty).

    >>> split_s3_uri("s3://lookout-demo")
    ('lookout-demo', '')
    """
    if not uri.startswith("s3://"):
        raise ValueError(f"{uri!r} is not an s3:// URI")
    bucket, _, key = uri[len("s3://"):].partition("/")
    return bucket, key
