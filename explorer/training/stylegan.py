"""Training the style-based generator (core/models/stylegan.py) as StyleGAN2 does, on a small scale.

Karras et al. 2020 (StyleGAN2, and StyleGAN2-ADA's `training/loss.py` and `training_loop.py`):
- the non-saturating logistic loss (softplus(-D(x)) + softplus(D(G(z))) for D, softplus(-D(G(z))) for G);
- lazy R1 on real pictures (Mescheder et al. 2018): every `r1_every` steps the penalty, times
  `r1_every`, joins D's loss. It is added to that step's loss (one Adam step) rather than taken as a
  separate optimiser step as StyleGAN2 does, so Adam's settings need no correction for the extra
  steps. Whether a step is one is decided by the step count alone, so every process of a
  data-parallel run takes the same branch at the same step;
- style mixing regularisation (StyleGAN sec. 3.1), probability 0.9: a picture takes a second z's
  styles from a random layer on, so neighbouring layers cannot rely on sharing one style;
- per-pixel noise drawn from the trainer's random stream (reproducible from the seed);
- an EMA of the generator's weights (training/ema.py; half-life 10 000 pictures per 32 in a batch,
  ramped up, as StyleGAN2-ADA), which is what is sampled and saved as "generator"; the trained
  generator is saved beside it as "generator_live", so a resumed run continues from both;
- optional DiffAugment (Zhao et al. 2020; training/diffaugment.py) on everything D sees.
Left out: path-length regularisation (StyleGAN2 sec. 3.2), which smooths the mapping from W to
pictures at 30-40% more cost per step, and adaptive augmentation (ADA) itself.

Class-conditional: real pictures with their labels, fakes with uniform classes (as the cDCGAN);
the fixed grid is one row per class. The CUDA-graph fast path (training/fast.py) stays off: the
lazy R1 step differs from the others, so one captured graph cannot replay every step.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from explorer.core.validation import UserError, check_int, check_number
from explorer.training.base import Trainer, make_adam
from explorer.training.diffaugment import parse_policy
from explorer.training.ema import EMA, r1_penalty
from explorer.training.gan import GANTrainer

FAST_PATH_OFF = "the style-based trainer runs eagerly: its lazy R1 steps differ from the others"


def default_r1_gamma(image_size: int, batch_size: int) -> float:
    """StyleGAN2-ADA's heuristic for R1's weight: 0.0002 * resolution^2 / batch ("auto" config)."""
    return 0.0002 * image_size ** 2 / batch_size


def default_ema_half_life(batch_size: int) -> float:
    """StyleGAN2-ADA's EMA half-life for a batch: 10 000 pictures per 32 ("auto" config's ema_kimg)."""
    return 10_000 * batch_size / 32


@dataclass
class StyleGANTrainConfig:
    batch_size: int = 32
    lr_g: float = 0.0025             # StyleGAN2-ADA's learning rate for small pictures
    lr_d: float = 0.0025
    beta1: float = 0.0               # Adam betas (0, 0.99), StyleGAN2's
    beta2: float = 0.99
    r1_gamma: float | None = None    # R1 weight; None: default_r1_gamma(image size, batch)
    r1_every: int = 16               # lazy R1: every N steps (1 = every step)
    ema_half_life: float | None = None   # pictures; None: 10 000 per 32 in a batch (StyleGAN2-ADA's ema_kimg)
    ema_rampup: float | None = 0.05  # the half-life is at most this share of the pictures seen so far
    mixing: float = 0.9              # style mixing probability (0 = off)
    diffaugment: str = ""            # DiffAugment policy, e.g. "color,translation,cutout"; "" = off
    seed: int = 0

    def __post_init__(self):
        check_int("batch_size", self.batch_size, 1, 65_536)
        for name in ("lr_g", "lr_d"):
            check_number(name, getattr(self, name), 1e-8, 1.0)
        for name in ("beta1", "beta2"):
            check_number(name, getattr(self, name), 0.0, 0.9999)
        if self.r1_gamma is not None:
            check_number("r1_gamma", self.r1_gamma, 0.0, 1000.0)
        check_int("r1_every", self.r1_every, 1, 10_000)
        if self.ema_half_life is None:
            self.ema_half_life = default_ema_half_life(self.batch_size)
        check_number("ema_half_life", self.ema_half_life, 0.0, 1e9)
        check_number("mixing", self.mixing, 0.0, 1.0)
        self.diffaugment = ",".join(parse_policy(self.diffaugment))

    def to_dict(self) -> dict:
        return asdict(self)


class StyleGANTrainer(GANTrainer):
    """Trains a {"generator_live", "discriminator"} pair; "generator" is the live one's moving average.
    Reuses GANTrainer's z, class and augmentation draws and its d_step / g_step interface."""

    kind = "stylegan"

    def __init__(self, modules: dict, sampler, cfg: StyleGANTrainConfig, device="cpu", check_every: int = 50):
        Trainer.__init__(self, device, cfg.seed, check_every)
        self.cfg, self.sample_real = cfg, sampler
        self.G = modules["generator_live"].to(self.device)
        self.D = modules["discriminator"].to(self.device)
        self.ema = EMA(self.G, cfg.ema_half_life, cfg.ema_rampup)        # starts as a copy of the live weights
        self.modules = {"generator": self.ema.module, "generator_live": self.G, "discriminator": self.D}
        mcfg = self.G.cfg
        self.latent_dim, self.num_classes = mcfg.latent_dim, mcfg.num_classes
        self.r1_gamma = cfg.r1_gamma if cfg.r1_gamma is not None else default_r1_gamma(mcfg.image_size, cfg.batch_size)
        betas = (cfg.beta1, cfg.beta2)
        self.optimizers = {
            "generator_live": make_adam(list(self.G.parameters()), self.device, lr=cfg.lr_g, betas=betas, eps=1e-8),
            "discriminator": make_adam(list(self.D.parameters()), self.device, lr=cfg.lr_d, betas=betas, eps=1e-8),
        }
        self.dataset_size = getattr(sampler, "size", 0)
        if self.num_classes and getattr(sampler, "labels", None) is None:
            raise UserError("A class-conditional model needs labelled images.")
        self.augment_policy = parse_policy(cfg.diffaugment)
        self._last_d: dict[str, torch.Tensor] = {}
        self._last_r1 = torch.zeros((), device=self.device)
        self.set_fixed_grid(cfg.seed)

    def use_fast_path(self, on: bool = True) -> str:
        self._fast, self._fast_reason = None, f"eager ({FAST_PATH_OFF})" if on else "off"
        return self.fast_path_status

    # Its average is one of its modules ("generator"), updated in its own g_step: the DCGAN's EMA plan
    # (GANTrainer: decay set before a captured step, the average kept outside the modules, BatchNorm
    # statistics measured again) does not apply, so the plain Trainer's saving, state and resuming do.
    before_step = Trainer.before_step
    state_dict = Trainer.state_dict
    load_state_dict = Trainer.load_state_dict
    restore = Trainer.restore
    module_copies: dict[str, str] = {}

    def output_generator(self):
        return self.ema.module

    def output_modules(self, for_resume: bool = True) -> dict[str, nn.Module]:
        """The average as "generator" and D; the live G only for resuming (a shipped file leaves it out)."""
        return self.modules if for_resume else {n: m for n, m in self.modules.items() if n != "generator_live"}

    def generator_inputs(self, n: int, y: torch.Tensor | None) -> dict:
        """The live generator's inputs for this process's n fakes: z, classes, per-layer noise and
        style mixing, all drawn for the global batch from the trainer's stream and cut to this
        process's rows (base.Trainer.own_rows)."""
        world, num_ws = n * self.world_size, self.G.num_ws
        noise = [self.own_rows(t) for t in self.G.synthesis.make_noise(world, "random", self.gen)]
        out = {"z": self.train_noise(n), "y": y, "noise": noise}
        if self.cfg.mixing > 0:
            cut = torch.randint(1, num_ws, (world,), device=self.device, generator=self.gen)
            mixed = torch.rand(world, device=self.device, generator=self.gen) < self.cfg.mixing
            out["mix_z"] = self.train_noise(n)
            out["mix_cutoff"] = self.own_rows(torch.where(mixed, cut, torch.full_like(cut, num_ws)))   # num_ws: not mixed
        return out

    def d_step(self) -> dict[str, torch.Tensor]:
        B = self.cfg.batch_size
        D = self.forward_module("discriminator")     # under torchrun: D's gradients averaged over processes
        if self.num_classes:
            real, real_y = self.sample_real.take_with_labels(B, self.gen)
        else:
            real, real_y = self.sample_real(B, self.gen), None
        fake_y = self.fake_labels(B)
        with torch.no_grad():
            fake = self.G(**self.generator_inputs(B, fake_y))
        real, fake = self.augment(real), self.augment(fake)
        real_logit, fake_logit = D(real, real_y), D(fake, fake_y)
        loss = F.softplus(-real_logit).mean() + F.softplus(fake_logit).mean()    # -log D(x) - log(1 - D(G(z)))
        if self.step % self.cfg.r1_every == 0:       # lazy R1, the same steps in every process
            # the plain D: this pass asks for gradients w.r.t. the pictures; the loss's backward
            # carries the penalty's gradients to D's weights, which the wrapper averages
            r1 = r1_penalty(self.D, real, real_y)
            loss = loss + r1 * (self.r1_gamma / 2 * self.cfg.r1_every)
            self._last_r1 = r1.detach()
        self.optimizers["discriminator"].zero_grad(set_to_none=self.zero_grad_to_none)
        loss.backward()
        self.optimizers["discriminator"].step()
        self._watch(loss)
        self.images_seen += B * self.world_size
        out = {"d_real": torch.sigmoid(real_logit).mean().detach(), "d_fake": torch.sigmoid(fake_logit).mean().detach(),
               "r1": self._last_r1, "loss_d": loss.detach()}
        self._last_d = out
        return out

    def g_step(self) -> dict[str, torch.Tensor]:
        B = self.cfg.batch_size
        for p in self.D.parameters():
            p.requires_grad_(False)
        G = self.forward_module("generator_live")
        y = self.fake_labels(B)
        logit = self.D(self.augment(G(**self.generator_inputs(B, y))), y)
        loss = F.softplus(-logit).mean()                                         # -log D(G(z))
        self.optimizers["generator_live"].zero_grad(set_to_none=self.zero_grad_to_none)
        loss.backward()
        self.optimizers["generator_live"].step()
        for p in self.D.parameters():
            p.requires_grad_(True)
        self.ema.update(self.G, B * self.world_size, self.images_seen)
        self._watch(loss)
        return {"loss_g": loss.detach()}

    def _step(self) -> dict[str, torch.Tensor]:
        return {**self.d_step(), **self.g_step()}

    @torch.no_grad()
    def samples(self, noise: torch.Tensor | None = None, labels: torch.Tensor | None = None) -> torch.Tensor:
        """The moving-average generator's pictures in [-1, 1] for z `noise` (default: the fixed grid;
        a conditional model's rows are its classes), with its fixed noise buffers."""
        G = self.ema.module
        G.eval()
        try:
            if noise is None:
                noise, labels = self.fixed_noise, self.fixed_labels
            elif labels is None and self.num_classes:
                labels = torch.arange(len(noise), device=self.device) % self.num_classes
            return G(noise, labels, noise_mode="const")
        finally:
            G.train()
