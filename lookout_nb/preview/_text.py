"""How findings speak: keys quoted a few at a time, name patterns, slots, windows, offsets and errors in words.

>>> quote(["a.csv", "b.csv", "c.csv", "d.csv"])
"'a.csv', 'b.csv', 'c.csv' and 1 more"
>>> pattern("yyyyMMddHHmmss", "_"), hours(pd.Timedelta(minutes=-330))
('<component>_<yyyyMMddHHmmss>.csv', '-5h30')
"""

from __future__ import annotations

import pandas as pd

from ..errors import read_error

#: Keys quoted in a message before "and N more".
SHOWN = 3


def quote(keys, total: int | None = None) -> str:
    """The first few keys, then "and N more"."""
    keys = list(keys)
    total = len(keys) if total is None else total
    shown = ", ".join(repr(k) for k in keys[:SHOWN])
    return shown + (f" and {total - SHOWN} more" if total > SHOWN else "")


def pattern(fmt: str, delimiter: str) -> str:
    """A naming as a pattern of file names."""
    return f"<component>{delimiter}<{fmt}>.csv"


def slot_texts(slots) -> list[str]:
    """Slot starts as ``2022-03-30 11:00 UTC``."""
    return [pd.Timestamp(s).strftime("%Y-%m-%d %H:%M UTC") for s in slots]


def window_text(start: pd.Timestamp, freq: pd.Timedelta) -> str:
    """The window ``(start, start + freq]`` in UTC.

    >>> window_text(pd.Timestamp("2022-03-30 11:00"), pd.Timedelta(minutes=5))
    '(2022-03-30 11:00, 11:05] UTC'
    """
    return f"({start:%Y-%m-%d %H:%M}, {start + freq:%H:%M}] UTC"


def hours(offset: pd.Timedelta) -> str:
    """An offset as signed hours and minutes, ``+5h30``."""
    minutes = int(offset.total_seconds() // 60)
    return f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:d}h{abs(minutes) % 60:02d}"


def minutes(delta: pd.Timedelta) -> str:
    """A duration in whole minutes, ``12 min``."""
    return f"{delta.total_seconds() / 60:.0f} min"


def brief(exc: BaseException) -> str:
    """An error in one line, led by its code when the text does not already show it.

    >>> brief(TimeoutError("read timed out"))
    'TimeoutError: read timed out'
    """
    code = read_error(exc).code
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if code in text else f"{code}: {text}"
