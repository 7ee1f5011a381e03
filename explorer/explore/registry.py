"""The model registry: explorable models in a folder (plus uploads), loaded once and shared.

A models folder holds Latent Explorer checkpoints (`*.safetensors`) and ONNX decoders (`*.onnx`; an
`NAME-encoder.onnx` beside one is its encoder, not a model of its own). An ONNX file's metadata is only
known once it has been checked and probed (explorer/core/families/onnx.py), so it is loaded to be
listed, once per file version; a file that is refused is left out, like a broken checkpoint.

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
from explorer.core.families import explorable, family_class, family_of, open_model
from explorer.core.families.onnx import OnnxFamily
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
        self._onnx: dict[tuple, LoadedModel | str] = {}  # (path, size, mtime) -> an ONNX file's model, or why not
        self._lock = threading.Lock()

    def _listed(self) -> list[tuple[Path, dict]]:
        """(path, metadata) of every explorable model file in the folder."""
        out = [(p, m) for p, m in list_checkpoints(self.folder) if explorable(m)]
        for path in sorted(self.folder.glob("*.onnx")):
            if not path.stem.endswith("-encoder"):
                model = self._onnx_model(path)
                if isinstance(model, LoadedModel):
                    out.append((path, model.meta))
        return out

    def _onnx_model(self, path: Path) -> LoadedModel | str:
        """An ONNX decoder of the folder, loaded (checked and probed) once per file version, or why not."""
        try:
            st = path.stat()
        except OSError as exc:
            return str(exc)
        key = (str(path), st.st_size, st.st_mtime_ns)
        with self._lock:
            if key in self._onnx:
                return self._onnx[key]
        try:
            found: LoadedModel | str = LoadedModel(path.stem, OnnxFamily(path), self.digest_of(path))
        except (UserError, OSError) as exc:
            found = str(exc)
        with self._lock:
            return self._onnx.setdefault(key, found)

    def available(self) -> dict[str, dict]:
        """name -> metadata for every explorable model (classifiers and broken files left out)."""
        out = {}
        for path, meta in self._listed():
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
        for path, _ in self._listed():
            if path.stem == name:
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
        if path.suffix.lower() == ".onnx":
            found = self._onnx_model(path) if cache_dir is None else LoadedModel(name, open_model(path), self.digest_of(path))
            if isinstance(found, str):
                raise CheckpointError(found)
            found.cache_dir = cache_dir
            return found
        ck = load_checkpoint(path, self.device)
        if self.device.type == "cpu":
            # channels_last: same images (max difference 3e-6), 1.1x faster at batch 1 and 1.5-2x at
            # batch 64-1024 on the 2-core CPU (`python -m explorer.bench decode --variants`).
            # bf16 autocast was faster still at large batches but changed 15-20% of the pixels by
            # up to 12/255 levels, so decoding stays fp32. Neither is measured on CUDA yet.
            for module in ck.modules.values():
                module.to(memory_format=torch.channels_last)
        return LoadedModel(name, family_of(ck), self.digest_of(path), cache_dir)

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
        if Path(path).suffix.lower() != ".onnx":
            meta = read_metadata(path)
            if not explorable(meta):
                raise CheckpointError(f"{path.name} holds a {meta['kind']}, which has no image decoder to explore.")
        model = self._load(Path(path), name, cache_dir)     # every tensor's name, shape and finiteness; an ONNX graph checked
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
