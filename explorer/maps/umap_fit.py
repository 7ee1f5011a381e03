"""Computing a map: encode the items, then a 2-D UMAP of their keys (exact k-NN graph; cuML on a GPU)."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from explorer.maps.features import encode_items
from explorer.maps.layout import LatentMap, MapParams


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


def import_umap():
    """umap-learn, imported with numba's on-disk cache on for every function it compiles as it loads.

    umap-learn asks numba to cache one of its ~130 compiled functions, so every new process (each
    map worker, each app start) compiled the rest again: ~20 s of CPU before its first map. With the
    cache on they are compiled once per installation and loaded in under a second after that. The
    cache is numba's own (next to umap's files, or numba's user cache folder where that is read-only);
    it is keyed by source file and CPU, and a function numba cannot cache is compiled as before."""
    import sys
    if "umap" in sys.modules:
        return sys.modules["umap"]
    import numba
    plain = numba.njit, numba.jit

    def cached(decorator):
        def wrapped(*args, **kwargs):
            kwargs.setdefault("cache", True)
            return decorator(*args, **kwargs)
        return wrapped
    numba.njit, numba.jit = cached(numba.njit), cached(numba.jit)
    try:
        import umap
    finally:
        numba.njit, numba.jit = plain
    return umap


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

    umap = import_umap()
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
    latents, labels, source, keys, key_space, classes = encode_items(model, params, classifier, data_dir)
    if model.latent_dim == 2 and key_space == "latent":
        emb, method = latents.astype(np.float32), "latent-plane"
    else:
        backend = umap_backend()
        progress(0.3, f"running UMAP on {len(keys)} points" + (" on the GPU (cuML)" if backend == "cuml" else " (about 15 s)"))
        emb, method = fit_umap(keys, params, backend), "umap" if backend == "umap-learn" else "umap (cuML)"
    progress(1.0, "done")
    return LatentMap(emb, latents.astype(np.float32), labels, list(model.class_names), source, method,
                     keys if key_space != "latent" else None, key_space, classes)
