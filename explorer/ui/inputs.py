"""Input widgets that hand the handlers what the visitor typed, so the app (not Gradio) says what is wrong.

Gradio checks a Number's or Slider's range and a Dropdown's choices before a handler runs, and its
refusals reach the audience raw ("Value 1e+229 is greater than maximum value 2147483647", "Value: 0
is not in the list of choices: []" after a quick model switch), while rounding (seed 2.5 -> 2)
happens silently. These subclasses draw exactly as Gradio's own (`is_template`: the same front end)
but pass the raw value through; the handlers check it where it enters (Workspace.recipe,
LoadedModel.check_class, `clamped` below) and say, in words, what they refused or adjusted.
"""
from __future__ import annotations

import math

import gradio as gr

from explorer.core.validation import UserError


class Number(gr.Number):
    """A number box whose value reaches the handler as typed (no range check; with precision=None, no rounding)."""
    is_template = True      # (no __init__ of its own: Gradio reads a component's settings off its signature)

    def preprocess(self, payload):
        return payload


class Slider(gr.Slider):
    """A slider whose typed value reaches the handler even outside its range (`clamped` says so)."""
    is_template = True

    def preprocess(self, payload):
        return payload


class Dropdown(gr.Dropdown):
    """A dropdown whose value reaches the handler even when it is no longer among the choices (a model
    switch changed them while an older event was on its way); the handler checks it."""
    is_template = True

    def preprocess(self, payload):
        return payload


def clamped(name: str, value, lo: float, hi: float, notes: list[str] | None = None) -> float:
    """A slider's value as a float within [lo, hi]. Not a number: UserError. Outside the range: the
    nearest end, and a note for the visitor in `notes` (a typed 9 on a −4…4 slider becomes 4, said)."""
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        raise UserError(f"{name} must be a number between {lo:g} and {hi:g}, got {str(value)[:40]!r}.") from None
    if math.isnan(x):
        raise UserError(f"{name} must be a number between {lo:g} and {hi:g}, got NaN.")
    if lo <= x <= hi:
        return x
    end = lo if x < lo else hi
    if notes is not None:
        notes.append(f"{name} goes from {lo:g} to {hi:g}: {x:g} became {end:g}.")
    return end
