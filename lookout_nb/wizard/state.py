"""Saving and loading the wizard's state as JSON: the request in the API's spelling plus a little UI state.

The file is readable and reusable on its own: ``request`` is exactly what ``SchedulerRequest.to_json()`` writes, so
``SchedulerRequest.from_json(json.dumps(state["request"]))`` works, and a bare request JSON loads as a state too.

>>> from lookout_nb.contract.request import SchedulerRequest
>>> text = dump_state(SchedulerRequest(model_name="pump"), {"step": 2, "time_zone": "Europe/Paris"})
>>> request, ui = load_state(text)
>>> request.model_name, ui["step"]
('pump', 2)
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from ..contract.request import SchedulerRequest

#: Bumped when the layout of the state changes.
VERSION = 1
KIND = "lookout_nb.wizard"


def dump_state(request: SchedulerRequest, ui: Mapping | None = None, indent: int = 2) -> str:
    """The JSON text of a wizard state."""
    return json.dumps(
        {"kind": KIND, "version": VERSION, "request": json.loads(request.to_json()), "ui": dict(ui or {})},
        indent=indent,
    )


def load_state(text: str) -> tuple[SchedulerRequest, dict]:
    """``(request, ui)`` from :func:`dump_state`'s text, or from a bare request JSON (``ui`` is then empty).

    Raises ValueError when the text is not JSON or not an object.
    """
    data = json.loads(text)
    if not isinstance(data, Mapping):
        raise ValueError("a wizard state must be a JSON object")
    if data.get("kind") == KIND:
        if data.get("version", VERSION) > VERSION:
            raise ValueError(f"this state was written by a newer lookout_nb (version {data['version']})")
        return SchedulerRequest.from_json(json.dumps(data.get("request") or {})), dict(data.get("ui") or {})
    return SchedulerRequest.from_json(text), {}
