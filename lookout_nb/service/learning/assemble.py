"""One component's rows, gathered piece by piece straight into the arrays of the frame a dataset keeps.

Ingestion reads files in pieces (:mod:`.chunks`); :class:`Rows` copies each piece's timestamps and values into
growing arrays sized from the component's bytes (untouched pages cost no memory, so a generous size is free),
keeps an invalid-cell mask only once a piece has one, drops a discarded file's rows by moving back its end, and
:meth:`Rows.assemble` puts the rows in time order in place, column by column, keeping the first row of each
repeated timestamp. So the peak is the data kept plus one piece and a few integers per row, never a second copy
of the data.

>>> rows = Rows(("Flow",))
>>> rows.add(np.array([2, 1, 1]), np.array([[2.0], [1.0], [9.0]]), np.zeros((3, 1), bool))
>>> rows.commit()
>>> done = rows.assemble()
>>> done.frame["Flow"].tolist(), done.repeated
([1.0, 2.0], 1)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Rows counted at a time when the quality figures are counted (bounds the temporary masks).
BLOCK_ROWS = 1 << 20


@dataclass
class Assembled:
    """A component's frame (sorted, unique UTC times) and what was counted on its rows."""

    frame: pd.DataFrame
    repeated: int  # rows dropped for a timestamp seen before (DuplicateTimestamps)
    invalid: np.ndarray  # per sensor: cells that held text or an infinite value (kept as missing)
    missing: np.ndarray  # per sensor: empty cells


class Rows:
    """The rows of one component so far: a file's pieces are added, then :meth:`commit`-ed or :meth:`drop`-ped.

    ``expected_bytes`` (the size of the component's files) sizes the arrays at the first piece.
    """

    def __init__(self, sensors: tuple | None = None, expected_bytes: int = 0):
        self.sensors = sensors
        self._inferred = sensors is None  # the first file read whole gives them
        self._files = 0  # files committed
        #: Rows of the committed files dropped for a timestamp that cannot be read (UnsupportedTimestamps).
        self.unsupported = 0
        self.expected_bytes = expected_bytes
        self.count = 0  # rows held (the current file's included)
        self._committed = 0  # rows of the committed files
        self._file_unsupported = 0
        self._stamps = np.empty(0, np.int64)
        self._values = np.empty((0, 0))
        self._invalid: np.ndarray | None = None

    def add(self, stamps: np.ndarray, values: np.ndarray, invalid: np.ndarray, unsupported: int = 0,
            size: int = 0) -> None:
        """Add one piece of the current file: int64 nanosecond ``stamps``, ``values`` rows x sensors, the
        ``invalid`` cells, the rows dropped for an unreadable timestamp, and the piece's ``size`` in bytes."""
        n = len(stamps)
        self._reserve(self.count + n, size / max(n, 1))
        end = self.count + n
        self._stamps[self.count:end] = stamps
        self._values[self.count:end] = values
        if self._invalid is None and invalid.any():
            self._invalid = np.zeros(self._values.shape, bool)
        if self._invalid is not None:
            self._invalid[self.count:end] = invalid
        self.count = end
        self._file_unsupported += unsupported

    def commit(self) -> None:
        """The current file is read whole: keep its rows."""
        self._committed, self._files = self.count, self._files + 1
        self.unsupported += self._file_unsupported
        self._file_unsupported = 0

    def drop(self) -> None:
        """The current file is discarded: forget its rows (and the sensors its header gave, if it was the first)."""
        self.count, self._file_unsupported = self._committed, 0
        if self._inferred and not self._files:
            self.sensors, self._invalid = None, None
            self._stamps, self._values = np.empty(0, np.int64), np.empty((0, 0))

    def _reserve(self, rows: int, row_bytes: float) -> None:
        capacity = len(self._stamps)
        if rows <= capacity:
            return
        expected = int(self.expected_bytes / row_bytes * 1.25) if row_bytes else 0
        capacity = max(rows, expected, capacity * 3 // 2, 1024)
        width = len(self.sensors or ())
        self._stamps = _grown(self._stamps, (capacity,), self.count)
        self._values = _grown(self._values, (capacity, width), self.count)
        if self._invalid is not None:
            self._invalid = _grown(self._invalid, (capacity, width), self.count)

    def assemble(self) -> Assembled:
        """The frame of the committed rows (see the module docstring); the arrays move to the frame."""
        n = self._committed
        stamps, values, invalid = self._stamps[:n], self._values[:n], self._invalid
        self._stamps, self._values, self._invalid, self.count, self._committed = (
            np.empty(0, np.int64), np.empty((0, 0)), None, 0, 0)
        if n < 2 or (stamps[1:] > stamps[:-1]).all():  # the usual case: files in time order, no repeated time
            times = stamps
        else:
            order = np.argsort(stamps, kind="stable")  # repeated times: the first read (files in key order) first
            ordered = stamps[order]
            first = np.empty(n, bool)
            first[0], first[1:] = True, ordered[1:] != ordered[:-1]
            times, rows = ordered[first], order[first]
            del order, ordered, first, stamps
            for j in range(values.shape[1]):  # in place, one column's copy at a time
                values[: len(rows), j] = values[rows, j]
                if invalid is not None:
                    invalid[: len(rows), j] = invalid[rows, j]
        kept = len(times)
        values = values[:kept]
        invalid_count, missing_count = _counts(values, None if invalid is None else invalid[:kept])
        # one copy of the times (pd.to_datetime would make three)
        index = pd.DatetimeIndex(times.view("M8[ns]"), dtype="datetime64[ns, UTC]", name="Timestamp")
        frame = pd.DataFrame(values, index=index, columns=[str(c) for c in self.sensors or ()], copy=False)
        return Assembled(frame, n - kept, invalid_count, missing_count)


def _grown(array: np.ndarray, shape: tuple, used: int) -> np.ndarray:
    """A new array of ``shape`` holding the first ``used`` rows of ``array`` (its other pages left untouched)."""
    out = np.empty(shape, array.dtype) if array.dtype != bool else np.zeros(shape, bool)
    if used:
        out[:used] = array[:used]
    return out


def _counts(values: np.ndarray, invalid: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Per sensor: the invalid cells, and the missing cells that are not invalid, counted a block at a time."""
    width = values.shape[1]
    invalid_count, missing_count = np.zeros(width, np.int64), np.zeros(width, np.int64)
    for start in range(0, len(values), BLOCK_ROWS):
        missing = np.isnan(values[start:start + BLOCK_ROWS])
        if invalid is not None:
            block = invalid[start:start + BLOCK_ROWS]
            invalid_count += block.sum(axis=0)
            missing &= ~block
        missing_count += missing.sum(axis=0)
    return invalid_count, missing_count
