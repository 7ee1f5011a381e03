"""Small CNN classifier for 28x28 grayscale images: the feature extractor of the evaluation.

Inception features do not suit 28x28 grayscale and no weights can be downloaded here, so the
Frechet distance and precision/recall use this network's penultimate layer instead.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from explorer.core.models.limits import (
    CHANNELS,
    HIDDEN,
    IMAGE,
    MAX_DROPOUT,
    WIDTH,
    check_image_size,
    check_sizes,
)
from explorer.core.validation import check_number


@dataclass
class ClassifierConfig:
    num_classes: int = 10
    image_size: int = 28
    channels: int = 1
    width: int = 32          # channels of the first block; the second uses 2x
    feature_dim: int = 128   # size of the penultimate layer (the evaluation's feature space)
    dropout: float = 0.3

    def __post_init__(self):
        check_sizes(self, num_classes=(1, 1000), image_size=IMAGE, channels=CHANNELS, width=WIDTH, feature_dim=HIDDEN)
        check_image_size(self.image_size)
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
        w, s = cfg.width, cfg.image_size // 4
        self.body = nn.Sequential(
            *_block(cfg.channels, w),       # (B, C, H, W) -> (B, w, H/2, W/2)
            *_block(w, 2 * w),              # -> (B, 2w, H/4, W/4)
            nn.Flatten(),
            nn.Dropout(cfg.dropout),
            nn.Linear(2 * w * s * s, cfg.feature_dim), nn.BatchNorm1d(cfg.feature_dim), nn.ReLU(inplace=True),
        )
        self.head = nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(cfg.feature_dim, cfg.num_classes))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)                 # (B, C, H, W) -> (B, feature_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))      # -> (B, num_classes)
