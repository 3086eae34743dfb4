"""Step 3, Input: where the input files are and how they are named, with a preview of what is really there.

The time zone helper fills the offset from a zone name (``Europe/Paris`` -> ``+01:00`` today) with
``timing.offset_for_zone``, and says when the zone leaves that offset within a year (daylight saving) with
``timing.check_zone``. The Preview button lists the input location through ``preview.preview_input`` and shows
the key summary, the naming detected from the keys (with a "Use detected naming" button), sample rows of each
component and the findings by level.

>>> step = InputStep()
>>> step.delimiter.value, step.timestamp_format.value, step.offset.value
('_', 'yyyyMMddHHmmss', '+00:00')
"""

from __future__ import annotations

import html
import warnings
import zoneinfo

import ipywidgets as widgets
import pandas as pd

from .. import servicetime
from ..errors import LookoutNbWarning
from ..naming import TIMESTAMP_FORMATS, to_utc
from ..preview import LEVELS
from ..request import SchedulerRequest
from .fields import STYLE, choice_field, text_field
from .render import notice, table_html

DELIMITERS = [("_ (underscore)", "_"), ("- (hyphen)", "-"), ("space", " "), ("none", "")]
_LEVEL_COLOURS = {"error": "#b00020", "warning": "#8a5300", "info": "#0b5394"}


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
                                      hint="Between the component and the timestamp: pump_20260105090000.csv")
        self.offset = text_field(
            "timezone_offset", "Time zone offset", placeholder="+00:00",
            hint="The offset of the local time written in file names; the rows inside stay UTC.",
        )
        self.offset.value = "+00:00"
        self.zone = widgets.Combobox(
            description="Time zone", placeholder="Europe/Paris", options=sorted(zoneinfo.available_timezones()),
            ensure_option=False, style=STYLE, layout=widgets.Layout(width="460px"),
        )
        self.fill_offset = widgets.Button(
            description="Fill offset from zone", tooltip="Set the time zone offset from the zone name (today's offset)",
            icon="clock-o", layout=widgets.Layout(width="auto"),
        )
        self.zone_note = widgets.HTML()
        self.preview_button = widgets.Button(
            description="Preview input", tooltip="List the input location and read a few sample rows",
            icon="search", button_style="info", layout=widgets.Layout(width="auto"),
        )
        self.summary = widgets.HTML()
        self.summary.add_class("lnb-preview-summary")
        self.detected = widgets.HTML()
        self.detected.add_class("lnb-preview-detected")
        self.use_detected = widgets.Button(
            description="Use detected naming", tooltip="Set the timestamp format and delimiter to the detected ones",
            icon="check", disabled=True, layout=widgets.Layout(width="auto"),
        )
        self.findings = widgets.HTML()
        self.findings.add_class("lnb-preview-findings")
        self.samples = widgets.HTML()
        self.samples.add_class("lnb-preview-samples")
        self.preview = None
        self.fields = [self.bucket, self.prefix, self.timestamp_format, self.delimiter, self.offset]
        self.use_detected.on_click(lambda _: self.apply_detected())
        self.box = widgets.VBox(
            [
                widgets.HTML("<b>Where are the input files, and how are they named?</b>"),
                self.bucket.box,
                self.prefix.box,
                self.timestamp_format.box,
                self.delimiter.box,
                self.offset.box,
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
        from ..timing import check_zone, offset_for_zone

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

    # -- preview ---------------------------------------------------------------------------------------------
    def show_preview(self, preview) -> None:
        """Show an InputPreview: key summary, detected naming, findings by level, sample rows."""
        self.preview = preview
        keys = getattr(preview, "keys", None)
        n = 0 if keys is None else len(keys)
        self.summary.value = f"<h4 style='margin:6px 0'>Key summary</h4>{_key_summary(keys)}" if n else notice(
            "No file found at this location.", "warning"
        )
        cand = getattr(preview, "detected", None)
        if cand is None:
            self.detected.value = notice("No naming convention fits these keys.", "warning") if n else ""
            self.use_detected.disabled = True
        else:
            same = (cand.timestamp_format, cand.delimiter) == (self.timestamp_format.value, self.delimiter.value)
            self.detected.value = (
                f"<div>Detected naming: timestamp format <code>{html.escape(cand.timestamp_format)}</code>, "
                f"delimiter <code>{html.escape(repr(cand.delimiter))}</code>, fits {cand.share:.0%} of the keys; "
                f"components {html.escape(', '.join(cand.components))}"
                f"{' (the fields already use it)' if same else ''}</div>"
            )
            self.use_detected.disabled = same
        self.findings.value = _findings_html(getattr(preview, "findings", []) or [])
        samples = getattr(preview, "samples", None) or {}
        self.samples.value = "".join(
            f"<h4 style='margin:6px 0'>Sample rows of {html.escape(str(comp))}</h4>{table_html(frame, max_rows=5)}"
            for comp, frame in samples.items()
        )

    def apply_detected(self) -> None:
        """Copy the detected timestamp format and delimiter into the fields."""
        cand = getattr(self.preview, "detected", None)
        if cand is None:
            return
        self.timestamp_format.value = cand.timestamp_format
        self.delimiter.value = cand.delimiter
        self.use_detected.disabled = True
        self.detected.value += notice("Applied to the fields.", "ok")


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
        colour = _LEVEL_COLOURS.get(level, "#333")
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

