"""Building blocks of a self-contained HTML report page.

A page carries everything inline: its styles, Leaflet (vendored in ``static/``, BSD-2-Clause), the page script, the map data as JSON and the charts as
base64 PNG. It therefore opens from an e-mail attachment with no network access. Every
value placed in the page is HTML-escaped here.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import numpy as np
import pandas as pd

LEAFLET_VERSION = "1.9.4"


def esc(value: Any) -> str:
    """HTML-escape any value's text.

    >>> esc('<b>"A & B"</b>')
    '&lt;b&gt;&quot;A &amp; B&quot;&lt;/b&gt;'
    """
    return html.escape("" if value is None else str(value), quote=True)


@cache
def static_text(name: str) -> str:
    """Text of a file in ``optimizer/report/static``."""
    return (files("optimizer.report") / "static" / name).read_text(encoding="utf-8")


def data_uri(data: bytes, mime: str = "image/png") -> str:
    """``data:`` URI of some bytes."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


@cache
def leaflet_css() -> str:
    """Leaflet's stylesheet without its three image references.

    They style the collapsed layer switch and the default pin marker, neither of which a
    report uses (its layer switch is always expanded and units are circle markers), and
    a relative ``url(images/...)`` would point outside the single file.
    """
    return re.sub(r"url\(images/[\w.-]+\)", "none", static_text("leaflet.css"))


def _inline_script(code: str) -> str:
    return "<script>\n" + code.replace("</script", "<\\/script") + "\n</script>"


def page(title: str, subtitle: str, sections: Sequence[tuple[str, str, str]], *, map_json: str | None = None, footer: str = "") -> str:
    """A complete HTML document.

    ``sections`` are ``(anchor, heading, inner_html)`` (the section's id is ``sec-<anchor>``); ``map_json`` (already
    script-safe JSON, see :func:`optimizer.report.mapdata.script_json`) adds Leaflet and
    the map data.
    """
    nav = " ".join(f'<a href="#sec-{esc(a)}">{esc(h)}</a>' for a, h, _ in sections)
    body = "\n".join(f'<section id="sec-{esc(a)}">\n<h2>{esc(h)}</h2>\n{inner}\n</section>' for a, h, inner in sections)
    head_extra = ""
    scripts = ""
    if map_json is not None:
        head_extra = f"<style>\n{leaflet_css()}\n</style>"
        scripts = _inline_script(static_text("leaflet.js")) + f'\n<script type="application/json" id="map-data">{map_json}</script>'
    scripts += "\n" + _inline_script(static_text("report.js"))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
{head_extra}
<style>
{static_text("report.css")}
</style>
</head>
<body>
<header class="top"><h1>{esc(title)}</h1><p>{esc(subtitle)}</p></header>
<nav class="toc">{nav}</nav>
<main>
{body}
<footer>{footer}</footer>
</main>
{scripts}
</body>
</html>
"""


# -- values ---------------------------------------------------------------------------

KINDS = ("text", "int", "money", "share", "float", "score", "bool", "delta_share")


def _finite(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def fmt(value: Any, kind: str = "text") -> str:
    """Display text of a value of a given kind (see :data:`KINDS`); missing values are "–".

    >>> fmt(0.8123, "share"), fmt(1234567.4, "money"), fmt(0.71234, "score"), fmt(None, "int")
    ('81.2%', '1,234,567', '0.712', '–')
    >>> fmt(0.05, "delta_share"), fmt(64981.2, "float"), fmt(0.348062, "float")
    ('+5.0 pts', '64,981', '0.3481')
    """
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if kind == "text":
        return str(value)
    if kind == "bool":
        if isinstance(value, bool | np.bool_):
            return "yes" if value else "no"
        return str(value)
    f = _finite(value)
    if f is None:
        return "–" if kind != "text" else str(value)
    if kind == "int":
        return f"{round(f):,}"
    if kind == "money":
        return f"{f:,.0f}"
    if kind == "share":
        return f"{100 * f:.1f}%"
    if kind == "delta_share":
        return f"{100 * f:+.1f} pts"
    if kind == "score":
        return f"{f:.3f}"
    return f"{f:.4g}" if abs(f) < 1e4 else f"{f:,.0f}"


@dataclass(frozen=True)
class Column:
    """One table column: the frame's column (or ``None`` for the index), a header, a kind."""

    key: str | None
    label: str
    kind: str = "text"


def table(df: pd.DataFrame, columns: Sequence[Column], *, table_id: str, classes: Mapping[str, Any] | None = None) -> str:
    """An HTML table of ``df``; numeric cells carry ``data-v`` so the page can sort them.

    ``classes`` maps a column key to a function ``value -> css class`` (e.g. to flag an
    unmet floor).
    """
    classes = classes or {}
    present = [c for c in columns if c.key is None or c.key in df.columns]
    head = "".join(f'<th class="{"text" if c.kind in ("text", "bool") else "num"}">{esc(c.label)}</th>' for c in present)
    rows = []
    index = df.index
    values = {c.key: (index if c.key is None else df[c.key]).tolist() for c in present}
    for k in range(len(df)):
        cells = []
        for c in present:
            v = values[c.key][k]
            css = ["text"] if c.kind in ("text", "bool") else []
            if c.key == "reason":
                css.append("reason")
            if c.key in classes:
                extra = classes[c.key](v)
                if extra:
                    css.append(extra)
            f = _finite(v) if c.kind not in ("text", "bool") else None
            data_v = f' data-v="{f!r}"' if f is not None else ""
            cls = f' class="{" ".join(css)}"' if css else ""
            cells.append(f"<td{cls}{data_v}>{esc(fmt(v, c.kind))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="data" id="{esc(table_id)}"><thead><tr>{head}</tr></thead><tbody>\n' + "\n".join(rows) + "\n</tbody></table>"


def cards(items: Iterable[tuple[str, str, str, bool]]) -> str:
    """Key-figure cards from ``(label, value, sub, warn)``."""
    out = []
    for label, value, sub, warn in items:
        out.append(
            f'<div class="card{" warn" if warn else ""}"><div class="label">{esc(label)}</div>'
            f'<div class="value">{esc(value)}</div><div class="sub">{esc(sub)}</div></div>'
        )
    return '<div class="cards" id="key-figures">' + "".join(out) + "</div>"


def kv(items: Mapping[str, Any]) -> str:
    """A definition list of already-formatted values."""
    body = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in items.items())
    return f'<dl class="kv">{body}</dl>'


def figure(name: str, png: bytes, caption: str) -> str:
    """A chart embedded as a base64 PNG, with the PNG file's name in the caption."""
    return (
        f'<figure id="fig-{esc(name)}"><img alt="{esc(caption)}" src="{data_uri(png)}">'
        f"<figcaption>{esc(caption)} (also saved as <code>{esc(name)}.png</code>)</figcaption></figure>"
    )
