"""Searching a map: a dot by its number or its class, and a dot's nearest neighbours.

Neighbours are nearest in what the layout was computed from (`LatentMap.keys`: the classifier's or
the generator's features, else the latents), so they are the dots the map means to put together,
not only those that happen to land close on the 2-D picture.
"""
from __future__ import annotations

import numpy as np

from explorer.core.validation import UserError
from explorer.maps.layout import LatentMap


def find_dots(lm: LatentMap, query) -> tuple[list[int], str]:
    """(the dots `query` names, what it was read as): a whole number is a dot's number; other text is a
    class name (case and spaces ignored; a unique beginning will do)."""
    text = " ".join(str(query or "").split())
    if not text:
        raise UserError("Type a dot's number or a class name to find it.")
    n = len(lm.latents)
    if text.lstrip("#").isdigit():
        i = int(text.lstrip("#"))
        if i >= n:
            raise UserError(f"Dot #{i} does not exist; the map's dots are numbered 0 to {n - 1}.")
        return [i], "number"
    want = text.casefold()
    names = [str(c).casefold() for c in lm.class_names]
    hits = [c for c, name in enumerate(names) if name == want] or [c for c, name in enumerate(names) if name.startswith(want)]
    if not hits:
        shown = ", ".join(str(c) for c in lm.class_names[:12]) or "none on this map"
        raise UserError(f"No dot number or class called {text[:40]!r}; the classes are: {shown}.")
    if len(hits) > 1:
        raise UserError(f"{text[:40]!r} could be {' or '.join(str(lm.class_names[c]) for c in hits[:4])}: type more of it.")
    dots = np.flatnonzero(lm.labels == hits[0]).tolist()
    if not dots:
        raise UserError(f"No dot on this map is labelled {lm.class_names[hits[0]]}.")
    return dots, str(lm.class_names[hits[0]])


def nearest_dots(lm: LatentMap, index: int, k: int = 6) -> list[int]:
    """The `k` dots nearest to dot `index` (itself left out), nearest first."""
    keys = lm.keys if lm.keys is not None else lm.latents
    d = np.linalg.norm(keys - keys[index], axis=1)              # (N,)
    d[index] = np.inf
    k = min(k, len(d) - 1)
    near = np.argpartition(d, k)[:k] if k < len(d) else np.arange(len(d))
    return [int(i) for i in near[np.argsort(d[near])]]
