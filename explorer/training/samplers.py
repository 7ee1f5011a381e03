"""Where a trainer's real data comes from: random minibatches of images kept whole on the training
device, or fresh points of a 2-D toy distribution. Both draw from the trainer's torch.Generator and
read nothing back to the host, so a step can be captured as a CUDA graph (training/fast.py)."""
from __future__ import annotations

import torch

from explorer.core.data import sample_toy
from explorer.core.validation import UserError


class ImageSampler:
    """Random minibatches from a uint8 image tensor kept whole on the training device.

    value_range (-1, 1) for GANs (tanh output), (0, 1) for VAEs and the classifier."""

    def __init__(self, images: torch.Tensor, device, value_range=(-1.0, 1.0), labels: torch.Tensor | None = None):
        self.images = images.to(device)
        self.labels = labels.to(device) if labels is not None else None
        lo, hi = value_range
        self.scale, self.shift = (hi - lo) / 255.0, lo
        self.size = images.shape[0]

    def indices(self, batch: int, generator: torch.Generator) -> torch.Tensor:
        return torch.randint(self.size, (batch,), device=self.images.device, generator=generator)

    def take(self, idx: torch.Tensor) -> torch.Tensor:
        return self.images[idx].float().mul_(self.scale).add_(self.shift)   # (B, C, H, W) float

    def __call__(self, batch: int, generator: torch.Generator) -> torch.Tensor:
        return self.take(self.indices(batch, generator))

    @property
    def num_classes(self) -> int:
        """Classes the labels name (0 without labels); one host sync, at set-up only."""
        return int(self.labels.max()) + 1 if self.labels is not None and len(self.labels) else 0

    def take_with_labels(self, batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """(images (B, C, H, W) float, labels (B,) long) for a conditional model; no host sync."""
        if self.labels is None:
            raise UserError("These images have no class labels, so a conditional model cannot train on them.")
        idx = self.indices(batch, generator)
        return self.take(idx), self.labels[idx].long()


class ToySampler:
    """Fresh points from a named 2-D distribution (infinite data)."""

    def __init__(self, name: str, device):
        self.name, self.device, self.size = name, device, 0
        sample_toy(name, 1)  # validates the name now, not mid-run

    def __call__(self, batch: int, generator: torch.Generator) -> torch.Tensor:
        return sample_toy(self.name, batch, generator, self.device)
