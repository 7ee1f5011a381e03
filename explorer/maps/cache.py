"""Maps on disk: one safetensors file per (checkpoint content, map parameters), written atomically.

Shipped models' maps are in checkpoints/cache/, so they open at once; an unreadable or outdated
file is ignored and the map is computed again.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save

from explorer.core.checkpoints import CHECKPOINT_DIR, _write_atomic
from explorer.maps.layout import MAP_VERSION, LatentMap, MapParams

log = logging.getLogger(__name__)
CACHE_DIR = CHECKPOINT_DIR / "cache"


def cache_path(model_name: str, digest: str, params: MapParams, cache_dir: Path | None = None) -> Path:
    return Path(cache_dir or CACHE_DIR) / f"{model_name}-{digest}-map-{params.key()}.safetensors"


def save_map(m: LatentMap, path: Path, params: MapParams) -> None:
    tensors = {"embedding": torch.from_numpy(m.embedding), "labels": torch.from_numpy(m.labels)}
    if m.source != "samples":               # a GAN's latents are regenerated from the seed
        tensors["latents"] = torch.from_numpy(m.latents)
    if m.classes is not None:
        tensors["classes"] = torch.from_numpy(np.ascontiguousarray(m.classes, np.int64))
    if m.key_space != "latent":
        tensors["keys"] = torch.from_numpy(m.keys).half()   # only for placing new points: half precision will do
    meta = {"version": MAP_VERSION, "params": params.__dict__, "class_names": m.class_names,
            "source": m.source, "method": m.method, "key_space": m.key_space}
    _write_atomic(path, save(tensors, metadata={"map": json.dumps(meta)}))


def load_map(path: Path, seed_latents: Callable[[int, int], torch.Tensor]) -> LatentMap | None:
    """A cached map, or None if absent or unreadable (it is then recomputed). A map of samples stores no
    latents: `seed_latents(n, seed)` draws them again (the model family's prior, `Family.seed_latents`)."""
    if not path.is_file():
        return None
    try:
        from safetensors import safe_open
        with safe_open(str(path), framework="pt") as f:
            meta = json.loads(f.metadata()["map"])
        t = load_file(str(path))
        if meta.get("version") != MAP_VERSION:
            return None
        params = MapParams(**meta["params"])
        latents = t["latents"].numpy() if "latents" in t else seed_latents(params.points, params.seed).numpy()
        keys = t["keys"].float().numpy() if "keys" in t else None
        return LatentMap(t["embedding"].numpy(), latents, t["labels"].numpy(), meta["class_names"], meta["source"],
                         meta["method"], keys, meta.get("key_space", "latent"),
                         t["classes"].numpy() if "classes" in t else None)
    except Exception as exc:  # a damaged cache is not fatal: log it and recompute
        log.warning("ignoring unreadable map cache %s: %s", path.name, exc)
        return None
