"""A person's own picture -> a colour model's input (side x side RGB), prepared the way the emoji were.

The emoji dataset (explorer/core/data/emoji.py) composites each transparent Twemoji on white, and
the drawing fills the square: on the 757 test emoji the object's longer side spans 59-64 of the 64
pixels (5th percentile 59, median 64). So a colour picture is prepared alike:
  * transparency composited on white (a drawing on the canvas: strokes on white);
  * cropped to what differs from the border's median colour by more than 5 % in any channel (the
    grey preparation's trim threshold), its longer side fitted to `side`, centred on white;
  * no inversion and no levels: colours are kept as they are (a colour model knows white
    backgrounds, and its colours are part of what it draws).
Decoding, size limits and the refusals in plain words are the grey preparation's
(explorer/core/picture.py), shared.
"""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from explorer.core.decoding import decoding_slot
from explorer.core.picture import (
    FLAT,
    TRIM,
    PreparedPicture,
    _shrink,
    decoded_bytes,
    picture_source,
)
from explorer.core.validation import UserError


def prepare_colour_picture(picture, side: int) -> PreparedPicture:
    """Bytes, numpy array, PIL image or Gradio editor dict -> PreparedPicture (3, side, side), or UserError.
    At most decoding.AT_ONCE pictures are prepared at once in this process."""
    with decoding_slot() as slot:
        return _prepare(picture, side, slot)     # its frame, and the full-size picture, gone before the slot ends


def _prepare(picture, side: int, slot) -> PreparedPicture:
    notes: list[str] = []
    source = picture_source(picture, notes)
    slot.decoded(decoded_bytes(source))
    image = _array_image(source) if isinstance(source, np.ndarray) else source
    size = image.size
    rgb = _on_white(_shrink(_as_rgba(image)), notes)                  # float32 (H, W, 3) in [0, 1]
    return _finish(rgb, notes, (int(size[0]), int(size[1])), side)


def _array_image(arr: np.ndarray) -> Image.Image:
    """(H, W), (H, W, 1|3|4) uint8 or float in [0, 1] -> a PIL image (RGB or RGBA)."""
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise UserError(f"A picture array must be (height, width) or (height, width, 1, 3 or 4 channels), got shape {arr.shape}.")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all() or arr.min() < 0 or arr.max() > 1:
            raise UserError("A picture array of decimals must hold values between 0 and 1.")
        arr = (arr * 255).round().astype(np.uint8)
    elif arr.dtype == np.bool_:
        arr = arr.astype(np.uint8) * 255
    elif arr.dtype != np.uint8:
        raise UserError(f"A picture array must be uint8, bool or float in [0, 1], got {arr.dtype}.")
    mode = {2: "L", 3: "RGB"}[arr.ndim] if arr.ndim == 2 or arr.shape[2] == 3 else "RGBA"
    return Image.fromarray(np.ascontiguousarray(arr), mode)


def _as_rgba(image: Image.Image) -> Image.Image:
    """Any PIL mode -> RGBA (16-bit grey scaled to 8 bits first)."""
    if image.mode.startswith("I;16") or image.mode in ("I", "F"):
        top = 65535.0 if image.mode.startswith("I;16") or image.getextrema()[1] > 255 else 255.0
        arr = np.asarray(_shrink(image), dtype=np.float32) / top
        image = Image.fromarray((np.clip(arr, 0, 1) * 255).round().astype(np.uint8), "L")
    return image if image.mode == "RGBA" else image.convert("RGBA")


def _on_white(image: Image.Image, notes: list[str]) -> np.ndarray:
    x = np.asarray(image, dtype=np.float32) / 255.0                   # (H, W, 4)
    rgb, alpha = x[..., :3], x[..., 3:]
    if alpha.max() < 0.01:
        raise UserError("The canvas is empty (fully transparent): draw something first.")
    if alpha.min() < 0.99:
        notes.append("transparent background made white, as the emoji's were")
    return rgb * alpha + (1 - alpha)


def _finish(rgb: np.ndarray, notes: list[str], size: tuple[int, int], side: int) -> PreparedPicture:
    if float(rgb.max() - rgb.min()) < FLAT:
        raise UserError("The picture is one flat colour: there is nothing in it to encode. Draw or upload a picture "
                        "of something.")
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])            # (P, 3)
    background = np.median(border, axis=0)                                          # (3,)
    stands_out = (np.abs(rgb - background) > TRIM).any(-1)                           # (H, W)
    rows, cols = np.flatnonzero(stands_out.any(1)), np.flatnonzero(stands_out.any(0))
    if rows.size:
        rgb = rgb[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = rgb.shape[:2]
    scale = side / max(h, w)
    new = (max(1, round(w * scale)), max(1, round(h * scale)))
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BICUBIC
    small = Image.fromarray((rgb * 255).round().astype(np.uint8), "RGB").resize(new, resample)
    canvas = Image.new("RGB", (side, side), (255, 255, 255))
    canvas.paste(small, ((side - new[0]) // 2, (side - new[1]) // 2))                # centred on white
    out = np.asarray(canvas, dtype=np.uint8).copy()                                  # (side, side, 3)
    return PreparedPicture(torch.from_numpy(out).permute(2, 0, 1).contiguous(), out, notes, size)
