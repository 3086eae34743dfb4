"""Times as int64 nanoseconds since the epoch (UTC): the vectorised form that timing, file matching and the
pictures compute with. ``NAT`` (the int64 minimum) stands for a missing time, as in numpy's ``datetime64``.

>>> ns = to_ns(["2024-05-01 09:00", None])
>>> utc_index(ns).tolist()
[Timestamp('2024-05-01 09:00:00+0000', tz='UTC'), NaT]
>>> td_ns("PT5M") // SECOND
300
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["NAT", "SECOND", "naive_index", "td_ns", "to_ns", "utc_index"]

#: One second in nanoseconds.
SECOND = 1_000_000_000
#: A missing time (NaT) as int64 nanoseconds.
NAT = np.iinfo(np.int64).min


def to_ns(values) -> np.ndarray:
    """int64 nanoseconds since the epoch (UTC) of datetimes, tz-aware or naive (naive ones are UTC)."""
    idx = pd.DatetimeIndex(values)
    if idx.tz is not None:
        idx = idx.tz_convert("UTC").tz_localize(None)
    return idx.as_unit("ns").asi8


def utc_index(ns) -> pd.DatetimeIndex:
    """A tz-aware UTC DatetimeIndex of int64 nanoseconds."""
    return pd.DatetimeIndex(np.asarray(ns, dtype=np.int64).view("M8[ns]")).tz_localize("UTC")


def naive_index(ns) -> pd.DatetimeIndex:
    """A naive DatetimeIndex (wall-clock times, e.g. the local time in file names) of int64 nanoseconds."""
    return pd.DatetimeIndex(np.asarray(ns, dtype=np.int64).view("M8[ns]"))


def td_ns(td) -> int:
    """A duration (Timedelta, timedelta or ISO 8601 text such as ``PT5M``) in nanoseconds."""
    return int(pd.Timedelta(td).as_unit("ns").value)
