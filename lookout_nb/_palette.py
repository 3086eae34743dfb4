"""The toolkit's colours, in one place: text by level (HTML notes, findings, problems) and the pictures' marks.

>>> LEVELS["error"], level_colour("nonsense")
('#b00020', '#333')
>>> STATUS_COLORS["FAILED"]
'#d62728'
"""

from __future__ import annotations

__all__ = [
    "ALERT",
    "CODE_BACKGROUND",
    "DELAY_COLOR",
    "FILE_COLOR",
    "LATE_COLOR",
    "LEVELS",
    "MISSING_COLOR",
    "MUTED",
    "OTHER_COLOR",
    "REST_COLOR",
    "RULE",
    "SCORE_COLOR",
    "SPINNER_RING",
    "STATUS_COLORS",
    "TEXT",
    "WAKE_COLOR",
    "WINDOW_COLORS",
    "level_colour",
]

# -- text (HTML) ---------------------------------------------------------------------------------------------------
#: Text colour of a message by level: info, ok, warning, error.
LEVELS = {"info": "#0b5394", "ok": "#1b5e20", "warning": "#8a5300", "error": "#b00020"}
#: Text of no particular level.
TEXT = "#333"
#: Secondary text: hints, examples, captions.
MUTED = "#666"
#: An alert box (an error the user should read before going on).
ALERT = {"border": LEVELS["error"], "background": "#fdecea", "text": "#5f2120"}
#: Lines between table rows, the background of code, the resting ring of the spinner.
RULE, CODE_BACKGROUND, SPINNER_RING = "#ddd", "#f6f8fa", "#9ab"


def level_colour(level: str) -> str:
    """The text colour of ``level`` (info, ok, warning, error); :data:`TEXT` for any other."""
    return LEVELS.get(level, TEXT)


# -- pictures (matplotlib) -----------------------------------------------------------------------------------------
#: Colours of execution statuses (InferenceExecutionStatus); any other status is :data:`OTHER_COLOR`.
STATUS_COLORS = {"SUCCESS": "#2ca02c", "FAILED": "#d62728", "IN_PROGRESS": "#1f77b4"}
OTHER_COLOR = "#7f7f7f"
#: Data windows: adjacent windows alternate between the two shades.
WINDOW_COLORS = ("#9ecae1", "#4292c6")
DELAY_COLOR = "#bdbdbd"
WAKE_COLOR = "#08306b"
FILE_COLOR = "#525252"
LATE_COLOR = "#ff7f0e"
#: A run missing a component, and a detected anomalous event.
MISSING_COLOR = "#d62728"
#: The anomaly score line.
SCORE_COLOR = WAKE_COLOR
#: The sensors outside the top contributions ("other").
REST_COLOR = "#d9d9d9"
