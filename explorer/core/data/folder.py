"""Users' own images: a folder of PNG/JPEG files -> an ImageDataset at the model's resolution,
decoded once into a uint8 cache on disk and memory-mapped from there on every later run.

Sub-folders, when present, become class labels (folder/cats/*.png -> class "cats"). Files that
cannot be read, or exceed the limits of a picture sent to /encode (20 MB of file, 50 million pixels,
128 MB decoded: explorer/core/picture.py), are skipped and reported by name; only a folder with no
readable image is an error.
Transparent pictures (PNG alpha, palette transparency) are composited on white before anything else.
Each picture is centre-cropped to a square and resized (Lanczos) to image_size.

The cache (~/.cache/latent-explorer/folders/ unless a cache_dir is given): <key>.npy holds the pictures
(N, C, H, W) uint8, written picture by picture
into a memory-mapped file (never gathered in memory first), and <key>.json the labels, class names
and the files skipped. The key hashes the folder's file list with each file's size and modification
time, the image size and the channels: any added, removed or changed file (or another size) makes a
new cache, and the stale one of the same folder is removed. 200 000 pictures at 64 px RGB are a
2.5 GB file that the OS pages in as training reads it.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import numpy as np
import torch

from explorer.core.data.datasets import DataNotFound, ImageDataset
from explorer.core.decoding import decoding_slot
from explorer.core.picture import decoded_bytes, open_picture_bytes, read_picture_file
from explorer.core.validation import UserError

log = logging.getLogger(__name__)
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}
MAX_IMAGES = 1_000_000
CACHE_VERSION = 2            # bump when decoding changes, so old caches are not reused (2: EXIF of any format)


def default_cache_dir() -> Path:
    from explorer.core.data.prepared import cache_home
    return cache_home() / "folders"


def flatten_on_white(im):
    """A PIL image with any transparency composited on white, as RGB (or L when it is grey)."""
    from PIL import Image

    grey = im.mode in ("L", "LA", "1", "I", "I;16", "F") or (im.mode == "P" and _palette_is_grey(im))
    if im.mode in ("RGBA", "LA", "PA", "RGBa") or (im.mode in ("P", "L", "RGB") and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        white.alpha_composite(rgba)
        im = white
    return im.convert("L" if grey else "RGB")


def _palette_is_grey(im) -> bool:
    pal = im.getpalette() or []
    return all(pal[i] == pal[i + 1] == pal[i + 2] for i in range(0, len(pal) - 2, 3))


def load_picture(path: Path, size: int, channels: int) -> np.ndarray:
    """One file -> (C, size, size) uint8: transparency on white, centre crop, Lanczos resize."""
    return decode_picture(read_picture_file(path), size, channels)


def decode_picture(data: bytes, size: int, channels: int, fit: bool = True) -> np.ndarray:
    """A picture file's bytes -> (C, size, size) uint8, with the limits of a picture sent to /encode
    (file size, pixels, decoded bytes: checked from the header before any pixel is decoded; at most
    decoding.AT_ONCE at a time). `fit`: centre-crop to a square first, else stretch to the square."""
    with decoding_slot() as slot:
        return _decode(data, size, channels, fit, slot)        # the full-size picture gone before the slot ends


def _decode(data: bytes, size: int, channels: int, fit: bool, slot) -> np.ndarray:
    from PIL import Image, ImageOps

    im = open_picture_bytes(data, [])                                          # EXIF rotation applied
    slot.decoded(decoded_bytes(im))
    im = flatten_on_white(im).convert("L" if channels == 1 else "RGB")
    if fit:
        im = ImageOps.fit(im, (size, size), Image.Resampling.LANCZOS)          # centre crop + resize
    elif im.size != (size, size):
        im = im.resize((size, size), Image.Resampling.LANCZOS)
    arr = np.asarray(im, dtype=np.uint8)
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)             # (H, W[, C]) -> (C, H, W)


def list_pictures(folder: Path, max_images: int = MAX_IMAGES) -> list[Path]:
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if len(files) > max_images:
        raise UserError(f"Image folder {folder} holds {len(files):,} pictures; at most {max_images:,} can be used.")
    return files


def guess_picture_shape(folder: str | Path) -> tuple[int, int]:
    """(image_size, channels) for a folder whose user named neither: the side of its first picture when
    that is square and at most 256 px, else 64; one channel when that picture is grey, else three."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataNotFound(f"Image folder {folder} does not exist.")
    for p in list_pictures(folder):
        try:
            with decoding_slot() as slot:
                im = open_picture_bytes(read_picture_file(p), [])
                slot.decoded(decoded_bytes(im))
                (w, h), grey = im.size, flatten_on_white(im).mode == "L"
                del im
        except Exception:   # noqa: BLE001 - an unreadable first file (or one over the limits): try the next one
            continue
        return (w if w == h and 8 <= w <= 256 else 64), (1 if grey else 3)
    raise DataNotFound(f"No readable images in {folder}.")


def cache_key(folder: Path, files: list[Path], image_size: int, channels: int) -> str:
    h = hashlib.sha256(f"v{CACHE_VERSION} {image_size} {channels}\n".encode())
    for p in files:
        st = p.stat()
        h.update(f"{p.relative_to(folder).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:24]


def load_image_folder(folder: str | Path, image_size: int = 28, channels: int = 1, max_images: int = MAX_IMAGES,
                      cache_dir: str | Path | None = None, progress: bool = True) -> tuple[ImageDataset, list[str]]:
    """(dataset, skipped) where `skipped` lists "file: reason" for every unreadable file. The first
    call decodes the folder into the cache (with a progress bar); later calls with the folder
    unchanged memory-map that cache and decode nothing."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataNotFound(f"Image folder {folder} does not exist.")
    files = list_pictures(folder, max_images)
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    key = cache_key(folder, files, image_size, channels)
    meta = _read_cache(cache_dir, key)
    if meta is None:
        meta = _decode_into_cache(folder, files, image_size, channels, cache_dir, key, progress)
    for s in meta["skipped"]:
        log.warning("skipped unreadable image %s", s)
    if not meta["count"]:
        raise DataNotFound(f"No readable images in {folder} ({len(meta['skipped'])} unreadable).")
    images = np.load(cache_dir / f"{key}.npy", mmap_mode="c", allow_pickle=False)[:meta["count"]]   # (N, C, H, W)
    labels = meta["labels"]
    ds = ImageDataset("folder", "train", torch.from_numpy(images),
                      torch.tensor(labels) if meta["class_names"] else None,
                      list(meta["class_names"]), f"folder:{folder}")
    return ds, list(meta["skipped"])


def _read_cache(cache_dir: Path, key: str) -> dict | None:
    """The cache's metadata when both files are there and agree (shape, version), else None."""
    try:
        meta = json.loads((cache_dir / f"{key}.json").read_text())
        rows = np.load(cache_dir / f"{key}.npy", mmap_mode="r", allow_pickle=False)
        shape = (meta["channels"], meta["image_size"], meta["image_size"])
        if (meta.get("version") == CACHE_VERSION and rows.dtype == np.uint8 and rows.shape[1:] == shape
                and rows.shape[0] >= meta["count"] and len(meta["labels"]) in (0, meta["count"])):
            return meta
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def _decode_into_cache(folder: Path, files: list[Path], size: int, channels: int, cache_dir: Path,
                       key: str, progress: bool) -> dict:
    """Decode every file into <key>.npy, row by row in place (the rows of unreadable files are left
    over at the end, unused: the first `count` rows are the pictures) and write <key>.json; both
    appear atomically (rename)."""
    from tqdm import tqdm

    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache_dir / f".{key}.{os.getpid()}.npy.tmp"
    class_dirs = sorted({p.parent.relative_to(folder).parts[0] for p in files if p.parent != folder})
    labels, skipped = [], []
    try:
        out = np.lib.format.open_memmap(tmp, "w+", np.uint8, (max(len(files), 1), channels, size, size))
        n = 0
        for p in tqdm(files, desc=f"decoding {folder.name or folder}", unit="picture", disable=None if progress else True):
            try:
                out[n] = load_picture(p, size, channels)
            except Exception as exc:  # PIL raises many kinds; one bad file must not stop the rest
                skipped.append(f"{p.relative_to(folder)}: {type(exc).__name__}: {exc}")
                continue
            rel = p.parent.relative_to(folder).parts
            labels.append(class_dirs.index(rel[0]) if rel else -1)
            n += 1
        out.flush()
        del out
        labelled = bool(class_dirs) and all(lab >= 0 for lab in labels)
        meta = {"version": CACHE_VERSION, "folder": str(folder.resolve()), "count": n, "image_size": size,
                "channels": channels, "class_names": class_dirs if labelled else [],
                "labels": labels if labelled else [], "skipped": skipped}
        os.replace(tmp, cache_dir / f"{key}.npy")
        (cache_dir / f".{key}.json.tmp").write_text(json.dumps(meta))
        os.replace(cache_dir / f".{key}.json.tmp", cache_dir / f"{key}.json")
    finally:
        tmp.unlink(missing_ok=True)
    _remove_stale(cache_dir, key, meta)
    return meta


def _remove_stale(cache_dir: Path, key: str, meta: dict) -> None:
    """Remove older caches of the same folder at the same size and channels (the folder has changed)."""
    for p in cache_dir.glob("*.json"):
        if p.stem == key:
            continue
        try:
            other = json.loads(p.read_text())
        except (OSError, ValueError):
            continue
        if all(other.get(k) == meta[k] for k in ("folder", "image_size", "channels")):
            p.unlink(missing_ok=True)
            (cache_dir / f"{p.stem}.npy").unlink(missing_ok=True)
