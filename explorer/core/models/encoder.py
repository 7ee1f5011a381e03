"""A learned encoder E(x) -> z for a trained GAN generator: "learned approximate inference".

Goodfellow et al. 2014 name it as future work: an auxiliary network that predicts z given x.
It is trained afterwards, with the generator frozen (explorer/training/encoder.py), and gives
a starting point that a few optimisation steps on z then refine. The body mirrors the DCGAN
discriminator (strided convs, LeakyReLU(0.2), BatchNorm) and ends in a linear map to z.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from explorer.core.validation import UserError


@dataclass
class EncoderConfig:
    latent_dim: int = 64        # size of the generator's z this encoder predicts
    image_size: int = 28        # square images; a multiple of 4
    channels: int = 1
    width: int = 32             # channels of the first conv; then 2x and 4x
    hidden: int = 256           # fully connected layer before z

    def __post_init__(self):
        if self.image_size % 4 or self.image_size < 8:
            raise UserError(f"image_size must be a multiple of 4 and at least 8, got {self.image_size}.")
        if min(self.latent_dim, self.width, self.hidden, self.channels) < 1:
            raise UserError("latent_dim, width, hidden and channels must be at least 1.")

    def to_dict(self) -> dict:
        return asdict(self)


class Encoder(nn.Module):
    """images (B, C, H, W) in [0, 1] -> latents (B, latent_dim) for the generator."""

    def __init__(self, cfg: EncoderConfig):
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        side = -(-cfg.image_size // 8)  # ceil: 28 -> 4
        self.body = nn.Sequential(
            nn.Conv2d(cfg.channels, w, 4, stride=2, padding=1),            # (B, C, H, W) -> (B, w, H/2, W/2)
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(w, 2 * w, 4, stride=2, padding=1, bias=False),       # -> (B, 2w, H/4, W/4)
            nn.BatchNorm2d(2 * w), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(2 * w, 4 * w, 3, stride=2, padding=1, bias=False),   # -> (B, 4w, ~H/8, ~W/8)
            nn.BatchNorm2d(4 * w), nn.LeakyReLU(0.2, inplace=True),
            nn.Flatten(),                                                   # -> (B, 4w*s*s)
            nn.Linear(4 * w * side * side, cfg.hidden), nn.LeakyReLU(0.2, inplace=True),
        )
        self.to_latent = nn.Linear(cfg.hidden, cfg.latent_dim)             # -> (B, latent_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.to_latent(self.body(x))
