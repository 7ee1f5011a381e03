"""Undo on the Explore tab: each visitor's last pictures, as recipes, most recent last.

Every change of the Explore picture (model, seed, slider, class, direction, a map dot, a pasted
recipe…) changes its recipe; `remember` keeps it. A burst of changes (a slider drag, a seed typed
digit by digit) is one step: a change that comes within `BURST_S` of the one before replaces it,
so Undo goes back to where the drag started, not one pixel of it. `step_back` drops the current
recipe and hands back the one before, which the app then opens like a pasted recipe.

The history is plain data (a list of [recipe text, time]) kept in the visitor's Gradio state, at
most `LIMIT` entries: it belongs to one page and costs the server little.
"""
from __future__ import annotations

import json
import time

from explorer.core.validation import UserError

LIMIT = 30          # steps kept per visitor
BURST_S = 0.8       # changes closer together than this are one step


def _same(a: str, b: str) -> bool:
    try:
        return json.loads(a) == json.loads(b)
    except (TypeError, ValueError):
        return a == b


def remember(history, recipe, now: float | None = None) -> list:
    """The history with `recipe` (the picture now on show) as its newest step."""
    history = [list(h) for h in (history or [])]
    if not recipe:
        return history
    now = time.monotonic() if now is None else now
    if history and _same(history[-1][0], recipe):
        return history
    if len(history) > 1 and now - history[-1][1] < BURST_S:
        history[-1] = [recipe, now]          # the same burst: its latest value stands for it
    else:
        history.append([recipe, now])
    return history[-LIMIT:]


def step_back(history) -> tuple[str, list]:
    """(the recipe before the current one, the history without the current one). The step returned
    to is marked old, so the next change after an undo starts a new step instead of replacing it."""
    history = [list(h) for h in (history or [])]
    if len(history) < 2:
        raise UserError("Nothing to undo yet: change the picture first.")
    history.pop()
    history[-1][1] = float("-inf")
    return history[-1][0], history
