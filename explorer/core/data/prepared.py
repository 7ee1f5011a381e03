"""Prepared datasets: pictures decoded once (by `python -m explorer.prepare emoji` or `... folder`)
into uint8 arrays on disk, loaded by name (`--dataset emoji`) and memory-mapped, never decoded again.

A prepared dataset is a folder named after it:
    dataset.json          name, class names, picture size, split sizes, source, licence, attribution
    train-images.npy      (N, C, H, W) uint8        test-images.npy   (M, C, H, W) uint8
    train-labels.npy      (N,) int64                 test-labels.npy   (M,) int64  (ignored without classes)
Where it lives follows the IDX datasets (datasets.py): in the location the caller or EXPLORER_DATA
names (the folder itself or its sub-folder <name>), else in the user's cache folder
(~/.cache/latent-explorer/<name>, or $XDG_CACHE_HOME/latent-explorer/<name>), outside the repository.
Arrays are read with numpy's .npy reader, which refuses pickled objects.
"""
from __future__ import annotations

import errno
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from explorer.core.data.datasets import DataNotFound, ImageDataset, explicit_location
from explorer.core.runtime import process_running
from explorer.core.validation import UserError, os_error_words

FORMAT = "latent-explorer-dataset"
FORMAT_VERSION = 1
SPLITS = ("train", "test")
INFO_FILE = "dataset.json"


def cache_home() -> Path:
    """The user's cache folder for this program: $XDG_CACHE_HOME/latent-explorer or ~/.cache/latent-explorer."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "latent-explorer"


@dataclass(frozen=True)
class PreparedInfo:
    """What `list_prepared` tells a caller (the Train tab) about one prepared dataset."""
    name: str
    folder: Path
    sizes: dict                          # split -> number of pictures
    image_size: int
    channels: int
    class_names: tuple[str, ...]
    source: str = ""
    attribution: str = ""                # licence and credit of the pictures, to show beside them
    extra: dict = field(default_factory=dict, compare=False, repr=False)   # the rest of dataset.json


def _read_info(folder: Path) -> PreparedInfo | None:
    try:
        info = json.loads((folder / INFO_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or info.get("format") != FORMAT or not isinstance(info.get("name"), str):
        return None
    try:
        return PreparedInfo(info["name"], folder, {s: int(n) for s, n in info["splits"].items()},
                            int(info["image_size"]), int(info["channels"]),
                            tuple(str(c) for c in info["class_names"]), str(info.get("source", "")),
                            str(info.get("attribution", "")), info)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _roots(data_dir=None) -> list[Path]:
    """Folders that may hold prepared datasets, in the order they are searched."""
    chosen = explicit_location(data_dir)
    return [chosen[0]] if chosen is not None else [cache_home()]


def prepared_folder(name: str, data_dir=None) -> Path:
    """Where `name` is (to be) written: <explicit location>/<name>, else ~/.cache/latent-explorer/<name>."""
    return _roots(data_dir)[0] / name


def find_prepared(name: str, data_dir=None) -> PreparedInfo | None:
    for root in _roots(data_dir):
        for folder in (root, root / name):
            info = _read_info(folder)
            if info is not None and info.name == name:
                return info
    return None


def list_prepared(data_dir=None) -> list[PreparedInfo]:
    """Every prepared dataset in the data location (see the module docstring), by name."""
    found = {}
    for root in _roots(data_dir):
        for folder in [root] + (sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []):
            info = _read_info(folder)
            if info is not None:
                found.setdefault(info.name, info)
    return [found[n] for n in sorted(found)]


def load_prepared(name: str, split: str = "train", data_dir=None, hint: str = "") -> ImageDataset:
    """A prepared dataset's split as an ImageDataset whose images are memory-mapped from disk (pages are
    read when used, shared with the OS cache: a 200 000-picture set is not held twice in memory)."""
    if split not in SPLITS:
        raise UserError(f"Unknown split {split!r}; use 'train' or 'test'.")
    info = find_prepared(name, data_dir)
    if info is None:
        where = ", ".join(str(r) for r in _roots(data_dir))
        raise DataNotFound(f"No prepared dataset {name!r} in {where}." + (f" {hint}" if hint else ""))
    images = _memmap(info.folder / f"{split}-images.npy")
    labels = np.load(info.folder / f"{split}-labels.npy", allow_pickle=False)
    n = info.sizes.get(split)
    shape = (n, info.channels, info.image_size, info.image_size)
    if images.dtype != np.uint8 or images.shape != shape or labels.shape != (n,) or labels.dtype.kind not in "iu":
        raise DataNotFound(f"Prepared dataset {name} in {info.folder} is damaged: {split} pictures {images.shape}"
                           f" {images.dtype}, labels {labels.shape}, but {INFO_FILE} says {shape}. Prepare it again.")
    if info.class_names and n and (labels.min() < 0 or labels.max() >= len(info.class_names)):
        raise DataNotFound(f"Prepared dataset {name} in {info.folder} has labels outside its {len(info.class_names)} classes.")
    return ImageDataset(name, split, torch.from_numpy(images),     # no classes: an unlabelled folder
                        torch.from_numpy(labels.astype(np.int64)) if info.class_names else None,
                        list(info.class_names), f"prepared:{info.folder}", info.attribution)


def _memmap(path: Path) -> np.ndarray:
    """A .npy file mapped copy-on-write: torch can wrap it, and nothing is ever written back."""
    try:
        return np.load(path, mmap_mode="c", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataNotFound(f"Cannot read {path}: {exc}") from None


def split_indices(labels: np.ndarray, test_fraction: float, seed: int,
                  groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A fixed, stratified held-out split: (train indices, test indices), each sorted. Within each
    class, whole groups (e.g. one emoji in all its skin tones) go to the test split in an order drawn
    from `seed` until `test_fraction` of the class is there, so near-copies never straddle the split."""
    rng = np.random.default_rng(seed)
    groups = np.arange(len(labels)) if groups is None else np.asarray(groups)
    test = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        ids = np.unique(groups[members])
        target, taken = round(test_fraction * len(members)), 0
        for g in rng.permutation(ids):
            if taken >= target:
                break
            picked = members[groups[members] == g]
            test.append(picked)
            taken += len(picked)
    test_idx = np.sort(np.concatenate(test)) if test else np.zeros(0, np.int64)
    train_idx = np.setdiff1d(np.arange(len(labels)), test_idx)
    return train_idx, test_idx


# the temporary folder a dataset is written in, beside it: "." + name + "." + the writer's pid + "." +
# mkdtemp's 8 characters + ".tmp"; before the pid was in the name: without it
_TEMP = re.compile(r"^\.(?P<name>.+?)\.(?:(?P<pid>\d+)\.)?[a-z0-9_]{8}\.tmp$")
LEGACY_TEMP_AGE_S = 3600


def remove_stale_writes(parent: Path, name: str) -> list[Path]:
    """Remove the temporary folders of `name` left in `parent` by writers that were killed (kill -9, a
    power cut): those whose process no longer runs, and those of older versions (no pid in the name)
    untouched for an hour. Returns what was removed."""
    removed = []
    if not parent.is_dir():
        return removed
    now = time.time()
    for p in parent.iterdir():
        m = _TEMP.match(p.name)
        if m is None or m.group("name") != name or not p.is_dir() or p.is_symlink():
            continue
        try:
            stale = not process_running(int(m.group("pid"))) if m.group("pid") else now - p.stat().st_mtime > LEGACY_TEMP_AGE_S
        except OSError:
            continue
        if stale:
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


def _temp_folder(folder: Path) -> Path:
    return Path(tempfile.mkdtemp(prefix=f".{folder.name}.{os.getpid()}.", suffix=".tmp", dir=folder.parent))


def check_destination(folder: Path) -> Path:
    """`folder` (where a dataset will be written) checked now, before any picture is decoded: its
    parent created and writable, the leftovers of killed writes beside it removed; else UserError."""
    folder = Path(folder)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_writes(folder.parent, folder.name)
        _temp_folder(folder).rmdir()
    except OSError as exc:
        # mkdir(parents=True) creates what is missing: ENOENT means a folder (/proc) takes no new ones
        words = "that folder takes no new files" if exc.errno == errno.ENOENT else os_error_words(exc)
        raise UserError(f"The dataset cannot be written to {folder}: {words}.") from None
    return folder


def write_prepared(folder: Path, info: dict, images: np.ndarray, labels: np.ndarray,
                   splits: dict[str, np.ndarray]) -> PreparedInfo:
    """Write a prepared dataset atomically (a temporary folder beside it, then renamed into place):
    `images` (N, C, H, W) uint8 (a memory-mapped array is fine), `labels` (N,), `splits` name -> indices.
    Each split is copied in chunks, so nothing is held twice in memory. A write that fails (a full disk)
    is a UserError saying why; its temporary folder is removed (a killed one by the next write)."""
    folder = check_destination(folder)
    try:
        return _write(folder, info, images, labels, splits)
    except OSError as exc:
        raise UserError(f"The dataset could not be written to {folder}: {os_error_words(exc)}.") from None


def _write(folder: Path, info: dict, images: np.ndarray, labels: np.ndarray, splits: dict[str, np.ndarray]) -> PreparedInfo:
    tmp = _temp_folder(folder)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)       # mkdtemp makes 0700; a dataset is an ordinary folder
    try:
        for split, idx in splits.items():
            out = np.lib.format.open_memmap(tmp / f"{split}-images.npy", "w+", np.uint8, (len(idx),) + images.shape[1:])
            for i in range(0, len(idx), 4096):
                out[i:i + 4096] = images[idx[i:i + 4096]]
            out.flush()
            del out
            np.save(tmp / f"{split}-labels.npy", labels[idx].astype(np.int64))
        full = dict(info, format=FORMAT, format_version=FORMAT_VERSION, image_size=int(images.shape[-1]),
                    channels=int(images.shape[1]), splits={s: int(len(i)) for s, i in splits.items()})
        (tmp / INFO_FILE).write_text(json.dumps(full, indent=1, ensure_ascii=False))
        if folder.exists():
            old = folder.with_name(f".{folder.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            folder.rename(old)
            tmp.rename(folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return _read_info(folder)
