"""The decoded manifold of a model with a 2-d latent space: one sheet of pictures over a grid.

Tile (row, column) of an n x n sheet shows the decoding of the grid point (ticks[column],
ticks[n - 1 - row]), ticks spanning [-extent, extent]: the top row is the highest z2, as on a plot.
"""
from __future__ import annotations

import numpy as np
import torch

from explorer.core.validation import UserError, check_number
from explorer.explore.registry import LoadedModel

SHEET_TILES = 15
SHEET_EXTENT = 3.0


def manifold_sheet(m: LoadedModel, n: int = SHEET_TILES, extent: float = SHEET_EXTENT) -> np.ndarray:
    """The decoded grid (n*H, n*W, C) over [-extent, extent]^2 of a model with a 2-d latent."""
    if m.latent_dim != 2:
        raise UserError("The decoded-manifold view needs a model with a 2-d latent space.")
    ticks = np.linspace(-extent, extent, n, dtype=np.float32)
    gy, gx = np.meshgrid(ticks[::-1], ticks, indexing="ij")             # row 0 = top = high y
    imgs = m.decode(np.stack([gx.ravel(), gy.ravel()], 1))               # (n*n, H, W, C)
    h, w, c = imgs.shape[1:]
    return imgs.reshape(n, n, h, w, c).transpose(0, 2, 1, 3, 4).reshape(n * h, n * w, c)


def manifold_cell(z: torch.Tensor, n: int = SHEET_TILES, extent: float = SHEET_EXTENT) -> tuple[int, int]:
    """The grid cell (row, column) of the manifold sheet under a 2-d latent z."""
    zz = np.asarray(z, np.float64)
    col = int(np.clip(np.round((zz[0] + extent) / (2 * extent) * (n - 1)), 0, n - 1))
    row = int(np.clip(np.round((extent - zz[1]) / (2 * extent) * (n - 1)), 0, n - 1))
    return row, col


def manifold_latent(fx: float, fy: float, n: int = SHEET_TILES, extent: float = SHEET_EXTENT) -> list[float]:
    """The latent (2,) under a click on the manifold sheet at fractions (fx, fy) of its width and height
    (tile i's centre is the grid value ticks[i]; the top row is the highest z2)."""
    fx, fy = check_number("Click x", fx, 0, 1), check_number("Click y", fy, 0, 1)
    to_value = lambda f: float(np.clip((f * n - 0.5) / (n - 1), 0, 1)) * 2 * extent - extent   # noqa: E731
    return [round(to_value(fx), 4), round(-to_value(fy), 4)]
