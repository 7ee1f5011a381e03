"""Training an encoder E(x) -> z for a frozen GAN generator G, same interface as the other trainers.

Each step has two halves that share one encoder pass:
  * pairs (z, G(z)) with z ~ N(0, I): the latent loss |E(G(z)) - z|^2 teaches E to undo G on
    everything G can draw (Donahue et al. 2017 and Zhu et al. 2016 use the same pairs);
  * real training pictures x: the reconstruction G(E(x)) should look like x, measured in pixels
    and in the frozen classifier's features (a "perceptual" loss, Johnson et al. 2016, with the
    project's own classifier standing in for VGG), so E also puts real clothes somewhere sensible;
  * a small penalty keeps |E(x)| near sqrt(latent_dim), the length of a typical N(0, I) latent,
    so the point lands where the sliders and directions work.
G and the classifier stay in eval mode with their weights frozen; only E learns.

A class-conditional G(z, y) has one encoder for all its classes: z is what the classes share
(pose, size, colour scheme), and the class is read from the picture by the dataset's classifier
when a picture is placed. So the pairs are (z, G(z, y)) with a random class y, and a real
picture is drawn back in its own class, G(E(x), y_x). E sees only pixels.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from explorer.core.validation import UserError
from explorer.training.base import Trainer, make_adam


@dataclass
class EncoderTrainConfig:
    batch_size: int = 64         # pairs (z, G(z)) and real pictures each, per step
    lr: float = 1e-3             # Adam; cosine-decayed to lr/10 over total_steps when that is set
    total_steps: int = 0         # 0: constant learning rate
    latent_weight: float = 1.0   # |E(G(z)) - z|^2 per coordinate
    pixel_weight: float = 10.0   # |G(E(x)) - x|^2 per pixel (images in [0, 1]; ~0.03 at a fair fit)
    feature_weight: float = 1.0  # squared classifier-feature difference per feature (~0.3 at a fair fit)
    norm_weight: float = 0.1     # (|E(x)| - sqrt(d))^2 / d
    seed: int = 0

    def __post_init__(self):
        if self.batch_size < 1 or self.lr <= 0 or self.total_steps < 0:
            raise UserError("batch_size must be at least 1, lr positive and total_steps at least 0.")
        if min(self.latent_weight, self.pixel_weight, self.feature_weight, self.norm_weight) < 0:
            raise UserError("Loss weights must be zero or positive.")

    def to_dict(self) -> dict:
        return asdict(self)


def frozen(module: nn.Module) -> nn.Module:
    """`module` in eval mode with no gradients for its own weights (gradients still flow through it)."""
    module.eval()
    for p in module.parameters():
        p.requires_grad_(False)
    return module


class EncoderTrainer(Trainer):
    """Trains {"encoder": Encoder} against a frozen generator (and optionally a frozen classifier)."""

    kind = "encoder"

    def __init__(self, modules: dict, generator: nn.Module, sampler, cfg: EncoderTrainConfig, device="cpu",
                 classifier: nn.Module | None = None, check_every: int = 50):
        super().__init__(device, cfg.seed, check_every)
        self.cfg, self.sample_real = cfg, sampler          # real pictures in [0, 1]
        self.E = modules["encoder"].to(self.device)
        self.G = frozen(generator.to(self.device))
        self.C = frozen(classifier.to(self.device)) if classifier is not None else None
        if self.E.cfg.latent_dim != self.G.cfg.latent_dim:
            raise UserError(f"The encoder predicts {self.E.cfg.latent_dim} numbers but the generator reads "
                             f"{self.G.cfg.latent_dim}.")
        self.modules = {"encoder": self.E}
        self.optimizers = {"encoder": make_adam(list(self.E.parameters()), self.device, lr=cfg.lr)}
        self.dataset_size = getattr(sampler, "size", 0)
        self.latent_dim = self.E.cfg.latent_dim
        self.num_classes = getattr(self.G.cfg, "num_classes", 0)
        g = torch.Generator(device=self.device).manual_seed(cfg.seed + 12345)
        # for sample grids: fixed pictures (and their classes) above their fits
        self.fixed_real, self.fixed_labels = self._real(32, g)
        if self.num_classes and int(self.fixed_labels.max()) >= self.num_classes:
            raise UserError(f"The pictures' classes go up to {int(self.fixed_labels.max())}, but the generator "
                             f"draws {self.num_classes} classes: train the encoder on the generator's own dataset.")

    def _real(self, batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Real pictures (B, C, H, W) in [0, 1], with their classes (B,) for a class-conditional G."""
        if self.num_classes:
            return self.sample_real.take_with_labels(batch, generator)
        return self.sample_real(batch, generator), None

    def _lr(self) -> float:
        if not self.cfg.total_steps:
            return self.cfg.lr
        t = min(self.step / self.cfg.total_steps, 1.0)
        return self.cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """G(z) (or G(z, y) for class-conditional G) in [0, 1], with gradients to z (Generator.generate has none)."""
        return (self.G(z, y) + 1) * 0.5

    def _step(self) -> dict[str, torch.Tensor]:
        cfg, B = self.cfg, self.cfg.batch_size
        z = torch.randn(B, self.latent_dim, device=self.device, generator=self.gen)
        y_fake = (torch.randint(self.num_classes, (B,), device=self.device, generator=self.gen)
                  if self.num_classes else None)
        with torch.no_grad():
            fake = self.decode(z, y_fake)                              # (B, C, H, W)
        real, y_real = self._real(B, self.gen)                          # (B, C, H, W) in [0, 1], (B,) or None
        z_hat = self.E(torch.cat([fake, real]))                         # (2B, d): one pass, one BatchNorm batch
        latent = F.mse_loss(z_hat[:B], z)
        recon = self.decode(z_hat[B:], y_real)                          # G(E(x)) (in x's class) for the real half
        pixel = F.mse_loss(recon, real)
        feature = (F.mse_loss(self.C.features(recon), self.C.features(real)) if self.C is not None
                   else torch.zeros((), device=self.device))
        norm = ((z_hat.norm(dim=1) - math.sqrt(self.latent_dim)) ** 2).mean() / self.latent_dim
        loss = (cfg.latent_weight * latent + cfg.pixel_weight * pixel + cfg.feature_weight * feature
                + cfg.norm_weight * norm)
        opt = self.optimizers["encoder"]
        for group in opt.param_groups:
            group["lr"] = self._lr()
        opt.zero_grad(set_to_none=self.zero_grad_to_none)
        loss.backward()
        opt.step()
        self._watch(loss)
        self.images_seen += B
        return {"loss": loss.detach(), "latent": latent.detach(), "pixel": pixel.detach(),
                "feature": feature.detach(), "norm": norm.detach()}

    @torch.no_grad()
    def samples(self, noise: torch.Tensor | None = None) -> torch.Tensor:
        """Fixed real pictures above their reconstructions G(E(x)), in [-1, 1] like GAN samples."""
        self.E.eval()
        try:
            x = self.fixed_real
            return torch.cat([x, self.decode(self.E(x), self.fixed_labels)]) * 2 - 1   # (2*32, C, H, W)
        finally:
            self.E.train()
