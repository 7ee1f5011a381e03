"""2-D toy distributions for the live GAN: ring of 8 Gaussians, 5x5 grid, spiral, two moons.

Each sampler takes a torch.Generator so every batch is reproducible. `modes(name)` gives the
centres that "mode coverage" counts (None for the continuous spiral and moons).
"""
from __future__ import annotations

import functools
import math

import torch

from explorer.core.validation import UserError

TOY_NAMES = ("ring", "grid", "spiral", "moons")


def _ring_centres(n: int = 8, radius: float = 2.0) -> torch.Tensor:
    angles = torch.arange(n, dtype=torch.float32) * (2 * math.pi / n)
    return torch.stack([radius * torch.cos(angles), radius * torch.sin(angles)], 1)   # (n, 2)


def _grid_centres(side: int = 5, spacing: float = 1.0) -> torch.Tensor:
    ticks = (torch.arange(side, dtype=torch.float32) - (side - 1) / 2) * spacing
    gx, gy = torch.meshgrid(ticks, ticks, indexing="ij")
    return torch.stack([gx.flatten(), gy.flatten()], 1)                                # (side^2, 2)


def modes(name: str) -> torch.Tensor | None:
    """Centres of the distribution's modes, or None where it has no discrete modes."""
    centres = _centres(name)
    return None if centres is None else centres.clone()


@functools.lru_cache(maxsize=None)
def _centres(name: str) -> torch.Tensor | None:
    """`modes`, computed once (every training batch of the live 2-D game reads them): never written to."""
    if name == "ring":
        return _ring_centres()
    if name == "grid":
        return _grid_centres()
    if name in ("spiral", "moons"):
        return None
    raise UserError(f"Unknown toy distribution {name!r}; choose from {', '.join(TOY_NAMES)}.")


def mode_std(name: str) -> float:
    return {"ring": 0.05, "grid": 0.05}.get(name, 0.0)


def sample_toy(name: str, n: int, generator: torch.Generator | None = None, device="cpu") -> torch.Tensor:
    """n points (n, 2) from the named distribution, roughly within [-2.5, 2.5]^2."""
    g = generator
    dev = g.device if g is not None else torch.device(device)   # draw where the generator lives
    kw = {"generator": g, "device": dev}
    if name in ("ring", "grid"):
        centres = _centres(name).to(dev)
        idx = torch.randint(len(centres), (n,), **kw)
        pts = centres[idx] + mode_std(name) * torch.randn(n, 2, **kw)
    elif name == "spiral":
        t = torch.sqrt(torch.rand(n, **kw)) * 3 * math.pi          # uniform along the arc
        r = t / (3 * math.pi) * 2.2
        pts = torch.stack([r * torch.cos(t), r * torch.sin(t)], 1) + 0.04 * torch.randn(n, 2, **kw)
    elif name == "moons":
        t = torch.rand(n, **kw) * math.pi
        upper = torch.rand(n, **kw) < 0.5
        x = torch.where(upper, torch.cos(t), 1 - torch.cos(t))
        y = torch.where(upper, torch.sin(t), 0.5 - torch.sin(t))
        pts = torch.stack([x - 0.5, y - 0.25], 1) * 1.6 + 0.06 * torch.randn(n, 2, **kw)
    else:
        modes(name)  # raises the clear error
        raise AssertionError
    return pts.to(device)


def mode_coverage(name: str, points: torch.Tensor, min_share: float = 0.2) -> tuple[int, int] | None:
    """(modes covered, total modes): a mode counts as covered when at least `min_share` of its
    fair share of generated points lies within 3 standard deviations of its centre.
    None for distributions without discrete modes."""
    centres = modes(name)
    if centres is None:
        return None
    centres = centres.to(points.device)
    d = torch.cdist(points.float(), centres)                               # (n, modes)
    nearest = d.argmin(1)
    close = d.gather(1, nearest[:, None]).squeeze(1) < 3 * mode_std(name) + 0.1
    counts = torch.bincount(nearest[close], minlength=len(centres))
    fair = len(points) / len(centres)
    return int((counts >= min_share * fair).sum()), len(centres)
