"""Image datasets as uint8 tensors: IDX files (Fashion-MNIST, MNIST, KMNIST), sklearn's digits.

Where IDX data comes from:
  - an explicit location, when one is given, and nothing else: the `data_dir` argument (the CLIs'
    --data-dir), else the environment variable EXPLORER_DATA; the folder itself or its sub-folder
    named after the dataset. A location that lacks the split is an error naming the folder and
    the missing files, never a silent fall-back to other data;
  - otherwise, in order: Debian's /usr/share/datasets/<name> (package dataset-fashion-mnist gives
    all 70 000 images), then for Fashion-MNIST only the test split (10 000 images) shipped inside
    this package.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from explorer.core.data.idx import read_idx_pair
from explorer.core.validation import UserError

EMBEDDED_DIR = Path(__file__).parent / "fashion_mnist_test"
SYSTEM_ROOT = Path("/usr/share/datasets")

CLASS_NAMES = {
    "fashion-mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
    "mnist": [str(i) for i in range(10)],
    "kmnist": ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"],
    "digits": [str(i) for i in range(10)],
}
IDX_DATASETS = ("fashion-mnist", "mnist", "kmnist")
PREPARED_DATASETS = {   # built once by a command (data/prepared.py), then loaded by name: how to build each
    "emoji": "Build it once with: python -m explorer.prepare emoji (it fetches npm's emoji-datasource-twitter"
             " 16.0.0 with npm, or give the path of its downloaded .tgz).",
}
DATASETS = IDX_DATASETS + ("digits",) + tuple(PREPARED_DATASETS)
_PREFIX = {"train": "train", "test": "t10k"}


class DataNotFound(UserError, FileNotFoundError):
    """No copy of the requested dataset split was found; the message says where we looked."""


@dataclass
class ImageDataset:
    name: str                       # e.g. "fashion-mnist"
    split: str                      # "train" or "test"
    images: torch.Tensor            # (N, C, H, W) uint8
    labels: torch.Tensor | None     # (N,) int64, or None when unlabelled
    class_names: list[str] = field(default_factory=list)
    source: str = ""                # where the data was read from, for model cards
    attribution: str = ""           # the pictures' licence and credit (e.g. CC-BY), for model cards

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])

    def describe(self) -> dict:
        """The dataset as a checkpoint's metadata records it (`dataset`): what a model card shows."""
        out = {"name": self.name, "split": self.split, "size": len(self), "class_names": self.class_names,
               "source": self.source, "image_shape": list(self.image_shape)}
        if self.attribution:
            out["attribution"] = self.attribution
        return out


def _idx_files(folder: Path, split: str) -> tuple[Path, Path] | None:
    """(images, labels) of a split in `folder`, each gzipped or raw on its own (a download tool may
    have inflated one and not the other); the .gz copy is taken where both exist."""
    found = []
    for name in _file_names(split):
        path = next((folder / (name + suffix) for suffix in (".gz", "") if (folder / (name + suffix)).is_file()), None)
        if path is None:
            return None
        found.append(path)
    return found[0], found[1]


def _file_names(split: str) -> tuple[str, str]:
    p = _PREFIX[split]
    return f"{p}-images-idx3-ubyte", f"{p}-labels-idx1-ubyte"


def _present(folder: Path, split: str) -> list[str]:
    """Which of the split's two files (with or without .gz) the folder holds."""
    return [n + s for n in _file_names(split) for s in (".gz", "") if (folder / (n + s)).is_file()]


def explicit_location(data_dir: str | Path | None = None) -> tuple[Path, str] | None:
    """(folder, what named it) when the caller or the environment chose where data is, else None."""
    if data_dir:
        return Path(data_dir), "--data-dir"
    env = os.environ.get("EXPLORER_DATA")
    if env:
        return Path(env), "EXPLORER_DATA"
    return None


def candidate_dirs(name: str, data_dir: str | Path | None = None) -> list[tuple[Path, str]]:
    """(folder, how it was chosen) in the order they are tried."""
    chosen = explicit_location(data_dir)
    if chosen is not None:
        folder, how = chosen
        return [(folder, how), (folder / name, how)]
    out = [(SYSTEM_ROOT / name, "system")]
    if name == "fashion-mnist":
        out.append((EMBEDDED_DIR, "embedded"))
    return out


def find_idx_split(name: str, split: str, data_dir: str | Path | None = None) -> tuple[Path, Path, str]:
    """Paths of (images, labels) for a split and a short description of where they came from."""
    if name not in IDX_DATASETS:
        raise UserError(f"Unknown IDX dataset {name!r}; known: {', '.join(IDX_DATASETS)}.")
    if split not in _PREFIX:
        raise UserError(f"Unknown split {split!r}; use 'train' or 'test'.")
    tried = candidate_dirs(name, data_dir)
    chosen = explicit_location(data_dir)
    if chosen is not None and not chosen[0].is_dir():
        raise DataNotFound(f"{chosen[1]} {chosen[0]} is not a folder.")
    for folder, how in tried:
        files = _idx_files(folder, split)
        if files:
            return files[0], files[1], f"{how}:{folder}"
    images, labels = _file_names(split)
    if chosen is not None:
        folder, how = chosen
        found = _present(folder, split) or _present(folder / name, split)
        half = f" It has {', '.join(found)} but not the other file of the pair." if found else ""
        raise DataNotFound(
            f"{how} {folder} has no {name} {split} split: {images}[.gz] and {labels}[.gz] are needed, in it or in"
            f" its sub-folder {name}/.{half} (No other location is tried when one is given.)")
    hint = " Install Debian's dataset-fashion-mnist for the 60 000 training images." if name == "fashion-mnist" else ""
    raise DataNotFound(
        f"No {name} {split} split found (looked in {', '.join(str(f) for f, _ in tried)})."
        f" Pass --data-dir or set EXPLORER_DATA to a folder with the IDX files.{hint}")


def load_idx_dataset(name: str, split: str = "train", data_dir: str | Path | None = None) -> ImageDataset:
    img_path, lab_path, source = find_idx_split(name, split, data_dir)
    images, labels = read_idx_pair(img_path, lab_path)
    return ImageDataset(name, split, torch.from_numpy(images).unsqueeze(1).contiguous(),   # (N, H, W) -> (N, 1, H, W)
                        torch.from_numpy(labels), list(CLASS_NAMES[name]), source)


def load_digits(split: str = "train", image_size: int = 28) -> ImageDataset:
    """scikit-learn's 1797 handwritten 8x8 digits, upscaled to image_size; a fixed 1497/300 split."""
    from sklearn.datasets import load_digits as _sk_digits

    d = _sk_digits()
    order = np.random.default_rng(0).permutation(len(d.images))
    idx = order[:1497] if split == "train" else order[1497:]
    x = torch.from_numpy(d.images[idx].astype(np.float32) / 16.0).unsqueeze(1)   # (N, 1, 8, 8) in [0, 1]
    x = F.interpolate(x, size=(image_size, image_size), mode="bilinear", align_corners=False)
    images = (x.clamp(0, 1) * 255).round().to(torch.uint8)
    return ImageDataset("digits", split, images, torch.from_numpy(d.target[idx].astype(np.int64)),
                        list(CLASS_NAMES["digits"]), "scikit-learn")


def load_dataset(name: str, split: str = "train", data_dir: str | Path | None = None) -> ImageDataset:
    """Any named dataset: DATASETS, or one prepared with `python -m explorer.prepare` (data/prepared.py);
    an image folder goes through `load_image_folder` instead."""
    if name == "digits":
        return load_digits(split)
    if name in IDX_DATASETS:
        return load_idx_dataset(name, split, data_dir)
    from explorer.core.data.prepared import find_prepared, list_prepared, load_prepared
    if name not in PREPARED_DATASETS and find_prepared(name, data_dir) is None:
        known = dict.fromkeys(DATASETS + tuple(p.name for p in list_prepared(data_dir)))
        raise DataNotFound(f"Unknown dataset {name!r}; known: {', '.join(known)}.")     # no copy of it here
    return load_prepared(name, split, data_dir, PREPARED_DATASETS.get(name, ""))


def resize_images(images: torch.Tensor, size: int, channels: int, batch: int = 4096) -> torch.Tensor:
    """uint8 (N, C, H, W) -> uint8 (N, channels, size, size): antialiased bilinear resizing, grey
    repeated into RGB or RGB turned grey (ITU-R 601 luma). Unchanged pictures come back as they are."""
    n, c, h, w = images.shape
    if (c, h, w) == (channels, size, size):
        return images
    out = torch.empty((n, channels, size, size), dtype=torch.uint8)
    luma = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    for i in range(0, n, batch):
        x = images[i:i + batch].float()                                            # (b, C, H, W)
        if (h, w) != (size, size):
            x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        if c == 1 and channels == 3:
            x = x.expand(-1, 3, -1, -1)
        elif c == 3 and channels == 1:
            x = (x * luma).sum(1, keepdim=True)
        elif c != channels:
            raise UserError(f"Cannot turn {c}-channel pictures into {channels}-channel ones; use 1 or 3.")
        out[i:i + batch] = x.clamp(0, 255).round().to(torch.uint8)
    return out


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """uint8 (..., H, W) -> float32 in [0, 1]."""
    return images.float().div_(255.0)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """float in [0, 1] -> uint8, clamped (decoders may overshoot slightly)."""
    return (images.clamp(0, 1) * 255).round_().to(torch.uint8)
