"""Evaluation figures: Frechet distance, class coverage, improved precision/recall, ELBO.

Features come from the penultimate layer of a classifier trained on the model's own dataset
(eval/features.py; Inception does not suit 28x28 grayscale and cannot be downloaded here).
  FD (Heusel et al. 2017): |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^1/2) between Gaussian fits.
  Class coverage: entropy of the predicted-label histogram / log(classes); 1 = all equally present.
  Precision / recall (Kynkaanniemi et al. 2019): k-NN balls (k = 3) around real / generated
  features; precision = share of generated samples inside the real manifold, recall the reverse.
"""
from __future__ import annotations

import math

import torch



def frechet_distance(f1: torch.Tensor, f2: torch.Tensor) -> float:
    """FD between Gaussian fits of two feature sets (N1, F), (N2, F)."""
    f1, f2 = f1.double(), f2.double()
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = torch.cov(f1.T), torch.cov(f2.T)
    # Tr (S1 S2)^1/2 = Tr (S1^1/2 S2 S1^1/2)^1/2, whose argument is symmetric PSD: use eigh
    w, v = torch.linalg.eigh(s1)
    sqrt_s1 = (v * w.clamp(min=0).sqrt()) @ v.T
    m = sqrt_s1 @ s2 @ sqrt_s1
    tr_sqrt = torch.linalg.eigvalsh((m + m.T) / 2).clamp(min=0).sqrt().sum()
    fd = (mu1 - mu2).pow(2).sum() + s1.trace() + s2.trace() - 2 * tr_sqrt
    return float(fd.clamp(min=0))


def class_coverage(labels: torch.Tensor, num_classes: int) -> float:
    counts = torch.bincount(labels, minlength=num_classes).double()
    p = counts / counts.sum()
    nz = p[p > 0]
    return abs(float(-(nz * nz.log()).sum() / math.log(num_classes)))     # abs: -0.0 for one class


def _kth_nn_radius(f: torch.Tensor, k: int, chunk: int = 2000) -> torch.Tensor:
    radii = []
    for i in range(0, len(f), chunk):
        d = torch.cdist(f[i:i + chunk], f)                     # (c, N)
        radii.append(d.kthvalue(k + 1, dim=1).values)          # +1: the point itself is at distance 0
    return torch.cat(radii)


def _inside(query: torch.Tensor, ref: torch.Tensor, radii: torch.Tensor, chunk: int = 2000) -> torch.Tensor:
    hits = []
    for i in range(0, len(query), chunk):
        d = torch.cdist(query[i:i + chunk], ref)               # (c, N)
        hits.append((d <= radii[None]).any(1))
    return torch.cat(hits)


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = 3) -> tuple[float, float]:
    real, fake = real.float(), fake.float()
    precision = _inside(fake, real, _kth_nn_radius(real, k)).float().mean()
    recall = _inside(real, fake, _kth_nn_radius(fake, k)).float().mean()
    return float(precision), float(recall)


@torch.no_grad()
def generate(family, n: int, seed: int = 0, batch: int = 500) -> torch.Tensor:
    """n pictures in [0, 1] (N, C, H, W) from an unconditional model family, latents from `seed`."""
    z = family.seed_latents(n, seed)
    out = []
    for i in range(0, n, batch):
        with family.lock:
            out.append(family.decode(z[i:i + batch].to(family.device)).cpu())
    return torch.cat(out)
