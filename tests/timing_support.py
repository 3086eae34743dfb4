"""Shorthands shared by the timing and file-matching tests.

>>> T("2024-05-01 09:00"), hm(pd.Series([T("2024-05-01 09:05")]))
(Timestamp('2024-05-01 09:00:00+0000', tz='UTC'), ['09:05'])
>>> req("PT10M", 5).upload_frequency
'PT10M'
"""

from __future__ import annotations

import pandas as pd

from lookout_nb import SchedulerRequest

UTC = "UTC"


def T(text) -> pd.Timestamp:
    """A UTC timestamp."""
    return pd.Timestamp(text, tz=UTC)


def req(freq="PT5M", delay=None, **kw) -> SchedulerRequest:
    """A request with the timing fields first."""
    return SchedulerRequest(upload_frequency=freq, delay_offset_minutes=delay, **kw)


def hm(series) -> list[str]:
    """Times of a datetime Series as HH:MM."""
    return series.dt.strftime("%H:%M").tolist()
