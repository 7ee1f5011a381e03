"""The Explore tab's own pictures (the ±3σ strip is ui/strip_view.py): the class row and the clickable
decoded manifold of a 2-d model (axes, a marker where you are; a click moves you there)."""
from __future__ import annotations


import numpy as np

from explorer.core.imaging import png_data_url
from explorer.ui import assets, texts
from explorer.ui.widgets import rendering

MANIFOLD_N, MANIFOLD_EXTENT = 15, 3.0


def _fraction(v: float) -> float:
    """Where latent value v sits across the sheet (tile i's centre is value ticks[i])."""
    i = (v + MANIFOLD_EXTENT) / (2 * MANIFOLD_EXTENT) * (MANIFOLD_N - 1)
    return float(np.clip((i + 0.5) / MANIFOLD_N, 0, 1))


def manifold_value(grid: np.ndarray, z) -> dict:
    """What the manifold widget draws: the sheet, the marker position (fractions), the axis ticks."""
    return {"src": png_data_url(grid), "x": _fraction(float(z[0])), "y": 1 - _fraction(float(z[1])),
            "caption": texts.MANIFOLD, "extent": MANIFOLD_EXTENT}


MANIFOLD_TEMPLATE, MANIFOLD_JS = assets.html("manifold.html"), assets.js("manifold.js")


def class_row_value(images: np.ndarray, names: list[str], current: int | None) -> dict:
    """What the "one z, every class" row draws: each class's picture and name, the current one framed.
    Names come from the checkpoint: the script shows them as text (textContent), never as HTML."""
    return {"cells": [{"src": png_data_url(im), "name": str(n)} for im, n in zip(images, names)],
            "current": current, "caption": texts.CLASS_ROW, "rendering": rendering(images.shape[1])}


def style_row_value(images: np.ndarray, seeds, caption: str) -> dict:
    """A style-based model's mixing row, drawn by the class row's script: each mix under its seed, clickable."""
    return {"cells": [{"src": png_data_url(im), "name": f"seed {s}", "title": f"Continue from this mix (seed {s})"}
                      for im, s in zip(images, seeds)], "current": None, "caption": caption,
            "rendering": rendering(images.shape[1])}


CLASS_ROW_TEMPLATE, CLASS_ROW_JS = assets.html("class_row.html"), assets.js("class_row.js")
