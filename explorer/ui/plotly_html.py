"""plotly.js inside gr.HTML: served locally from the plotly package (no CDN), redrawn on each new value."""
from __future__ import annotations

from pathlib import Path

import orjson
import plotly

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
PLOTLY_HEAD = f'<script src="/gradio_api/file={PLOTLY_JS}"></script>'


def figure_value(fig: dict | None) -> str:
    """A plotly figure as the value of a gr.HTML: one JSON string (NaN and inf as null). The page
    deep-copies every value it holds that is an object, number by number, at each status change of
    every event (a 10 000-dot map was a million copies per event); a string is copied whole."""
    return orjson.dumps(fig or {}, option=orjson.OPT_SERIALIZE_NUMPY).decode()


# the page's side of `figure_value`: the figure back from its string (an object is taken as it is)
FIGURE_OF_JS = """
const figureOf = (v) => {
  if (typeof v !== 'string') return v || null;
  try { return v ? JSON.parse(v) : null; } catch (err) { return null; }
};
"""

# props.value is a {data, layout} figure (`figure_value`); Plotly.react redraws in place (keeps zoom: uirevision)
LIVE_JS = FIGURE_OF_JS + """
const draw = () => {
  const v = figureOf(props.value), div = element.querySelector('.le-live');
  if (!div || !v || !v.data) return;
  if (!window.Plotly) { setTimeout(draw, 100); return; }
  Plotly.react(div, v.data, v.layout, {displaylogo: false, responsive: true, staticPlot: false});
};
draw();
watch('value', draw);
"""
