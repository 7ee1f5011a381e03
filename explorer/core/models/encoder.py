"""A learned encoder E(x) -> z for a trained GAN generator: "learned approximate inference".

Goodfellow et al. 2014 name it as future work: an auxiliary network that predicts z given x.
It is trained afterwards, with the generator frozen (explorer/training/encoder.py), and gives
a starting point that a few optimisation steps on z then refine. The body mirrors the DCGAN
discriminator (strided convs, LeakyReLU(0.2), BatchNorm) and ends in a linear map to z: three convs
in the classic 28-px layout, one per halving down to 4x4 in the grow layout (models/layout.py).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from explorer.core.models.layout import resolve_layout, stages
from explorer.core.validation import UserError


@dataclass
class EncoderConfig:
    latent_dim: int = 64        # size of the generator's z this encoder predicts
    image_size: int = 28        # square images; a multiple of 4
    channels: int = 1
    width: int = 32             # channels of the first conv; then 2x and 4x
    hidden: int = 256           # fully connected layer before z
    layout: str = "auto"        # "classic" (28 px) or "grow" (a conv per halving down to 4x4); see layout.py

    def __post_init__(self):
        if self.image_size % 4 or self.image_size < 8:
            raise UserError(f"image_size must be a multiple of 4 and at least 8, got {self.image_size}.")
        if min(self.latent_dim, self.width, self.hidden, self.channels) < 1:
            raise UserError("latent_dim, width, hidden and channels must be at least 1.")
        self.layout = resolve_layout(self.layout, self.image_size)

    def to_dict(self) -> dict:
        return asdict(self)


class Encoder(nn.Module):
    """images (B, C, H, W) in [0, 1] -> latents (B, latent_dim) for the generator."""

    def __init__(self, cfg: EncoderConfig):
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        if cfg.layout == "classic":
            side = -(-cfg.image_size // 8)  # ceil: 28 -> 4
            convs = [
                nn.Conv2d(cfg.channels, w, 4, stride=2, padding=1),            # (B, C, H, W) -> (B, w, H/2, W/2)
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(w, 2 * w, 4, stride=2, padding=1, bias=False),       # -> (B, 2w, H/4, W/4)
                nn.BatchNorm2d(2 * w), nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(2 * w, 4 * w, 3, stride=2, padding=1, bias=False),   # -> (B, 4w, ~H/8, ~W/8)
                nn.BatchNorm2d(4 * w), nn.LeakyReLU(0.2, inplace=True),
            ]
            top = 4 * w
        else:
            side, convs, c = 4, [], cfg.channels
            for i in range(stages(cfg.layout, cfg.image_size)):   # (B, c, H/2^i, .) -> (B, w*2^i, H/2^(i+1), .)
                convs += [nn.Conv2d(c, w * 2 ** i, 4, stride=2, padding=1, bias=i == 0),
                          *([nn.BatchNorm2d(w * 2 ** i)] if i else []), nn.LeakyReLU(0.2, inplace=True)]
                c = w * 2 ** i
            top = c
        self.body = nn.Sequential(
            *convs,                                                         # -> (B, top, s, s)
            nn.Flatten(),                                                   # -> (B, top*s*s)
            nn.Linear(top * side * side, cfg.hidden), nn.LeakyReLU(0.2, inplace=True),
        )
        self.to_latent = nn.Linear(cfg.hidden, cfg.latent_dim)             # -> (B, latent_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.to_latent(self.body(x))
