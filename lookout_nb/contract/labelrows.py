"""Label rows: the ``(start, end)`` ranges of a label file or of pairs, each mistake named, as the service reads them.

A label file has no header; each row is ``start,end[,fault code,...]`` with ISO 8601 times (UTC unless they carry
an offset). The toolkit (:mod:`lookout_nb.calls.labels`) and the embedded service read label files with this one
reader.

>>> pair("2026-01-24T06:00", "2026-01-24T14:00", "labels[0]")[1]
Timestamp('2026-01-24 14:00:00+0000', tz='UTC')
"""

from __future__ import annotations

import csv
import io

import pandas as pd

from ..errors import InvalidArgument

__all__ = ["pair", "parse_label_rows"]


def _time(value, where: str, what: str) -> pd.Timestamp:
    try:
        t = pd.Timestamp(value.strip() if isinstance(value, str) else value)
    except (ValueError, TypeError):
        t = pd.NaT
    if t is pd.NaT:
        raise InvalidArgument(f"{where}: the {what} {value!r} is not a timestamp; write ISO 8601 times such as "
                              "2026-01-24T06:00:00")
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def pair(start, end, where: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``(start, end)`` as UTC timestamps, the end after the start; :class:`InvalidArgument` naming ``where``."""
    start, end = _time(start, where, "start"), _time(end, where, "end")
    if end <= start:
        raise InvalidArgument(f"{where}: the end {end} is not after the start {start}; swap them")
    return start, end


def parse_label_rows(text: str, where: str, skip_header: bool = False) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """The ``(start, end)`` ranges of a label CSV's text (no header; rows ``start,end[,fault code,...]``, blank
    rows skipped), as the service reads label files; :class:`InvalidArgument` naming ``where`` and the row.
    A first row of names (``start,end``) is skipped with ``skip_header``, else named as a header to remove.

    >>> parse_label_rows("2019-08-08T00:00:00,2019-08-09T00:00:00,fault-1\\n", "labels.csv")[0][1]
    Timestamp('2019-08-09 00:00:00+0000', tz='UTC')
    >>> parse_label_rows("2019-08-09,2019-08-08\\n", "labels.csv")
    Traceback (most recent call last):
    ...
    lookout_nb.errors.InvalidArgument: labels.csv row 1: the end 2019-08-08 00:00:00+00:00 is not after the start \
2019-08-09 00:00:00+00:00; swap them
    >>> len(parse_label_rows("start,end\\n2019-08-08,2019-08-09\\n", "labels.csv", skip_header=True))
    1
    """
    out, first = [], True
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not any(cell.strip() for cell in row):
            continue
        here = f"{where} row {number}"
        if len(row) < 2:
            raise InvalidArgument(f"{here} has {len(row)} field; a label row is start,end[,fault code,...] with no "
                                  "header line")
        if first and _is_header(row):
            if skip_header:
                first = False
                continue
            raise InvalidArgument(f"{here} is a header ({','.join(row)}), not a label: a label file has no header "
                                  "row; remove that first line")
        first = False
        out.append(pair(row[0], row[1], here))
    return out


def _is_header(row) -> bool:
    """True for a row of names: neither of its first two cells reads as a time, and both hold letters."""
    def names(cell: str) -> bool:
        try:
            return pd.Timestamp(cell.strip()) is pd.NaT and cell.strip()[:1].isalpha()
        except (ValueError, TypeError):
            return cell.strip()[:1].isalpha()

    return names(row[0]) and names(row[1])
