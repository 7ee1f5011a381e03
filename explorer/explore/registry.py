"""The model registry: explorable checkpoints in a folder (plus uploads), loaded once and shared.

Loaded models are shared read-only between sessions; every request brings its own latent, so
sessions never see each other's state.
"""
from __future__ import annotations

import threading
from pathlib import Path

import torch

from explorer.core.checkpoints import (
    CHECKPOINT_DIR,
    CheckpointError,
    list_checkpoints,
    load_checkpoint,
    read_metadata,
)
from explorer.core.families import explorable, family_class
from explorer.core.loaded_model import MAX_LATENT, LoadedModel, file_digest  # noqa: F401  (MAX_LATENT: re-exported)
from explorer.core.validation import UserError


def colour_model(listing: dict[str, dict]) -> str | None:
    """The model that shows colour best (the tour's colour step): a colour (3-channel) model, a
    class-conditional GAN first, then any GAN, then any other; None when no colour model is listed.
    Picked by what the metadata says, never by file name."""
    def rank(item):
        name, meta = item
        cfg = meta.get("config") if isinstance(meta.get("config"), dict) else {}
        return (not family_class(meta).adversarial, not cfg.get("num_classes"), name)
    colour = [(n, m) for n, m in listing.items() if explorable(m) and isinstance(m.get("config"), dict)
              and m["config"].get("channels") == 3]
    return min(colour, key=rank)[0] if colour else None


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
            if explorable(meta):
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
                return self._extra[name].path
        for path, meta in list_checkpoints(self.folder):
            if path.stem == name and explorable(meta):
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
        return LoadedModel.of(name, ck, self.digest_of(path), cache_dir)

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
        if not explorable(meta):
            raise CheckpointError(f"{path.name} holds a {meta['kind']}, which has no image decoder to explore.")
        model = self._load(Path(path), name, cache_dir)     # every tensor's name, shape and finiteness
        with self._lock:
            if name in self._extra and self._extra[name].digest == model.digest:
                return self._extra[name]                      # listed meanwhile: keep the first
            self._extra[name] = model
            self._loaded.pop(name, None)
        return model

    def remove(self, name: str, path: Path) -> None:
        """Unlist the added file `path` listed as `name` (an upload unloaded to make room); nothing else."""
        with self._lock:
            model = self._extra.get(name)
            if model is not None and model.path == Path(path):
                del self._extra[name]
