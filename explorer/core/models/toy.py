"""Small MLP generator and discriminator for 2-D toy data (the live Train tab's teaching view)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from explorer.core.models.limits import HIDDEN, check_sizes


@dataclass
class ToyGANConfig:
    latent_dim: int = 2     # noise size; 2 lets the UI draw where each noise region lands
    hidden: int = 128       # units per hidden layer
    layers: int = 3         # hidden layers in each network

    def __post_init__(self):
        check_sizes(self, latent_dim=(1, 64), hidden=HIDDEN, layers=(1, 16))

    def to_dict(self) -> dict:
        return asdict(self)


def _mlp(d_in: int, hidden: int, layers: int, d_out: int, act: type[nn.Module]) -> nn.Sequential:
    mods: list[nn.Module] = []
    for i in range(layers):
        mods += [nn.Linear(d_in if i == 0 else hidden, hidden), act()]
    mods.append(nn.Linear(hidden, d_out))
    return nn.Sequential(*mods)


def layers(net: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    """net(x), each layer's own forward called directly: nn.Module's call machinery (hooks, checks)
    costs about as much as one of these tiny layers, seven of them per network, four network passes
    per training step of the live 2-D game. (No hooks are ever put on these layers.)"""
    for layer in net:
        x = layer.forward(x)
    return x


class ToyGenerator(nn.Module):
    """noise (B, latent_dim) -> points (B, 2)."""

    def __init__(self, cfg: ToyGANConfig):
        super().__init__()
        self.cfg = cfg
        self.net = _mlp(cfg.latent_dim, cfg.hidden, cfg.layers, 2, nn.ReLU)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return layers(self.net, z)


class ToyDiscriminator(nn.Module):
    """points (B, 2) -> logits (B,)."""

    def __init__(self, cfg: ToyGANConfig):
        super().__init__()
        self.cfg = cfg
        self.net = _mlp(2, cfg.hidden, cfg.layers, 1, lambda: nn.LeakyReLU(0.2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return layers(self.net, x).squeeze(1)
