"""VAE training: minimise the negative ELBO (reconstruction NLL + KL) with Adam, same interface as GANs."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from explorer.training.base import Trainer, make_adam


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
        self.fixed_noise = torch.randn(64, self.latent_dim, device=self.device,
                                       generator=torch.Generator(device=self.device).manual_seed(cfg.seed + 12345))


    def _step(self) -> dict[str, torch.Tensor]:
        x = self.sample_real(self.cfg.batch_size, self.gen)
        out, mean, logvar = self.vae(x, generator=self.gen)
        nll, kl = self.vae.loss_terms(x, out, mean, logvar)
        loss = nll + self.cfg.beta * kl
        self.optimizers["vae"].zero_grad(set_to_none=self.zero_grad_to_none)
        loss.backward()
        self.optimizers["vae"].step()
        self._watch(loss)
        self.images_seen += x.shape[0]
        return {"loss": loss.detach(), "recon": nll.detach(), "kl": kl.detach()}

    @torch.no_grad()
    def samples(self, noise: torch.Tensor | None = None) -> torch.Tensor:
        """Decoded fixed noise in [-1, 1] (the same range GAN samples use, for shared grid code)."""
        self.vae.eval()
        try:
            return self.vae.generate(self.fixed_noise if noise is None else noise) * 2 - 1
        finally:
            self.vae.train()
