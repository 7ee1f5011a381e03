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


STRIP_TEMPLATE = """
<div class="le-strip-wrap">
  <div class="le-strip-hint" style="font-size:11px;color:var(--body-text-color-subdued)">Click a picture to go there.</div>
  <div class="le-strip" style="display:flex;flex-wrap:wrap;gap:3px"></div>
  <div class="le-strip-message"></div>
  <p class="le-where" id="explore-strip-note" style="display:none"></p>
</div>
"""

# props.value: the cells (a dict), or an error panel (a string of HTML the server made and escaped)
STRIP_JS = """
const draw = () => {
  const v = props.value;
  const row = element.querySelector('.le-strip'), msg = element.querySelector('.le-strip-message');
  if (typeof v === 'string') { row.replaceChildren(); msg.innerHTML = v; return; }
  msg.replaceChildren();
  const note = element.querySelector('.le-where');
  note.textContent = (v && v.note) || '';
  note.style.display = note.textContent ? '' : 'none';
  if (!v || !v.cells) { row.replaceChildren(); return; }
  row.replaceChildren(...v.cells.map((c, i) => {
    const here = i === v.current;
    const fig = document.createElement('figure');
    fig.className = 'le-cell' + (here ? ' le-current' : '');
    fig.dataset.sigma = String(c.sigma);
    fig.style.cssText = 'margin:0;text-align:center;' + (here ? '' : 'cursor:pointer');
    fig.title = here ? 'You are here' : 'Go here (' + c.caption + ')';
    const img = document.createElement('img');
    img.src = c.src;
    img.alt = c.caption;
    img.className = v.rendering || 'le-crisp';
    img.style.cssText = 'width:56px;height:56px;background:#000;box-sizing:content-box;border:3px solid '
      + (here ? '#e8a200' : 'transparent');
    const cap = document.createElement('figcaption');
    cap.style.cssText = 'font-size:11px';
    cap.textContent = c.caption;
    fig.append(img, cap);
    if (!here) {
      fig.tabIndex = 0;
      fig.setAttribute('role', 'button');
      const go = () => trigger('click', {sigma: c.sigma});
      fig.addEventListener('click', go);
      fig.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); go(); } });
    }
    return fig;
  }));
};
draw();
watch('value', draw);
"""
