"""Sliders named by what they do: "Sneaker ↔ Sandal" where the model's classifier can tell.

For each principal direction (explorer/explore/directions.py), the same `SAMPLES` random pictures
are moved to −`REACH`σ and +`REACH`σ along it and judged by the classifier of the model's dataset.
When most of them (at least `AGREE`) are one class at the − end and most are another class at the
+ end, the direction is named "minus ↔ plus"; where one end is a clear class and the other is not
the same one, "more like X" names it; otherwise it keeps its number only (no name beats a wrong one).

Names are computed once per model (one batch of 2·K·SAMPLES pictures, well under a second for the
28-px models) and kept in the Workspace's memory (`SliderNames`, `Workspace.slider_names`).
A presenter may rename a slider; that name travels in the recipe (explorer/explore/recipe.py).
"""
from __future__ import annotations

import threading
from collections.abc import Callable

import torch

from explorer.explore.class_routes import classifier_judge

SAMPLES = 48        # pictures judged per end of each direction
REACH = 2.0         # how far along the direction, in σ
AGREE = 0.4         # share of the pictures that must agree on a class for it to name an end
SEED = 7_000        # the judged pictures' seed (fixed: the same names every time)
MAX_NAME = 40       # a presenter's name for a slider, in characters


def _moved(directions, z: torch.Tensor, index: int, value: float) -> torch.Tensor:
    """Latents z (N, D) with coordinate `index` set to `value` σ (the rest of each kept)."""
    b, s = directions.basis[index], directions.scales[index]
    here = ((z - directions.center) @ b) / s                  # (N,)
    return z + ((value - here) * s)[:, None] * b[None, :]      # (N, D)


def _majority(probs: torch.Tensor) -> tuple[int, float]:
    """The class most pictures are judged as, and the share judged so."""
    votes = torch.bincount(probs.argmax(1), minlength=probs.shape[1]).float()
    best = int(votes.argmax())
    return best, float(votes[best] / len(probs))


def effect_names(directions, judge: Callable[[torch.Tensor], torch.Tensor], class_names: list[str],
                 count: int, sampler: Callable[[int, int], torch.Tensor], samples: int = SAMPLES, reach: float = REACH,
                 agree: float = AGREE) -> list[str]:
    """A name per principal direction (the first `count`): "minus ↔ plus", "more like X", or "".
    `judge` maps latents (N, D) to class probabilities (N, C); `sampler(n, seed)` draws the model's latents."""
    k = min(count, len(directions.basis))
    z = sampler(samples, SEED)                                              # (N, D)
    ends = torch.cat([_moved(directions, z, i, v) for i in range(k) for v in (-reach, reach)])   # (2kN, D)
    probs = judge(ends).reshape(k, 2, samples, -1)                         # (k, 2, N, C)
    names = []
    for i in range(k):
        (lo, lo_share), (hi, hi_share) = _majority(probs[i, 0]), _majority(probs[i, 1])
        lo_ok, hi_ok = lo_share >= agree, hi_share >= agree
        if lo_ok and hi_ok and lo != hi:
            names.append(f"{class_names[lo]} ↔ {class_names[hi]}")
        elif hi_ok and not (lo_ok and lo == hi):
            names.append(f"more like {class_names[hi]} →")
        elif lo_ok and not (hi_ok and lo == hi):
            names.append(f"← more like {class_names[lo]}")
        else:
            names.append("")
    return names


def tidy_names(names) -> list[str]:
    """A presenter's slider names (text each): one line each, spaces collapsed, trailing empty names dropped."""
    out = [" ".join(n.split()) for n in names]
    while out and not out[-1]:
        out.pop()
    return out


class SliderNames:
    """Per model, the names of its sliders, computed once per model (and per count) at a time."""

    def __init__(self):
        self._names: dict[tuple[str, str, int], list[str]] = {}
        self._lock = threading.Lock()

    def get(self, m, directions, classifier, count: int) -> list[str]:
        """Model `m`'s first `count` sliders' names ("" where the classifier cannot tell, and for every slider
        of a conditional model or of one without a classifier of its dataset: `classifier` None)."""
        k = min(count, len(directions.basis))
        if classifier is None or m.num_classes or not directions.class_names:
            return [""] * k
        key = (m.name, m.digest, k)
        with self._lock:
            if key not in self._names:
                judge = classifier_judge(m.family, classifier)
                self._names[key] = effect_names(directions, judge, directions.class_names, k, m.family.seed_latents)
            return self._names[key]

    def forget(self, name: str) -> None:
        """Drop the names kept for a model (an unloaded upload)."""
        with self._lock:
            for key in [k for k in self._names if k[0] == name]:
                del self._names[key]
