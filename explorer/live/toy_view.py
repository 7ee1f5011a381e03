"""What the 2-D live view draws, computed from a toy GAN trainer (plain arrays, no plotting).

The paper's Figure 1, in 2-D: real points, generated points, the discriminator's output D(x)
as a background (its dashed blue line), the generator's image of a grid of noise (where each
noise region lands: a warped mesh), and the gradient that pushes each fake point.
"""
from __future__ import annotations

from collections import deque

import torch

from explorer.core.data import mode_coverage, modes, sample_toy
from explorer.live.verdict import StableVerdict
from explorer.training.gan import generator_loss

EXTENT = 3.0


class ToyView:
    """Fixed real sample, fixed noise and a fixed grid, so successive frames are comparable."""

    def __init__(self, trainer, dataset: str, points: int = 512, grid: int = 48, mesh: int = 13, seed: int = 0):
        self.t, self.dataset = trainer, dataset
        g = torch.Generator().manual_seed(seed)
        dev = trainer.device
        self.real = sample_toy(dataset, points, g).to(dev)
        self.noise = torch.randn(points, trainer.latent_dim, generator=g).to(dev)
        self.coverage_noise = torch.randn(2000, trainer.latent_dim, generator=g).to(dev)
        ticks = torch.linspace(-EXTENT, EXTENT, grid)
        gy, gx = torch.meshgrid(ticks, ticks, indexing="ij")
        self.grid_ticks = ticks.numpy()
        self.grid_points = torch.stack([gx.flatten(), gy.flatten()], 1).to(dev)          # (grid^2, 2)
        u = torch.linspace(-2, 2, mesh)
        mu, mv = torch.meshgrid(u, u, indexing="ij")
        mesh_noise = torch.zeros(mesh * mesh, trainer.latent_dim)
        mesh_noise[:, 0], mesh_noise[:, 1 % trainer.latent_dim] = mu.flatten(), mv.flatten()
        self.mesh_noise, self.mesh = mesh_noise.to(dev), mesh
        self.coverage_history: deque[tuple[int, int]] = deque(maxlen=200)   # (step, modes covered)
        self.fit_real = sample_toy(dataset, 1000, g).to(dev)          # the real data the fakes are measured against
        self.verdict = StableVerdict()

    def frame(self, arrows: bool = True) -> dict:
        t = self.t
        G, D = t.G, t.D
        wgan = t.cfg.loss == "wgan-gp"
        with torch.no_grad():
            fake = G(self.noise)
            logits = D(self.grid_points)
            heat = logits if wgan else torch.sigmoid(logits)
            mesh = G(self.mesh_noise).view(self.mesh, self.mesh, 2)
            cover_pts = G(self.coverage_noise)
            d_real = D(self.real)
            d_fake = D(fake)
        coverage = mode_coverage(self.dataset, cover_pts)
        if coverage is not None:
            self.coverage_history.append((t.step, coverage[0]))
        fit = data_fit(self.fit_real, cover_pts)
        d_real_v = float(d_real.mean() if wgan else torch.sigmoid(d_real).mean())
        d_fake_v = float(d_fake.mean() if wgan else torch.sigmoid(d_fake).mean())
        verdict = self.verdict.update(t.step, d_real_v, d_fake_v, coverage, list(self.coverage_history), wgan, fit)
        out = {
            "step": t.step, "coverage_history": list(self.coverage_history),
            "real": self.real.cpu().numpy(), "fake": fake.cpu().numpy(),
            "heat": heat.view(len(self.grid_ticks), len(self.grid_ticks)).cpu().numpy(), "ticks": self.grid_ticks,
            "mesh": mesh.cpu().numpy(), "wgan": wgan,
            "d_real": d_real_v, "d_fake": d_fake_v, "coverage": coverage, "fit": fit, "verdict": verdict,
            "modes": None if modes(self.dataset) is None else modes(self.dataset).numpy(),
        }
        if arrows:
            x = fake.detach().clone().requires_grad_(True)
            loss = generator_loss(t.cfg.loss, D(x)).sum()
            (grad,) = torch.autograd.grad(loss, x)
            push = -grad                                                   # where G's update moves each point
            scale = 0.35 / (push.norm(dim=1).max().clamp(min=1e-8))
            out["arrows"] = (push * scale).cpu().numpy()
        return out


def data_fit(real: torch.Tensor, fake: torch.Tensor, radius: float = 0.15) -> tuple[float, float]:
    """(precision, recall) of fakes against real points: the share of fakes within `radius` of some real
    point, and the share of real points within `radius` of some fake (the data's noise is 0.04-0.06)."""
    d = torch.cdist(fake.float(), real.float())                          # (fakes, reals)
    return float((d.min(1).values < radius).float().mean()), float((d.min(0).values < radius).float().mean())


def real_data_preview(dataset: str, points: int = 512, seed: int = 0) -> dict:
    """The real data alone, drawn before a run starts (GAN Lab does this): what the forger must learn."""
    g = torch.Generator().manual_seed(seed)
    m = modes(dataset)
    return {"real": sample_toy(dataset, points, g).numpy(), "modes": None if m is None else m.numpy()}
