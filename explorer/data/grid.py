"""Tile a batch of images into one picture (sample grids for training logs and the UI)."""
from __future__ import annotations

import math

import numpy as np
import torch


def image_grid(images: torch.Tensor, nrow: int | None = None, pad: int = 2, pad_value: int = 0) -> np.ndarray:
    """uint8 (N, C, H, W) -> uint8 (rows*(H+pad)+pad, cols*(W+pad)+pad[, 3]) numpy image."""
    n, c, h, w = images.shape
    nrow = nrow or max(1, int(math.ceil(math.sqrt(n))))
    rows = int(math.ceil(n / nrow))
    out = np.full((rows * (h + pad) + pad, nrow * (w + pad) + pad, c), pad_value, dtype=np.uint8)
    arr = images.detach().cpu().numpy().transpose(0, 2, 3, 1)      # (N, C, H, W) -> (N, H, W, C)
    for i in range(n):
        r, col = divmod(i, nrow)
        y, x = pad + r * (h + pad), pad + col * (w + pad)
        out[y:y + h, x:x + w] = arr[i]
    return out[..., 0] if c == 1 else out


def save_png(array: np.ndarray, path) -> None:
    from PIL import Image

    Image.fromarray(array).save(path)
