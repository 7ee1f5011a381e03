"""Seeds worth showing: "Surprise me" avoids the model's worst seeds.

Some seeds draw a garbled picture (the shipped DCGAN's seed 7 is one), and a presenter clicking
Surprise me in front of a room should not land on one. The judge is the model's dataset classifier:
a picture it cannot name with some confidence is what an audience would call garbled too. A few
random seeds are drawn; the first one the classifier is confident about is taken, else the most
confident of them. A model without a classifier of its data (or a class-conditional one, whose class
is chosen) gets the first random seed, as before.
"""
from __future__ import annotations

import random

import torch

from explorer.core.metadata import DatasetInfo
from explorer.explore.class_routes import classifier_judge

CLEAR = 0.7        # the classifier's top probability from which a picture counts as clear
TRIES = 8          # random seeds looked at per click (one batch: a few milliseconds on a CPU)


def seed_confidence(ws, name: str, seeds: list[int], temperature: float = 1.0) -> list[float] | None:
    """The classifier's top probability for each seed's picture at `temperature`; None without a classifier."""
    m = ws.model(name)
    clf = None if m.num_classes else ws.classifier(DatasetInfo.from_meta(m.meta).name)
    if clf is None:
        return None
    z = m.family.tempered(torch.stack([m.family.seed_latents(1, s)[0] for s in seeds]), float(temperature))   # (N, D)
    with ws.gate.interactive():
        return classifier_judge(m.family, clf)(z).max(1).values.tolist()


def surprise_seed(ws, name: str, temperature: float = 1.0, rng: random.Random | None = None,
                  tries: int = TRIES) -> int:
    """A random seed whose picture the model's classifier can name (see the module docstring)."""
    rng = rng or random.Random()
    seeds = [rng.randrange(0, 1_000_000) for _ in range(tries)]
    conf = seed_confidence(ws, name, seeds, temperature)
    if conf is None:
        return seeds[0]
    clear = [s for s, c in zip(seeds, conf) if c >= CLEAR]
    return clear[0] if clear else seeds[max(range(len(seeds)), key=conf.__getitem__)]
