"""The file names: which naming reads them, the table of listed keys parsed with it, and the checks on names:
``naming-invalid``, ``naming-detected``, ``name-mismatch``, ``unknown-component``.

>>> listing = pd.DataFrame({"key": ["in/pump_20220330110000.csv", "in/notes.txt"], "size": [10, 3],
...                         "last_modified": pd.to_datetime(["2022-03-30 11:06"] * 2, utc=True)})
>>> naming = effective_naming(None, detect(listing["key"], None))
>>> keys = keys_table(listing, naming)
>>> keys["matches"].tolist(), [f.code for f in naming_findings(keys, naming, None, request_given=False, prefix="in/")]
([True, False], ['naming-detected', 'name-mismatch'])
"""

from __future__ import annotations

import pandas as pd

from ..contract.naming import Naming, NamingCandidate, detect_naming
from ..contract.request import SchedulerRequest
from ..errors import NamingError
from ._findings import Finding
from ._text import pattern, quote


def empty_keys() -> pd.DataFrame:
    """The table of listed keys with no row: ``key, size, last_modified, component, time_local, time_utc,
    matches``."""
    return pd.DataFrame({"key": pd.Series(dtype=object), "size": pd.Series(dtype="int64"),
                         "last_modified": pd.Series(dtype="datetime64[ns, UTC]"),
                         "component": pd.Series(dtype=object), "time_local": pd.Series(dtype="datetime64[ns]"),
                         "time_utc": pd.Series(dtype="datetime64[ns, UTC]"), "matches": pd.Series(dtype=bool)})


def detect(keys: pd.Series, components) -> NamingCandidate | None:
    """The naming most keys follow (names of the schema's components first), or None."""
    candidates = detect_naming(keys, components) or detect_naming(keys)
    return candidates[0] if candidates else None


def effective_naming(request: SchedulerRequest | None, detected: NamingCandidate | None) -> Naming | None:
    """The configured naming; the detected one when nothing is configured (or the configured one is invalid)."""
    configured = _configured(request)
    if isinstance(configured, Naming):
        return configured
    if detected is None:
        return None
    try:
        return detected.naming(request.timezone_offset if request is not None else None)
    except NamingError:
        return detected.naming()


def naming_invalid_findings(request: SchedulerRequest | None) -> list[Finding]:
    """naming-invalid: the request's naming fields make no valid naming, so names are read with the detected one."""
    configured = _configured(request)
    if isinstance(configured, NamingError):
        return [Finding("naming-invalid", "error", f"{configured}; names are read with the detected naming")]
    return []


def _configured(request: SchedulerRequest | None) -> Naming | NamingError | None:
    """The request's naming, the error that makes it invalid, or None without a request."""
    if request is None:
        return None
    try:
        return request.naming
    except NamingError as exc:
        return exc


def keys_table(listing: pd.DataFrame, naming: Naming | None) -> pd.DataFrame:
    """key, size, last_modified, component, time_local, time_utc, matches: one row per listed key."""
    if listing.empty:
        return empty_keys()
    if naming is None:
        parsed = pd.DataFrame({"component": None, "time_local": pd.NaT, "time_utc": pd.NaT, "matches": False},
                              index=listing.index)
        parsed["time_utc"] = pd.to_datetime(parsed["time_utc"], utc=True)
    else:
        parsed = naming.parse_many(listing["key"]).drop(columns=["key", "folder"])
    return pd.concat([listing, parsed.set_index(listing.index)], axis=1)


def naming_findings(keys: pd.DataFrame, naming: Naming | None, detected: NamingCandidate | None, *,
                    request_given: bool, prefix: str) -> list[Finding]:
    """name-mismatch (offering the detected naming) or naming-detected when nothing was configured."""
    if keys.empty:
        return []
    out = []
    if not request_given and naming is not None:
        out.append(Finding("naming-detected", "info", f"no request given: names read as "
                           f"{pattern(naming.fmt, naming.delim)} with offset "
                           f"{naming.timezone_offset} (the offset cannot be seen in names)"))
    bad = keys.loc[~keys["matches"], "key"]
    if bad.empty:
        return out
    level = "error" if len(bad) == len(keys) else "warning"
    expected = pattern(naming.fmt, naming.delim) if naming else "<component>_<timestamp>.csv"
    message = f"{len(bad)} of {len(keys)} files do not follow {expected} and will be ignored: {quote(bad)}"
    if detected is not None and naming is not None and (detected.timestamp_format, detected.delimiter) != (
            naming.timestamp_format, naming.delimiter) and detected.share > keys["matches"].mean():
        message += (f". They look like {pattern(detected.timestamp_format, detected.delimiter)} ({detected.share:.0%} "
                    f"of the files): set TimestampFormat={detected.timestamp_format!r} and "
                    f"ComponentTimestampDelimiter={detected.delimiter!r}, or rename the files")
    else:
        message += f"; rename them like {naming.key('pump', '2022-03-30 11:00', prefix)!r}" if naming else ""
    return out + [Finding("name-mismatch", level, message, tuple(bad))]


def component_findings(keys: pd.DataFrame, components) -> list[Finding]:
    """unknown-component: files named after components the schema does not have."""
    if not components:
        return []
    matched = keys[keys["matches"]]
    unknown = matched[~matched["component"].isin(components)]
    if unknown.empty:
        return []
    names = sorted(unknown["component"].unique())
    level = "error" if len(unknown) == len(matched) else "warning"
    return [Finding("unknown-component", level, f"{len(unknown)} files name components the model does not have "
                    f"({quote(names)}); they are ignored. The schema's components are {quote(components)}: "
                    "rename the files (names are case-sensitive)", tuple(unknown["key"]))]
