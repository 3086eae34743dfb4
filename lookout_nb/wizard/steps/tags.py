"""A tags editor: rows of key and value, with Add tag / Remove buttons and a problem line per row.

It behaves like a :class:`~lookout_nb.wizard.fields.Field` bound to ``tags``: ``value`` is the API's list of
``{"Key": ..., "Value": ...}`` (``None`` when there is no tag), and ``show(problems)`` puts each ``Tags[i]`` problem
under row ``i``.

>>> editor = TagsEditor()
>>> editor.value = {"team": "reliability"}
>>> editor.add.click()
>>> editor.value
[{'Key': 'team', 'Value': 'reliability'}]
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import ipywidgets as widgets

from ..fields import INVALID_CLASS, LABEL_WIDTH, button_layout
from ..render import problem_lines

_INDEX = re.compile(r"^Tags\[(\d+)\]")
_NOTHING = object()


#: The key input starts where every other field's input starts: its label is as wide as theirs.
KEY_WIDTH = f"calc({LABEL_WIDTH} + 200px)"


class _Row:
    def __init__(self, key: str = "", value: str = ""):
        self.key = widgets.Text(value=key, description="Tag key", placeholder="team", continuous_update=True,
                                style={"description_width": LABEL_WIDTH},
                                layout=widgets.Layout(width=KEY_WIDTH, flex="0 0 auto"))
        self.value = widgets.Text(value=value, description="Tag value", placeholder="reliability",
                                  continuous_update=True, style={"description_width": "70px"},
                                  layout=widgets.Layout(width="300px", flex="0 0 auto"))
        self.remove = widgets.Button(description="Remove tag", icon="trash", layout=button_layout())
        self.problem = widgets.HTML(layout=widgets.Layout(margin=f"0 0 4px {LABEL_WIDTH}"))
        self.box = widgets.VBox([widgets.HBox([self.key, self.value, self.remove]), self.problem])
        self.box.add_class("lnb-tag-row")

    @property
    def empty(self) -> bool:
        return not self.key.value and not self.value.value


class TagsEditor:
    """Rows of tags; empty rows are ignored, every other row becomes one tag (problems shown per row)."""

    name = "tags"

    def __init__(self):
        self.rows: list[_Row] = []
        self.messages: list[str] = []
        self._callbacks = []
        self._held = _NOTHING
        self.add = widgets.Button(description="Add tag", tooltip="Add a row for one more tag", icon="plus",
                                  layout=button_layout())
        self.add.on_click(lambda _: self.add_row())
        self.problem = widgets.HTML()
        self._rows_box = widgets.VBox()
        # "Tags" sits where the other fields' labels sit: right-aligned in a label-wide column, the button where
        # their inputs start.
        label = widgets.HTML('<div style="text-align:right;padding-right:8px">Tags</div>',
                             layout=widgets.Layout(width=LABEL_WIDTH, flex="0 0 auto"))
        self.problem.layout.margin = f"0 0 4px {LABEL_WIDTH}"
        self.box = widgets.VBox([widgets.HBox([label, self.add]), self._rows_box, self.problem])
        self.box.add_class("lnb-tags")

    @property
    def widget(self):
        return self.box

    @property
    def holding(self) -> bool:
        """True while ``value`` is tags given to the editor as they were given (until the user edits a row)."""
        return self._held is not _NOTHING

    @property
    def value(self):
        if self._held is not _NOTHING:
            return self._held
        tags = [{"Key": r.key.value, "Value": r.value.value} for r in self.rows if not r.empty]
        return tags or None

    @value.setter
    def value(self, tags) -> None:
        """Show ``tags`` as rows. Tags the rows cannot show exactly (a string, a tag that is not a Key/Value pair
        of strings, an empty list) show no row and are kept as given until the user edits the tags, so
        ``request.problems()`` reports them. A mapping reads back as the API's list (the same tags)."""
        pairs = tag_pairs(tags)
        self._held = _NOTHING if pairs is not None and tags != [] else tags
        self.rows = [self._new_row(k, v) for k, v in pairs or []]
        self._render()
        self._changed()

    def add_row(self, key: str = "", value: str = "") -> None:
        """Add a row (empty by default)."""
        self.rows.append(self._new_row(key, value))
        self._render()
        self._edited()

    def remove_row(self, index: int) -> None:
        """Remove row ``index`` (0-based)."""
        del self.rows[index]
        self._render()
        self._edited()

    def observe(self, callback) -> None:
        """Call ``callback(None)`` whenever a tag changes, is added or is removed."""
        self._callbacks.append(callback)

    def show(self, messages, problems=()) -> None:
        """Show problems: those of ``Tags[i]`` under row ``i``, the rest under the editor."""
        self.messages = list(messages)
        per_row: dict[int, list[str]] = {}
        general = []
        filled = [i for i, r in enumerate(self.rows) if not r.empty]
        for problem in problems:
            m = _INDEX.match(problem.field)
            if m and int(m[1]) < len(filled):
                per_row.setdefault(filled[int(m[1])], []).append(f"{problem.field[m.end():].lstrip('.') or 'tag'}: "
                                                                 f"{problem.message}")
            else:
                general.append(problem.message)
        for i, row in enumerate(self.rows):
            msgs = per_row.get(i, [])
            row.problem.value = problem_lines(msgs)
            for w in (row.key, row.value):
                (w.add_class if msgs else w.remove_class)(INVALID_CLASS)
        self.problem.value = problem_lines(general)

    def _new_row(self, key: str, value: str) -> _Row:
        row = _Row(key, value)
        row.key.observe(lambda _: self._edited(), names="value")
        row.value.observe(lambda _: self._edited(), names="value")
        row.remove.on_click(lambda _, r=row: self.remove_row(self.rows.index(r)))
        return row

    def _render(self) -> None:
        for i, row in enumerate(self.rows):
            row.remove.tooltip = f"Remove tag row {i + 1}"
        self._rows_box.children = [r.box for r in self.rows]

    def _edited(self) -> None:
        self._held = _NOTHING  # the user changed the tags: the rows are the value from now on
        self._changed()

    def _changed(self) -> None:
        for callback in list(self._callbacks):
            callback(None)


def tag_pairs(tags) -> list[tuple[str, str]] | None:
    """``(key, value)`` rows that read back exactly as ``tags``; None when rows cannot show ``tags``.

    >>> tag_pairs({"team": "reliability"}), tag_pairs([{"Key": "a", "Value": "b"}]), tag_pairs("team")
    ([('team', 'reliability')], [('a', 'b')], None)
    """
    if tags is None:
        return []
    if isinstance(tags, Mapping):
        pairs = list(tags.items())
    elif isinstance(tags, list) and all(isinstance(t, Mapping) and set(t) == {"Key", "Value"} for t in tags):
        pairs = [(t["Key"], t["Value"]) for t in tags]
    else:
        return None
    if all(isinstance(k, str) and isinstance(v, str) and (k or v) for k, v in pairs):
        return pairs
    return None
