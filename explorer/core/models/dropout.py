"""Dropout whose masks come from a generator its trainer owns, not from the process-wide RNG.

`nn.Dropout` (and `torch.nn.functional.dropout`, which takes no generator) draws from the device's
global random generator. A trainer that wants its run reproducible from its seed then has to put its
own stream into that global generator for as long as the run is open, and in the app a run is open
for minutes while other threads serve visitors from the same process: whatever they draw would come
from, and disturb, the run's stream. So the models use this Dropout: in training, with a `generator`
set (Trainer.run sets its own on every Dropout of its modules: `draw_from`), its mask is
`bernoulli(1 - p) / (1 - p)` from that generator, the very numbers ATen's CPU dropout draws; with
none it is nn.Dropout. It holds no parameters or buffers, so a model's state-dict keys are the same
as with nn.Dropout and every checkpoint loads as before. In eval mode it is the identity.
"""
from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn


class Dropout(nn.Module):
    def __init__(self, p: float = 0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.generator: torch.Generator | None = None     # None: the global RNG, as nn.Dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0 or x.numel() == 0:
            return x
        if self.generator is None:
            return F.dropout(x, self.p, True)
        if self.p == 1.0:
            return x * 0.0
        keep = 1.0 - self.p
        mask = torch.empty_like(x).bernoulli_(keep, generator=self.generator).div_(keep)   # (same shape as x)
        return x * mask

    def extra_repr(self) -> str:
        return f"p={self.p}"


def draw_from(modules: Iterable[nn.Module], generator: torch.Generator | None) -> int:
    """Every Dropout inside `modules` draws its masks from `generator` (None: the global RNG again);
    returns how many there are."""
    n = 0
    for module in modules:
        for m in module.modules():
            if isinstance(m, Dropout):
                m.generator = generator
                n += 1
    return n
