"""The map: encode a dataset into latent space, embed it in 2-D with UMAP, cache it on disk.

  VAE: posterior means of up to 10 000 test images, labelled with their true classes.
  GAN: generated samples (latents regenerated from a stored seed), labelled by the shipped
       classifier, until GAN inversion exists. Their latents are i.i.d. Gaussian noise, so a UMAP of
       the latents themselves is a structureless disc; the layout instead uses what each sample
       *looks like*: the classifier's features of the picture (or, for datasets the classifier does
       not know, the generator's first-layer activations). Each dot still carries its latent.
  2-d VAE: the latent plane *is* the map: no UMAP, the means are drawn as they are.

Embeddings are cached per (checkpoint content, parameters) as safetensors in checkpoints/cache/,
so shipped models open with their map at once. New points (the Explore latent, an interpolation
path) are placed by inverse-distance weighting of their k nearest neighbours in the layout's
feature space (UMAP's own transform initialises new points the same way): milliseconds, no JIT.
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

from explorer.core.checkpoints import CHECKPOINT_DIR, _write_atomic
from explorer.core.data import load_dataset, to_unit
from explorer.core.latent import sample_z
from explorer.core.models import decoder_of

log = logging.getLogger(__name__)
CACHE_DIR = CHECKPOINT_DIR / "cache"
MAP_VERSION = 3          # 2: exact k-NN graph; 3: GAN maps laid out by appearance


@dataclass(frozen=True)
class MapParams:
    points: int = 10_000        # how many items are placed on the map
    n_neighbors: int = 15       # UMAP: size of the neighbourhood that shapes the layout
    min_dist: float = 0.1       # UMAP: how tightly points may pack
    seed: int = 0               # UMAP's random state and, for a GAN, the seed of the sampled latents

    def key(self) -> str:
        return hashlib.sha256(json.dumps(dict(self.__dict__, version=MAP_VERSION), sort_keys=True).encode()).hexdigest()[:10]


@dataclass
class LatentMap:
    embedding: np.ndarray       # (N, 2) float32
    latents: np.ndarray         # (N, D) float32
    labels: np.ndarray          # (N,) int64, -1 where unknown
    class_names: list[str]
    source: str                 # "test-images" (VAE: item i is test image i) or "samples" (GAN)
    method: str                 # "umap" or "latent-plane"
    keys: np.ndarray | None = None   # (N, F) what the layout was computed from; None = the latents
    key_space: str = "latent"        # "latent", "classifier-features" or "generator-features"

    def place(self, keys: np.ndarray, k: int = 10) -> np.ndarray:
        """Map coordinates (M, 2) for new points given in the layout's key space (M, F)
        (`map_keys` turns latents into keys), by k-NN inverse-distance weighting."""
        z = np.atleast_2d(np.asarray(keys, np.float64))       # float64: |a|^2 - 2ab + |b|^2 cancels badly in float32
        if self.method == "latent-plane":
            return z[:, :2].astype(np.float32)
        d2 = (z * z).sum(1)[:, None] - 2 * z @ self.keys.T + self.sq_norms[None]     # (M, N)
        idx = np.argpartition(d2, k, axis=1)[:, :k]                                        # (M, k)
        dist = np.sqrt(np.maximum(np.take_along_axis(d2, idx, 1), 0))                   # (M, k)
        w = 1 / (dist + 1e-12)
        out = (w[..., None] * self.embedding[idx]).sum(1) / w.sum(1, keepdims=True)
        nearest = dist.argmin(1)
        exact = dist[np.arange(len(z)), nearest] <= 1e-6 * np.sqrt(self.sq_norms.mean() + 1e-30)
        out[exact] = self.embedding[idx[exact, nearest[exact]]]                          # a dot's own key: its dot
        return out.astype(np.float32)

    def __post_init__(self):
        if self.keys is None:
            self.keys = self.latents
        self.keys = self.keys.astype(np.float64)
        self.sq_norms = (self.keys * self.keys).sum(1)


def cache_path(model_name: str, digest: str, params: MapParams) -> Path:
    return CACHE_DIR / f"{model_name}-{digest}-map-{params.key()}.safetensors"


@torch.no_grad()
def map_keys(model, z: np.ndarray | torch.Tensor, classifier=None, key_space: str = "latent") -> np.ndarray:
    """Latents (M, D) -> the map's key space (M, F): see LatentMap.key_space."""
    z = torch.as_tensor(np.asarray(z, np.float32))
    if key_space == "latent":
        return z.numpy()
    G = decoder_of(model.checkpoint.modules)
    out = []
    for i in range(0, len(z), 500):
        zb = z[i:i + 500].to(model.device)
        if key_space == "classifier-features":
            out.append(classifier.features(G.generate(zb)).cpu())
        else:   # generator-features: the first BatchNorm+ReLU activations, as in directions.py
            h = G.project(zb).view(len(zb), -1, G.base, G.base)
            out.append(G.body[:2](h).flatten(1).cpu())
    return torch.cat(out).numpy()


def encode_items(model, params: MapParams, classifier=None, data_dir=None):
    """(latents (N, D), labels (N,), source, keys (N, F), key_space) for a LoadedModel."""
    ck = model.checkpoint
    if model.kind == "vae":
        vae = ck.modules["vae"]
        test = load_dataset(ck.meta.get("dataset", {}).get("name", "fashion-mnist"), "test", data_dir)
        x = to_unit(test.images[:params.points])
        with torch.inference_mode():
            means = torch.cat([vae.encode(x[i:i + 1000].to(model.device))[0].cpu() for i in range(0, len(x), 1000)])
        return means.numpy(), test.labels[:params.points].numpy(), "test-images", means.numpy(), "latent"
    z = sample_z(params.points, model.latent_dim, params.seed)
    labels = np.full(params.points, -1, np.int64)
    if classifier is not None:
        from explorer.eval.metrics import classify
        G = decoder_of(ck.modules)
        with torch.inference_mode():
            imgs = torch.cat([G.generate(z[i:i + 500].to(model.device)).cpu() for i in range(0, len(z), 500)])
        feats, pred = classify(classifier, imgs)
        return z.numpy(), pred.numpy(), "samples", feats.float().numpy(), "classifier-features"
    return z.numpy(), labels, "samples", map_keys(model, z, None, "generator-features"), "generator-features"


def exact_knn(x: np.ndarray, k: int, chunk: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours (self included, as UMAP expects): (indices, distances), each (N, k)."""
    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    idx, dist = [], []
    for i in range(0, len(t), chunk):
        d, j = torch.cdist(t[i:i + chunk], t).topk(k, largest=False)      # (c, N) -> (c, k)
        idx.append(j)
        dist.append(d)
    return torch.cat(idx).numpy(), torch.cat(dist).numpy()


def umap_backend() -> str:
    """"cuml" when RAPIDS cuML is installed and a CUDA GPU is visible, else "umap-learn"."""
    if not torch.cuda.is_available():
        return "umap-learn"
    try:
        import cuml.manifold  # noqa: F401
    except Exception:   # not installed, or installed without a working CUDA runtime
        return "umap-learn"
    return "cuml"


def fit_umap(latents: np.ndarray, params: MapParams, backend: str | None = None) -> np.ndarray:
    """2-D UMAP embedding, on the GPU with cuML where it is installed, else with umap-learn.

    For umap-learn the neighbour graph is computed exactly here (0.3 s for 10 000 points) instead
    of by pynndescent, whose numba compilation alone took ~30 s of a 37 s cold fit."""
    backend = backend or umap_backend()
    if backend == "cuml":
        from cuml.manifold import UMAP as CumlUMAP
        reducer = CumlUMAP(n_components=2, n_neighbors=params.n_neighbors, min_dist=params.min_dist,
                           random_state=params.seed)
        return np.asarray(reducer.fit_transform(np.ascontiguousarray(latents, dtype=np.float32)), dtype=np.float32)
    import warnings

    import umap

    knn = exact_knn(latents, params.n_neighbors)
    reducer = umap.UMAP(n_neighbors=params.n_neighbors, min_dist=params.min_dist, random_state=params.seed,
                        precomputed_knn=(knn[0], knn[1], None))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*(n_jobs|knn_search_index).*")
        return reducer.fit_transform(latents).astype(np.float32)


def compute_map(model, params: MapParams, classifier=None, data_dir=None,
                progress: Callable[[float, str], None] | None = None) -> LatentMap:
    progress = progress or (lambda f, msg: None)
    progress(0.05, "encoding data into latent space")
    latents, labels, source, keys, key_space = encode_items(model, params, classifier, data_dir)
    if model.latent_dim == 2 and key_space == "latent":
        emb, method = latents.astype(np.float32), "latent-plane"
    else:
        backend = umap_backend()
        progress(0.3, f"running UMAP on {len(keys)} points" + (" on the GPU (cuML)" if backend == "cuml" else " (about 15 s)"))
        emb, method = fit_umap(keys, params, backend), "umap" if backend == "umap-learn" else "umap (cuML)"
    progress(1.0, "done")
    return LatentMap(emb, latents.astype(np.float32), labels, list(model.class_names), source, method,
                     keys if key_space != "latent" else None, key_space)


def save_map(m: LatentMap, path: Path, params: MapParams) -> None:
    tensors = {"embedding": torch.from_numpy(m.embedding), "labels": torch.from_numpy(m.labels)}
    if m.source != "samples":               # a GAN's latents are regenerated from the seed
        tensors["latents"] = torch.from_numpy(m.latents)
    if m.key_space != "latent":
        tensors["keys"] = torch.from_numpy(m.keys).half()   # only for placing new points: half precision will do
    meta = {"version": MAP_VERSION, "params": params.__dict__, "class_names": m.class_names,
            "source": m.source, "method": m.method, "key_space": m.key_space}
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
        keys = t["keys"].float().numpy() if "keys" in t else None
        return LatentMap(t["embedding"].numpy(), latents, t["labels"].numpy(), meta["class_names"], meta["source"],
                         meta["method"], keys, meta.get("key_space", "latent"))
    except Exception as exc:  # a damaged cache is not fatal: log it and recompute
        log.warning("ignoring unreadable map cache %s: %s", path.name, exc)
        return None


def _init_worker() -> None:
    """The map worker process's set-up: one thread, leaving the other cores to the server."""
    torch.set_num_threads(1)


def _warm_up_umap() -> float:
    """Runs in the map worker process at start-up: compiles UMAP's numba code on a small problem,
    so the first real map costs a warm fit, not a cold one. Returns the seconds it took."""
    t0 = time.perf_counter()
    x = np.random.default_rng(0).normal(size=(500, 16)).astype(np.float32)
    fit_umap(x, MapParams(points=len(x)))
    return time.perf_counter() - t0


def _compute_in_child(ckpt_path: str, name: str, params: dict, classifier_path: str | None, out_path: str,
                      status_path: str) -> None:
    """Runs in the map worker process: numba's JIT compilation and UMAP's optimisation hold the GIL
    for seconds at a time, which would freeze every other request if they ran in a server thread."""
    from explorer.core.checkpoints import load_checkpoint
    from explorer.explore.registry import LoadedModel

    status = Path(status_path)

    def progress(frac, msg):
        status.write_text(f"{frac:.0%}: {msg}")

    ck = load_checkpoint(ckpt_path, "cpu")
    model = LoadedModel(name, ck, torch.device("cpu"), "")
    clf = None
    if classifier_path and ck.kind == "dcgan" and ck.meta.get("dataset", {}).get("name") == "fashion-mnist":
        from explorer.eval.metrics import load_classifier
        clf = load_classifier(classifier_path, "cpu")
    p = MapParams(**params)
    save_map(compute_map(model, p, clf, progress=progress), Path(out_path), p)


class MapStore:
    """Maps per model: from the disk cache at once, else computed in a background worker *process*
    (one map at a time) with visible progress. Nothing here blocks a caller: `get` returns None
    until it is ready. `warm_up()` starts the worker and compiles UMAP there ahead of need."""

    def __init__(self, classifier_path: Callable[[], Path | None] | None = None, params: MapParams = MapParams(),
                 cache_dir: Path | None = None):
        self.params, self.cache_dir = params, cache_dir
        self._classifier_path = classifier_path or (lambda: None)
        self._maps: dict[str, LatentMap] = {}
        self._status: dict[str, str] = {}
        self._lock = threading.Lock()
        self._threads: dict[str, threading.Thread] = {}
        self._one_at_a_time = threading.Lock()
        self._pool = None
        self._pool_lock = threading.Lock()
        self.warm_status = "not started"

    # ---------------------------------------------------------------- the worker process
    def _executor(self):
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        with self._pool_lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn"),
                                                 initializer=_init_worker)
                import atexit
                atexit.register(self.close)
            return self._pool

    def warm_up(self) -> None:
        """Start the worker process now and compile UMAP's JIT code in it (in the background)."""
        self.warm_status = "warming up"
        fut = self._executor().submit(_warm_up_umap)

        def done(f):
            exc = f.exception()
            self.warm_status = f"warm (JIT compiled in {f.result():.1f} s)" if exc is None else f"warm-up failed: {exc}"
        fut.add_done_callback(done)

    def close(self) -> None:
        """Stop the worker process (at exit; an unfinished map is simply computed again next time)."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.terminate()
            pool.shutdown(wait=False, cancel_futures=True)

    # ---------------------------------------------------------------- maps
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
        import concurrent.futures as cf
        import tempfile

        with self._one_at_a_time:
            t0 = time.perf_counter()
            out = self._path(model)
            out.parent.mkdir(parents=True, exist_ok=True)
            status = Path(tempfile.mkstemp(prefix="map-status-")[1])
            clf = self._classifier_path()
            self._status[model.name] = "0%: starting"
            error = None
            try:
                fut = self._executor().submit(
                    _compute_in_child, str(model.checkpoint.path), model.name, dict(self.params.__dict__),
                    str(clf) if clf else None, str(out), str(status))
                while not fut.done():
                    cf.wait([fut], timeout=0.5)
                    try:
                        if status.read_text():
                            self._status[model.name] = status.read_text()
                    except OSError:
                        pass
                fut.result()
            except cf.process.BrokenProcessPool:
                error = "the map worker process died"
                self.close()                      # a fresh worker is started for the next map
            except Exception as exc:  # noqa: BLE001 - reported in the UI, the server goes on
                error = f"{type(exc).__name__}: {exc}"
            finally:
                status.unlink(missing_ok=True)
            m = load_map(out, model.latent_dim) if error is None else None
            if m is None:
                log.warning("map for %s failed: %s", model.name, error)
                self._status[model.name] = f"failed ({error or 'unreadable result'}); see the server log"
                return
            with self._lock:
                self._maps[model.name] = m
            self._status[model.name] = f"ready (computed in {time.perf_counter() - t0:.0f} s)"

    def wait(self, name: str, timeout: float | None = None) -> None:
        t = self._threads.get(name)
        if t is not None:
            t.join(timeout)
