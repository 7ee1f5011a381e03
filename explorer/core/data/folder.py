"""Users' own images: a folder of PNG/JPEG files -> an ImageDataset at the model's resolution.

Sub-folders, when present, become class labels (folder/cats/*.png -> class "cats"). Files that
cannot be read are skipped and reported by name; only a folder with no readable image is an error.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from explorer.core.data.datasets import DataNotFound, ImageDataset

log = logging.getLogger(__name__)
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}


def _load_one(path: Path, size: int, mode: str) -> np.ndarray:
    from PIL import Image, ImageOps

    with Image.open(path) as im:
        im = ImageOps.fit(im.convert(mode), (size, size), Image.Resampling.LANCZOS)  # centre crop + resize
        arr = np.asarray(im, dtype=np.uint8)
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)   # (H, W[, C]) -> (C, H, W)


def load_image_folder(folder: str | Path, image_size: int = 28, channels: int = 1,
                      max_images: int = 100_000) -> tuple[ImageDataset, list[str]]:
    """(dataset, skipped) where `skipped` lists "file: reason" for every unreadable file."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataNotFound(f"Image folder {folder} does not exist.")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())[:max_images]
    class_dirs = sorted({p.parent.relative_to(folder).parts[0] for p in files if p.parent != folder})
    mode = "L" if channels == 1 else "RGB"
    images, labels, skipped = [], [], []
    for p in files:
        try:
            images.append(_load_one(p, image_size, mode))
        except Exception as exc:  # PIL raises many kinds; one bad file must not stop the rest
            skipped.append(f"{p.relative_to(folder)}: {type(exc).__name__}: {exc}")
            continue
        rel = p.parent.relative_to(folder).parts
        labels.append(class_dirs.index(rel[0]) if rel else -1)
    for s in skipped:
        log.warning("skipped unreadable image %s", s)
    if not images:
        raise DataNotFound(f"No readable images in {folder} ({len(skipped)} unreadable).")
    labelled = class_dirs and all(lab >= 0 for lab in labels)
    ds = ImageDataset("folder", "train", torch.from_numpy(np.stack(images)),
                      torch.tensor(labels) if labelled else None,
                      class_dirs if labelled else [], f"folder:{folder}")
    return ds, skipped
