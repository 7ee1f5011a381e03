"""VAE training: minimise the negative ELBO (reconstruction NLL + KL) with Adam, same interface as GANs.
A cVAE (cfg.num_classes > 0) trains on images with their labels; its fixed grid is rows = classes x columns = z."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from explorer.training.base import Trainer, make_adam
from explorer.training.gan import GRID_COLUMNS


@dataclass
class VAETrainConfig:
    batch_size: int = 128
    lr: float = 1e-3
    beta: float = 1.0        # weight of the KL term; 1 = the true ELBO
    seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


class VAETrainer(Trainer):
    kind = "vae"

    def __init__(self, modules: dict, sampler, cfg: VAETrainConfig, device="cpu", check_every: int = 50):
        super().__init__(device, cfg.seed, check_every)
        self.cfg, self.sample_real = cfg, sampler
        self.vae = modules["vae"].to(self.device)
        self.modules = {"vae": self.vae}
        self.optimizers = {"vae": make_adam(list(self.vae.parameters()), self.device, lr=cfg.lr)}
        self.dataset_size = getattr(sampler, "size", 0)
        self.latent_dim = self.vae.cfg.latent_dim
        self.num_classes = self.vae.cfg.num_classes
        fixed = torch.Generator(device=self.device).manual_seed(cfg.seed + 12345)
        if self.num_classes:   # rows = classes, columns = the same GRID_COLUMNS latents
            self.grid_columns = GRID_COLUMNS
            self.fixed_noise = torch.randn(GRID_COLUMNS, self.latent_dim, device=self.device,
                                           generator=fixed).repeat(self.num_classes, 1)
            self.fixed_labels = torch.arange(self.num_classes, device=self.device).repeat_interleave(GRID_COLUMNS)
        else:
            self.grid_columns, self.fixed_labels = None, None
            self.fixed_noise = torch.randn(64, self.latent_dim, device=self.device, generator=fixed)


    def _step(self) -> dict[str, torch.Tensor]:
        if self.num_classes:
            x, y = self.sample_real.take_with_labels(self.cfg.batch_size, self.gen)
        else:
            x, y = self.sample_real(self.cfg.batch_size, self.gen), None
        # eps drawn for the global batch, this process's rows kept (one process: exactly what
        # the model would draw itself)
        eps = self.own_rows(torch.randn(x.shape[0] * self.world_size, self.latent_dim, device=self.device,
                                        generator=self.gen))                    # (B, z)
        out, mean, logvar = self.forward_module("vae")(x, y=y, eps=eps)
        nll, kl = self.vae.loss_terms(x, out, mean, logvar)
        loss = nll + self.cfg.beta * kl
        self.optimizers["vae"].zero_grad(set_to_none=self.zero_grad_to_none)
        loss.backward()
        self.optimizers["vae"].step()
        self._watch(loss)
        self.images_seen += x.shape[0] * self.world_size
        return {"loss": loss.detach(), "recon": nll.detach(), "kl": kl.detach()}

    @torch.no_grad()
    def samples(self, noise: torch.Tensor | None = None, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Decoded fixed noise in [-1, 1] (the same range GAN samples use, for shared grid code);
        for a cVAE the classes x fixed-z grid, row by row."""
        self.vae.eval()
        try:
            if self.num_classes:
                if noise is None:
                    noise, labels = self.fixed_noise, self.fixed_labels
                elif labels is None:
                    labels = torch.arange(len(noise), device=self.device) % self.num_classes
                out = self.vae.decode(noise, labels)
                return (torch.sigmoid(out) if self.vae.cfg.recon == "bernoulli" else out.clamp(0, 1)) * 2 - 1
            return self.vae.generate(self.fixed_noise if noise is None else noise) * 2 - 1
        finally:
            self.vae.train()
