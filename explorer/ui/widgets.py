"""Small HTML builders shared by the tabs (pictures as crisp, pixelated data-URL images)."""
from __future__ import annotations

import html

import numpy as np

from explorer.core.imaging import png_data_url


def picture(image: np.ndarray, size: int = 384, caption: str = "", elem_class: str = "le-picture") -> str:
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return (f'<figure class="{elem_class}" style="margin:0;text-align:center">'
            f'<img src="{png_data_url(image)}" width="{size}" height="{size}" alt="{html.escape(caption or "picture")}" '
            f'style="image-rendering:pixelated;width:{size}px;height:{size}px;background:#000"/>{cap}</figure>')


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
