"""The Explore sliders' labels: a presenter's name, else what the slider does where the classifier can
tell ("Direction 1: Trouser ↔ Bag"), else its number and share of the variation. Gradio shows a label
as text, so a name (a presenter's, or a class name from a checkpoint) never becomes markup.

The names box holds one name per line, line 1 for Direction 1; an empty line keeps the automatic name.
"""
from __future__ import annotations

from explorer.explore.slider_names import tidy_names


def typed_names(text) -> list[str]:
    """The names box's text -> one name per slider (empty: automatic), trailing empty ones dropped."""
    return tidy_names(str(text or "").splitlines())


def slider_labels(ws, model: str, count: int, names=()) -> list[str]:
    """The labels of the model's first `count` sliders, given the presenter's `names`."""
    d = ws.directions(model)
    count = min(count, len(d.basis))
    auto = ws.slider_names(model, count)
    out = []
    for i in range(count):
        own = names[i] if i < len(names) else ""
        share = f"{100 * float(d.explained[i]):.1f}%"
        if own:
            out.append(f"{own} (Direction {i + 1} · {share})")
        elif auto[i]:
            out.append(f"Direction {i + 1}: {auto[i]} · {share}")
        else:
            out.append(f"Direction {i + 1} · {share} of the variation")
    return out
