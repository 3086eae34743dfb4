"""Reading one input CSV as the service does: the one reader of the preview and of the scheduled run.

``preview_input`` reads the first bytes of a file through :func:`read_input` and reports its problems as
findings; the embedded endpoint's runner reads the whole file through the same function and FAILS the run with
the first error's message. So a preview's verdict on a file is the run's verdict.

The rules (the service documents few of them; these are the readings the project takes):

- UTF-8 (a byte-order mark is allowed); columns separated by commas; the first line is the header, its names
  matched after stripping surrounding spaces (`` Flow `` is ``Flow``); the header must fit in
  :data:`MAX_HEADER_BYTES`.
- The first column is the timestamp, whatever its name, read as UTC: ISO 8601 (``2022-03-30T11:01:00.000000``,
  ``2022-03-30 11:01:00``, with or without fractional seconds or a UTC offset), ``2022/03/30 11:01:00``, epoch
  seconds (``1648638060``, a whole column of numbers between 1e8 and 1e11) or epoch milliseconds (1e11..1e14),
  or any other form pandas reads; a value that cannot be read is an error.
- Sensor values are numbers with ``.`` as decimal point. An empty cell, or pandas' usual missing markers
  (``nan``, ``NA``, ``null``...), is a missing value. Infinite values (``inf``, ``-inf``) are missing values
  too, reported as a warning, so results are always strict JSON. Anything else (``abc``) is an error, and so is
  a sensor column without a single value.
- A row with more (non-empty) fields than the header is malformed: an error naming its line.
- With the schema's sensors given, each must be a column (else an error); other columns are ignored (a warning).
  A column name given twice in the header is an error (which of the two is the sensor?).
- A timestamp must lie between 1677-09-22 and 2262-04-10 (what nanoseconds since the epoch hold): a year 9999
  is an error naming the row, never a time wrapped round to 1816.

>>> f = read_input(b"Timestamp, Flow ,Speed\\n2026-01-05T09:01:00,1.5,inf\\n", "in/pump_20260105090000.csv",
...                sensors=["Flow", "Speed"])
>>> [(p.code, p.level) for p in f.problems]
[('non-finite', 'warning')]
>>> f.table.columns.tolist(), f.table.index[0]
(['Flow', 'Speed'], Timestamp('2026-01-05 09:01:00+0000', tz='UTC'))
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: The longest header line read: a first line longer than this is not a CSV header.
MAX_HEADER_BYTES = 65536
#: Separators recognised when a file does not use commas (to say which one it uses).
SEPARATORS = (",", ";", "\t", "|")


@dataclass(frozen=True)
class InputProblem:
    """One problem of a file: a stable ``code``, ``"error"`` (the run FAILS with ``message``) or ``"warning"``."""

    code: str
    level: str
    message: str


@dataclass
class InputFile:
    """A file as read: ``table`` (sensor values as floats, missing as NaN, indexed by UTC time; None when it
    could not be read), ``times`` (the first column as UTC, NaT where unreadable), ``raw`` (the cells as read)."""

    key: str
    table: pd.DataFrame | None = None
    times: pd.Series | None = None
    raw: pd.DataFrame | None = None
    problems: list = field(default_factory=list)

    @property
    def errors(self) -> list[InputProblem]:
        """The problems that make a run FAIL."""
        return [p for p in self.problems if p.level == "error"]


def complete_lines(body: bytes, size: int) -> str:
    """The text of a sample, without the partial last line when the object is larger than what was read.

    >>> complete_lines(b"Timestamp,S1\\n2022-03-30T11:01:00,1\\n2022-03-30T11:0", size=100)
    'Timestamp,S1\\n2022-03-30T11:01:00,1\\n'
    """
    if len(body) < size:
        body = body[: body.rfind(b"\n") + 1]
    return body.decode("utf-8-sig", errors="replace")


def separator(header: str) -> str:
    """The column separator of a CSV from its first line (comma unless only another one appears).

    >>> separator("Timestamp;Flow;Speed")
    ';'
    """
    counts = {sep: header.count(sep) for sep in SEPARATORS}
    if counts[","]:
        return ","
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def read_input(body: bytes, key: str, sensors: Sequence[str] | None = None, size: int | None = None) -> InputFile:
    """Read one input file (or its first ``len(body)`` bytes of ``size``) with every problem the rules find."""
    size = len(body) if size is None else size
    out = InputFile(key)
    first_line = body.find(b"\n")
    if (first_line < 0 and len(body) >= MAX_HEADER_BYTES) or first_line >= MAX_HEADER_BYTES:
        return _fail(out, "line-too-long", f"File {key} has a first line longer than {MAX_HEADER_BYTES:,} bytes, "
                     "so it has no CSV header: write one line per row, the header first")
    lines = _lines(complete_lines(body, size))
    if len(lines) <= 1 and len(body) >= size:
        return _fail(out, "empty-file", f"File {key} holds no rows{' (only a header)' if lines else ''}: upload the "
                     "header and the rows")
    if not lines:
        return out
    sep = separator(lines[0])
    if sep != ",":
        _add(out, "csv-delimiter", f"File {key} separates its columns with {sep!r}: Lookout for Equipment reads "
             "columns separated by commas; write it with ',' (and '.' as decimal point)")
    try:
        raw, headerless = _parse(lines.text, sep, sensors)
    except pd.errors.ParserError as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        return _fail(out, "csv-malformed", f"File {key} is not well-formed CSV ({reason}; lines counted without "
                     "blank lines): give every row as many fields as the header and close every quote")
    out.raw = raw
    if headerless:
        example = ",".join(["Timestamp", *sensors]) if sensors else "Timestamp,Sensor0,Sensor1"
        _add(out, "no-header", f"File {key} starts with data, not column names: columns are matched by name; "
             f"add a header line such as {example!r}")
    if raw.shape[1] < 2 and sep == ",":
        header = ", ".join(map(str, raw.columns))
        _add(out, "too-few-columns", f"File {key} has 1 column; an input file needs a timestamp column and at "
             f"least one sensor column separated by commas (header: {header})")
    if not headerless:
        _check_repeated(out, lines[0], sep)
    _check_columns(out, raw, sensors)
    out.times = _times(out, raw)
    judged = [i for i, c in enumerate(raw.columns) if i and (not sensors or c in sensors)]  # others: ignored
    values = _values(out, raw.iloc[:, 1:] if len(judged) == raw.shape[1] - 1 else raw.iloc[:, judged])
    out.table = values.set_axis(pd.DatetimeIndex(out.times), axis=0)
    return out


class _Lines(list):
    """The non-blank lines of a text, and ``text``: them joined by newlines."""

    text = ""


#: Text in a line that may make it blank or break it otherwise than at "\n" (found: the careful path).
_UNUSUAL = ("\n\n", "\n ", "\n\t", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e")


def _lines(text: str) -> _Lines:
    r"""The non-blank lines of ``text`` (``str.splitlines`` breaks, whitespace-only lines dropped); a plain ASCII
    text with ``\n`` breaks and no blank line is kept as it is (the usual case, without a copy per line).

    >>> _lines("a,b\n\n1,2\n").text
    'a,b\n1,2'
    """
    plain = text[:-1] if text.endswith("\n") else text
    if plain and text.isascii() and not plain.startswith(("\n", " ", "\t")) and not any(u in plain for u in _UNUSUAL):
        out = _Lines(plain.split("\n"))
        out.text = plain
        return out
    out = _Lines(line for line in text.splitlines() if line.strip())
    out.text = "\n".join(out)
    return out


def _fail(out: InputFile, code: str, message: str) -> InputFile:
    _add(out, code, message)
    return out


def _add(out: InputFile, code: str, message: str, level: str = "error") -> None:
    out.problems.append(InputProblem(code, level, message))


def _parse(text: str, sep: str, sensors) -> tuple[pd.DataFrame, bool]:
    """The cells as pandas' C parser reads them (names stripped); a header-less file gets the schema's names (or
    col0, col1...)."""
    first = text.split("\n", 1)[0].split(sep)[0].strip().strip('"')
    headerless = any(c.isdigit() for c in first) and pd.notna(pd.to_datetime(first, errors="coerce", format="mixed"))
    with warnings.catch_warnings(record=True) as caught:  # pandas warns, then drops the fields of a long row
        warnings.simplefilter("always", pd.errors.ParserWarning)
        table = pd.read_csv(io.StringIO(text), sep=sep, header=None if headerless else 0, skipinitialspace=True,
                            index_col=False)  # a trailing comma must not turn the first column into the index
    if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
        _check_long_rows(text, sep, table.shape[1], headerless)
    if headerless:
        names = ["Timestamp", *sensors] if sensors and len(sensors) + 1 == table.shape[1] else None
        table.columns = names or [f"col{i}" for i in range(table.shape[1])]
    else:
        table.columns = [str(c).strip() for c in table.columns]
    return table, headerless


def _check_long_rows(text: str, sep: str, width: int, headerless: bool) -> None:
    """ParserError naming the first line with more non-empty fields than the header (a trailing comma is fine)."""
    for number, line in enumerate(text.split("\n"), start=1):
        fields = line.split(sep)
        if len(fields) > width and any(f.strip() for f in fields[width:]):
            where = "the first row" if headerless else "the header"
            raise pd.errors.ParserError(f"line {number} has {len(fields)} fields, {where} {width}")


def _check_repeated(out: InputFile, header: str, sep: str) -> None:
    """An error naming the column names the header gives more than once (pandas would read them as ``a.1``)."""
    names = [n.strip() for n in next(csv.reader([header], delimiter=sep, skipinitialspace=True), [])]
    repeated = sorted({n for n in names if n and names.count(n) > 1})
    if repeated:
        _add(out, "repeated-columns", f"File {out.key} has the column name{'s' if len(repeated) > 1 else ''} "
             f"{', '.join(repeated)} more than once in its header: a column is matched by its name, so give each "
             "column its own name (or drop the copy)")


def _check_columns(out: InputFile, raw: pd.DataFrame, sensors) -> None:
    if not sensors or list(raw.columns[:1]) == ["col0"]:
        return
    header = list(raw.columns[1:])
    missing = [s for s in sensors if s not in header]
    extra = [c for c in header if c not in sensors]
    if missing:
        _add(out, "missing-columns", f"File {out.key} lacks the column{'s' if len(missing) > 1 else ''} "
             f"{', '.join(missing)} of the model's schema; its header must be the timestamp column then "
             f"{', '.join(sensors)} (found {', '.join(header) or 'no sensor column'})")
    if extra:
        _add(out, "extra-columns", f"File {out.key} has columns the schema does not have: {', '.join(extra)}; "
             "they are not read: drop or rename them", "warning")


#: The times a timestamp may hold (nanoseconds since the epoch in int64, as every table of the toolkit keeps them).
EARLIEST, LATEST = pd.Timestamp("1677-09-22", tz="UTC"), pd.Timestamp("2262-04-10", tz="UTC")


def _times(out: InputFile, raw: pd.DataFrame) -> pd.Series:
    """The first column as UTC nanosecond times; NaT (and an error naming one) for stamps out of that range."""
    times = _parsed_times(out, raw)
    stamps = times.to_numpy(dtype=f"datetime64[{times.dt.unit}]")  # numpy compares 10x faster than pandas
    far = (stamps < np.datetime64(EARLIEST.tz_localize(None))) | (stamps > np.datetime64(LATEST.tz_localize(None)))
    if far.any():
        first = int(np.flatnonzero(far)[0])
        _add(out, "timestamp-out-of-range", f"File {out.key}: {int(far.sum())} row timestamps lie outside "
             f"{EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d} (e.g. {str(raw.iloc[first, 0]).strip()!r} on data row "
             f"{first + 1}), the times a timestamp can hold; correct them (a year such as 9999 marks no real time)")
        times = times.mask(far)
    return times if times.dt.unit == "ns" else times.dt.as_unit("ns")


def _parsed_times(out: InputFile, raw: pd.DataFrame) -> pd.Series:
    """The first column as UTC times; an error names the values that cannot be read."""
    column = raw.iloc[:, 0]
    epoch = _epoch(column)
    if epoch is not None:
        return epoch
    if not pd.api.types.is_string_dtype(column):
        times = None
    elif len(column) and _PLAIN_ISO.match(str(column.iloc[0])) and _PLAIN_ISO.match(str(column.iloc[-1])):
        times = _numpy_times(column)  # plain ISO stamps without offset: numpy's C parser, 4x faster
    else:
        times = pd.to_datetime(column, errors="coerce", utc=True, format="ISO8601")
    if times is not None and not times.isna().any():
        return times  # the usual case: every stamp is ISO 8601
    text = _text(column)
    times = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601")
    if times.isna().any():
        times = pd.to_datetime(text, errors="coerce", utc=True, format="mixed")
    bad = text[(text != "") & times.isna()]
    if len(bad) or (text == "").any():
        first = int(np.flatnonzero(times.isna().to_numpy())[0])  # by position: the data row's number
        _add(out, "timestamp-unparseable", f"File {out.key}: {int(times.isna().sum())} of {len(text)} row "
             f"timestamps cannot be read (e.g. {text.iloc[first]!r} on data row {first + 1}); write them as ISO 8601 "
             "UTC, for example '2022-03-30T11:01:00.000000'")
    return times


_PLAIN_ISO = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d{1,9})?)?$")


def _numpy_times(column: pd.Series) -> pd.Series | None:
    """Plain ISO 8601 stamps as UTC by numpy's parser; None when one of them is not one (the general path reads
    them and names the bad ones)."""
    try:
        stamps = column.to_numpy().astype("datetime64[us]")  # [ns] would wrap a year 9999 round to 1816
    except (ValueError, TypeError, OverflowError):
        return None
    if np.isnat(stamps).any() or (stamps < np.datetime64(EARLIEST.tz_localize(None))).any() or (
            stamps > np.datetime64(LATEST.tz_localize(None))).any():
        return None
    stamps = stamps.astype("datetime64[ns]")
    return pd.Series(pd.DatetimeIndex(stamps).tz_localize("UTC"), index=column.index)


def _epoch(column: pd.Series) -> pd.Series | None:
    """A column of numbers as epoch seconds (1e8..1e11) or milliseconds (1e11..1e14), else None."""
    if column.dtype.kind not in "iuf" or not len(column) or column.isna().any():
        return None
    numbers = column.astype(float)
    for unit, low, high in (("s", 1e8, 1e11), ("ms", 1e11, 1e14)):
        if numbers.between(low, high, inclusive="left").all():
            return pd.Series(pd.to_datetime(numbers, unit=unit, utc=True), index=column.index)
    return None


def _text(column: pd.Series) -> pd.Series:
    """A column's cells as stripped text (missing cells as ``""``)."""
    return column.astype(object).where(column.notna(), "").astype(str).str.strip()


def _values(out: InputFile, cells: pd.DataFrame) -> pd.DataFrame:
    """Sensor cells as floats: missing and infinite cells are missing; other text is an error naming the column.

    Columns the C parser read as numbers need no further look (the usual case); only a column holding text is
    read cell by cell.
    """
    if all(dtype.kind in "iufb" for dtype in cells.dtypes):  # the usual case: the C parser read numbers only
        return _finite(out, cells.astype(float), {})
    values = pd.DataFrame(index=cells.index)
    wrong = {}
    for name in cells.columns:
        column = cells[name]
        if column.dtype.kind in "iufb":
            values[name] = column.astype(float)
            continue
        text = _text(column)
        numbers = pd.to_numeric(text, errors="coerce")
        bad = text[(text != "") & numbers.isna()]
        if len(bad):
            wrong[name] = bad.iloc[0]
        values[name] = numbers.astype(float)
    return _finite(out, values, wrong)


def _finite(out: InputFile, values: pd.DataFrame, wrong: dict) -> pd.DataFrame:
    """Report the text cells (``wrong``), the columns without values and the infinite values (made missing)."""
    if wrong:
        shown = [f"{name} (e.g. {value!r})" for name, value in wrong.items()]
        _add(out, "not-numeric", f"File {out.key}: sensor columns hold values that are not numbers: "
             f"{', '.join(shown[:3])}{' and more' if len(shown) > 3 else ''}; write numbers with '.' as decimal "
             "point (leave a cell empty when there is no value)")
    numbers = values.to_numpy(dtype=float)
    no_value = np.isnan(numbers).all(axis=0) if len(values) else np.zeros(values.shape[1], dtype=bool)
    empty = [name for name, none in zip(values.columns, no_value) if none and name not in wrong]
    if empty:
        _add(out, "no-values", f"File {out.key} has no value for {', '.join(empty[:3])} in any of its {len(values)} "
             "rows: every sensor of the schema needs numbers in each window; write its values")
    infinite = np.isinf(numbers)
    if infinite.any():
        names = [values.columns[i] for i in np.flatnonzero(infinite.any(axis=0))]
        _add(out, "non-finite", f"File {out.key}: {int(infinite.sum())} values of {', '.join(names[:3])} are "
             "infinite (inf or -inf): they are read as missing values; write an empty cell instead", "warning")
        values = values.mask(infinite)
    return values
