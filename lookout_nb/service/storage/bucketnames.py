"""S3's naming rules of general purpose buckets, so the endpoint refuses at the request what S3 refuses.

The rules are those of the S3 User Guide, "General purpose bucket naming rules": 3 to 63 characters; only
lowercase letters, digits, dots and hyphens; a letter or digit first and last; no two adjacent dots; not an
IP address; none of the reserved prefixes (``xn--``, ``sthree-``, ``amzn-s3-demo-``) or suffixes (``-s3alias``,
``--ol-s3``, ``.mrap``, ``--x-s3``, ``--table-s3``).

>>> bucket_name_problem("lookout-demo") is None
True
>>> bucket_name_problem("..")
'must be 3 to 63 characters long (it has 2)'
"""

from __future__ import annotations

import re

_CHARACTERS = re.compile(r"[a-z0-9.\-]+")
_IP_ADDRESS = re.compile(r"\d{1,3}(\.\d{1,3}){3}")
RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_problem(name) -> str | None:
    """Why S3 refuses ``name`` as a new bucket's name, or None when it accepts it.

    >>> bucket_name_problem("My-Bucket")
    'may hold only lowercase letters, digits, dots (.) and hyphens (-)'
    """
    if not isinstance(name, str):
        return f"must be a string, not {type(name).__name__}"
    if not 3 <= len(name) <= 63:
        return f"must be 3 to 63 characters long (it has {len(name)})"
    if not _CHARACTERS.fullmatch(name):
        return "may hold only lowercase letters, digits, dots (.) and hyphens (-)"
    if not (name[0].isalnum() and name[-1].isalnum()):
        return "must begin and end with a letter or a digit"
    if ".." in name:
        return "must not contain two adjacent dots"
    if _IP_ADDRESS.fullmatch(name):
        return "must not be formatted as an IP address"
    for prefix in RESERVED_PREFIXES:
        if name.startswith(prefix):
            return f"must not start with the reserved prefix {prefix!r}"
    for suffix in RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return f"must not end with the reserved suffix {suffix!r}"
    return None
