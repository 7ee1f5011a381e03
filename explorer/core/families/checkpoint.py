"""Families whose models are PyTorch modules in a Latent Explorer checkpoint (safetensors)."""
from __future__ import annotations

import torch

from explorer.core.checkpoints import Checkpoint
from explorer.core.families.base import Family


class CheckpointFamily(Family):
    """A family of nn.Modules loaded from a checkpoint (explorer/core/checkpoints.py), in eval mode."""

    def __init__(self, checkpoint: Checkpoint, device=None):
        if device is None:                                       # where load_checkpoint put the modules
            device = next(next(iter(checkpoint.modules.values())).parameters()).device
        super().__init__(checkpoint.meta, device, checkpoint.path)
        self.checkpoint = checkpoint

    @property
    def modules(self) -> dict[str, torch.nn.Module]:
        return self.checkpoint.modules

    @property
    def net(self) -> torch.nn.Module:
        """The module that draws (a GAN's generator, the VAE)."""
        raise NotImplementedError

    @property
    def latent_dim(self) -> int:
        return self.net.cfg.latent_dim

    @property
    def num_classes(self) -> int:
        return int(getattr(self.net.cfg, "num_classes", 0) or 0)

    @property
    def image_size(self) -> int:
        return self.net.cfg.image_size

    @property
    def channels(self) -> int:
        return self.net.cfg.channels
