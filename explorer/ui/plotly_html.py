"""plotly.js inside gr.HTML: served locally from the plotly package (no CDN), redrawn on each new value."""
from __future__ import annotations

from pathlib import Path

import plotly

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
PLOTLY_HEAD = f'<script src="/gradio_api/file={PLOTLY_JS}"></script>'

# props.value is a {data, layout} figure as plain JSON; Plotly.react redraws in place (keeps zoom: uirevision)
LIVE_JS = """
const draw = () => {
  const v = props.value, div = element.querySelector('.le-live');
  if (!div || !v || !v.data) return;
  if (!window.Plotly) { setTimeout(draw, 100); return; }
  Plotly.react(div, v.data, v.layout, {displaylogo: false, responsive: true, staticPlot: false});
};
draw();
watch('value', draw);
"""
