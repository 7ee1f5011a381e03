"""Meaningful directions in a model's latent space, for the Explore tab's sliders.

Principal directions
  VAE: principal components of the posterior means of the encoded test set.
  GAN: GANSpace (Harkonen et al. 2020, section 3.1, their BigGAN recipe): PCA of the activations
       of an early generator layer over many random z, then the latent basis U that best maps
       the PCA coordinates back to z (least squares), orthonormalised (QR, in order of variance)
       so each slider is an independent coordinate. The early layer is after the first
       BatchNorm+ReLU: z -> (4w, 7, 7) is linear before it, so the PCA there would only recover
       the singular vectors of one weight matrix.
  Each direction reports the share of variance it explains.
Class directions ("more like Sneaker", "Sneaker <-> Ankle boot")
  Differences of class means in latent space: encoded test images for a VAE; for a GAN, random
  samples labelled by the shipped classifier.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from explorer.core.checkpoints import Checkpoint
from explorer.core.data import load_dataset, to_unit
from explorer.core.latent import sample_z
from explorer.core.models import decoder_of


@dataclass
class Directions:
    basis: torch.Tensor            # (K, D) orthonormal rows, in order of explained variance
    explained: torch.Tensor        # (K,) share of variance each direction explains (0..1)
    center: torch.Tensor           # (D,) the origin the sliders measure from
    scales: torch.Tensor           # (K,) one slider unit (1 sigma) in latent units
    class_means: torch.Tensor      # (C, D) mean latent per class (empty if no classes)
    class_names: list[str]

    def to_tensors(self) -> dict[str, torch.Tensor]:
        t = {"basis": self.basis, "explained": self.explained, "center": self.center, "scales": self.scales,
             "class_means": self.class_means}
        return {k: v.float().contiguous() for k, v in t.items()}

    @classmethod
    def from_tensors(cls, t: dict[str, torch.Tensor], class_names: list[str]) -> "Directions":
        return cls(t["basis"], t["explained"], t["center"], t["scales"], t["class_means"], class_names)

    def coordinates(self, z: torch.Tensor) -> torch.Tensor:
        """Slider values (K,) of a latent (D,): where it sits along each direction, in sigmas."""
        return (self.basis @ (z - self.center)) / self.scales

    def apply(self, z: torch.Tensor, sliders: torch.Tensor) -> torch.Tensor:
        """Move z (D,) so that its slider coordinates become `sliders` (K,); the rest of z is kept."""
        delta = sliders * self.scales - self.coordinates(z) * self.scales
        return z + delta @ self.basis

    def named(self) -> dict[str, torch.Tensor]:
        """Readable name -> latent displacement: "more like X" and "A <-> B" for class pairs."""
        out: dict[str, torch.Tensor] = {}
        if not len(self.class_names):
            return out
        overall = self.class_means.mean(0)
        for i, a in enumerate(self.class_names):
            out[f"more like {a}"] = self.class_means[i] - overall
        for i, a in enumerate(self.class_names):
            for j in range(i + 1, len(self.class_names)):
                out[f"{a} ↔ {self.class_names[j]}"] = self.class_means[j] - self.class_means[i]
        return out


def _orthonormal_rows(u: torch.Tensor) -> torch.Tensor:
    q, r = torch.linalg.qr(u.T)                                # (D, K): columns orthonormal, order kept
    return (q * torch.sign(torch.diagonal(r))[None]).T         # keep each row's original orientation


def _class_means(latents: torch.Tensor, labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    means = torch.zeros(n_classes, latents.shape[1])
    for c in range(n_classes):
        sel = labels == c
        means[c] = latents[sel].mean(0) if sel.any() else latents.mean(0)
    return means


@torch.no_grad()
def vae_directions(ck: Checkpoint, data_dir=None, max_images: int = 10_000) -> Directions:
    vae = ck.modules["vae"].eval()
    device = next(vae.parameters()).device
    test = load_dataset(ck.meta.get("dataset", {}).get("name", "fashion-mnist"), "test", data_dir)
    x = to_unit(test.images[:max_images])
    means = torch.cat([vae.encode(x[i:i + 1000].to(device))[0].cpu() for i in range(0, len(x), 1000)])   # (N, D)
    center = means.mean(0)
    cov = torch.cov((means - center).T.double())
    evals, evecs = torch.linalg.eigh(cov)                         # ascending
    order = torch.argsort(evals, descending=True)
    evals, basis = evals[order].clamp(min=0), evecs[:, order].T   # (D,), (D, D) rows = components
    cm = _class_means(means, test.labels[:max_images], len(test.class_names))
    return Directions(basis.float(), (evals / evals.sum()).float(), center, evals.sqrt().float().clamp(min=1e-3),
                      cm, list(test.class_names))


@torch.no_grad()
def gan_directions(ck: Checkpoint, samples: int = 5000, seed: int = 0, classifier=None) -> Directions:
    G = decoder_of(ck.modules).eval()
    device = next(G.parameters()).device
    D = G.cfg.latent_dim
    z = sample_z(samples, D, seed)                                                     # (N, D)
    early = torch.nn.Sequential(*list(G.body)[:2])                                    # first BatchNorm + ReLU
    acts = []
    for i in range(0, samples, 500):
        zb = z[i:i + 500].to(device)
        h = G.project(zb).view(len(zb), -1, G.base, G.base)
        acts.append(early(h).flatten(1).cpu())
    y = torch.cat(acts)                                                               # (N, F)
    y -= y.mean(0)
    total_var = (y * y).sum()
    k = min(D, 32)
    torch.manual_seed(seed)                                                           # randomized SVD: reproducible
    u_svd, s, _ = torch.svd_lowrank(y, q=k + 8, niter=4)                              # PCA: top components only
    coords = (u_svd[:, :k] * s[:k]).double()                                          # (N, k) PCA coordinates
    latent_basis = torch.linalg.lstsq(coords, z.double()).solution                     # (k, D): coords @ U ~ z
    basis = _orthonormal_rows(latent_basis).float()
    explained = (s[:k] ** 2 / total_var).float()
    labels_names: list[str] = []
    cm = torch.zeros(0, D)
    if classifier is not None:
        from explorer.eval.metrics import classify
        imgs = torch.cat([G.generate(z[i:i + 500].to(device)).cpu() for i in range(0, samples, 500)])
        _, pred = classify(classifier, imgs)
        labels_names = list(ck.class_names)
        cm = _class_means(z, pred, len(labels_names))
    return Directions(basis, explained, torch.zeros(D), torch.ones(k), cm, labels_names)
