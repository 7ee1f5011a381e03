"""The map: encode a dataset into latent space, embed it in 2-D with UMAP, cache it on disk.

  VAE: posterior means of up to 10 000 test images, labelled with their true classes.
  GAN: latents of generated samples (regenerated from a stored seed), labelled by the shipped
       classifier, until GAN inversion exists.
  2-d VAE: the latent plane *is* the map: no UMAP, the means are drawn as they are.

Embeddings are cached per (checkpoint content, parameters) as safetensors in checkpoints/cache/,
so shipped models open with their map at once. New points (the Explore latent, an interpolation
path) are placed by inverse-distance weighting of their k nearest neighbours in latent space
(UMAP's own transform initialises new points the same way): milliseconds, no JIT on a click.
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from safetensors.torch import load_file, save

from .checkpoints import CHECKPOINT_DIR, _write_atomic
from .data import load_dataset, to_unit
from .latent import sample_z
from .models import decoder_of

log = logging.getLogger(__name__)
CACHE_DIR = CHECKPOINT_DIR / "cache"
MAP_VERSION = 1


@dataclass(frozen=True)
class MapParams:
    points: int = 10_000        # how many items are placed on the map
    n_neighbors: int = 15       # UMAP: size of the neighbourhood that shapes the layout
    min_dist: float = 0.1       # UMAP: how tightly points may pack
    seed: int = 0               # UMAP's random state and, for a GAN, the seed of the sampled latents

    def key(self) -> str:
        return hashlib.sha256(json.dumps(self.__dict__, sort_keys=True).encode()).hexdigest()[:10]


@dataclass
class LatentMap:
    embedding: np.ndarray       # (N, 2) float32
    latents: np.ndarray         # (N, D) float32
    labels: np.ndarray          # (N,) int64, -1 where unknown
    class_names: list[str]
    source: str                 # "test-images" (VAE: item i is test image i) or "samples" (GAN)
    method: str                 # "umap" or "latent-plane"

    def place(self, z: np.ndarray, k: int = 10) -> np.ndarray:
        """Map coordinates (M, 2) for new latents (M, D) by k-NN inverse-distance weighting."""
        z = np.atleast_2d(np.asarray(z, np.float32))
        if self.method == "latent-plane":
            return z[:, :2].copy()
        d2 = (z * z).sum(1)[:, None] - 2 * z @ self.latents.T + self.sq_norms[None]     # (M, N)
        idx = np.argpartition(d2, k, axis=1)[:, :k]                                        # (M, k)
        dist = np.sqrt(np.maximum(np.take_along_axis(d2, idx, 1), 0)) + 1e-6
        w = 1 / dist
        return (w[..., None] * self.embedding[idx]).sum(1) / w.sum(1, keepdims=True)

    def __post_init__(self):
        self.sq_norms = (self.latents * self.latents).sum(1)


def cache_path(model_name: str, digest: str, params: MapParams) -> Path:
    return CACHE_DIR / f"{model_name}-{digest}-map-{params.key()}.safetensors"


def encode_items(model, params: MapParams, classifier=None, data_dir=None) -> tuple[np.ndarray, np.ndarray, str]:
    """(latents (N, D), labels (N,), source) for a LoadedModel."""
    ck = model.checkpoint
    if model.kind == "vae":
        vae = ck.modules["vae"]
        test = load_dataset(ck.meta.get("dataset", {}).get("name", "fashion-mnist"), "test", data_dir)
        x = to_unit(test.images[:params.points])
        with torch.inference_mode():
            means = torch.cat([vae.encode(x[i:i + 1000].to(model.device))[0].cpu() for i in range(0, len(x), 1000)])
        return means.numpy(), test.labels[:params.points].numpy(), "test-images"
    z = sample_z(params.points, model.latent_dim, params.seed)
    labels = np.full(params.points, -1, np.int64)
    if classifier is not None:
        from .metrics import classify
        G = decoder_of(ck.modules)
        with torch.inference_mode():
            imgs = torch.cat([G.generate(z[i:i + 500].to(model.device)).cpu() for i in range(0, len(z), 500)])
        labels = classify(classifier, imgs)[1].numpy()
    return z.numpy(), labels, "samples"


def fit_umap(latents: np.ndarray, params: MapParams) -> np.ndarray:
    import umap

    reducer = umap.UMAP(n_neighbors=params.n_neighbors, min_dist=params.min_dist, random_state=params.seed)
    return reducer.fit_transform(latents).astype(np.float32)


def compute_map(model, params: MapParams, classifier=None, data_dir=None,
                progress: Callable[[float, str], None] | None = None) -> LatentMap:
    progress = progress or (lambda f, msg: None)
    progress(0.05, "encoding data into latent space")
    latents, labels, source = encode_items(model, params, classifier, data_dir)
    if model.latent_dim == 2:
        emb, method = latents.astype(np.float32), "latent-plane"
    else:
        progress(0.3, f"running UMAP on {len(latents)} points (the first run compiles, about a minute)")
        emb, method = fit_umap(latents, params), "umap"
    progress(1.0, "done")
    return LatentMap(emb, latents.astype(np.float32), labels, list(model.class_names), source, method)


def save_map(m: LatentMap, path: Path, params: MapParams) -> None:
    tensors = {"embedding": torch.from_numpy(m.embedding), "labels": torch.from_numpy(m.labels)}
    if m.source != "samples":               # a GAN's latents are regenerated from the seed
        tensors["latents"] = torch.from_numpy(m.latents)
    meta = {"version": MAP_VERSION, "params": params.__dict__, "class_names": m.class_names,
            "source": m.source, "method": m.method}
    _write_atomic(path, save(tensors, metadata={"map": json.dumps(meta)}))


def load_map(path: Path, latent_dim: int) -> LatentMap | None:
    """A cached map, or None if absent or unreadable (it is then recomputed)."""
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
        latents = t["latents"].numpy() if "latents" in t else sample_z(params.points, latent_dim, params.seed).numpy()
        return LatentMap(t["embedding"].numpy(), latents, t["labels"].numpy(), meta["class_names"], meta["source"], meta["method"])
    except Exception as exc:  # a damaged cache is not fatal: log it and recompute
        log.warning("ignoring unreadable map cache %s: %s", path.name, exc)
        return None


def _compute_in_child(ckpt_path: str, name: str, params: dict, classifier_path: str | None, out_path: str,
                      status_path: str) -> None:
    """Runs in a separate process: numba's JIT compilation inside UMAP holds the GIL for tens of
    seconds, which would freeze every other request if it ran in a thread of the server."""
    import torch as _torch

    from .checkpoints import load_checkpoint
    from .render import LoadedModel

    _torch.set_num_threads(1)
    status = Path(status_path)

    def progress(frac, msg):
        status.write_text(f"{frac:.0%}: {msg}")

    ck = load_checkpoint(ckpt_path, "cpu")
    model = LoadedModel(name, ck, _torch.device("cpu"), "")
    clf = None
    if classifier_path and ck.kind == "dcgan" and ck.meta.get("dataset", {}).get("name") == "fashion-mnist":
        from .metrics import load_classifier
        clf = load_classifier(classifier_path, "cpu")
    p = MapParams(**params)
    save_map(compute_map(model, p, clf, progress=progress), Path(out_path), p)


class MapStore:
    """Maps per model: from the disk cache at once, else computed in a background *process* (one at a
    time) with visible progress. Nothing here blocks a caller: `get` returns None until it is ready."""

    def __init__(self, classifier_path: Callable[[], Path | None] | None = None, params: MapParams = MapParams(),
                 cache_dir: Path | None = None):
        self.params, self.cache_dir = params, cache_dir
        self._classifier_path = classifier_path or (lambda: None)
        self._maps: dict[str, LatentMap] = {}
        self._status: dict[str, str] = {}
        self._lock = threading.Lock()
        self._threads: dict[str, threading.Thread] = {}
        self._one_at_a_time = threading.Lock()

    def _path(self, model) -> Path:
        p = cache_path(model.name, model.digest, self.params)
        return (self.cache_dir / p.name) if self.cache_dir else p

    def status(self, name: str) -> str:
        return self._status.get(name, "not started")

    def get(self, model, start: bool = True) -> LatentMap | None:
        with self._lock:
            if model.name in self._maps:
                return self._maps[model.name]
        cached = load_map(self._path(model), model.latent_dim)
        if cached is not None:
            with self._lock:
                self._maps[model.name] = cached
                self._status[model.name] = "ready (from cache)"
            return cached
        if start:
            self.start(model)
        return None

    def start(self, model) -> None:
        with self._lock:
            if model.name in self._threads and self._threads[model.name].is_alive():
                return
            self._status[model.name] = "waiting for another map to finish"
            t = threading.Thread(target=self._compute, args=(model,), name=f"map-{model.name}", daemon=True)
            self._threads[model.name] = t
        t.start()

    def _compute(self, model) -> None:
        import multiprocessing as mp
        import tempfile

        with self._one_at_a_time:
            t0 = time.perf_counter()
            out = self._path(model)
            out.parent.mkdir(parents=True, exist_ok=True)
            status = Path(tempfile.mkstemp(prefix="map-status-")[1])
            clf = self._classifier_path()
            proc = mp.get_context("spawn").Process(
                target=_compute_in_child, daemon=True,
                args=(str(model.checkpoint.path), model.name, dict(self.params.__dict__), str(clf) if clf else None,
                      str(out), str(status)))
            self._status[model.name] = "0%: starting"
            proc.start()
            while proc.is_alive():
                proc.join(0.5)
                try:
                    if status.read_text():
                        self._status[model.name] = status.read_text()
                except OSError:
                    pass
            status.unlink(missing_ok=True)
            m = load_map(out, model.latent_dim) if proc.exitcode == 0 else None
            if m is None:
                self._status[model.name] = f"failed (exit code {proc.exitcode}); see the server log"
                return
            with self._lock:
                self._maps[model.name] = m
            self._status[model.name] = f"ready (computed in {time.perf_counter() - t0:.0f} s)"

    def wait(self, name: str, timeout: float | None = None) -> None:
        t = self._threads.get(name)
        if t is not None:
            t.join(timeout)
