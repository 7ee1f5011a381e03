"""Pictures as bytes: tile a batch into one grid, PNG files and data URLs, animated GIFs.

Everything here takes uint8 numpy arrays (H, W[, C]) or batches of them; nothing knows about models."""
from __future__ import annotations

import base64
import io
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


def png_bytes(image: np.ndarray) -> bytes:
    """uint8 (H, W[, C]) -> PNG bytes (fast: these images are tiny)."""
    from PIL import Image

    img = image[..., 0] if image.ndim == 3 and image.shape[2] == 1 else image
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def png_data_url(image: np.ndarray) -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode("ascii")


def gif_bytes(frames: np.ndarray, fps: float = 12.0, scale: int = 4) -> bytes:
    """An animated, looping GIF (bytes) of uint8 frames (T, H, W, C), upscaled crisply, played there and back."""
    import imageio.v3 as iio

    f = frames.repeat(scale, axis=1).repeat(scale, axis=2)
    if f.shape[-1] == 1:
        f = f[..., 0]
    buf = io.BytesIO()
    iio.imwrite(buf, list(f) + list(f[::-1]), extension=".gif", duration=1000 / fps, loop=0)
    return buf.getvalue()


def gif_data_url(frames: np.ndarray) -> str:
    return "data:image/gif;base64," + base64.b64encode(gif_bytes(frames)).decode("ascii")
