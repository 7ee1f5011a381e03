"""The VAE family (unconditional or class-conditional, a cVAE): an encoder q(z | x[, y]) and a decoder.

It encodes a person's picture itself (the posterior mean), its sliders are the principal components of
its encodings of the test pictures, and its map lays out those encodings (a cVAE's with their true class,
so the map shows the style alone).
"""
from __future__ import annotations

import torch

from explorer.core.families.checkpoint import CheckpointFamily


class VAEFamily(CheckpointFamily):
    kind = "vae"
    words = "VAE"
    inversion = "encode"
    blends_classes = True
    directions = "encoded-pca"
    map_items = "test-images"
    train_tab = {"width": 16, "hidden": 128, "latent_dim": 16}

    @property
    def net(self) -> torch.nn.Module:
        return self.checkpoint.modules["vae"]

    def _pictures(self, out: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(out) if self.net.cfg.recon == "bernoulli" else out.clamp(0, 1)

    @torch.no_grad()
    def decode(self, z, y=None):
        return self._pictures(self.net.decode(z, y))

    def decode_with_grad(self, z, y=None):
        return self._pictures(self.net.decode(z, y))

    @torch.no_grad()
    def encode(self, x, y=None):
        return self.net.encode(x, y)                                    # (mean, log-variance), each (B, D)

    def class_vectors(self):
        return self.net.dec_class.weight.detach().float().cpu()         # (K, CLASS_DIM)

    @torch.no_grad()
    def decode_blend(self, z, embeddings):
        return self._pictures(self.net.decode(z, class_embedding=embeddings))

    @torch.no_grad()
    def extra_figures(self, images, labels, seed=0, batch: int = 1000):
        """Test negative ELBO (nats per image, one posterior sample) and reconstruction MSE per pixel
        (a cVAE encodes each picture with its true class)."""
        g = torch.Generator(device=self.device).manual_seed(seed)
        elbo_sum, mse_sum = 0.0, 0.0
        for i in range(0, len(images), batch):
            x = images[i:i + batch].to(self.device)
            y = labels[i:i + batch].to(self.device) if self.num_classes else None
            with self.lock:
                out, mean, logvar = self.net(x, generator=g, y=y)
                nll, kl = self.net.loss_terms(x, out, mean, logvar)
                recon = self.decode(mean, y)
            elbo_sum += float(nll + kl) * len(x)
            mse_sum += float(((recon - x) ** 2).mean()) * len(x)
        return {"neg_elbo": elbo_sum / len(images), "recon_mse": mse_sum / len(images)}
