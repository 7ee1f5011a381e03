"""A model loaded on its device that decodes latents into uint8 pictures, and the checks on latents
that every caller shares. The renderer is a pure function of plain arguments (checkpoint, latent):
the UI only turns widget values into those arguments (the stylegan3 visualizer's contract)."""
from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from explorer.core.checkpoints import Checkpoint
from explorer.core.data import to_uint8
from explorer.core.families import Family, family_of
from explorer.core.models.dcgan import check_classes
from explorer.core.validation import UserError, check_index

MAX_BATCH = 1024
MAX_LATENT = 1e4        # |value| allowed in a latent vector: far outside anything a model was trained on


@dataclass
class LoadedModel:
    """A model on offer: its name, its family (what it draws and can do: explorer/core/families) and the
    content digest that keys its caches."""
    name: str                         # file stem, the id the UI and API use
    family: Family
    digest: str                       # content hash: keys caches of directions and maps
    cache_dir: Path | None = None     # where its directions and map are cached; None: the workspace's

    @classmethod
    def of(cls, name: str, checkpoint: Checkpoint, digest: str = "", cache_dir: Path | None = None) -> "LoadedModel":
        """A loaded checkpoint (modules on their device) as a model of its family."""
        return cls(name, family_of(checkpoint), digest, cache_dir)

    @property
    def device(self) -> torch.device:
        return self.family.device

    @property
    def lock(self) -> threading.Lock:
        return self.family.lock

    @property
    def path(self) -> Path | None:
        return self.family.path

    @property
    def meta(self) -> dict:
        return self.family.meta

    @property
    def latent_dim(self) -> int:
        return self.family.latent_dim

    @property
    def num_classes(self) -> int:
        """How many classes a class-conditional model draws; 0 for an unconditional one."""
        return self.family.num_classes

    @property
    def class_names(self) -> list[str]:
        return self.family.class_names

    def check_class(self, value, name: str = "Class") -> int | None:
        """A class index for this model: an int in range for a conditional model (None: class 0),
        None for an unconditional one (which refuses any class), or a UserError in plain words."""
        if not self.num_classes:
            if value is None or value == "":
                return None
            raise UserError(f"{self.name} is unconditional: it takes no class.")
        if value is None or value == "":
            return 0
        return check_index(name, value, 0, self.num_classes - 1)

    def class_label(self, c: int | None) -> str:
        """The name of class c ("class 3" when the checkpoint names none), "" for None."""
        if c is None:
            return ""
        names = self.class_names
        return str(names[c]) if 0 <= c < len(names) else f"class {c}"

    def class_labels(self) -> list[str]:
        """The name of every class this model draws, class 0 first ([] for an unconditional model)."""
        return [self.class_label(c) for c in range(self.num_classes)]

    def check_latent(self, z, name: str = "The latent vector") -> torch.Tensor:
        """(D,) or (N, D) array-like -> float32 tensor (N, D), or UserError in plain words.
        Values are read in float64 first, so 1e308 is "out of range", not an overflow to infinity;
        true/false are not numbers here (NumPy would read them as 1 and 0)."""
        if _holds_bool(z):
            raise UserError(f"{name} must be a list of numbers, got true/false values.")
        try:
            a = np.asarray(z, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            raise UserError(f"{name} must be a list of numbers.") from None
        if a.ndim == 1:
            a = a[None]
        if a.ndim != 2 or a.shape[1] != self.latent_dim:
            raise UserError(f"{self.name} needs latent vectors of {self.latent_dim} numbers, got shape {tuple(a.shape)}.")
        if np.isnan(a).any():
            i = int(np.argwhere(np.isnan(a))[0][-1])
            raise UserError(f"{name} holds NaN (not a number) at position {i + 1}.")
        out = np.abs(a) > MAX_LATENT
        if out.any():
            row, col = np.argwhere(out)[0]
            raise UserError(f"{name} is out of range ±10 000: value {col + 1} is {a[row, col]:g}.")
        return torch.from_numpy(a.astype(np.float32))

    def check_one_latent(self, z, name: str = "The latent vector") -> torch.Tensor:
        """Exactly one latent vector (D,): a batch where one is expected is refused, not cut to its first row."""
        t = self.check_latent(z, name)
        if len(t) != 1:
            raise UserError(f"{name} must be one latent vector of {self.latent_dim} numbers, got {len(t)} of them.")
        return t[0]

    @torch.inference_mode()
    def decode(self, z, classes=None, batch: int = MAX_BATCH) -> np.ndarray:
        """Latents (N, D) -> uint8 images (N, H, W, C), decoded in batches on the model's device.
        A class-conditional model also needs `classes`: one index for all, or one per latent (N,).
        The latents are trusted: values from outside are checked where they enter (`check_latent`)."""
        z = (z if torch.is_tensor(z) else torch.from_numpy(np.asarray(z, dtype=np.float32))).float()
        y = check_classes(classes, self.num_classes, len(z), "cpu")
        out = []
        with self.lock:   # BatchNorm/dropout are in eval mode; the lock keeps one forward at a time per model
            for i in range(0, len(z), batch):
                yb = None if y is None else y[i:i + batch].to(self.device)
                imgs = self.family.decode(z[i:i + batch].to(self.device), yb)  # (B, C, H, W) in [0, 1]
                out.append(to_uint8(imgs).permute(0, 2, 3, 1).cpu().numpy())   # -> (B, H, W, C)
        return np.concatenate(out)


def _holds_bool(z) -> bool:
    """Whether a latent from outside (a list, or a list of lists) holds a bool, or is a bool array."""
    if isinstance(z, (list, tuple)):
        return any(isinstance(v, bool) or (isinstance(v, (list, tuple)) and any(isinstance(x, bool) for x in v))
                   for v in z)
    return getattr(z, "dtype", None) in (np.bool_, torch.bool)


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]
