"""The input-file naming convention: ``<component><delimiter><timestamp>.csv`` in local time.

A scheduler finds its input by file *name*: the component of the model's schema, the configured delimiter and a
timestamp in the configured format, written in local time (UTC + ``InputTimeZoneOffset``). The rows inside the
files are UTC. EPOCH names are seconds since 1970-01-01 UTC, which carry no zone, so the offset does not apply to
them (the service's documentation does not say; it is the reading this project takes everywhere).

>>> n = Naming("yyyyMMddHHmmss", "_", "+05:30")
>>> n.key("centrifugal-pump", "2022-03-30 11:00")
'centrifugal-pump_20220330163000.csv'
>>> n.parse("input/centrifugal-pump_20220330163000.csv")
('centrifugal-pump', Timestamp('2022-03-30 11:00:00+0000', tz='UTC'))
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, NamedTuple

import numpy as np
import pandas as pd

from ..errors import InvalidArgument, NamingError
from .s3keys import join_input_key

#: The three file-name timestamp formats of the API, with their strftime form and the regex of their text.
#: EPOCH is integer seconds (never strftime's platform-dependent ``%s``).
TIMESTAMP_FORMATS: dict[str, tuple[str | None, str]] = {
    "yyyyMMddHHmmss": ("%Y%m%d%H%M%S", r"\d{14}"),
    "yyyy-MM-dd-HH-mm-ss": ("%Y-%m-%d-%H-%M-%S", r"\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}"),
    "EPOCH": (None, r"\d{10}"),
}
#: The delimiters worth proposing; the API also accepts any single whitespace character.
DELIMITERS = ("_", "-", " ", "")
DEFAULT_FORMAT = "yyyyMMddHHmmss"
DEFAULT_DELIMITER = "_"
DEFAULT_OFFSET = "+00:00"

_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})")
_EPOCH_UNIT = pd.Timedelta(seconds=1)
_UNIX_ZERO = pd.Timestamp(0, tz="UTC")


def parse_offset(offset: str | None) -> pd.Timedelta:
    """The time zone offset ``±HH:MM`` as a Timedelta (``None`` or ``""`` is UTC).

    >>> parse_offset("-03:30")
    Timedelta('-1 days +20:30:00')
    """
    if not offset:
        return pd.Timedelta(0)
    m = _OFFSET.fullmatch(offset) if isinstance(offset, str) else None
    delta = None
    if m and int(m[3]) < 60:
        delta = (-1 if m[1] == "-" else 1) * pd.Timedelta(hours=int(m[2]), minutes=int(m[3]))
    if delta is None or not pd.Timedelta(hours=-12) <= delta <= pd.Timedelta(hours=14):
        raise NamingError(
            f"InputTimeZoneOffset {offset!r} is not a UTC offset: use +HH:MM or -HH:MM between -12:00 and +14:00"
        )
    return delta


def format_offset(delta: pd.Timedelta) -> str:
    """The inverse of :func:`parse_offset`: ``format_offset(pd.Timedelta(hours=-8)) == '-08:00'``."""
    minutes = int(pd.Timedelta(delta).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def to_utc(value, name: str = "time") -> pd.Timestamp:
    """A tz-aware UTC Timestamp from a string, datetime or Timestamp (naive values are taken as UTC).

    ``name`` is the argument's name, which the error gives when the value is not a time.

    >>> to_utc("2024-03-30 10:08+01:00")
    Timestamp('2024-03-30 09:08:00+0000', tz='UTC')
    """
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(
            f"{name}={value!r} is not a time: pass an ISO string such as '2024-03-30 09:08' (UTC unless it carries "
            "an offset), a datetime or a pandas Timestamp"
        ) from exc
    if ts is pd.NaT:
        raise InvalidArgument(f"{name} is missing (NaT): pass a time such as '2024-03-30 09:08'")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


@dataclass(frozen=True)
class Naming:
    """One naming convention: timestamp format, delimiter and time zone offset of the input files.

    Unset values (``None``) take the defaults ``yyyyMMddHHmmss``, ``_`` and ``+00:00``.
    """

    timestamp_format: str | None = DEFAULT_FORMAT
    delimiter: str | None = DEFAULT_DELIMITER
    timezone_offset: str | None = DEFAULT_OFFSET

    def __post_init__(self):
        fmt = DEFAULT_FORMAT if self.timestamp_format is None else self.timestamp_format
        delim = DEFAULT_DELIMITER if self.delimiter is None else self.delimiter
        if fmt not in TIMESTAMP_FORMATS:
            raise NamingError(f"TimestampFormat {fmt!r} is not one of {', '.join(TIMESTAMP_FORMATS)}")
        if not isinstance(delim, str) or not (delim in ("", "-", "_") or (len(delim) == 1 and delim.isspace())):
            raise NamingError(f"ComponentTimestampDelimiter {delim!r} must be '', '-', '_' or one whitespace character")
        offset = DEFAULT_OFFSET if not self.timezone_offset else self.timezone_offset
        parse_offset(offset)
        object.__setattr__(self, "timestamp_format", fmt)
        object.__setattr__(self, "delimiter", delim)
        object.__setattr__(self, "timezone_offset", offset)

    @property
    def fmt(self) -> str:
        """The timestamp format, defaults applied (never None)."""
        return DEFAULT_FORMAT if self.timestamp_format is None else self.timestamp_format

    @property
    def delim(self) -> str:
        """The delimiter, defaults applied (never None; ``""`` is a delimiter)."""
        return DEFAULT_DELIMITER if self.delimiter is None else self.delimiter

    @property
    def offset(self) -> pd.Timedelta:
        """The local time offset from UTC that file names carry (zero for EPOCH names)."""
        return pd.Timedelta(0) if self.timestamp_format == "EPOCH" else parse_offset(self.timezone_offset)

    def stamp(self, time_utc) -> str:
        """The timestamp text of a file name for a UTC time.

        >>> Naming("yyyy-MM-dd-HH-mm-ss", "-").stamp("2022-03-30 11:00")
        '2022-03-30-11-00-00'
        """
        return self.stamps([to_utc(time_utc)])[0]

    def stamps(self, times_utc) -> pd.Index:
        """Vectorised :meth:`stamp` for many UTC times (an Index of strings)."""
        idx = pd.DatetimeIndex(pd.to_datetime(times_utc, utc=True))
        if self.timestamp_format == "EPOCH":
            return pd.Index(((idx - _UNIX_ZERO) // _EPOCH_UNIT).astype("int64").astype(str))
        local = (idx + self.offset).tz_localize(None)
        return pd.Index(local.strftime(TIMESTAMP_FORMATS[self.fmt][0]))

    def key(self, component: str, window_start_utc, prefix: str = "") -> str:
        """The S3 key of ``component``'s file for the slot starting at ``window_start_utc``."""
        return join_input_key(prefix, component, self.delimiter, self.stamp(window_start_utc))

    def parse(self, key: str) -> tuple[str, pd.Timestamp]:
        """``(component, UTC time)`` of a key; raises :class:`NamingError` saying what was expected."""
        row = self.parse_many([key]).iloc[0]
        if not row["matches"]:
            raise NamingError(
                f"file {key!r} does not follow the naming <component>{self.delimiter}<{self.timestamp_format}>.csv, "
                f"for example {self.key('pump', '2022-03-30 11:00')!r}"
            )
        return row["component"], row["time_utc"]

    def parse_many(self, keys) -> pd.DataFrame:
        """Parse many keys at once: columns ``key, folder, component, time_local, time_utc, matches``.

        ``folder`` is the part of the key up to its last ``/`` (``""`` for a bare name), whether or not it matches.

        Keys that do not follow the convention have ``matches == False`` and missing values. Times have microsecond
        resolution, so a valid name of any year parses (nanoseconds end in 2262). Vectorised: the
        timestamp is a fixed-width suffix before ``.csv``, so no per-key regex is needed.
        """
        keys = pd.Series(list(keys), dtype=object, name="key").astype(str)
        split = _split_names(keys, self.fmt)
        heads = split.heads  # the distinct file-name heads: judged once each, then spread over the keys
        if self.delimiter:
            head_ok, components = heads.str.endswith(self.delimiter), heads.str[:-1]
        else:
            head_ok, components = pd.Series(True, index=heads.index), heads
        head_ok = (head_ok & components.str.len().gt(0)).to_numpy(dtype=bool)
        local = split.local.to_numpy()[split.tail_codes]
        matches = head_ok[split.head_codes] & ~np.isnat(local)
        local = pd.DatetimeIndex(np.where(matches, local, np.datetime64("NaT", _UNIT)))
        return pd.DataFrame(
            {
                "key": keys,
                "folder": split.folders,
                "component": np.where(matches, components.to_numpy(dtype=object)[split.head_codes], None),
                "time_local": local,
                "time_utc": local.tz_localize("UTC") - self.offset.as_unit(_UNIT),
                "matches": matches,
            },
            index=keys.index,
        )


class _Split(NamedTuple):
    """Keys split at the timestamp: distinct heads and stamps, and which of them each key has."""

    head_codes: np.ndarray  # per key, index into heads
    heads: pd.Series  # distinct file names before the timestamp (component and delimiter), folders removed
    tail_codes: np.ndarray  # per key, index into local
    local: pd.Series  # per distinct "<stamp>.csv" tail: its naive local time, NaT when not a valid stamp
    folders: np.ndarray  # per key, its folder: the text up to its last "/" ("" for a bare name)


def _split_names(keys: pd.Series, timestamp_format: str) -> _Split:
    """Split keys at the fixed-width ``<stamp>.csv`` suffix of ``timestamp_format``.

    Listings repeat the same heads and stamps many times, so each distinct text is parsed once (factorize).
    """
    strftime, pattern = TIMESTAMP_FORMATS[timestamp_format]
    width = _STAMP_WIDTH[timestamp_format] + 4
    tail_codes, tails = pd.factorize(keys.str[-width:])
    head_codes, heads = pd.factorize(keys.str[:-width])
    tails = pd.Series(tails, dtype=object)
    stamps = tails.str[:-4].where(tails.str[-4:].str.lower().eq(".csv") & tails.str[:-4].str.fullmatch(pattern))
    if strftime is None:
        local = pd.to_datetime(pd.to_numeric(stamps, errors="coerce"), unit="s", errors="coerce")
    else:
        local = pd.to_datetime(stamps, format=strftime, errors="coerce")
    # Microseconds hold every name's year (nanoseconds end in 2262); say so, whatever pandas chose.
    local = local.astype(f"datetime64[{_UNIT}]")
    cut = [h.rfind("/") + 1 for h in heads]
    names = pd.Series([h[i:] for h, i in zip(heads, cut)], dtype=object)
    folders = np.array([h[:i] for h, i in zip(heads, cut)], dtype=object)[head_codes]
    # A "/" inside the sliced-off tail (short or odd keys) puts the folder there: fix those few keys one by one.
    odd = np.flatnonzero(np.array(["/" in t for t in tails], dtype=bool)[tail_codes])
    folders[odd] = [keys.iat[i][: keys.iat[i].rfind("/") + 1] for i in odd]
    return _Split(head_codes, names, tail_codes, local, folders)


#: The resolution of parsed file times: microseconds cover years 1 to 9999 (nanoseconds stop in 2262).
_UNIT: Final = "us"
_STAMP_WIDTH = {"yyyyMMddHHmmss": 14, "yyyy-MM-dd-HH-mm-ss": 19, "EPOCH": 10}


@dataclass(frozen=True)
class NamingCandidate:
    """A naming that fits some keys: format, delimiter, the share of keys it parses and their components."""

    timestamp_format: str
    delimiter: str
    share: float
    components: tuple[str, ...]

    def naming(self, timezone_offset: str | None = None) -> Naming:
        """This candidate as a :class:`Naming` (the offset cannot be seen in names; pass it in)."""
        return Naming(self.timestamp_format, self.delimiter, timezone_offset)


def detect_naming(keys, components=None) -> list[NamingCandidate]:
    """Namings that fit ``keys``, best first; an empty list when none fits any key.

    With ``components`` (from the model's schema), only names of those components count, which settles
    ambiguous cases such as a delimiter that also appears inside component names.

    >>> best = detect_naming(["in/pump-a_20220330110000.csv", "in/pump-b_20220330110000.csv"])[0]
    >>> best.timestamp_format, best.delimiter, best.share, best.components
    ('yyyyMMddHHmmss', '_', 1.0, ('pump-a', 'pump-b'))
    """
    keys = pd.Series(list(keys), dtype=object).astype(str)
    if keys.empty:
        return []
    wanted = None if components is None else set(components)
    found = []
    for fmt in TIMESTAMP_FORMATS:
        split = _split_names(keys, fmt)
        valid = split.local.notna().to_numpy(dtype=bool)[split.tail_codes]
        if not valid.any():
            continue
        # Each distinct head once, with how many valid keys have it: listings repeat them.
        counts = pd.Series(np.bincount(split.head_codes[valid], minlength=len(split.heads)),
                           index=split.heads.to_numpy())
        counts = counts[counts > 0]
        head = counts.index.to_series(index=range(len(counts)))
        last = head.str[-1:]
        delim = last.where(last.isin(["-", "_"]) | last.str.isspace(), "")
        component = head.str[:-1].where(delim.ne(""), head)
        # With no delimiter the timestamp must not continue a run of digits (it would be ambiguous).
        keep = component.str.len().gt(0) & (delim.ne("") | ~last.str.isdigit())
        if wanted is not None:
            keep &= component.isin(wanted)
        table = pd.DataFrame({"delim": delim, "component": component, "n": counts.to_numpy()})[keep]
        for d, group in table.groupby("delim"):
            components = tuple(sorted(group["component"].unique()))
            found.append(NamingCandidate(fmt, d, int(group["n"].sum()) / len(keys), components))
    # Best first: most keys, then a visible delimiter, then fewer components (names read more plausibly).
    found.sort(key=lambda c: (-c.share, c.delimiter == "", len(c.components)))
    return found


def expected_keys(naming: Naming, components, window_starts, prefix: str = "") -> pd.DataFrame:
    """Every (component, window start) pair with its key, vectorised: columns ``component, window_start, key``."""
    starts = pd.DatetimeIndex(pd.to_datetime(window_starts, utc=True))
    comps = np.asarray(list(components), dtype=object)
    grid = pd.DataFrame(
        {"component": np.repeat(comps, len(starts)), "window_start": np.tile(starts, len(comps))}
    )
    stamps = np.tile(naming.stamps(starts).to_numpy(dtype=object), len(comps))
    grid["key"] = join_input_key(prefix, grid["component"], naming.delimiter, stamps)
    return grid


def input_key(component, window_start_utc, timestamp_format=DEFAULT_FORMAT, delimiter=DEFAULT_DELIMITER,
              timezone_offset=DEFAULT_OFFSET, prefix: str = "") -> str:
    """The file name of ``component`` for the slot starting at ``window_start_utc`` (see :meth:`Naming.key`).

    >>> input_key("centrifugal-pump", "2022-03-30 11:00", "yyyyMMddHHmmss", "_", "+05:30")
    'centrifugal-pump_20220330163000.csv'
    """
    return Naming(timestamp_format, delimiter, timezone_offset).key(component, window_start_utc, prefix)


def parse_input_key(key, timestamp_format=DEFAULT_FORMAT, delimiter=DEFAULT_DELIMITER,
                    timezone_offset=DEFAULT_OFFSET) -> tuple[str, pd.Timestamp]:
    """``(component, UTC time)`` of a file name (see :meth:`Naming.parse`).

    >>> parse_input_key("s3/prefix/centrifugal-pump-2022-03-30-11-00-00.csv", "yyyy-MM-dd-HH-mm-ss", "-")
    ('centrifugal-pump', Timestamp('2022-03-30 11:00:00+0000', tz='UTC'))
    """
    return Naming(timestamp_format, delimiter, timezone_offset).parse(key)
