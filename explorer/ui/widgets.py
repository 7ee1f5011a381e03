"""Small HTML builders shared by the tabs (pictures as data-URL images, upscaled as `rendering` says), and the
one way text from outside (checkpoint metadata, file names, requests) is made safe to show:
`escape` for HTML, `plot_text` for plotly labels, `md_text` for Markdown, `warn`/`info` for toasts."""
from __future__ import annotations

import html
import re

import gradio as gr
import numpy as np

from explorer.core.imaging import SMOOTH_FROM, png_data_url

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$])")


def shorten(text, limit: int = 60) -> str:
    """One line of at most `limit` characters (the middle cut out), for names and titles."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    keep = limit - 1
    return text[:keep - keep // 3] + "…" + text[len(text) - keep // 3:]


def escape(text) -> str:
    """Text for HTML."""
    return html.escape(str(text), quote=True)


def plot_text(text) -> str:
    """Text for plotly's trace names and hover templates, which render some tags (<b>, <a href>):
    markup escaped with the entities plotly decodes (it reads &lt; &gt; &amp; and numeric ones,
    not &quot;), and % written so that it never starts a template variable."""
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&#34;").replace("'", "&#39;").replace("%", "&#37;"))


def md_text(text, limit: int | None = None) -> str:
    """Text for Markdown: one line, every Markdown character backslash-escaped, HTML escaped."""
    text = shorten(text, limit) if limit else " ".join(str(text).split())
    return html.escape(_MD_SPECIAL.sub(r"\\\1", text), quote=True)


def warn(text) -> None:
    """A warning toast (Gradio renders toast text as HTML: it is escaped here)."""
    gr.Warning(escape(text))


def info(text) -> None:
    gr.Info(escape(text))


def rendering(side: int) -> str:
    """The CSS class that upscales a picture `side` pixels high: from SMOOTH_FROM pixels (the 64-px colour
    models) smoothly, so it looks like a picture; below (the 28-px grey ones) crisply, since a 28-px picture
    smoothed to 300 px is only a blur. "Show the pixels" in the header makes every picture crisp (page.py)."""
    return "le-smooth" if side >= SMOOTH_FROM else "le-crisp"


def picture(image: np.ndarray, size: int = 384, caption: str = "", elem_class: str = "le-picture",
            side: int | None = None) -> str:
    """One picture `size` px wide on screen; `side`: its tiles' height when it is a grid (default: its own)."""
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return (f'<figure class="{elem_class}" style="margin:0;text-align:center">'
            f'<img class="{rendering(side or image.shape[0])}" src="{png_data_url(image)}" width="{size}" height="{size}" '
            f'alt="{html.escape(caption or "picture")}" style="width:{size}px;height:{size}px;background:#000"/>{cap}</figure>')


def strip(images: np.ndarray, captions: list[str], size: int = 84, elem_class: str = "le-strip") -> str:
    cells = "".join(picture(im, size, c, "le-cell") for im, c in zip(images, captions))
    return f'<div class="{elem_class}" style="display:flex;flex-wrap:wrap;gap:6px">{cells}</div>'


def message(text: str, kind: str = "error") -> str:
    color = {"error": "#b00020", "info": "#555"}[kind]
    return f'<div class="le-message le-{kind}" style="color:{color};padding:8px">{html.escape(text)}</div>'


def manifold(grid: np.ndarray, cell: tuple[int, int] | None, n: int, size: int = 420, caption: str = "") -> str:
    """The decoded-manifold sheet with a red box on the current cell."""
    box = ""
    if cell is not None:
        r, c = cell
        step = 100 / n
        box = (f'<div style="position:absolute;left:{c * step}%;top:{r * step}%;width:{step}%;height:{step}%;'
               f'border:2px solid #e33;box-sizing:border-box"></div>')
    cap = f'<p style="max-width:{size}px">{html.escape(caption)}</p>' if caption else ""
    return (f'{cap}<div class="le-manifold" style="position:relative;width:{size}px;height:{size}px">'
            f'<img src="{png_data_url(grid)}" style="image-rendering:pixelated;width:100%;height:100%"/>{box}</div>')
