"""Form fields bound to a :class:`~lookout_nb.contract.request.SchedulerRequest` field, each with an inline problem
line.

A field is a labelled input widget (text, dropdown, slider) plus an HTML line underneath that shows what
``SchedulerRequest.problems()`` says about that field. The wizard validates the whole request once per change and
hands every field its own problems with :func:`problems_by_field`.

>>> f = text_field("scheduler_name", "Scheduler name", placeholder="pump-5min")
>>> f.value = "pump 5min"
>>> f.show(["'pump 5min' is not allowed"])
>>> "not allowed" in f.problem.value
True
"""

from __future__ import annotations

from contextlib import contextmanager

import ipywidgets as widgets
from traitlets import TraitError

from .._palette import MUTED
from ..contract.request import FIELDS
from ..contract.request import field_for_path as request_field_for_path
from ..errors import Problem
from .render import problem_lines

#: Width of every field's label, so the inputs line up.
LABEL_WIDTH = "190px"
STYLE = {"description_width": LABEL_WIDTH}
LAYOUT = widgets.Layout(width="640px")
INVALID_CLASS = "lnb-invalid"
_NOTHING = object()


def button_layout(**more) -> widgets.Layout:
    """The layout of every wizard button: as wide as its description, never shrunk by a long neighbour in a row
    (a shrunk button shows "Use detected na...").

    >>> button_layout().flex
    '0 0 auto'
    """
    return widgets.Layout(width="auto", flex="0 0 auto", **more)


class Field:
    """A labelled input bound to the request field ``name`` (a key of ``request.FIELDS``).

    Empty text reads as ``None`` (unset) unless ``empty_is_none=False``, so required fields report "is required".
    """

    def __init__(self, name: str, widget: widgets.ValueWidget, *, empty_is_none: bool = True, hint: str = ""):
        if name not in FIELDS:
            raise KeyError(f"{name!r} is not a SchedulerRequest field")
        self.name = name
        self.widget = widget
        self.empty_is_none = empty_is_none
        self.problem = widgets.HTML(layout=widgets.Layout(margin=f"0 0 4px {LABEL_WIDTH}"))
        self.problem.add_class("lnb-problem")
        self.hint = widgets.HTML(
            f'<span style="color:{MUTED};font-size:90%">{hint}</span>' if hint else "",
            layout=widgets.Layout(margin=f"0 0 0 {LABEL_WIDTH}"),
        )
        self.messages: list[str] = []
        #: What the input shows while it holds a value it cannot show (see ``value``).
        self.default = widget.value
        # A value the input cannot hold exactly (None on a slider, 90 on a 0-60 slider, 7 on a text), kept as
        # given and reported by ``value`` until the user changes the input; ``_NOTHING`` when the input holds it.
        self._held = _NOTHING
        self._quiet = 0
        #: True once a value was chosen (by the user, or given from a request): only defaults may be replaced.
        self.chosen = False
        widget.observe(self._touched, names="value")
        self.box = widgets.VBox([widget, self.problem] + ([self.hint] if hint else []))

    def _touched(self, _change) -> None:
        if not self._quiet:
            self._held = _NOTHING
            self.chosen = True

    @property
    def holding(self) -> bool:
        """True while ``value`` is a value given to the field that its input cannot show (until the user edits)."""
        return self._held is not _NOTHING

    @contextmanager
    def quiet(self):
        """Change the input from code without dropping a held value (options narrowed, a default shown)."""
        self._quiet += 1
        try:
            yield
        finally:
            self._quiet -= 1

    def fits(self, value) -> bool:
        """Whether the input can show ``value`` exactly, so that ``value`` reads it back unchanged.

        >>> f = int_field("delay_offset_minutes", "Delay", low=0, high=60)
        >>> f.fits(30), f.fits(90), f.fits("5"), f.fits(True), f.fits(None)
        (True, False, False, False, False)
        """
        widget = self.widget
        if isinstance(widget, (widgets.Dropdown, widgets.ToggleButtons)):
            # A value the choices do not offer is added as "(not offered)", so any value but an absent None fits.
            return value is not None or None in [v for _, v in _pairs(widget.options)]
        if isinstance(widget, (widgets.IntSlider, widgets.BoundedIntText)):
            return type(value) is int and widget.min <= value <= widget.max
        if isinstance(widget, widgets.Text):
            if value is None:
                return self.empty_is_none
            return isinstance(value, str) and not (value == "" and self.empty_is_none)
        return False

    @property
    def path(self) -> str:
        """The field's API path, e.g. ``DataInputConfiguration.S3InputConfiguration.Prefix``."""
        return ".".join(FIELDS[self.name])

    @property
    def value(self):
        """The value the request gets: a held value as given, else the input's (``None`` for empty text)."""
        if self._held is not _NOTHING:
            return self._held
        value = self.widget.value
        if self.empty_is_none and value == "":
            return None
        return value

    @value.setter
    def value(self, value) -> None:
        """Show ``value``; one the input cannot show exactly (``None`` on a slider, 90 on a 0-60 slider, 7 on a
        text, "" on a text that reads empty as unset) is kept as given and read back unchanged until the user
        changes the input, while the input shows its default; ``request.problems()`` then reports it here."""
        self.chosen = True
        if not self.fits(value):
            with self.quiet():
                try:
                    self.widget.value = self.default
                except TraitError:  # the default is no longer offered: leave what the input shows
                    pass
            self._held = value
            return
        if isinstance(self.widget, (widgets.Dropdown, widgets.ToggleButtons)):
            values = [v for _, v in _pairs(self.widget.options)]
            if value not in values:
                # A pre-filled value the choices do not offer stays visible, so its problem can be shown.
                self.widget.options = list(_pairs(self.widget.options)) + [(f"{value} (not offered)", value)]
            self.widget.value = value
        else:
            self.widget.value = "" if value is None else value
        self._held = _NOTHING

    def show(self, messages, problems=()) -> None:
        """Show ``messages`` (strings) under the input; an empty list clears the line.

        ``problems`` are the :class:`~lookout_nb.errors.Problem` objects behind the messages (unused here; the
        tags editor places them per row).
        """
        self.messages = list(messages)
        if self.messages:
            self.problem.value = problem_lines(self.messages)
            self.widget.add_class(INVALID_CLASS)
        else:
            self.problem.value = ""
            self.widget.remove_class(INVALID_CLASS)

    def observe(self, callback) -> None:
        """Call ``callback(change)`` whenever the input's value changes."""
        self.widget.observe(callback, names="value")


def text_field(name: str, label: str, *, placeholder: str = "", hint: str = "", empty_is_none: bool = True) -> Field:
    """A text input that validates as you type (``continuous_update``).

    >>> text_field("input_bucket", "Input bucket").widget.description
    'Input bucket'
    """
    widget = widgets.Text(
        description=label, placeholder=placeholder, continuous_update=True, style=STYLE, layout=LAYOUT,
        description_allow_html=False,
    )
    widget.add_class(f"lnb-field-{name.replace('_', '-')}")
    return Field(name, widget, hint=hint, empty_is_none=empty_is_none)


def choice_field(name: str, label: str, options, *, value=None, hint: str = "") -> Field:
    """A dropdown of ``options`` (values, or ``(label, value)`` pairs).

    >>> choice_field("timestamp_format", "Timestamp format", ["EPOCH", "yyyyMMddHHmmss"]).value
    'EPOCH'
    """
    pairs = list(_pairs(options))
    widget = widgets.Dropdown(
        description=label, options=pairs, value=value if value is not None else (pairs[0][1] if pairs else None),
        style=STYLE, layout=LAYOUT,
    )
    widget.add_class(f"lnb-field-{name.replace('_', '-')}")
    return Field(name, widget, empty_is_none=False, hint=hint)


def int_field(name: str, label: str, *, low: int, high: int, value: int = 0, hint: str = "") -> Field:
    """A slider of whole numbers from ``low`` to ``high``.

    >>> int_field("delay_offset_minutes", "Delay (minutes)", low=0, high=60).value
    0
    """
    widget = widgets.IntSlider(
        description=label, min=low, max=high, value=value, continuous_update=True, style=STYLE, layout=LAYOUT,
    )
    widget.add_class(f"lnb-field-{name.replace('_', '-')}")
    return Field(name, widget, empty_is_none=False, hint=hint)


def _pairs(options):
    for option in options:
        if isinstance(option, tuple):
            yield option
        else:
            yield (str(option), option)


def field_for_path(path: str, names=None) -> str | None:
    """The Python field that shows a problem at API ``path``.

    A problem inside a field (``Tags[2].Key``) belongs to it; a problem at a parent (``DataInputConfiguration``,
    "is required") goes to its first field among ``names``.

    >>> field_for_path("Tags[2].Key"), field_for_path("DataInputConfiguration")
    ('tags', 'input_bucket')
    """
    names = list(FIELDS) if names is None else list(names)
    name = request_field_for_path(path)
    if name and name in names:
        return name
    for name in names:
        if ".".join(FIELDS[name]).startswith(path + "."):
            return name
    return None


def problems_by_field(problems: list[Problem], names=None) -> dict[str, list[Problem]]:
    """Group problems by the field that shows them; those no field can show go under ``""``.

    >>> from lookout_nb.contract.request import SchedulerRequest
    >>> sorted(problems_by_field(SchedulerRequest().problems()))[:3]
    ['input_bucket', 'model_name', 'output_bucket']
    """
    grouped: dict[str, list[Problem]] = {}
    for problem in problems:
        grouped.setdefault(field_for_path(problem.field, names) or "", []).append(problem)
    return grouped
