"""A loaded model on its device, and batched decoding of latents into uint8 images.

The renderer is a pure function of plain arguments (checkpoint name, latent vector): the UI only
turns widget values into those arguments (the stylegan3 visualizer's contract). Loaded models are
shared read-only between sessions; every request brings its own latent, so sessions never see
each other's state.
"""
from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from explorer.core.checkpoints import (
    CHECKPOINT_DIR,
    Checkpoint,
    CheckpointError,
    list_checkpoints,
    load_checkpoint,
    read_metadata,
)
from explorer.core.data import to_uint8
from explorer.core.models import decoder_of
from explorer.core.validation import UserError

EXPLORABLE = ("dcgan", "vae")
MAX_BATCH = 1024
MAX_LATENT = 1e4        # |value| allowed in a latent vector: far outside anything a model was trained on


@dataclass
class LoadedModel:
    name: str                         # file stem, the id the UI and API use
    checkpoint: Checkpoint
    device: torch.device
    digest: str                       # content hash: keys caches of directions and maps
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    cache_dir: Path | None = None     # where its directions and map are cached; None: the workspace's

    @property
    def kind(self) -> str:
        return self.checkpoint.kind

    @property
    def decoder(self):
        return decoder_of(self.checkpoint.modules)

    @property
    def latent_dim(self) -> int:
        return self.decoder.cfg.latent_dim

    @property
    def class_names(self) -> list[str]:
        return self.checkpoint.class_names

    @property
    def meta(self) -> dict:
        return self.checkpoint.meta

    def check_latent(self, z, name: str = "The latent vector") -> torch.Tensor:
        """(D,) or (N, D) array-like -> float32 tensor (N, D), or UserError in plain words.
        Values are read in float64 first, so 1e308 is "out of range", not an overflow to infinity."""
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
    def decode(self, z, batch: int = MAX_BATCH) -> np.ndarray:
        """Latents (N, D) -> uint8 images (N, H, W, C), decoded in batches on the model's device."""
        z = self.check_latent(z)
        dec = self.decoder
        out = []
        with self.lock:   # BatchNorm/dropout are in eval mode; the lock keeps one forward at a time per model
            for i in range(0, len(z), batch):
                imgs = dec.generate(z[i:i + batch].to(self.device))           # (B, C, H, W) in [0, 1]
                out.append(to_uint8(imgs).permute(0, 2, 3, 1).cpu().numpy())   # -> (B, H, W, C)
        return np.concatenate(out)


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]



class ModelRegistry:
    """Explorable checkpoints in a folder (plus uploads), loaded lazily once and shared.

    Names are file stems from the folder listing; a name that is not in the listing is refused, so
    no user string ever becomes a file path. Registration is all-or-nothing: an added file is
    listed only after it loaded and validated, so a refused file leaves the registry as it was."""

    def __init__(self, folder: Path = CHECKPOINT_DIR, device="cpu"):
        self.folder = Path(folder)
        self.device = torch.device(device)
        self._loaded: dict[str, LoadedModel] = {}
        self._extra: dict[str, LoadedModel] = {}       # added files (uploads), loaded and validated
        self._digests: dict[tuple, str] = {}           # (path, size, mtime) -> content digest
        self._lock = threading.Lock()

    def available(self) -> dict[str, dict]:
        """name -> metadata for every explorable checkpoint (classifiers and broken files left out)."""
        out = {}
        for path, meta in list_checkpoints(self.folder):
            if isinstance(meta, dict) and meta.get("kind") in EXPLORABLE:
                out[path.stem] = meta
        with self._lock:
            extra = dict(self._extra)
        for name, model in extra.items():
            out[name] = model.meta                      # read at registration: no file access here
        return out

    def path_of(self, name: str) -> Path:
        if not isinstance(name, str):
            raise UserError("A model name must be text.")
        with self._lock:
            if name in self._extra:
                return self._extra[name].checkpoint.path
        for path, meta in list_checkpoints(self.folder):
            if path.stem == name and isinstance(meta, dict) and meta.get("kind") in EXPLORABLE:
                return path
        raise UserError(f"Unknown model {name[:80]!r}. Choose one from the model list.")

    def get(self, name: str) -> LoadedModel:
        with self._lock:
            if name in self._extra:
                return self._extra[name]
            if name in self._loaded:
                return self._loaded[name]
        model = self._load(self.path_of(name), name)
        with self._lock:
            return self._loaded.setdefault(name, model)

    def _load(self, path: Path, name: str, cache_dir: Path | None = None) -> LoadedModel:
        ck = load_checkpoint(path, self.device)
        if self.device.type == "cpu":
            # channels_last: same images (max difference 3e-6), 1.1x faster at batch 1 and 1.5-2x at
            # batch 64-1024 on the 2-core CPU (`python -m explorer.bench decode --variants`).
            # bf16 autocast was faster still at large batches but changed 15-20% of the pixels by
            # up to 12/255 levels, so decoding stays fp32. Neither is measured on CUDA yet.
            for module in ck.modules.values():
                module.to(memory_format=torch.channels_last)
        return LoadedModel(name, ck, self.device, self.digest_of(path), cache_dir=cache_dir)

    def digest_of(self, path: Path) -> str:
        """The file's content digest, remembered while its size and modification time stay the same."""
        st = Path(path).stat()
        key = (str(path), st.st_size, st.st_mtime_ns)
        if key not in self._digests:
            self._digests[key] = file_digest(path)
        return self._digests[key]

    def find_digest(self, digest: str) -> str | None:
        """The name of a listed model with exactly this content, or None."""
        with self._lock:
            for name, model in self._extra.items():
                if model.digest == digest:
                    return name
        for name in self.available():
            try:
                if self.digest_of(self.path_of(name)) == digest:
                    return name
            except (OSError, UserError):     # vanished meanwhile: not a match
                continue
        return None

    def add_file(self, path: Path, name: str, cache_dir: Path | None = None) -> LoadedModel:
        """Load and validate a file (e.g. an upload copied to a private folder), then list it under
        `name`. Nothing is listed unless everything succeeded. `cache_dir`: where its directions and
        map go (None: the workspace's cache folder)."""
        meta = read_metadata(path)
        if meta["kind"] not in EXPLORABLE:
            raise CheckpointError(f"{path.name} holds a {meta['kind']}, which has no image decoder to explore.")
        model = self._load(Path(path), name, cache_dir)     # every tensor's name, shape and finiteness
        with self._lock:
            if name in self._extra and self._extra[name].digest == model.digest:
                return self._extra[name]                      # listed meanwhile: keep the first
            self._extra[name] = model
            self._loaded.pop(name, None)
        return model
