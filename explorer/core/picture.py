"""A person's own picture -> the model's 28x28 input, prepared the way Fashion-MNIST was.

Fashion-MNIST's README lists its preparation of each product photo: trim the edges close to the
corner colour (5 % threshold), resize the longest edge to 28, sharpen (Gaussian, radius and
sigma 1), extend the short edge to 28 with the object in the centre, negate, 8-bit grayscale.
Measured on its test split: the longest side of the object spans 27-28 pixels in 95 % of the
images, the bounding box (not the centre of mass, as in MNIST) is centred, and the brightest
pixel is 254-255. We do the same, with three choices of our own for pictures that are not
product photos on white:
  * whether to negate is decided from the border (its median brighter than mid-grey: the picture
    is dark-on-light, so it is inverted and the notes say so);
  * the background level is mapped to black and the brightest pixel to white ("levels");
  * the resize averages areas instead of skipping rows and columns, so thin drawn lines survive;
  * no sharpening: on 1 000 test images enlarged 7x and turned dark-on-light, the classifier
    reads 93.1 % of the prepared pictures right without it (93.6 % on the originals), 92.8 %
    with a radius-1 unsharp mask at 50 % and 92.4 % at 100 %.

Accepted inputs: encoded bytes (PNG, JPEG, WebP, GIF, BMP), a numpy array (H, W[, C]), a PIL
image, or the dict Gradio's Sketchpad/ImageEditor gives ({"composite": array, ...}); a
transparent background is composited on the colour opposite to what was drawn on it.
Everything a person can get wrong is refused with a UserError in plain words.
"""
from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image, ImageOps

from explorer.core.decoding import decoding_slot
from explorer.core.validation import UserError

SIDE = 28                        # the model's input is SIDE x SIDE
MAX_BYTES = 20 * 1024 * 1024     # uploads above this are refused before decoding
MAX_PIXELS = 50_000_000          # decompression-bomb limit (a 10 000 x 10 000 PNG is 100 M)
MAX_DECODED_MB = 128             # memory the decoded picture may take, whatever its pixel format
WORK_SIDE = 1024                 # larger pictures are shrunk to this first: plenty for 28 pixels
FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP")
TRIM = 0.05                      # Fashion-MNIST's trim threshold: 5 % of the intensity range
FLAT = 0.04                      # a picture whose values span less than this has nothing in it


@dataclass
class PreparedPicture:
    tensor: torch.Tensor                     # uint8 (1, 28, 28): the model's input
    picture: np.ndarray                      # uint8 (28, 28): the same, for display
    notes: list[str] = field(default_factory=list)   # what was done that a person should know
    source_size: tuple[int, int] = (0, 0)    # (width, height) of what was given

    def unit(self) -> torch.Tensor:
        """float32 (1, 1, 28, 28) in [0, 1], the range every model here reads."""
        return self.tensor[None].float() / 255.0


def prepare_picture(picture, side: int = SIDE) -> PreparedPicture:
    """Bytes, numpy array, PIL image or Gradio editor dict -> PreparedPicture (side x side grey), or UserError.
    At most decoding.AT_ONCE pictures are prepared at once in this process."""
    with decoding_slot() as slot:
        return _prepare(picture, side, slot)     # its frame, and the full-size picture, gone before the slot ends


def _prepare(picture, side: int, slot) -> PreparedPicture:
    notes: list[str] = []
    source = picture_source(picture, notes)
    slot.decoded(decoded_bytes(source))
    if isinstance(source, np.ndarray):
        size = (source.shape[1], source.shape[0])
        image = _array_as_image(source)
        if image is None:
            return _finish(_array_to_gray(source, notes), notes, size, side)
    else:
        image = source
    size = image.size
    gray = _pil_to_gray(image, notes)
    return _finish(gray, notes, size, side)


def picture_source(picture, notes: list[str]) -> Image.Image | np.ndarray:
    """What a person gave (bytes, numpy array, PIL image or Gradio editor dict) -> a decoded PIL image
    (first frame, EXIF rotation applied), or the array itself once its shape and pixel count are
    checked; anything else is refused in words. The grey and colour preparations both start here."""
    if isinstance(picture, dict):
        picture = _from_editor(picture)
    if picture is None:
        raise UserError("No picture was given: draw something on the canvas or upload a picture.")
    if isinstance(picture, (bytes, bytearray, memoryview)):
        return open_picture_bytes(bytes(picture), notes)
    if isinstance(picture, Image.Image):
        return _first_frame(picture, notes)
    if isinstance(picture, np.ndarray):
        if picture.ndim < 2:
            raise UserError(f"A picture array must be (height, width[, channels]), got shape {picture.shape}.")
        _check_pixels(picture.shape[1], picture.shape[0])
        return picture
    raise UserError(f"A picture must be image bytes, an array or an image, got {type(picture).__name__}.")


def decoded_bytes(source: Image.Image | np.ndarray) -> int:
    """Memory a decoded picture (picture_source's result) takes."""
    if isinstance(source, np.ndarray):
        return int(source.nbytes)
    return source.size[0] * source.size[1] * _BYTES_PER_PIXEL.get(source.mode, 4)


def read_picture_file(path) -> bytes:
    """The bytes of a picture file, refusing one over MAX_BYTES before reading it."""
    from pathlib import Path

    p = Path(path)
    if not p.is_file():
        raise UserError(f"No picture file at {str(p)[:200]!r}.")
    size = p.stat().st_size
    if size > MAX_BYTES:
        raise UserError(f"The picture file is {size / 2**20:.1f} MB; the limit is {MAX_BYTES // 2**20} MB.")
    return p.read_bytes()


# ---------------------------------------------------------------- decoding

def open_picture_bytes(data: bytes, notes: list[str]) -> Image.Image:
    """Encoded bytes -> a fully decoded PIL image (first frame, EXIF rotation applied)."""
    if len(data) == 0:
        raise UserError("The picture file is empty (0 bytes).")
    if len(data) > MAX_BYTES:
        raise UserError(f"The picture file is {len(data) / 2**20:.1f} MB; the limit is {MAX_BYTES // 2**20} MB.")
    with warnings.catch_warnings():
        # PIL only warns between its own limit and twice it; here any bomb warning is a refusal
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=FORMATS)
            _check_pixels(*image.size)            # from the header, before any pixel is decoded
            if image.format == "JPEG":
                image.draft(None, (WORK_SIDE, WORK_SIDE))   # decode a huge JPEG at 1/2-1/8 scale directly
            _check_decoded_bytes(image)
            image = _first_frame(image, notes)
        except UserError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            # PIL refuses in its header reader already: its message holds the size
            found = re.search(r"\((\d+) pixels\)", str(exc))
            size = f"has {int(found.group(1)) / 1e6:.0f} million pixels" if found else "is too large to open safely"
            raise UserError(f"The picture {size}; the limit is {MAX_PIXELS / 1e6:.0f} million. Shrink it first.") from None
        except Image.UnidentifiedImageError:
            raise UserError(f"This file is not a picture this program can read ({', '.join(FORMATS)}).") from None
        except (OSError, SyntaxError, ValueError, EOFError, IndexError) as exc:
            # PIL's words for a cut-off download: "image file is truncated", "broken data stream"...
            raise UserError(f"The picture file is damaged or incomplete ({str(exc)[:80]}).") from None
    return image


def _check_pixels(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise UserError(f"The picture is {width} x {height} pixels = {width * height / 1e6:.0f} million pixels; "
                        f"the limit is {MAX_PIXELS / 1e6:.0f} million. Shrink it first.")
    if width < 1 or height < 1:
        raise UserError(f"The picture has no pixels ({width} x {height}).")


# bytes per pixel while a picture is decoded and made grey: PIL keeps 8-bit grey and palette pictures
# in 1 byte a pixel, 16-bit grey in 2 and every other mode in 4; a palette or bilevel picture is
# converted to RGB(A) at full size before it can be shrunk (4 more)
_BYTES_PER_PIXEL = {"L": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2, "P": 5, "1": 5}


def _check_decoded_bytes(image: Image.Image) -> None:
    """Refuse, from the header, a picture whose decoding would take more than MAX_DECODED_MB: a 95 kB
    PNG can hold 7000 x 7000 16-bit pixels, and the pixel limit alone does not say how many bytes each takes."""
    width, height = image.size
    need = width * height * _BYTES_PER_PIXEL.get(image.mode, 4)
    if need > MAX_DECODED_MB * 2**20:
        raise UserError(f"The picture is {width} x {height} pixels ({image.mode}), which takes {need / 2**20:.0f} MB "
                        f"of memory to open; the limit is {MAX_DECODED_MB} MB. Shrink it first.")


def _first_frame(image: Image.Image, notes: list[str]) -> Image.Image:
    _check_pixels(*image.size)
    # `is_animated` looks for a second frame only; `n_frames` reads every frame of a GIF (700 000 took 2-6 s)
    if getattr(image, "is_animated", False):
        image.seek(0)
        notes.append("animated picture: the first frame is used")
    image.load()                                   # decode now, inside the caller's error handling
    orientation = image.getexif().get(0x0112, 1)   # EXIF Orientation; 1 = upright
    if orientation not in (1, None):
        image = ImageOps.exif_transpose(image)
        notes.append("turned upright as the camera's EXIF orientation says")
    return image


def _from_editor(value: dict):
    """Gradio's Sketchpad/ImageEditor value -> its composite (background + layers), or None if empty."""
    composite = value.get("composite")
    if composite is None:
        layers = [x for x in value.get("layers") or [] if x is not None]
        composite = layers[-1] if layers else value.get("background")
    if composite is None:
        raise UserError("The canvas is empty: draw something first.")
    return composite


# ---------------------------------------------------------------- to grayscale in [0, 1]

def _array_as_image(arr: np.ndarray) -> Image.Image | None:
    """A large uint8 array as a PIL image, so it is shrunk before any float copy; else None."""
    modes = {1: "L", 3: "RGB", 4: "RGBA"}
    channels = 1 if arr.ndim == 2 else arr.shape[2]
    if arr.dtype != np.uint8 or arr.ndim > 3 or channels not in modes or max(arr.shape[:2]) <= WORK_SIDE:
        return None
    return Image.fromarray(np.ascontiguousarray(arr.reshape(arr.shape[0], arr.shape[1], -1).squeeze(2)
                                                if channels == 1 else arr), modes[channels])


def _pil_to_gray(image: Image.Image, notes: list[str]) -> np.ndarray:
    """Any PIL mode -> float32 (H, W) in [0, 1]; 16-bit, CMYK, palette and alpha handled."""
    mode = image.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        # shrunk in its own mode first: a float copy at full size took 1.2 GB for a 7000 x 7000 PNG
        high = image.getextrema()[1]
        top = 65535.0 if mode.startswith("I;16") or high > 255 else (1.0 if mode == "F" and high <= 1 else 255.0)
        return np.clip(np.asarray(_shrink(image), dtype=np.float32) / np.float32(top), 0, 1)
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode in ("PA", "RGBa", "La"):
        image = image.convert("RGBA")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        image = image.convert("RGB")              # CMYK, YCbCr, LAB, HSV, 1 (bilevel)
    return _array_to_gray(np.asarray(_shrink(image)), notes)


def _shrink(image: Image.Image) -> Image.Image:
    """At most WORK_SIDE on the long side, averaging areas (also in 16-bit and 32-bit modes, which
    PIL's `reduce` refuses); PIL premultiplies alpha while resizing RGBA/LA."""
    width, height = image.size
    if max(width, height) <= WORK_SIDE:
        return image
    scale = WORK_SIDE / max(width, height)
    return image.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.BOX)


def _array_to_gray(arr: np.ndarray, notes: list[str]) -> np.ndarray:
    """(H, W), (H, W, 1|2|3|4) of uint8/uint16/bool/float in [0, 1] -> float32 (H, W) in [0, 1]."""
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (2, 3, 4)):
        raise UserError(f"A picture array must be (height, width) or (height, width, 1-4 channels), got shape {arr.shape}.")
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise UserError(f"The picture has no pixels (shape {arr.shape}).")
    _check_pixels(arr.shape[1], arr.shape[0])
    if arr.dtype == np.bool_:
        x = arr.astype(np.float32)
    elif arr.dtype == np.uint8:
        x = arr.astype(np.float32) / 255.0
    elif arr.dtype == np.uint16:
        x = arr.astype(np.float32) / 65535.0
    elif np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all() or arr.min() < 0 or arr.max() > 1:
            raise UserError("A picture array of decimals must hold values between 0 and 1.")
        x = arr.astype(np.float32)
    else:
        raise UserError(f"A picture array must be uint8, uint16, bool or float in [0, 1], got {arr.dtype}.")
    if x.ndim == 2:
        return x
    alpha = x[..., -1] if x.shape[2] in (2, 4) else None
    color = x[..., :-1] if alpha is not None else x
    gray = color[..., 0] if color.shape[2] == 1 else color @ np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R 601 luma
    if alpha is None or alpha.min() > 0.99:
        return gray
    if alpha.max() < 0.01:
        raise UserError("The canvas is empty (fully transparent): draw something first.")
    # Strokes on a transparent canvas: lay them on the colour that makes them stand out, so black
    # ink on a transparent sketchpad reads as an object, like white ink does.
    drawn = float((gray * alpha).sum() / alpha.sum())
    under = 1.0 if drawn < 0.5 else 0.0
    notes.append(f"transparent background treated as {'white' if under else 'black'}")
    return gray * alpha + under * (1 - alpha)


# ---------------------------------------------------------------- Fashion-MNIST's preparation

def _refuse_flat(gray: np.ndarray) -> None:
    lo, hi = float(gray.min()), float(gray.max())
    if hi - lo >= FLAT:
        return
    shade = "black" if hi < 0.1 else "white" if lo > 0.9 else "one flat shade of grey"
    where = "all " + shade if shade in ("black", "white") else shade
    raise UserError(f"The picture is {where}: there is nothing in it to encode. Draw or upload a picture of one "
                    "piece of clothing.")


def _finish(gray: np.ndarray, notes: list[str], size: tuple[int, int], side: int = SIDE) -> PreparedPicture:
    _refuse_flat(gray)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    background = float(np.median(border))
    if background > 0.5:
        gray, background = 1.0 - gray, 1.0 - background
        notes.append("dark-on-light picture inverted: the model knows light clothes on black")
    rows = np.flatnonzero((gray > background + TRIM).any(1))
    cols = np.flatnonzero((gray > background + TRIM).any(0))
    if rows.size == 0:
        raise UserError("Nothing in the picture stands out from its background: draw or upload a clearer picture.")
    crop = gray[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    top = float(crop.max())
    crop = np.clip((crop - background) / (top - background), 0.0, 1.0)   # background black, brightest white
    h, w = crop.shape
    scale = side / max(h, w)
    new = (max(1, round(w * scale)), max(1, round(h * scale)))
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BICUBIC
    small = Image.fromarray((crop * 255).round().astype(np.uint8), "L").resize(new, resample)
    canvas = Image.new("L", (side, side), 0)
    canvas.paste(small, ((side - new[0]) // 2, (side - new[1]) // 2))   # bounding box in the centre
    out = np.asarray(canvas, dtype=np.uint8).copy()
    return PreparedPicture(torch.from_numpy(out)[None], out, notes, (int(size[0]), int(size[1])))
