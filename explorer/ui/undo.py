"""Undo on the Explore tab: each visitor's last pictures, as recipes, most recent last.

Every change of the Explore picture (model, seed, slider, class, direction, a map dot, a pasted
recipe…) changes its recipe; `remember` keeps it. A burst of changes (a slider drag, a seed typed
digit by digit) is one step: a change that comes within `BURST_S` of the one before replaces it,
so Undo goes back to where the drag started, not one pixel of it. `step_back` drops the current
recipe and hands back the one before, which the app then opens like a pasted recipe.

The history lives in the visitor's Gradio state on the server, and the page's event that feeds it
can be sent anything, so it keeps only checked recipes: a text over `MAX_RECIPE_BYTES` is refused
before it is read, any other is parsed and checked for its model (`check`) and kept in its short
canonical form, and a visitor's steps hold at most `LIMIT` entries and `HISTORY_BYTES` of text
(the oldest go first). A refused text raises a UserError and leaves the history as it was.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from explorer.core.validation import UserError

LIMIT = 30                       # steps kept per visitor
BURST_S = 0.8                    # changes closer together than this are one step
# The largest checked recipe (a 1024-number base latent, 10 slider names) is about 20 kB of text.
MAX_RECIPE_BYTES = 32 * 1024
HISTORY_BYTES = 256 * 1024       # per visitor: 256 sessions hold 64 MB at most


class RecipeTooLarge(UserError):
    """A text larger than any recipe: refused before it is read."""


def checked_text(recipe, check: Callable) -> str:
    """`recipe` (text) checked by `check` (text -> a Recipe) and written back in its canonical form."""
    if not isinstance(recipe, str):
        raise UserError(f"A recipe is text, got {type(recipe).__name__}; it was not kept for Undo.")
    size = len(recipe) if len(recipe) > MAX_RECIPE_BYTES else len(recipe.encode("utf-8", "replace"))
    if size > MAX_RECIPE_BYTES:
        raise RecipeTooLarge(f"The recipe is {size / 1024:.0f} kB; Undo keeps recipes of at most "
                             f"{MAX_RECIPE_BYTES // 1024} kB, so it was not kept.")
    return check(recipe).to_text()


def history_bytes(history) -> int:
    return sum(len(h[0]) for h in history or [])


def remember(history, recipe, check: Callable, now: float | None = None) -> list:
    """The history with `recipe` (the picture now on show, as text) as its newest step; `check` turns
    the text into a checked Recipe (Workspace.recipe) or raises a UserError."""
    history = [list(h) for h in (history or [])]
    if not recipe:
        return history
    text = checked_text(recipe, check)
    now = time.monotonic() if now is None else now
    if history and history[-1][0] == text:
        return history
    if len(history) > 1 and now - history[-1][1] < BURST_S:
        history[-1] = [text, now]            # the same burst: its latest value stands for it
    else:
        history.append([text, now])
    history = history[-LIMIT:]
    while len(history) > 1 and history_bytes(history) > HISTORY_BYTES:
        history.pop(0)
    return history


def step_back(history) -> tuple[str, list]:
    """(the recipe before the current one, the history without the current one). The step returned
    to is marked old, so the next change after an undo starts a new step instead of replacing it."""
    history = [list(h) for h in (history or [])]
    if len(history) < 2:
        raise UserError("Nothing to undo yet: change the picture first.")
    history.pop()
    history[-1][1] = float("-inf")
    return history[-1][0], history
