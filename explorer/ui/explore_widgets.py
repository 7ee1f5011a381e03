"""The Explore tab's own pictures (the ±3σ strip is ui/strip_view.py): the class row and the clickable
decoded manifold of a 2-d model (axes, a marker where you are; a click moves you there)."""
from __future__ import annotations


import numpy as np

from explorer.core.imaging import png_data_url
from explorer.ui import texts
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


MANIFOLD_TEMPLATE = """
<div class="le-manifold-wrap">
  <p class="le-manifold-caption" style="font-size:13px;margin:4px 0"></p>
  <div style="display:flex;align-items:stretch;gap:4px">
    <div style="writing-mode:vertical-rl;transform:rotate(180deg);font-size:12px;text-align:center">z₂ (second latent number) →</div>
    <div>
      <div class="le-manifold" style="position:relative;width:300px;height:300px;cursor:crosshair">
        <img alt="decoded manifold" style="image-rendering:pixelated;width:100%;height:100%;display:block"/>
        <div class="le-marker" style="position:absolute;width:18px;height:18px;margin:-9px 0 0 -9px;border:3px solid #e8a200;
             border-radius:50%;box-shadow:0 0 0 2px #000;pointer-events:none"></div>
      </div>
      <div class="le-ticks" style="display:flex;justify-content:space-between;font-size:11px;width:300px"></div>
      <div style="font-size:12px;text-align:center;width:300px">z₁ (first latent number) →</div>
    </div>
  </div>
</div>
"""

MANIFOLD_JS = """
const draw = () => {
  const v = props.value;
  if (!v || !v.src) return;
  element.querySelector('img').src = v.src;
  element.querySelector('.le-manifold-caption').textContent = v.caption || '';
  const m = element.querySelector('.le-marker');
  m.style.left = (100 * v.x) + '%';
  m.style.top = (100 * v.y) + '%';
  element.querySelector('.le-ticks').innerHTML =
    [-v.extent, 0, v.extent].map(t => '<span>' + Number(t).toFixed(0) + '</span>').join('');
};
draw();
watch('value', draw);
const sheet = element.querySelector('.le-manifold');
sheet.addEventListener('click', (e) => {
  const r = sheet.getBoundingClientRect();
  trigger('click', {fx: (e.clientX - r.left) / r.width, fy: (e.clientY - r.top) / r.height});
});
"""


def class_row_value(images: np.ndarray, names: list[str], current: int | None) -> dict:
    """What the "one z, every class" row draws: each class's picture and name, the current one framed.
    Names come from the checkpoint: the script shows them as text (textContent), never as HTML."""
    return {"cells": [{"src": png_data_url(im), "name": str(n)} for im, n in zip(images, names)],
            "current": current, "caption": texts.CLASS_ROW, "rendering": rendering(images.shape[1])}


CLASS_ROW_TEMPLATE = """
<div class="le-class-row-wrap">
  <p class="le-class-row-caption" style="font-size:12px;margin:2px 0"></p>
  <div class="le-class-row" style="display:flex;flex-wrap:wrap;gap:3px"></div>
</div>
"""

CLASS_ROW_JS = """
const draw = () => {
  const v = props.value;
  const row = element.querySelector('.le-class-row');
  if (!v || !v.cells) { row.replaceChildren(); return; }
  element.querySelector('.le-class-row-caption').textContent = v.caption || '';
  row.replaceChildren(...v.cells.map((c, i) => {
    const fig = document.createElement('figure');
    fig.className = 'le-cell' + (i === v.current ? ' le-current' : '');
    const wide = v.cells.length <= 9;          // nine emoji categories fit a row at 46 px; ten classes at 40
    fig.style.cssText = 'margin:0;text-align:center;cursor:pointer;width:' + (wide ? 46 : 40) + 'px';
    fig.title = 'Draw this class: ' + c.name;
    const img = document.createElement('img');
    img.src = c.src;
    img.alt = c.name;
    img.className = v.rendering || 'le-crisp';
    img.style.cssText = (wide ? 'width:40px;height:40px;' : 'width:34px;height:34px;') + 'background:#000;box-sizing:content-box;border:3px solid '
      + (i === v.current ? '#e8a200' : 'transparent');
    const cap = document.createElement('figcaption');
    // the whole name, on two lines if it must ("Ankle / boot"): a cut-off "Sneak…" says nothing
    cap.style.cssText = 'font-size:9.5px;line-height:1.1;white-space:normal;overflow-wrap:anywhere;letter-spacing:-0.2px';
    cap.textContent = c.name;
    fig.append(img, cap);
    fig.addEventListener('click', () => trigger('click', {index: i}));
    return fig;
  }));
};
draw();
watch('value', draw);
"""
