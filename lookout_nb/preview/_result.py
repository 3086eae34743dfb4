"""What ``preview_input`` returns: an :class:`InputPreview`, built once from everything found.

>>> pv = InputPreview("bucket", "in/")
>>> pv.ok, pv.by_level(), pv
(True, {'error': [], 'warning': [], 'info': []}, <InputPreview s3://bucket/in/: 0 keys, no findings>)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from ..contract.naming import Naming, NamingCandidate
from ..contract.s3keys import s3_uri
from ._findings import LEVELS, Finding
from ._names import empty_keys
from ._render import render_html

if TYPE_CHECKING:
    from ._slots import FileMatch


@dataclass
class InputPreview:
    """What ``preview_input`` found: the listed keys, the detected naming, sample rows and findings.

    >>> InputPreview("bucket", "in/", findings=[Finding("no-files", "error", "upload the files")]).codes
    {'no-files'}
    """

    bucket: str
    prefix: str
    naming: Naming | None = None
    frequency: pd.Timedelta | None = None
    delay: pd.Timedelta = field(default_factory=lambda: pd.Timedelta(0))
    keys: pd.DataFrame = field(default_factory=empty_keys)
    detected: NamingCandidate | None = None
    samples: dict = field(default_factory=dict)
    sampled_keys: dict = field(default_factory=dict)
    #: Bytes read by the ranged GET of each sampled key.
    sample_reads: dict = field(default_factory=dict)
    findings: list = field(default_factory=list)
    listing_truncated: bool = False
    list_calls: int = 0
    bytes_read: int = 0
    model_name: str | None = None
    components: tuple | None = None
    columns: dict | None = None
    target_sampling_rate: str | None = None
    #: False when names are read with an assumed offset (no request given), so the rows may reveal the real one.
    offset_configured: bool = True
    #: The time the preview judged "now" by (None: the newest file's slot).
    now: pd.Timestamp | None = None
    #: The recent runs judged (``lookout_nb.contract.timing.plan_schedule`` with the expected keys), None when not
    #: judged.
    plan: pd.DataFrame | None = None
    #: That plan matched against the listing (``match_files``), None when not judged.
    match: FileMatch | None = None
    #: The recent slots (UTC starts of the runs' windows) the slot checks covered.
    recent_slots: pd.DatetimeIndex = field(default_factory=lambda: pd.DatetimeIndex([], tz="UTC"))

    @property
    def errors(self) -> list[Finding]:
        """The findings that make runs fail."""
        return [f for f in self.findings if f.level == "error"]

    @property
    def warnings(self) -> list[Finding]:
        """The findings that may lose data or make some runs fail."""
        return [f for f in self.findings if f.level == "warning"]

    @property
    def ok(self) -> bool:
        """True when no finding is an error."""
        return not self.errors

    @property
    def codes(self) -> set[str]:
        """The codes of all findings: ``"rows-look-local" in pv.codes``."""
        return {f.code for f in self.findings}

    def by_level(self) -> dict[str, list[Finding]]:
        """Findings grouped by level, most severe first (every level present, maybe empty)."""
        return {level: [f for f in self.findings if f.level == level] for level in LEVELS}

    def component_summary(self) -> pd.DataFrame:
        """Per component, the files that follow the naming and the UTC times of the first and last name (the
        columns say the zone: names carry local time, shown here converted to UTC).

        >>> InputPreview("bucket", "in/").component_summary().columns.tolist()
        ['component', 'files', 'first (UTC)', 'last (UTC)']
        """
        columns = ["component", "files", "first (UTC)", "last (UTC)"]
        named = self.keys[self.keys["matches"].astype(bool)] if len(self.keys) else self.keys
        if not len(named):
            return pd.DataFrame(columns=columns)
        per = named.groupby("component").agg(files=("key", "size"), first=("time_utc", "min"),
                                               last=("time_utc", "max")).reset_index()
        for end in ("first", "last"):
            per[end] = per[end].dt.tz_convert("UTC").dt.strftime("%Y-%m-%d %H:%M:%S")
        return per.set_axis(columns, axis=1)

    def find(self, code: str) -> list[Finding]:
        """The findings of one code."""
        return [f for f in self.findings if f.code == code]

    def __repr__(self) -> str:
        counts = ", ".join(f"{len(v)} {k}" for k, v in self.by_level().items() if v) or "no findings"
        return f"<InputPreview {s3_uri(self.bucket, self.prefix)}: {len(self.keys)} keys, {counts}>"

    def _repr_html_(self) -> str:
        return render_html(self)
