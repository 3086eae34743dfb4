"""What the preview reports: a :class:`Finding` per mistake, its ``level`` and a stable ``code`` from :data:`CODES`.

>>> [f.code for f in by_severity([Finding("gap", "warning", "..."), Finding("no-files", "error", "...")])]
['no-files', 'gap']
"""

from __future__ import annotations

from dataclasses import dataclass

#: Finding levels, most severe first.
LEVELS = ("error", "warning", "info")

#: Every finding code with what it means (stable: notebooks and tests match on them).
CODES = {
    "no-files": "the prefix holds no input file",
    "bucket-not-found": "the input bucket does not exist",
    "access-denied": "the credentials may not list or read the input",
    "s3-unreachable": "the S3 endpoint could not be reached or answered with an error",
    "listing-truncated": "the listing stopped at max_keys",
    "name-mismatch": "file names do not follow the configured naming",
    "naming-detected": "no naming was configured; the detected one was used",
    "naming-invalid": "the configured naming is not a valid one",
    "unknown-component": "files name a component the model's schema does not have",
    "missing-component": "a recent slot lacks the file of a schema component",
    "gap": "recent slots have no file at all",
    "late-files": "files arrived after the run that reads them woke up",
    "clock-skew": "files were modified after `now`: the S3 clock and `now` disagree",
    "frequency-too-fine": "the upload frequency is finer than the model's sampling rate",
    "model-not-found": "DescribeModel found no model of that name",
    "model-unavailable": "the model's schema could not be read",
    "empty-file": "an input file is empty or holds only a header",
    "csv-delimiter": "a file's columns are not separated by commas",
    "no-header": "a file's first line holds data, not column names",
    "missing-columns": "a file lacks columns of the schema",
    "extra-columns": "a file has columns the schema does not have",
    "not-numeric": "sensor values that are not numbers",
    "timestamp-unparseable": "row timestamps that cannot be read",
    "timestamp-out-of-range": "row timestamps outside the years a timestamp can hold (1677 to 2262)",
    "repeated-columns": "a file's header gives a column name more than once",
    "rows-outside-window": "rows outside the time window of the file's slot",
    "rows-look-local": "row timestamps are shifted by the time zone offset: rows must be UTC",
    "names-look-utc": "file names carry UTC where InputTimeZoneOffset says local time: the rows fit the UTC reading",
    "offset-detected": "no offset was configured; the rows show the file names' local offset",
    "sample-failed": "a sample file could not be read",
    "csv-malformed": "a file is not well-formed CSV (ragged rows, unclosed quotes): the parser's reason is quoted",
    "too-few-columns": "a file has a timestamp column only",
    "line-too-long": "a file's first line is too long to be a CSV header",
    "non-finite": "sensor values that are inf, -inf or nan: read as missing values",
    "no-values": "a sensor column without a single value",
}


@dataclass(frozen=True)
class Finding:
    """One thing found in the input: a stable ``code``, a ``level``, a message saying how to fix it, the keys.

    >>> Finding("empty-file", "error", "in/pump_20220330110000.csv is empty: upload the rows", ("in/x.csv",)).level
    'error'
    """

    code: str
    level: str
    message: str
    keys: tuple = ()

    def __post_init__(self):
        if self.level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, not {self.level!r}")
        object.__setattr__(self, "keys", tuple(self.keys))

    def __str__(self) -> str:
        return f"[{self.level}] {self.code}: {self.message}"


def by_severity(findings) -> list[Finding]:
    """The findings most severe first, in the order found within a level."""
    return sorted(findings, key=lambda f: LEVELS.index(f.level))
