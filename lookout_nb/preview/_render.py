"""How a preview shows in a notebook: a summary, the naming used and detected, findings by level in colour, and
the head of each sample.

>>> from lookout_nb.preview import InputPreview
>>> render_html(InputPreview("my-input", "in/")).startswith("<div><b>Input preview</b> <code>s3://my-input/in/</code>")
True
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from .._palette import level_colour
from ..contract.s3keys import s3_uri
from ._text import pattern, quote

if TYPE_CHECKING:
    from ._result import InputPreview

def render_html(pv: InputPreview) -> str:
    """Summary, detected naming, findings by level in colour, and the head of each sample."""
    esc = html.escape
    matched = int(pv.keys["matches"].sum()) if len(pv.keys) else 0
    parts = [(f"<div><b>Input preview</b> <code>{esc(s3_uri(pv.bucket, pv.prefix))}</code>: "
              f"{len(pv.keys):,} keys{' (listing stopped early)' if pv.listing_truncated else ''}, {matched:,} "
              f"follow the naming; ListObjectsV2 calls: {pv.list_calls}, bytes sampled: {pv.bytes_read:,}. "
              f"<b style='color:{level_colour('error' if pv.errors else 'ok')}'>"
              f"{'will fail' if pv.errors else 'no errors found'}</b></div>")]
    if pv.naming is not None:
        parts.append(f"<div>Naming: <code>{esc(pattern(pv.naming.fmt, pv.naming.delim))}</code>, "
                     f"offset <code>{esc(pv.naming.timezone_offset or '')}</code></div>")
    if pv.detected is not None:
        d = pv.detected
        parts.append(f"<div>Detected: <code>{esc(pattern(d.timestamp_format, d.delimiter))}</code> "
                     f"({d.share:.0%} of the keys; components {esc(quote(d.components))})</div>")
    summary = pv.component_summary()
    if len(summary):
        parts.append(f"<div>Files by component (times of their names, in UTC):{summary.to_html(index=False)}</div>")
    for level, items in pv.by_level().items():
        if items:
            rows = "".join(f"<li><code>{esc(f.code)}</code>: {esc(f.message)}</li>" for f in items)
            parts.append(f"<div style='color:{level_colour(level)}'><b>{level} ({len(items)})</b><ul>{rows}</ul></div>")
    for component, table in pv.samples.items():
        parts.append(f"<details><summary>sample of <code>{esc(str(component))}</code> "
                     f"(<code>{esc(pv.sampled_keys.get(component, ''))}</code>, {len(table)} rows; times in UTC)"
                     "</summary>"
                     f"{table.head(5).to_html(index=False)}</details>")
    return "".join(parts)
