"""Pictures as bytes: tile a batch into one grid, PNG files and data URLs, animated GIFs.

Everything here takes uint8 numpy arrays (H, W[, C]) or batches of them; nothing knows about models."""
from __future__ import annotations

import base64
import io
import math

import numpy as np
import torch


def require_uint8(pictures, where: str) -> None:
    """A TypeError (a bug, not a user's mistake) when `pictures` are not uint8 0-255: float pictures in
    0-1 would be cast to 0 and 1 and come out black. Convert first (explorer.core.data.to_uint8)."""
    dtype = pictures.dtype
    if dtype not in (torch.uint8, np.uint8):
        raise TypeError(f"{where} takes uint8 pictures (0-255), got {dtype}: convert them first (to_uint8)")


def image_grid(images: torch.Tensor, nrow: int | None = None, pad: int = 2, pad_value: int = 0) -> np.ndarray:
    """uint8 (N, C, H, W) -> uint8 (rows*(H+pad)+pad, cols*(W+pad)+pad[, 3]) numpy image."""
    require_uint8(images, "image_grid")
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

    require_uint8(array, "save_png")
    Image.fromarray(array).save(path)


def png_bytes(image: np.ndarray) -> bytes:
    """uint8 (H, W[, C]) -> PNG bytes (fast: these images are tiny)."""
    from PIL import Image

    require_uint8(image, "png_bytes")
    img = image[..., 0] if image.ndim == 3 and image.shape[2] == 1 else image
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def png_data_url(image: np.ndarray) -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode("ascii")


SMOOTH_FROM = 32     # pictures this many pixels high or more are upscaled smoothly; smaller ones crisply


def upscale(frames: np.ndarray, scale: int, smooth: bool) -> np.ndarray:
    """uint8 (T, H, W, C) -> (T, scale*H, scale*W, C): nearest neighbour (crisp pixels) or Lanczos (a picture)."""
    if not smooth:
        return frames.repeat(scale, axis=1).repeat(scale, axis=2)
    from PIL import Image

    t, h, w, c = frames.shape
    out = [np.asarray(Image.fromarray(f[..., 0] if c == 1 else f).resize((w * scale, h * scale), Image.Resampling.LANCZOS))
           for f in frames]
    return np.stack(out).reshape(t, h * scale, w * scale, c)


def gif_bytes(frames: np.ndarray, fps: float = 12.0, scale: int = 4, smooth: bool | None = None) -> bytes:
    """An animated, looping GIF (bytes) of uint8 frames (T, H, W, C), upscaled (smoothly from SMOOTH_FROM pixels
    high unless `smooth` says otherwise), played there and back."""
    import imageio.v3 as iio

    require_uint8(frames, "gif_bytes")
    f = upscale(frames, scale, frames.shape[1] >= SMOOTH_FROM if smooth is None else smooth)
    if f.shape[-1] == 1:
        f = f[..., 0]
    buf = io.BytesIO()
    iio.imwrite(buf, list(f) + list(f[::-1]), extension=".gif", duration=1000 / fps, loop=0)
    return buf.getvalue()


def gif_data_url(frames: np.ndarray) -> str:
    return "data:image/gif;base64," + base64.b64encode(gif_bytes(frames)).decode("ascii")
