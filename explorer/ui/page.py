"""The page's look and its small scripts: the theme, and which tooltip goes on which control; the CSS and the
scripts themselves are files in static/ (assets.py reads them).

Built for a 1280×720 projector: a one-row header, and on every tab the picture (or plot) in a
sticky column beside the controls that change it, so the effect of a control is always in view.
"""
from __future__ import annotations

import gradio as gr

from explorer.ui import assets, texts

# elem_id -> tooltip key: every control gets a hover tooltip (buttons have no `info` line in Gradio)
TOOLTIP_IDS = {
    "model-picker": "model", "model-upload": "upload", "show-pixels": "show_pixels", "explore-seed": "seed", "explore-surprise": "surprise",
    "explore-temperature": "temperature", "explore-direction": "direction", "explore-amount": "amount",
    "explore-undo": "undo", "present-toggle": "present",
    "explore-reset": "reset", "explore-class": "class", "interp-class-a": "class", "interp-class-b": "class",
    "explore-recipe": "recipe", "explore-apply-recipe": "recipe", "explore-raw": "raw",
    "explore-apply-raw": "raw", "explore-strip-dir": "strip", "explore-share-link": "share", "interp-frames": "frames",
    "interp-src-a": "endpoint", "interp-src-b": "endpoint", "interp-val-a": "endpoint_value",
    "interp-val-b": "endpoint_value", "interp-run": "interpolate", "map-to-explore": "to_explore",
    "map-as-start": "as_endpoint", "map-as-end": "as_endpoint", "train-pace": "pace", "train-toy-data": "toy_dataset",
    **{f"explore-slider-{i}": "slider" for i in range(10)},
}


def theme() -> gr.themes.Base:
    """One button size and style everywhere, compact spacing, a calm palette that survives a projector."""
    return gr.themes.Soft(primary_hue="blue", secondary_hue="amber", neutral_hue="slate", spacing_size="sm",
                          radius_size="sm", text_size="md").set(button_large_padding="6px 14px",
                                                                 button_small_padding="4px 10px")


def css() -> str:
    """The page's style sheet (static/page.css, static/presentation.css)."""
    return assets.css()


def page_js() -> str:
    """Runs once at page load: tooltips on every control, presentation mode, the fast picture, the keys
    typed values and the training owner's leaving (static/presentation.js, fast_picture.js, typed_values.js,
    train_owner.js, page.js)."""
    return assets.page_js({eid: texts.TIPS[key] for eid, key in TOOLTIP_IDS.items()})
