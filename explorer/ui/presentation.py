"""Presentation mode and the page's keyboard shortcuts for a presenter.

One key (P) or the header's "Present" button turns the open tab into a projector view: the picture
as large as the screen allows (upscaled smoothly; "Pixels" shows the model's own pixels), only the
few controls that matter beside it, and text large enough for the back row. Esc (or the button
again) leaves it; the choice survives a reload (the browser's local storage).

Keys, never while typing in a box and never with Ctrl/Alt held (except Ctrl+Z):
  P        presentation mode on/off          Esc     leave presentation mode
  ← →      previous / next seed (Explore; while the tour panel is open they walk the tour instead)
  1 … 9    open the first … ninth tab         Ctrl+Z  undo the last change on the Explore tab
  space    play/pause (Train: explorer/ui/page.py)

The mode's CSS and script are static/presentation.css and static/presentation.js: fixed text, no string
from outside reaches the page through them.
"""
from __future__ import annotations

import gradio as gr

PRESENT_BUTTON_ID = "present-toggle"
TOGGLE_JS = "() => { if (window.leTogglePresent) window.leTogglePresent(); }"


def present_button() -> gr.Button:
    """The header's "Present" button (its click runs in the browser only)."""
    button = gr.Button("Present (P)", elem_id=PRESENT_BUTTON_ID, scale=0, min_width=130)
    button.click(fn=None, js=TOGGLE_JS)
    return button

