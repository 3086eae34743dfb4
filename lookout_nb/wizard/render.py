"""Turning tables, code and pictures into widget values (HTML text, PNG bytes), safely from any thread.

Pictures are drawn on a bare :class:`matplotlib.figure.Figure` with the Agg canvas (no pyplot state, so worker
threads may draw) and shown in an ``ipywidgets.Image``; tables and code become HTML.

>>> "<table" in table_html(__import__("pandas").DataFrame({"a": [1]}))
True
>>> code_html("x = 1", "python").startswith("<pre")
True
"""

from __future__ import annotations

import base64
import html
import io

import pandas as pd

from .._palette import CODE_BACKGROUND, MUTED, RULE, level_colour

#: Size of every picture in the wizard, inches.
FIGSIZE = (9, 3.2)


def picture(draw, figsize=FIGSIZE) -> bytes:
    """PNG bytes of what ``draw(ax)`` draws on a fresh Axes.

    >>> picture(lambda ax: ax.plot([0, 1]))[:4]
    b'\\x89PNG'
    """
    return drawn(draw, figsize)[0]


def drawn(draw, figsize=FIGSIZE) -> tuple[bytes, object]:
    """``(png, what draw(ax) returned)``: the picture and the Axes it drew on, to read its limits.

    >>> png, ax = drawn(lambda ax: ax.plot([0, 1]) and ax)
    >>> png[:4], [float(round(x, 2)) for x in ax.get_xlim()]
    (b'\\x89PNG', [-0.05, 1.05])
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=90)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    result = draw(ax)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue(), result


#: The style of every wizard table: headers aligned as their cells, and no wrapping inside a cell (a time or a key
#: cut in two lines is hard to read); a wide table scrolls sideways in its container instead.
TABLE_STYLE = (
    "<style>.lnb-table{border-collapse:collapse;font-size:90%}.lnb-table td,.lnb-table th{padding:2px 8px;"
    f"border-bottom:1px solid {RULE};text-align:left;white-space:nowrap;vertical-align:top}}"
    ".lnb-table th{position:sticky;top:0;background:var(--jp-layout-color0,#fff)}"
    # The HTML widget's content is a flex item that would grow to the table's width (then the whole step scrolls,
    # its scrollbar far below, and the table looks cut): it may shrink, so the table's own box scrolls.
    ".widget-html-content:has(.lnb-table-box){min-width:0;max-width:100%}"
    # A shadow on the side where more of the table is hidden (the scroll-shadow idiom: covers that scroll with
    # the content hide the shadows at the ends), a sign that shows even where scrollbars are hidden or overlaid.
    ".lnb-table-box{background:"
    "linear-gradient(to right,var(--jp-layout-color0,#fff) 30%,rgba(255,255,255,0)) left/40px 100% no-repeat local,"
    "linear-gradient(to left,var(--jp-layout-color0,#fff) 30%,rgba(255,255,255,0)) right/40px 100% no-repeat local,"
    "radial-gradient(farthest-side at 0 50%,rgba(0,0,0,.3),rgba(0,0,0,0)) left/14px 100% no-repeat scroll,"
    "radial-gradient(farthest-side at 100% 50%,rgba(0,0,0,.3),rgba(0,0,0,0)) right/14px 100% no-repeat scroll}"
    # A scrollbar always drawn when the table is wider (or taller) than its box, also where scrollbars overlay.
    f".lnb-table-box{{scrollbar-width:thin;scrollbar-color:{MUTED} {RULE}}}"
    ".lnb-table-box::-webkit-scrollbar{height:10px;width:10px}"
    f".lnb-table-box::-webkit-scrollbar-thumb{{background:{MUTED};border-radius:5px}}"
    f".lnb-table-box::-webkit-scrollbar-track{{background:{RULE}}}</style>"
)


def table_html(frame: pd.DataFrame, max_rows: int = 20, empty: str = "Nothing yet.", escape: bool = True,
               max_height: str | None = None) -> str:
    """A compact HTML table of the first ``max_rows`` rows: one ``<th>`` per column, times as
    ``YYYY-MM-DD HH:MM:SS`` (UTC), cells that never wrap, in a container that scrolls sideways when wide.

    ``escape=False`` keeps HTML in the cells (for cells the caller built from escaped text). ``max_height`` (CSS,
    say ``"320px"``) bounds the table's height: a longer one scrolls inside its box, its header kept in view.

    >>> text = table_html(__import__("pandas").DataFrame({"a": [1], "b": ["x"]}))
    >>> text.count("<th>"), "white-space:nowrap" in text
    (2, True)
    """
    if frame is None or len(frame) == 0:
        return f"<i>{html.escape(empty)}</i>"
    shown = frame.head(max_rows).copy()
    for col in shown.columns:
        if isinstance(shown[col].dtype, pd.DatetimeTZDtype):
            shown[col] = shown[col].dt.strftime("%Y-%m-%d %H:%M:%S")
    shown = shown.astype(object).where(shown.notna(), "")
    more = f"<div><i>{len(frame) - max_rows} more rows not shown</i></div>" if len(frame) > max_rows else ""
    table = shown.to_html(index=False, border=0, na_rep="", classes="lnb-table", escape=escape)
    table = table.replace('<tr style="text-align: right;">', "<tr>")  # pandas' header style; ours aligns left
    tall = (f"max-height:{max_height};overflow-y:auto;" if max_height else "")
    return (f'<div class="lnb-table-box" style="overflow-x:auto;max-width:100%;{tall}">{TABLE_STYLE}{table}</div>'
            f"{more}")



def code_html(code: str, language: str = "") -> str:
    """A block of code people can select and copy."""
    return (
        f'<pre class="lnb-code lnb-code-{html.escape(language)}" style="background:{CODE_BACKGROUND};padding:8px;'
        "border-radius:4px;max-height:320px;overflow:auto;user-select:text;white-space:pre;"
        'font-family:monospace;line-height:1.35;font-size:12px">'
        f"{html.escape(code)}</pre>"
    )


def download_link(text: str, filename: str, mime: str = "text/plain") -> str:
    """An HTML link that saves ``text`` as ``filename`` in the browser (no kernel file system needed)."""
    data = base64.b64encode(text.encode()).decode()
    return (
        f'<a download="{html.escape(filename)}" href="data:{mime};base64,{data}" '
        f'title="Download {html.escape(filename)}">&#11015; {html.escape(filename)}</a>'
    )


def problem_lines(messages) -> str:
    """A field's problems, one line each under it: small, in the error colour, with a warning sign.

    >>> problem_lines(["is required"])
    '<div style="color:#b00020;font-size:90%">&#9888; is required</div>'
    """
    colour = level_colour("error")
    return "".join(f'<div style="color:{colour};font-size:90%">&#9888; {html.escape(m)}</div>' for m in messages)


def notice(text: str, level: str = "info") -> str:
    """A one-line coloured note: ``level`` is info, ok, warning or error."""
    marks = {"info": "&#8505;", "ok": "&#10003;", "warning": "&#9888;", "error": "&#10007;"}
    return (
        f'<div class="lnb-{level}" style="color:{level_colour(level)}">'
        f"{marks.get(level, '')} {html.escape(text)}</div>"
    )


def axis_caption(ax) -> str:
    """What a timeline picture shows, in words: its time axis and its "now" line (the ``gid="now"`` line), as drawn.

    >>> import pandas as pd
    >>> from lookout_nb import SchedulerRequest, plot
    >>> from lookout_nb.contract import timing
    >>> plan = timing.plan_schedule(SchedulerRequest(upload_frequency="PT5M"), start="2026-01-05 09:00", periods=3)
    >>> _, ax = drawn(lambda ax: plot.plot_schedule(plan, ax=ax, now="2026-01-05 09:07"))
    >>> axis_caption(ax)
    'Time axis 2026-01-05 08:59:00 to 2026-01-05 09:16:00 UTC; now 2026-01-05 09:07:00 UTC'
    """
    import datetime as dt

    import matplotlib.dates as mdates

    def when(x) -> pd.Timestamp:
        return pd.Timestamp(mdates.num2date(x, tz=dt.timezone.utc)).round("s")

    lo, hi = (when(x) for x in ax.get_xlim())
    text = f"Time axis {lo:%Y-%m-%d %H:%M:%S} to {hi:%Y-%m-%d %H:%M:%S} UTC"
    now = [line for line in ax.get_lines() if line.get_gid() == "now"]
    if now:
        text += f"; now {when(now[0].get_xdata()[0]):%Y-%m-%d %H:%M:%S} UTC"
    return text
