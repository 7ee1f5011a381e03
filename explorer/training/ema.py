"""An exponential moving average of a generator's weights, and the R1 gradient penalty.

EMA (Karras et al. 2018, "Progressive growing of GANs", appendix; Yazıcı et al. 2019, "The unusual
effectiveness of averaging in GAN training"): the live generator's weights oscillate around the
point the game tends to; their running average sits nearer it and draws visibly cleaner pictures,
more so the longer a run goes. So the average, not the live copy, is what is sampled and saved.
The decay is given as a half-life in pictures (StyleGAN2's `ema_kimg`), so it means the same at any
batch size, and is ramped up at the start (`ema_rampup`: the half-life is at most a share of the
pictures seen so far), so the average does not drag the random initialisation along for long.
Buffers (BatchNorm's running statistics) are copied, not averaged, as StyleGAN2 does.

R1 (Mescheder et al. 2018, "Which training methods for GANs do actually converge?"): a penalty
(gamma / 2) * ||grad_x D(x)||^2 on real pictures only, which keeps the discriminator from growing
steep around the data; "lazy" R1 (Karras et al. 2020, StyleGAN2, section 3.1) computes it every
`interval` steps and multiplies it by `interval`, which costs a fraction and works as well.
"""
from __future__ import annotations

import copy

import torch
from torch import nn


def ema_beta(batch: int, half_life_images: float, images_seen: int, rampup: float | None = 0.05) -> float:
    """The decay for one update after `batch` pictures: 0.5 ** (batch / half-life), the half-life
    capped at `rampup` x the pictures seen so far (None: no ramp-up)."""
    half = float(half_life_images)
    if rampup is not None:
        half = min(half, images_seen * rampup)
    return 0.5 ** (batch / max(half, 1e-8))


class EMA:
    """A frozen copy of `module` whose parameters follow the live ones as a moving average."""

    def __init__(self, module: nn.Module, half_life_images: float = 10_000, rampup: float | None = 0.05):
        self.half_life_images, self.rampup = float(half_life_images), rampup
        self.module = copy.deepcopy(module).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, live: nn.Module, batch: int, images_seen: int) -> None:
        """Move the average towards `live` after a step of `batch` pictures (`images_seen` counted
        before or after it: only the ramp-up reads it)."""
        beta = ema_beta(batch, self.half_life_images, images_seen, self.rampup)
        avg = list(self.module.parameters())
        torch._foreach_lerp_(avg, [p.detach() for p in live.parameters()], 1.0 - beta)
        for b_avg, b in zip(self.module.buffers(), live.buffers()):
            b_avg.copy_(b)

    def state_dict(self) -> dict:
        return self.module.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.module.load_state_dict(state)


def r1_penalty(discriminator, real: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """||grad_x D(x)||^2 per real picture, averaged (B,) -> (); multiply by gamma / 2 (and by the
    lazy interval). `discriminator(x[, labels])` gives logits (B,)."""
    x = real.detach().requires_grad_(True)
    logits = discriminator(x) if labels is None else discriminator(x, labels)
    (grad,) = torch.autograd.grad(logits.sum(), x, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean()
