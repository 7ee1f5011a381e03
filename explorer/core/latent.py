"""Pure latent-space maths: seeds -> z, lerp, slerp, truncation. No models, no I/O.

Every sampler takes an explicit seed so any image is reproducible from (checkpoint, seed, sliders).
"""
from __future__ import annotations

import torch


def sample_z(n: int, dim: int, seed: int, truncation: float | None = None, device="cpu") -> torch.Tensor:
    """n standard-normal latents (n, dim) from `seed`; with `truncation` t, each coordinate is
    redrawn until |z_i| <= t (the truncation trick: typical samples for small t)."""
    g = torch.Generator().manual_seed(int(seed))
    z = torch.randn(n, dim, generator=g)
    if truncation is not None:
        if truncation <= 0:
            raise ValueError("truncation must be positive.")
        for _ in range(100):
            bad = z.abs() > truncation
            if not bad.any():
                break
            z[bad] = torch.randn(int(bad.sum()), generator=g)
        z = z.clamp(-truncation, truncation)
    return z.to(device)


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Straight line a -> b at fractions t (T,): (D,), (D,) -> (T, D)."""
    t = t.to(a.dtype)[:, None]
    return a[None] * (1 - t) + b[None] * t


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
    """Spherical interpolation (Shoemake 1985; White 2016 for GAN latents): (D,), (D,) -> (T, D).

    Moves along the great circle between the directions of a and b while the norm changes
    linearly from |a| to |b|, so a path between typical Gaussian latents keeps a typical norm.
    Nearly parallel endpoints fall back to lerp; exactly opposite ones have no unique great
    circle, so the path turns through a fixed direction orthogonal to a.
    """
    t = t.to(a.dtype)
    na, nb = a.norm(), b.norm()
    if na < 1e-12 or nb < 1e-12:
        return lerp(a, b, t)
    ua, ub = a / na, b / nb
    cos = torch.clamp((ua * ub).sum(), -1.0, 1.0)
    norms = (na * (1 - t) + nb * t)[:, None]                             # (T, 1)
    if cos > 1 - eps:                                                    # parallel: the chord is the arc
        return lerp(a, b, t)
    if cos < -1 + eps:                                                   # opposite: pick a deterministic plane
        basis = torch.zeros_like(ua)
        basis[int(torch.argmin(ua.abs()))] = 1.0
        perp = basis - (basis * ua).sum() * ua
        perp = perp / perp.norm()
        angle = torch.pi * t[:, None]
        dirs = torch.cos(angle) * ua[None] + torch.sin(angle) * perp[None]
        return dirs * norms
    omega = torch.arccos(cos)
    so = torch.sin(omega)
    w_a = torch.sin((1 - t) * omega) / so
    w_b = torch.sin(t * omega) / so
    dirs = w_a[:, None] * ua[None] + w_b[:, None] * ub[None]            # unit vectors on the great circle
    return dirs * norms


def fractions(frames: int) -> torch.Tensor:
    """frames evenly spaced fractions 0..1 inclusive."""
    if frames < 2:
        raise ValueError("An interpolation needs at least 2 frames.")
    return torch.linspace(0.0, 1.0, frames)
