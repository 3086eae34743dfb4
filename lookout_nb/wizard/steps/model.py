"""Step 1, Model: pick a trained model; see its dataset, sampling rate, training window, evaluation and sensors.

Only models whose training succeeded are offered in the dropdown; the table above it lists every model with its
status, dataset, sampling rate, training window and the number of events its evaluation found, so a model still
training is visible but cannot be picked.

>>> step = ModelStep()
>>> step.set_models([ModelSummary("pump", "SUCCESS"), ModelSummary("fan", "IN_PROGRESS")])
>>> [value for _, value in step.field.widget.options]
[None, 'pump']
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import pandas as pd

from ..._palette import level_colour
from ..backend import ModelInfo, ModelSummary
from ..fields import LAYOUT, STYLE, Field, button_layout
from ..render import notice, table_html

PICK = "Choose a trained model"


class ModelStep:
    """The model dropdown, a Reload button, the list of models and the chosen model's details."""

    title = "1 Model"

    def __init__(self):
        dropdown = widgets.Dropdown(description="Model", options=[(PICK, None)], value=None, style=STYLE, layout=LAYOUT)
        dropdown.add_class("lnb-field-model-name")
        self.field = Field("model_name", dropdown, empty_is_none=False)
        self.reload = widgets.Button(
            description="Reload models", tooltip="List the models of the account again", icon="refresh",
            layout=button_layout(),
        )
        self.listing = widgets.HTML("<i>Loading the models&hellip;</i>")
        self.details = widgets.HTML()
        self.details.add_class("lnb-model-details")
        self.models: list[ModelSummary] = []
        self.info: ModelInfo | None = None
        self.fields = [self.field]
        self.box = widgets.VBox(
            [
                widgets.HTML("<b>Which trained model should run inference?</b>"),
                widgets.HBox([self.field.box, self.reload]),
                self.listing,
                self.details,
            ]
        )

    def set_models(self, models: list[ModelSummary]) -> None:
        """Offer the trained models (choosing the only one, when there is one); list all with status and quality."""
        self.models = list(models)
        current = self.field.widget.value
        trained = [m for m in self.models if m.trained]
        options = [(PICK, None)] + [(f"{m.name} ({m.quality or 'quality unknown'})", m.name) for m in trained]
        if current is not None and current not in [m.name for m in trained]:
            options.append((f"{current} (not trained)", current))
        self.field.widget.options = options
        if current is None and len(trained) == 1:
            current = trained[0].name  # the only model that can run inference: nothing to choose
        self.field.widget.value = current
        if not self.models:
            self.listing.value = notice("This account has no models yet: train one first.", "warning")
            return
        table = pd.DataFrame(
            {
                "Model": [html.escape(m.name) for m in self.models],
                "Status": [_status(m.status) for m in self.models],
                "Dataset": [html.escape(m.dataset or "") for m in self.models],
                "Sampling rate": [html.escape(m.sampling_rate or "") for m in self.models],
                "Training window": [_window(m.training_start, m.training_end) for m in self.models],
                "Evaluation events": ["" if m.events is None else str(m.events) for m in self.models],
                "Quality": [html.escape(m.quality or "") for m in self.models],
                "Inference": ["can run inference" if m.trained else "not trained: cannot run inference"
                              for m in self.models],
            }
        )
        self.listing.value = (
            f"<details class='lnb-models' {'open' if len(self.models) <= 8 else ''}><summary>{len(self.models)} "
            f"model(s), {len(trained)} trained</summary>{table_html(table, max_rows=100, escape=False)}</details>"
        )

    def problems(self) -> list[str]:
        """What is wrong with the choice beyond the request's own rules (a model that is not trained)."""
        name = self.field.widget.value
        if name is None or not self.models:
            return []
        found = {m.name: m for m in self.models}
        if name not in found:
            return [f"there is no model named {name!r} in this account"]
        if not found[name].trained:
            return [f"model {name!r} is {found[name].status}, not trained: only SUCCESS models can run inference"]
        return []

    def set_info(self, info: ModelInfo | None) -> None:
        """Show the chosen model's schema, sampling rate and quality."""
        self.info = info
        if info is None:
            self.details.value = ""
            return
        comps = "".join(
            f"<li><b>{html.escape(c)}</b>: {len(s)} sensor(s): {html.escape(', '.join(s))}</li>"
            for c, s in info.components.items()
        )
        self.details.value = (
            f"<div><b>{html.escape(info.name)}</b>: status {_status(info.status)}, "
            f"quality {html.escape(info.quality or 'unknown')}, sampling rate "
            f"<code>{html.escape(info.sampling_rate or 'unknown')}</code>, dataset {html.escape(info.dataset or '')}"
            f"{_evaluation(info)}{_versions(info)}"
            f"<div>{len(info.components)} component(s); the scheduler needs one input file per component and "
            f"slot:</div><ul>{comps}</ul></div>"
        )


def _window(start, end) -> str:
    """A training or evaluation window as ``2025-11-20 to 2025-12-20`` (days; minutes when not midnight)."""
    if start is None or end is None:
        return ""
    stamp = lambda t: t.strftime("%Y-%m-%d" if t == t.normalize() else "%Y-%m-%d %H:%M")  # noqa: E731
    return html.escape(f"{stamp(start)} to {stamp(end)}")


def _evaluation(info: ModelInfo) -> str:
    """The model's windows and what its evaluation found, as lines of HTML (nothing when unknown)."""
    lines = []
    if info.training[0] is not None:
        lines.append(f"trained on {_window(*info.training)} UTC")
    if info.evaluation[0] is not None:
        found = info.events
        what = "" if found is None else f": {found} event{'s' if found != 1 else ''} found"
        if info.found:
            what += f" (they cover {info.found[0]} of {info.found[1]} labelled range(s))"
        lines.append(f"evaluated on {_window(*info.evaluation)} UTC{what}")
    if info.labels:
        lines.append(f"labels from {html.escape(info.labels)}")
    if info.off_condition:
        lines.append(f"off when <code>{html.escape(info.off_condition)}</code>")
    return "".join(f"<div class='lnb-model-evaluation'>{line}</div>" for line in lines)


def _versions(info: ModelInfo) -> str:
    """The active version (inference runs with it) and the retraining schedule, as lines of HTML.

    >>> info = ModelInfo("m", "SUCCESS", active_version=2, previous_version=1, retraining="RUNNING",
    ...                  next_retraining=pd.Timestamp("2026-02-06", tz="UTC"), latest_retraining=(2, "SUCCESS"))
    >>> print(_versions(info).replace("</div>", "</div>\\n"))
    <div class='lnb-model-versions'>inference runs with version 2 (before it: version 1)</div>
    <div class='lnb-model-versions'>retraining RUNNING: next on 2026-02-06 UTC; latest: version 2, SUCCESS</div>
    <BLANKLINE>
    """
    lines = []
    if info.active_version is not None:
        since = f" since {info.activated_at:%Y-%m-%d %H:%M} UTC" if info.activated_at is not None else ""
        before = f" (before it: version {info.previous_version})" if info.previous_version is not None else ""
        lines.append(f"inference runs with version {info.active_version}{since}{before}")
    if info.retraining is not None:
        text = f"retraining {html.escape(info.retraining)}"
        if info.next_retraining is not None and info.retraining in ("PENDING", "RUNNING"):
            text += f": next on {info.next_retraining:%Y-%m-%d} UTC"
        if info.latest_retraining:
            version, status = info.latest_retraining
            text += f"; latest: version {version}, {html.escape(status or '')}"
        lines.append(text)
    elif info.active_version is not None:
        lines.append("no retraining scheduler (lnb.retrain sets one)")
    return "".join(f"<div class='lnb-model-versions'>{line}</div>" for line in lines)


def _status(status: str) -> str:
    colour = level_colour({"SUCCESS": "ok", "FAILED": "error"}.get(status, "warning"))
    return f'<span style="color:{colour}">{html.escape(status)}</span>'
