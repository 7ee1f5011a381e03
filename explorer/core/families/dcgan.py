"""The DCGAN family (unconditional or class-conditional): a generator G(z[, y]) from N(0, I) noise.

Its pictures come from noise alone, so a person's picture is placed by refinement through G (a learned
encoder's guess first, explorer/explore/inversion.py), its sliders are GANSpace's (the activations after
G's first BatchNorm + ReLU), and its map lays out samples.
"""
from __future__ import annotations

import torch

from explorer.core.families.checkpoint import CheckpointFamily
from explorer.core.families.temperature import TemperatureScale


class DCGANFamily(CheckpointFamily):
    kind = "dcgan"
    words = "GAN"
    adversarial = True
    inversion = "refine"
    blends_classes = True
    directions = "ganspace"
    map_items = "samples"
    trains_encoder = True
    temperature = TemperatureScale(lowest=0.3)     # 0: a black square; 0.1: a faint ghost (explore/temperature.py)
    data_range = (-1.0, 1.0)
    train_tab = {"width": 16, "d_width": 16, "latent_dim": 32}

    @property
    def net(self) -> torch.nn.Module:
        """The generator G(z[, y]) -> pictures in [-1, 1] (an encoder for it is trained against this module)."""
        return self.checkpoint.modules["generator"]

    @torch.no_grad()
    def decode(self, z, y=None):
        return (self.net(z, y) + 1) * 0.5                              # tanh [-1, 1] -> [0, 1]

    def decode_with_grad(self, z, y=None):
        return (self.net(z, y) + 1) * 0.5

    @torch.no_grad()
    def direction_features(self, z, y=None):
        return self.net.early_features(z, y)                           # (B, c0*s*s) after the first BN + ReLU

    def class_vectors(self):
        return self.net.embed.weight.detach().float().cpu()             # (K, CLASS_DIM)

    @torch.no_grad()
    def decode_blend(self, z, embeddings):
        return (self.net(z, class_embedding=embeddings) + 1) * 0.5
