"""Step 3, Input: where the input files are and how they are named, with a preview of what is really there.

The time zone helper fills the offset from a zone name (``Europe/Paris`` -> ``+01:00`` today) with
``timing.offset_for_zone``, and says when the zone leaves that offset within a year (daylight saving) with
``timing.check_zone``. An example file name follows the naming fields as they change. The Preview button lists
the input location through ``preview.preview_input`` and shows the key summary, the naming detected from the keys
(with a "Use detected naming" button), sample rows of each component and the findings by level; once a field
changes, the findings of the old fields are withdrawn until the next preview.

>>> step = InputStep()
>>> step.delimiter.value, step.timestamp_format.value, step.offset.value
('_', 'yyyyMMddHHmmss', '+00:00')
>>> step.delimiter.value = "-"
>>> "pump-20260105090000.csv" in step.example.value
True
"""

from __future__ import annotations

import html
import warnings
import zoneinfo

import ipywidgets as widgets
import pandas as pd

from ..._palette import MUTED, level_colour
from ...contract import servicetime
from ...contract.naming import TIMESTAMP_FORMATS, Naming, to_utc
from ...contract.request import SchedulerRequest
from ...contract.timing import check_zone, offset_for_zone
from ...errors import LookoutNbError, LookoutNbWarning
from ...preview import LEVELS
from ..fields import LABEL_WIDTH, STYLE, button_layout, choice_field, text_field
from ..render import notice, table_html

DELIMITERS = [("_ (underscore)", "_"), ("- (hyphen)", "-"), ("space", " "), ("none", "")]
#: The data time of the example file name until the wizard has read the service's time (``set_example_time``).
EXAMPLE_TIME = pd.Timestamp("2026-01-05 09:00", tz="UTC")
#: The example's time is the service's now, floored to this (a file name's time is a period's start).
EXAMPLE_STEP = pd.Timedelta(minutes=5)
#: The component of the example file name until the model's components are known.
EXAMPLE_COMPONENT = "pump"


class InputStep:
    """Bucket, prefix, naming fields, the time zone helper, and the Preview area."""

    title = "3 Input"

    def __init__(self):
        self.bucket = text_field("input_bucket", "Input bucket", placeholder="my-input-bucket")
        self.prefix = text_field(
            "input_prefix", "Input prefix", placeholder="input/", hint="Empty, or ending with / (for example input/)."
        )
        self.timestamp_format = choice_field("timestamp_format", "Timestamp format", list(TIMESTAMP_FORMATS),
                                             value="yyyyMMddHHmmss")
        self.delimiter = choice_field("delimiter", "Delimiter", DELIMITERS, value="_",
                                      hint="Between the component and the timestamp.")
        self.offset = text_field(
            "timezone_offset", "Time zone offset", placeholder="+00:00",
            hint="The offset of the local time written in file names; the rows inside stay UTC.",
        )
        self.offset.value = "+00:00"
        self.example = widgets.HTML(layout=widgets.Layout(margin=f"0 0 4px {LABEL_WIDTH}"))
        self.example.add_class("lnb-example-key")
        self.component = EXAMPLE_COMPONENT
        self.example_time = EXAMPLE_TIME
        self.zone = widgets.Combobox(
            description="Time zone", placeholder="Europe/Paris", options=sorted(zoneinfo.available_timezones()),
            ensure_option=False, style=STYLE, layout=widgets.Layout(width="460px"),
        )
        self.fill_offset = widgets.Button(
            description="Fill offset from zone", tooltip="Set the time zone offset from the zone name (today's offset)",
            icon="clock-o", layout=button_layout(),
        )
        self.zone_note = widgets.HTML()
        self.zone_note.add_class("lnb-zone-note")
        self._zone_filled: tuple[str, str] | None = None  # (zone, offset) the note is about
        self.preview_button = widgets.Button(
            description="Preview input", tooltip="List the input location and read a few sample rows",
            icon="search", button_style="info", layout=button_layout(),
        )
        self.summary = widgets.HTML()
        self.summary.add_class("lnb-preview-summary")
        self.detected = widgets.HTML(layout=widgets.Layout(flex="1 1 auto"))
        self.detected.add_class("lnb-preview-detected")
        self.use_detected = widgets.Button(
            description="Use detected naming", tooltip="Set the timestamp format and delimiter to the detected ones",
            icon="check", disabled=True, layout=button_layout(),
        )
        self.findings = widgets.HTML()
        self.findings.add_class("lnb-preview-findings")
        self.samples = widgets.HTML()
        self.samples.add_class("lnb-preview-samples")
        self.preview = None
        self._applied = False  # the detected naming was just copied into the fields: say so with the next preview
        self.fields = [self.bucket, self.prefix, self.timestamp_format, self.delimiter, self.offset]
        self.use_detected.on_click(lambda _: self.apply_detected())
        for field in self.fields:
            field.observe(lambda _change: self._fields_changed())
        self.zone.observe(lambda _change: self._zone_changed(), names="value")
        self.offset.observe(lambda _change: self._zone_changed())
        self._show_example()
        self.box = widgets.VBox(
            [
                widgets.HTML("<b>Where are the input files, and how are they named?</b>"),
                self.bucket.box,
                self.prefix.box,
                self.timestamp_format.box,
                self.delimiter.box,
                self.offset.box,
                self.example,
                widgets.HBox([self.zone, self.fill_offset]),
                self.zone_note,
                widgets.HTML("<hr>"),
                widgets.HBox([self.preview_button]),
                self.summary,
                widgets.HBox([self.detected, self.use_detected]),
                self.findings,
                self.samples,
            ],
            layout=widgets.Layout(width="100%"),
        )

    # -- time zone helper ------------------------------------------------------------------------------------
    def fill_from_zone(self, at=None) -> None:
        """Set the offset from the zone name typed in ``Time zone`` (raises ValueError for an unknown zone).

        The offset is the zone's at ``at`` (default: now); when the zone uses another offset within the next
        year (daylight saving), the note under the helper says when, since the scheduler's offset is fixed.
        """
        zone = self.zone.value.strip()
        if not zone:
            raise ValueError("type a time zone name first, for example Europe/Paris")
        start = servicetime.now() if at is None else to_utc(at, "at")
        offset = offset_for_zone(zone, at=start)
        self.offset.value = offset
        # Only the offset matters to check_zone; the other timing fields may still be unfinished.
        probe = SchedulerRequest(upload_frequency="PT1H", timezone_offset=offset)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", LookoutNbWarning)
            check_zone(probe, zone, start, start + pd.Timedelta(days=365))
        notes = [str(w.message) for w in caught]
        self.zone_note.value = notice(
            f"{zone} is {offset} now." + (" " + " ".join(notes) if notes else ""), "warning" if notes else "ok"
        )
        self._zone_filled = (zone, offset)

    def _zone_changed(self) -> None:
        """The note speaks of one zone and the offset filled from it: withdrawn once either changes."""
        if self._zone_filled is not None and self._zone_filled != (self.zone.value.strip(), self.offset.value):
            self._zone_filled = None
            self.zone_note.value = ""

    # -- the example name ------------------------------------------------------------------------------------
    def set_components(self, components) -> None:
        """Name the example file after the model's first component (``None``: a generic one)."""
        self.component = next(iter(components or []), None) or EXAMPLE_COMPONENT
        self._show_example()

    def set_example_time(self, now) -> None:
        """Name the example file after the period that starts at ``now`` (the service's time), floored to 5 min.

        >>> step = InputStep(); step.set_example_time(pd.Timestamp("2027-03-01 10:07Z"))
        >>> "pump_20270301100500.csv" in step.example.value
        True
        """
        self.example_time = to_utc(now, "now").floor(EXAMPLE_STEP)
        self._show_example()

    def _show_example(self) -> None:
        try:
            naming = Naming(timestamp_format=self.timestamp_format.value, delimiter=self.delimiter.value,
                            timezone_offset=self.offset.value or "+00:00")
            prefix = self.prefix.value if isinstance(self.prefix.value, str) else ""
            key = naming.key(self.component, self.example_time, prefix=prefix)
        except (LookoutNbError, TypeError, ValueError):
            self.example.value = (f'<span style="color:{MUTED};font-size:90%">No example name until the naming '
                                  "fields are valid.</span>")
            return
        self.example.value = (
            f'<span style="color:{MUTED};font-size:90%">Example: the file of '
            f"<code>{html.escape(self.component)}</code> "
            f"for the data from {self.example_time:%Y-%m-%d %H:%M} UTC is named <code>{html.escape(key)}</code></span>"
        )

    # -- the preview follows the fields ----------------------------------------------------------------------
    def _fields_changed(self) -> None:
        self._show_example()
        if self.preview is None:
            return
        self._show_detected()
        self.findings.value = notice(
            "The fields changed since this preview, so its findings no longer apply: click Preview input to check "
            "the input with the fields as they are now.", "info")
        self.findings.remove_class("lnb-findings-current")

    # -- preview ---------------------------------------------------------------------------------------------
    def show_preview(self, preview) -> None:
        """Show an InputPreview: key summary, detected naming, findings by level, sample rows."""
        self.preview = preview
        keys = getattr(preview, "keys", None)
        n = 0 if keys is None else len(keys)
        self.summary.value = f"<h4 style='margin:6px 0'>Key summary</h4>{_key_summary(keys)}" if n else notice(
            "No file found at this location.", "warning"
        )
        self._show_detected()
        if self._applied:
            self._applied = False
            self.detected.value += notice("Applied to the fields; the input was checked again with them.", "ok")
        self.findings.value = _findings_html(getattr(preview, "findings", []) or [])
        self.findings.add_class("lnb-findings-current")
        samples = getattr(preview, "samples", None) or {}
        self.samples.value = "".join(
            f"<h4 style='margin:6px 0'>Sample rows of {html.escape(str(comp))}</h4>{table_html(frame, max_rows=5)}"
            for comp, frame in samples.items()
        )

    def _show_detected(self) -> None:
        """The detected naming, compared with the fields as they are now."""
        preview = self.preview
        keys = getattr(preview, "keys", None)
        cand = getattr(preview, "detected", None)
        if cand is None:
            self.detected.value = notice("No naming convention fits these keys.", "warning") if (
                keys is not None and len(keys)) else ""
            self.use_detected.disabled = True
            return
        same = (cand.timestamp_format, cand.delimiter) == (self.timestamp_format.value, self.delimiter.value)
        self.detected.value = (
            f"<div>Detected naming: timestamp format <code>{html.escape(cand.timestamp_format)}</code>, "
            f"delimiter <code>{html.escape(repr(cand.delimiter))}</code>, fits {cand.share:.0%} of the keys; "
            f"components {html.escape(', '.join(cand.components))}"
            f"{' (the fields already use it)' if same else ''}</div>"
        )
        self.use_detected.disabled = same

    def apply_detected(self) -> None:
        """Copy the detected timestamp format and delimiter into the fields (the wizard then previews again)."""
        cand = getattr(self.preview, "detected", None)
        if cand is None:
            return
        self.timestamp_format.value = cand.timestamp_format
        self.delimiter.value = cand.delimiter
        self.use_detected.disabled = True
        self._applied = True
        self.detected.value += notice("Applied to the fields; checking the input again with them.", "ok")


def _key_summary(keys) -> str:
    """How many keys, how many follow the naming, per component, with the time range."""
    total = len(keys)
    parts = [f"<div>{total} key(s) under the prefix.</div>"]
    if "component" in keys.columns:
        frame = keys
        if "matches" in keys.columns:
            parts.append(f"<div>{int(keys['matches'].sum())} follow the naming in the fields.</div>")
            frame = keys[keys["matches"].astype(bool)]
        if len(frame):
            time_col = "time_utc" if "time_utc" in frame.columns else None
            agg = {"files": ("key", "size")}
            if time_col:
                agg.update(first=(time_col, "min"), last=(time_col, "max"))
            per = frame.groupby("component").agg(**agg).reset_index()
            parts.append(table_html(per))
    else:
        parts.append(table_html(keys, max_rows=10))
    return "".join(parts)


def _findings_html(findings) -> str:
    if not findings:
        return notice("No findings: the input looks right.", "ok")
    out = ["<h4 style='margin:6px 0'>Findings</h4>"]
    order = {lvl: i for i, lvl in enumerate(LEVELS)}
    for level in sorted({f.level for f in findings}, key=lambda lvl: order.get(lvl, 9)):
        items = [f for f in findings if f.level == level]
        colour = level_colour(level)
        lis = "".join(
            f"<li><code>{html.escape(f.code)}</code> {html.escape(f.message)}"
            + (f" <i>({len(f.keys)} key(s))</i>" if getattr(f, "keys", None) else "")
            + "</li>"
            for f in items
        )
        out.append(
            f'<div class="lnb-findings-{html.escape(level)}" style="color:{colour}"><b>{html.escape(level)}</b> '
            f"({len(items)})<ul>{lis}</ul></div>"
        )
    return "".join(out)

