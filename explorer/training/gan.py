"""GAN training, Algorithm 1 of Goodfellow et al. 2014: k discriminator steps, then one generator step.

Losses, all in the numerically stable logit form (softplus(-l) = -log sigmoid(l)):
  non-saturating  D: -log D(x) - log(1 - D(G(z)))   G: -log D(G(z))   (the paper's practical choice)
  minimax         D: as above                        G: log(1 - D(G(z)))  (saturates early; kept because it teaches)
  wgan-gp         critic: C(G(z)) - C(x) + 10 (||grad C(x_hat)|| - 1)^2   G: -C(G(z))   (Gulrajani et al. 2017)
One-sided label smoothing (real target 0.9) is optional. Works for the DCGAN and the 2-D toy MLPs.
A class-conditional DCGAN (cfg.num_classes > 0) sees real images with their labels and fakes with
classes drawn uniformly from the trainer's generator; its fixed grid is rows = classes x columns = z.
With a DiffAugment policy (training/diffaugment.py, Zhao et al. 2020) every picture D sees, real or
fake, in both steps, is augmented first, with randomness from the trainer's generator.
For runs that keep improving the longer they go (training/ema.py): an exponential moving average of
G's weights (`ema_half_life`), which is what `samples()` draws and what a checkpoint holds as its
`generator` (the live weights go beside it as `generator_live`, for resuming), and the lazy R1
penalty on real pictures (`r1_gamma`, every `r1_every` D steps).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from explorer.core.validation import UserError
from explorer.training.base import Trainer, make_adam
from explorer.training.diffaugment import diff_augment, parse_policy
from explorer.training.ema import EMA, r1_penalty

LOSSES = ("non-saturating", "minimax", "wgan-gp")
GRID_COLUMNS = 8    # fixed latents per class in a conditional model's sample grid
LIVE = "generator_live"           # the live G's name in a checkpoint whose `generator` is the EMA
STANDING_BATCHES, STANDING_BATCH = 8, 128   # pictures that measure the EMA's BatchNorm statistics
STANDING_SEED = 4242              # their latents: a fixed stream, so a resumed run refreshes alike


def generator_loss(loss: str, fake_logit: torch.Tensor) -> torch.Tensor:
    """The forger's loss per fake (B,), from the inspector's logits on the fakes."""
    if loss == "wgan-gp":
        return -fake_logit
    if loss == "minimax":
        return -F.softplus(fake_logit)             # minimise log(1 - D(G(z))): saturates when D wins
    return F.softplus(-fake_logit)                 # non-saturating: minimise -log D(G(z))


def critic_settings(loss: str) -> dict:
    """Model settings a loss needs. WGAN-GP's gradient penalty is per sample; BatchNorm couples the
    samples of a batch and breaks it, so that critic uses layer norm (Gulrajani et al. 2017, sec. 4)."""
    return {"d_norm": "layer"} if loss == "wgan-gp" else {}


@dataclass
class GANTrainConfig:
    loss: str = "non-saturating"
    k: int | None = None             # D steps per G step: 1 (the paper), 5 for wgan-gp
    batch_size: int = 128
    lr_g: float | None = None        # 2e-4 (DCGAN), 1e-4 for wgan-gp
    lr_d: float | None = None
    beta1: float | None = None       # Adam betas (0.5, 0.999) (DCGAN); (0.0, 0.9) for wgan-gp
    beta2: float | None = None
    label_smoothing: float = 1.0     # target for real images in D's loss; 0.9 = one-sided smoothing
    gp_weight: float = 10.0          # gradient-penalty weight (wgan-gp only)
    seed: int = 0
    diffaugment: str = ""            # DiffAugment policy for D's inputs, e.g. "color,translation,cutout"; "" = off
    ema_half_life: float = 0.0       # half-life of G's weight average in pictures (StyleGAN2: 10 000); 0 = no average
    ema_rampup: float = 0.05         # the half-life is at most this share of the pictures seen so far; 0 = no ramp-up
    r1_gamma: float = 0.0            # R1 penalty weight on real pictures (Mescheder et al. 2018); 0 = off
    r1_every: int = 16               # lazy R1: every N D steps, weighted by N (StyleGAN2)

    def __post_init__(self):
        if self.loss not in LOSSES:
            raise UserError(f"Unknown GAN loss {self.loss!r}; choose from {', '.join(LOSSES)}.")
        wgan = self.loss == "wgan-gp"
        defaults = dict(k=5 if wgan else 1, lr_g=1e-4 if wgan else 2e-4, lr_d=1e-4 if wgan else 2e-4,
                        beta1=0.0 if wgan else 0.5, beta2=0.9 if wgan else 0.999)
        for key, val in defaults.items():
            if getattr(self, key) is None:
                setattr(self, key, val)
        if self.k < 1 or self.batch_size < 1:
            raise UserError("k and batch_size must be at least 1.")
        if not 0.5 < self.label_smoothing <= 1.0:
            raise UserError("label_smoothing (the real-image target) must be in (0.5, 1].")
        self.diffaugment = ",".join(parse_policy(self.diffaugment))
        if not (self.ema_half_life >= 0 and 0 <= self.ema_rampup <= 1):
            raise UserError(f"ema_half_life must be at least 0 pictures (got {self.ema_half_life}) and ema_rampup "
                            f"between 0 and 1 (got {self.ema_rampup}).")
        if not (self.r1_gamma >= 0 and self.r1_every >= 1):
            raise UserError(f"r1_gamma must be at least 0 (got {self.r1_gamma}) and r1_every at least 1 (got {self.r1_every}).")
        if self.r1_gamma and wgan:
            raise UserError("The R1 penalty is for the non-saturating and minimax losses; wgan-gp has its own gradient penalty.")

    def to_dict(self) -> dict:
        return asdict(self)


class GANTrainer(Trainer):
    """Trains a {"generator", "discriminator"} pair on a sampler of real data."""

    kind = "dcgan"

    def __init__(self, modules: dict, sampler, cfg: GANTrainConfig, device="cpu", kind: str = "dcgan",
                 check_every: int = 50):
        super().__init__(device, cfg.seed, check_every)
        self.kind, self.cfg, self.sample_real = kind, cfg, sampler
        self.G = modules["generator"].to(self.device)
        self.D = modules["discriminator"].to(self.device)
        self.modules = {"generator": self.G, "discriminator": self.D}
        self._d_params = list(self.D.parameters())      # frozen in each G step (listing them costs)
        self.latent_dim = self.G.cfg.latent_dim
        self.optimizers = {
            "generator": make_adam(list(self.G.parameters()), self.device, lr=cfg.lr_g, betas=(cfg.beta1, cfg.beta2)),
            "discriminator": make_adam(list(self.D.parameters()), self.device, lr=cfg.lr_d, betas=(cfg.beta1, cfg.beta2)),
        }
        self.dataset_size = getattr(sampler, "size", 0)
        self.num_classes = getattr(self.G.cfg, "num_classes", 0)
        if self.num_classes and cfg.loss == "wgan-gp":
            raise UserError("A class-conditional GAN trains with the non-saturating or minimax loss, not wgan-gp.")
        self.set_fixed_grid(cfg.seed)
        self._last_d: dict[str, torch.Tensor] = {}
        self.augment_policy = parse_policy(cfg.diffaugment)
        if self.augment_policy and kind != "dcgan":
            raise UserError("DiffAugment transforms pictures; a 2-D toy GAN trains without it.")
        self.ema = EMA(self.G, cfg.ema_half_life, cfg.ema_rampup or None) if cfg.ema_half_life > 0 else None
        self.module_copies = {LIVE: "generator"} if self.ema is not None else {}
        self._r1_plan = (False,) * cfg.k        # which D steps of the next step carry R1 (before_step)
        self._last_r1 = torch.zeros((), device=self.device)   # the latest R1 value, reported every step

    def set_fixed_grid(self, seed: int) -> None:
        """The latents (and classes) of the sample grid, the same at every step: 64 pictures, or for
        a conditional model rows = classes, columns = the same GRID_COLUMNS latents."""
        fixed = torch.Generator(device=self.device).manual_seed(seed + 12345)
        if self.num_classes:
            self.grid_columns = GRID_COLUMNS
            self.fixed_noise = self.noise(GRID_COLUMNS, fixed).repeat(self.num_classes, 1)
            self.fixed_labels = torch.arange(self.num_classes, device=self.device).repeat_interleave(GRID_COLUMNS)
        else:
            self.grid_columns, self.fixed_labels = None, None
            self.fixed_noise = self.noise(64, fixed)

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(n, self.latent_dim, device=self.device, generator=generator or self.gen)

    def train_noise(self, n: int) -> torch.Tensor:
        """z for this process's n fakes of a training step, (n, z): drawn for the global batch,
        cut to this process's rows (base.Trainer.own_rows; one process: all of them)."""
        return self.own_rows(self.noise(n * self.world_size))

    def fake_labels(self, n: int) -> torch.Tensor | None:
        """Uniform classes for this process's n fakes from the trainer's generator, drawn like
        `train_noise` (None when unconditional)."""
        if not self.num_classes:
            return None
        return self.own_rows(torch.randint(self.num_classes, (n * self.world_size,), device=self.device, generator=self.gen))

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        """What D sees of a batch: x itself, or x through the run's DiffAugment policy."""
        return diff_augment(x, self.augment_policy, self.gen) if self.augment_policy else x

    # -- the two halves of Algorithm 1, public so the Train tab can step them one at a time
    def d_step(self, r1: bool = False) -> dict[str, torch.Tensor]:
        """One discriminator step; `r1`: with the (lazy) R1 penalty on this batch's real pictures."""
        B, cfg = self.cfg.batch_size, self.cfg
        D = self.forward_module("discriminator")     # under torchrun: D's gradients averaged over processes
        if self.num_classes:
            real, real_y = self.sample_real.take_with_labels(B, self.gen)
            fake_y = self.fake_labels(B)
            with torch.no_grad():
                fake = self.G(self.train_noise(B), fake_y)
            real, fake = self.augment(real), self.augment(fake)
            real_logit, fake_logit = D(real, real_y), D(fake, fake_y)
        else:
            real = self.sample_real(B, self.gen)
            with torch.no_grad():
                fake = self.G(self.train_noise(B))
            real, fake = self.augment(real), self.augment(fake)
            if self.kind == "toy_gan":    # no BatchNorm: one pass over both is the same sums, half the ops
                real_logit, fake_logit = D(torch.cat([real, fake])).split(B)      # (2B,) -> (B,), (B,)
            else:
                real_logit, fake_logit = D(real), D(fake)
        if cfg.loss == "wgan-gp":
            gp = self._gradient_penalty(real, fake)
            loss = fake_logit.mean() - real_logit.mean() + cfg.gp_weight * gp
            out = {"critic_real": real_logit.mean().detach(), "critic_fake": fake_logit.mean().detach(),
                   "gradient_penalty": gp.detach()}
        else:
            target = torch.full_like(real_logit, cfg.label_smoothing)
            loss = (F.binary_cross_entropy_with_logits(real_logit, target)
                    + F.softplus(fake_logit).mean())                      # -log(1 - D(G(z)))
            out = {"d_real": torch.sigmoid(real_logit).mean().detach(),   # D(x)
                   "d_fake": torch.sigmoid(fake_logit).mean().detach()}   # D(G(z))
            if r1:   # on what D sees (augmented, if so); the plain D, as in _gradient_penalty
                penalty = r1_penalty(self.D, real, real_y if self.num_classes else None)
                loss = loss + (cfg.r1_gamma / 2 * cfg.r1_every) * penalty
                self._last_r1.copy_(penalty.detach())
            if cfg.r1_gamma:
                out["r1"] = self._last_r1.clone()
        self.optimizers["discriminator"].zero_grad(set_to_none=self.zero_grad_to_none)
        loss.backward()
        self.optimizers["discriminator"].step()
        self._watch(loss)
        self.images_seen += B * self.world_size    # real pictures of the global batch
        out["loss_d"] = loss.detach()
        self._last_d = out
        return out

    def _gradient_penalty(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        eps = self.own_rows(torch.rand((real.shape[0] * self.world_size,) + (1,) * (real.dim() - 1),
                                       device=self.device, generator=self.gen))
        x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
        # the plain D, not its DDP wrapper: this pass asks for gradients w.r.t. x_hat only; the
        # penalty's gradients reach D's weights in the loss's backward, which the wrapper averages
        (grad,) = torch.autograd.grad(self.D(x_hat).sum(), x_hat, create_graph=True)
        return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()

    def g_step(self) -> dict[str, torch.Tensor]:
        for p in self._d_params:
            p.requires_grad_(False)
        G = self.forward_module("generator")         # D is frozen here: its plain module will do
        if self.num_classes:
            y = self.fake_labels(self.cfg.batch_size)
            logit = self.D(self.augment(G(self.train_noise(self.cfg.batch_size), y)), y)
        else:
            logit = self.D(self.augment(G(self.train_noise(self.cfg.batch_size))))
        loss = generator_loss(self.cfg.loss, logit).mean()
        self.optimizers["generator"].zero_grad(set_to_none=self.zero_grad_to_none)
        loss.backward()
        self.optimizers["generator"].step()
        for p in self._d_params:
            p.requires_grad_(True)
        self._watch(loss)
        return {"loss_g": loss.detach()}

    def before_step(self) -> None:
        """Decided on the host before each step (a captured step cannot decide): which of its k D
        steps carry the lazy R1 penalty (every r1_every-th D step of the run), and the EMA's decay."""
        k, cfg = self.cfg.k, self.cfg
        self._r1_plan = tuple(cfg.r1_gamma > 0 and (self.step * k + i) % cfg.r1_every == 0 for i in range(k))
        if self.ema is not None:
            batch = cfg.batch_size * self.world_size
            self.ema.set_decay(batch, self.images_seen + k * batch)
            self.ema.batchnorm_stale = True      # here, not in ema.step: a replayed step runs no Python

    def step_variant(self) -> tuple[bool, ...]:
        return self._r1_plan

    def _step(self) -> dict[str, torch.Tensor]:
        for r1 in self._r1_plan:
            d = self.d_step(r1)
        out = {**d, **self.g_step()}
        if self.ema is not None:
            self.ema.step(self.G)
        return out

    # -- the average: sampled and saved
    def output_generator(self) -> nn.Module:
        """What is sampled and saved: the EMA (its BatchNorm statistics measured again on its own
        weights when they moved since), else the live G."""
        if self.ema is None:
            return self.G
        if self.ema.batchnorm_stale:
            gen = torch.Generator(device=self.device).manual_seed(self.cfg.seed + STANDING_SEED)

            def draw(_):
                z = self.noise(STANDING_BATCH, gen)
                if not self.num_classes:
                    return (z,)
                return z, torch.randint(self.num_classes, (STANDING_BATCH,), device=self.device, generator=gen)
            self.ema.refresh_batchnorm(draw, STANDING_BATCHES)
        return self.ema.module

    def output_modules(self, for_resume: bool = True) -> dict[str, nn.Module]:
        if self.ema is None:
            return self.modules
        return {"generator": self.output_generator(), "discriminator": self.D, **({LIVE: self.G} if for_resume else {})}

    def state_dict(self) -> dict:
        state = super().state_dict()
        if self.ema is not None:
            state["ema"] = {k: v.clone() for k, v in self.ema.state_dict().items()}
        return state

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        if self.ema is not None and "ema" in state:
            self.ema.load_state_dict(state["ema"])

    def restore(self, modules_state, optim_state, step, images_seen=0, random_state=None) -> None:
        """A file with an EMA holds the average as `generator` and the live G as `generator_live`;
        an older file (or one saved without optimiser state) only `generator`: the live G, and the
        start of a new average."""
        if self.ema is not None:
            self.ema.load_state_dict(modules_state["generator"].state_dict())
        live = modules_state.get(LIVE, modules_state["generator"])
        super().restore({**modules_state, "generator": live}, optim_state, step, images_seen, random_state)

    @torch.no_grad()
    def samples(self, noise: torch.Tensor | None = None, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Output of the sampled generator (the EMA, else G) for `noise` (default: the fixed noise; for
        a conditional model the classes x fixed-z grid, row by row) in eval mode, then back."""
        G = self.output_generator()
        was_training = G.training
        G.eval()
        try:
            if not self.num_classes:
                return G(self.fixed_noise if noise is None else noise)
            if noise is None:
                noise, labels = self.fixed_noise, self.fixed_labels
            elif labels is None:
                labels = torch.arange(len(noise), device=self.device) % self.num_classes
            return G(noise, labels)
        finally:
            G.train(was_training)
