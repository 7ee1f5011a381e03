"""The Explore tab's ±3σ strip, clickable: each picture is a place along one principal direction, and a
click on it moves you there (that direction's slider takes the picture's value and the picture redraws).

`strip_value` is what the widget draws (plain data: picture, caption, position in σ); the script
builds the cells with textContent, and a click sends back the position, which `slider_move`
checks before it becomes a slider value.
"""
from __future__ import annotations

import math

import numpy as np

from explorer.core.imaging import png_data_url
from explorer.core.validation import UserError
from explorer.ui import assets
from explorer.ui.widgets import rendering


def strip_value(images: np.ndarray, sigmas: list[float], here: int, note: str = "") -> dict:
    """The strip's cells (the current picture framed and captioned "you"), and a note in plain text (shown
    as text, never markup) when what moved the picture is not the slider (a named direction)."""
    cells = [{"src": png_data_url(im), "sigma": round(float(s), 4),
              "caption": f"{s:+.1f}σ · you" if i == here else f"{s:+g}σ"} for i, (im, s) in enumerate(zip(images, sigmas))]
    return {"cells": cells, "current": here, "note": note, "rendering": rendering(images.shape[1])}


def slider_move(index: int, value, count: int, limit: float) -> list:
    """A click on the strip: the value for slider `index` of `count` (None for the others: unchanged),
    refused when it is not a number within ±`limit`."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise UserError("Click a picture of the strip to go there.") from None
    if not math.isfinite(v) or abs(v) > limit + 1e-9:
        raise UserError(f"A strip position must be between {-limit:g} and {limit:g}, got {value!r}.")
    if not 0 <= index < count:
        raise UserError(f"Direction {index + 1} has no slider.")
    return [round(v, 3) if i == index else None for i in range(count)]


STRIP_TEMPLATE, STRIP_JS = assets.html("strip.html"), assets.js("strip.js")
