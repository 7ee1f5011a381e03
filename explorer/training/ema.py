"""An exponential moving average of a generator's weights, and the R1 gradient penalty.

EMA (Karras et al. 2018, "Progressive growing of GANs", appendix; Yazıcı et al. 2019, "The unusual
effectiveness of averaging in GAN training"): the live generator's weights oscillate around the
point the game tends to; their running average sits nearer it and draws visibly cleaner pictures,
more so the longer a run goes. So the average, not the live copy, is what is sampled and saved.
The decay is given as a half-life in pictures (StyleGAN2's `ema_kimg`), so it means the same at any
batch size, and is ramped up at the start (`ema_rampup`: the half-life is at most a share of the
pictures seen so far), so the average does not drag the random initialisation along for long.
Buffers (BatchNorm's running statistics) are copied, not averaged, as StyleGAN2 does; before the
average is sampled or saved, a generator with BatchNorm has them measured again on the averaged
weights (`refresh_batchnorm`), because the copied ones describe the live weights' activations.

R1 (Mescheder et al. 2018, "Which training methods for GANs do actually converge?"): a penalty
(gamma / 2) * ||grad_x D(x)||^2 on real pictures only, which keeps the discriminator from growing
steep around the data; "lazy" R1 (Karras et al. 2020, StyleGAN2, section 3.1) computes it every
`interval` steps and multiplies it by `interval`, which costs a fraction and works as well.
"""
from __future__ import annotations

import copy
from typing import Callable

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
    """A frozen copy of `module` whose parameters follow the live ones as a moving average.

    The update reads its weight (1 - decay) from a 0-d tensor on the module's device, set by
    `set_decay` before the step: the update itself never reads a number back to the host, so it can
    sit inside a captured CUDA graph (training/fast.py) while the ramp-up changes the decay."""

    def __init__(self, module: nn.Module, half_life_images: float = 10_000, rampup: float | None = 0.05):
        self.half_life_images, self.rampup = float(half_life_images), rampup
        self.module = copy.deepcopy(module).eval().requires_grad_(False)
        first = next(self.module.parameters(), None)
        self.weight = torch.zeros((), dtype=first.dtype if first is not None else torch.float32,
                                  device=first.device if first is not None else None)
        self.batchnorm_stale = False        # the averaged weights moved since `refresh_batchnorm`

    @torch.no_grad()
    def set_decay(self, batch: int, images_seen: int) -> None:
        """The next `step`'s weight, after a step of `batch` pictures (`images_seen` counted before
        or after it: only the ramp-up reads it). Host to device only: no sync."""
        self.weight.fill_(1.0 - ema_beta(batch, self.half_life_images, images_seen, self.rampup))

    @torch.no_grad()
    def step(self, live: nn.Module) -> None:
        """avg += weight * (live - avg) for every parameter; buffers copied. No host sync."""
        avg = list(self.module.parameters())
        if avg:
            diff = torch._foreach_sub([p.detach() for p in live.parameters()], avg)
            torch._foreach_mul_(diff, self.weight)     # a device tensor: no .item(), capturable
            torch._foreach_add_(avg, diff)
        for b_avg, b in zip(self.module.buffers(), live.buffers()):
            b_avg.copy_(b)
        self.batchnorm_stale = True

    def update(self, live: nn.Module, batch: int, images_seen: int) -> None:
        """Move the average towards `live` after a step of `batch` pictures."""
        self.set_decay(batch, images_seen)
        self.step(live)

    @torch.no_grad()
    def refresh_batchnorm(self, draw: Callable[[int], tuple], batches: int = 8) -> None:
        """BatchNorm's running statistics measured on the averaged weights' own activations
        ("standing statistics", Brock et al. 2019, BigGAN, appendix C.1): the copied ones belong to
        the live weights, whose activations differ. `draw(i)` gives the inputs of batch i; the
        statistics are the plain mean over the batches (momentum None). Without BatchNorm: nothing."""
        norms = [m for m in self.module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        if norms:
            momenta = [m.momentum for m in norms]
            for m in norms:
                m.reset_running_stats()
                m.momentum = None
            self.module.train()
            try:
                for i in range(batches):
                    self.module(*draw(i))
            finally:
                self.module.eval()
                for m, mom in zip(norms, momenta):
                    m.momentum = mom
        self.batchnorm_stale = False

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
