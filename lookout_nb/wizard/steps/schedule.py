"""Step 2, Schedule: scheduler name, upload frequency (no finer than the model's sampling rate), delay 0-60 min.

>>> step = ScheduleStep()
>>> step.set_sampling_rate("PT10M")
>>> [value for _, value in step.frequency.widget.options]
['PT10M', 'PT15M', 'PT30M', 'PT1H']
>>> step.rate_note.value.count("PT5M is finer than that")
1
>>> step.set_existing({"pump-5min"}); step.name.value = "pump-5min"
>>> "exists" in step.exists.value
True
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from ..._palette import level_colour
from ...contract import servicemodel
from ...contract.request import parse_duration
from ..fields import choice_field, int_field, text_field
from ..render import notice

_LABELS = {"PT5M": "every 5 minutes", "PT10M": "every 10 minutes", "PT15M": "every 15 minutes",
           "PT30M": "every 30 minutes", "PT1H": "every hour"}


def frequency_options(sampling_rate: str | None = None) -> list[tuple[str, str]]:
    """The upload frequencies of the API no finer than ``sampling_rate``, as ``(label, value)`` pairs.

    >>> [v for _, v in frequency_options("PT30M")]
    ['PT30M', 'PT1H']
    """
    rate = None
    if sampling_rate:
        try:
            rate = parse_duration(sampling_rate)
        except ValueError:
            rate = None
    return [
        (f"{f} ({_LABELS.get(f, f)})", f)
        for f in servicemodel.enum("DataUploadFrequency")
        if rate is None or parse_duration(f) >= rate
    ]


def rate_sentence(rate: str) -> str:
    """What the model's sampling rate ``rate`` does to the upload frequencies offered, from the API's own list.

    >>> rate_sentence("PT1M")
    'The model was trained at PT1M, finer than every upload frequency the API offers: all are offered (PT5M to PT1H).'
    >>> rate_sentence("PT5M")
    'The model was trained at PT5M, the finest upload frequency the API offers: all are offered (PT5M to PT1H).'
    >>> rate_sentence("PT15M")
    'The model was trained at PT15M: PT5M and PT10M are finer than that and not offered; the finest offered is PT15M.'
    """
    every = list(servicemodel.enum("DataUploadFrequency"))
    offered = [v for _, v in frequency_options(rate)]
    finer = [f for f in every if f not in offered]
    if not finer:
        same = parse_duration(rate) == parse_duration(every[0])
        where = "the finest upload frequency" if same else "finer than every upload frequency"
        return (f"The model was trained at {rate}, {where} the API offers: all are offered "
                f"({every[0]} to {every[-1]}).")
    if not offered:
        return (f"The model was trained at {rate}, coarser than every upload frequency the API offers (at most "
                f"{every[-1]}): no frequency suits it.")
    listed = ", ".join(finer[:-1]) + " and " + finer[-1] if len(finer) > 1 else finer[0]
    verb = "are" if len(finer) > 1 else "is"
    return (f"The model was trained at {rate}: {listed} {verb} finer than that and not offered; the finest offered "
            f"is {offered[0]}.")


class ScheduleStep:
    """Name, frequency and delay, with a warning when a scheduler of that name exists already."""

    title = "2 Schedule"

    def __init__(self):
        self.name = text_field(
            "scheduler_name", "Scheduler name", placeholder="pump-5min",
            hint="Letters, digits, - and _, up to 200 characters.",
        )
        self.frequency = choice_field(
            "upload_frequency", "Upload frequency", frequency_options(), value="PT5M",
            hint="How often the scheduler wakes up; each run scores the data of one period.",
        )
        self.delay = int_field(
            "delay_offset_minutes", "Delay (minutes)", low=0, high=60, value=0,
            hint="Wake up this many minutes after each period ends, so late files still arrive in time.",
        )
        self.exists = widgets.HTML()
        self.exists.add_class("lnb-name-exists")
        self.existing: set[str] = set()
        self.rate_note = widgets.HTML()
        self.fields = [self.name, self.frequency, self.delay]
        self.name.observe(lambda _: self._check_exists())
        self.box = widgets.VBox(
            [
                widgets.HTML("<b>When should the scheduler run?</b>"),
                self.name.box,
                self.exists,
                self.frequency.box,
                self.rate_note,
                self.delay.box,
            ]
        )

    def set_sampling_rate(self, rate: str | None) -> None:
        """Offer only frequencies no finer than the model's sampling rate ``rate``."""
        current = self.frequency.widget.value
        options = frequency_options(rate) or frequency_options()  # none fits: offer all, the core reports it
        values = [v for _, v in options]
        if self.frequency.holding:
            # A value given to the field (unset) stays as given; the input just offers the new choices.
            with self.frequency.quiet():
                self.frequency.widget.options = options
                self.frequency.widget.value = current if current in values else values[0]
        elif current is not None and current not in values and (self.frequency.chosen or rate is None):
            # Chosen, but finer than the model allows: kept and reported inline, never silently changed.
            with self.frequency.quiet():
                self.frequency.widget.options = options
            self.frequency.value = current
        else:
            # The choice (or the default) stays when still offered; a default no longer offered moves up.
            with self.frequency.quiet():
                self.frequency.widget.options = options
                self.frequency.widget.value = current if current in values else values[0]
        self.rate_note.value = notice(rate_sentence(rate), "info") if rate else ""

    def set_existing(self, names) -> None:
        """The names of the schedulers that exist now (to warn about a name taken)."""
        self.existing = set(names)
        self._check_exists()

    def _check_exists(self) -> None:
        name = self.name.widget.value
        if name and name in self.existing:
            self.exists.value = (
                f'<div class="lnb-warning" style="color:{level_colour("warning")}">&#9888; A scheduler named '
                f"<b>{html.escape(name)}</b> exists already. Submitting the very same request again returns it; a "
                f"different request is refused (ConflictException). To manage it, use "
                f"<code>Wizard.from_scheduler({name!r})</code>.</div>"
            )
        else:
            self.exists.value = ""
