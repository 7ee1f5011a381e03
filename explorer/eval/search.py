"""Placing a picture in a decoder one cannot differentiate (an ONNX file): a bounded gradient-free search.

A (1 + lambda) evolution strategy (Rechenberg 1973; Beyer & Schwefel 2002, "Evolution strategies: a
comprehensive introduction", section 4): each step draws `population` latents around the best one so far,
all decoded in one batch, and keeps the best if it is better. The step size grows by 1.5 after a step
that found a better latent and shrinks by 0.7 after one that did not (close to the 1/5th success rule),
so it starts wide and narrows as the fit gets close. The loss is refinement's (explorer/eval/refine.py):
pixels, the dataset classifier's features, and the latent's length. Bounded by steps and time, like
refinement, and reproducible from its seed.
"""
from __future__ import annotations

import time
from collections.abc import Callable

import torch

from explorer.eval.refine import REFINE_SECONDS, Progress, Refined, picture_loss, _uint8

SEARCH_STEPS = 60         # steps of `population` pictures each
POPULATION = 8
SIGMA = 0.5               # the first step size, in units of the prior's standard deviation
GROW, SHRINK = 1.5, 0.7


@torch.no_grad()
def search_latent(decode: Callable[[torch.Tensor], torch.Tensor], features, target: torch.Tensor, z0: torch.Tensor,
                  steps: int = SEARCH_STEPS, seconds: float | None = REFINE_SECONDS, population: int = POPULATION,
                  sigma: float = SIGMA, seed: int = 0, progress: Progress | None = None, progress_every: int = 5,
                  stop=None) -> Refined:
    """Search a latent for one target picture (1, C, H, W) in [0, 1] from z0 (1, D).

    decode: latents (B, D) -> pictures (B, C, H, W) in [0, 1]; features: pictures -> (B, F) or None."""
    start = last = time.perf_counter()
    g = torch.Generator().manual_seed(seed)
    target_f = features(target) if features is not None else None

    def loss(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pictures = decode(z)
        return picture_loss(pictures, target.expand(len(z), -1, -1, -1), z, features, target_f), pictures

    z = z0.detach().float().cpu().clone()
    best, picture = loss(z)
    start_loss, history, stopped_by, done = best.clone(), [], "steps", 0
    for step in range(1, steps + 1):
        if stop is not None and stop.is_set():
            stopped_by = "stop"
            break
        now = time.perf_counter()
        if seconds is not None and now + (now - last) - start > seconds:      # the next step would overrun
            stopped_by = "time"
            break
        last = now
        candidates = z + sigma * torch.randn(population, z.shape[1], generator=g)
        losses, pictures = loss(candidates)
        i = int(losses.argmin())
        if losses[i] < best[0]:
            z, best, picture, sigma = candidates[i:i + 1], losses[i:i + 1], pictures[i:i + 1], sigma * GROW
        else:
            sigma *= SHRINK
        done = step
        history.append(float(best[0]))
        if progress is not None and step % progress_every == 0:
            progress(step, float(best[0]), _uint8(picture[0]))
    return Refined(z, best, start_loss, done, time.perf_counter() - start, stopped_by, history)
