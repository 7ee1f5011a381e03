"""Small CNN classifier (grey or colour, 28 px to 256 px): the feature extractor of the evaluation.

Inception features do not suit 28x28 grayscale and no weights can be downloaded here, so the
Frechet distance and precision/recall use this network's penultimate layer instead. Each block is
two 3x3 convs and a 2x2 max-pool (VGG style); the classic 28-px layout has two blocks (28 -> 14 -> 7),
the grow layout one per halving down to 4x4 (64 px: four), channels doubling (models/layout.py).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from explorer.core.models.dropout import Dropout
from explorer.core.models.limits import (
    CHANNELS,
    HIDDEN,
    IMAGE,
    MAX_DROPOUT,
    WIDTH,
    check_sizes,
)
from explorer.core.models.layout import resolve_layout, smallest_side, stages
from explorer.core.validation import check_number


@dataclass
class ClassifierConfig:
    num_classes: int = 10
    image_size: int = 28
    channels: int = 1
    width: int = 32          # channels of the first block; the second uses 2x
    feature_dim: int = 128   # size of the penultimate layer (the evaluation's feature space)
    dropout: float = 0.3
    layout: str = "auto"     # "classic" (28 px) or "grow" (a block per halving down to 4x4); see layout.py

    def __post_init__(self):
        check_sizes(self, num_classes=(1, 1000), image_size=IMAGE, channels=CHANNELS, width=WIDTH, feature_dim=HIDDEN)
        self.layout = resolve_layout(self.layout, self.image_size)
        self.dropout = check_number("dropout", self.dropout, 0.0, MAX_DROPOUT)

    def to_dict(self) -> dict:
        return asdict(self)


def _block(c_in: int, c_out: int) -> list[nn.Module]:
    return [
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    ]


class Classifier(nn.Module):
    """images (B, C, H, W) in [0, 1] -> logits (B, num_classes); `features` gives the penultimate layer."""

    def __init__(self, cfg: ClassifierConfig):
        super().__init__()
        self.cfg = cfg
        w, s = cfg.width, smallest_side(cfg.layout, cfg.image_size)      # s: 7 (classic 28 px), 4 (grow)
        n = stages(cfg.layout, cfg.image_size)
        blocks, c = [], cfg.channels
        for i in range(n):   # (B, c, H/2^i, .) -> (B, w*2^i, H/2^(i+1), .); classic: C -> w -> 2w
            blocks += _block(c, w * 2 ** i)
            c = w * 2 ** i
        self.body = nn.Sequential(
            *blocks,                        # (B, C, H, W) -> (B, c, s, s)
            nn.Flatten(),
            Dropout(cfg.dropout),
            nn.Linear(c * s * s, cfg.feature_dim), nn.BatchNorm1d(cfg.feature_dim), nn.ReLU(inplace=True),
        )
        self.head = nn.Sequential(Dropout(cfg.dropout), nn.Linear(cfg.feature_dim, cfg.num_classes))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)                 # (B, C, H, W) -> (B, feature_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))      # -> (B, num_classes)
