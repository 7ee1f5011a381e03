"""plotly.js inside gr.HTML: served locally from the plotly package (no CDN), redrawn on each new value."""
from __future__ import annotations

from pathlib import Path

import orjson
import plotly

from explorer.ui import assets

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
PLOTLY_HEAD = f'<script src="/gradio_api/file={PLOTLY_JS}"></script>'


def figure_value(fig: dict | None) -> str:
    """A plotly figure as the value of a gr.HTML: one JSON string (NaN and inf as null). The page
    deep-copies every value it holds that is an object, number by number, at each status change of
    every event (a 10 000-dot map was a million copies per event); a string is copied whole."""
    return orjson.dumps(fig or {}, option=orjson.OPT_SERIALIZE_NUMPY).decode()


# a live figure's script: the figure back from its string (`figure_value`), then drawn
LIVE_JS = assets.js("figure_of.js", "live_plot.js")


def live_template(height: int) -> str:
    """The frame a live figure is drawn in, `height` px high."""
    return assets.html("live_plot.html", height=str(int(height)))
