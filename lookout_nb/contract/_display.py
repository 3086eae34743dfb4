"""Tables shown whole: a DataFrame whose notebook display does not cut long cells.

pandas cuts every cell at ``display.max_colwidth`` (50 characters) when it shows a frame, so a file name, a
sentence or a list of sensors ends in "..."; the toolkit's tables that hold such cells come as a
:class:`WholeTable`, a DataFrame in every other way (pandas' own options are left alone).

>>> table = whole(pd.DataFrame({"file": ["inference/input/centrifugal-pump_20260105090000.csv" * 2]}))
>>> "..." in table[["file"]].head()._repr_html_(), "..." in pd.DataFrame(table)._repr_html_()
(False, True)
"""

from __future__ import annotations

from typing import ClassVar

import pandas as pd


class WholeTable(pd.DataFrame):
    """A DataFrame shown with every cell whole (HTML and text); what is derived from it (a choice of columns, a
    head) stays one. ``pd.DataFrame(table)`` is a plain DataFrame again."""

    _metadata: ClassVar[list[str]] = []

    @property
    def _constructor(self):
        return WholeTable

    def _repr_html_(self) -> str | None:
        with pd.option_context("display.max_colwidth", None):
            return super()._repr_html_()

    def __repr__(self) -> str:
        with pd.option_context("display.max_colwidth", None):
            return super().__repr__()


def whole(frame: pd.DataFrame) -> WholeTable:
    """``frame`` (its data and ``attrs``) as a :class:`WholeTable`."""
    out = WholeTable(frame)
    out.attrs.update(frame.attrs)
    return out
