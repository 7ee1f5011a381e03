"""UMAP backend choice: cuML on a CUDA machine where it is installed, umap-learn otherwise."""
import sys
import types

import numpy as np
import torch

from explorer.maps.layout import MapParams
from explorer.maps.umap_fit import fit_umap, umap_backend


def test_umap_learn_without_a_gpu_or_cuml(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert umap_backend() == "umap-learn"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setitem(sys.modules, "cuml", None)          # "not installed": import raises
    monkeypatch.setitem(sys.modules, "cuml.manifold", None)
    assert umap_backend() == "umap-learn"


def test_cuml_is_used_where_installed_on_a_gpu(monkeypatch):
    calls = {}

    class FakeCumlUMAP:
        def __init__(self, **kw):
            calls["kw"] = kw

        def fit_transform(self, x):
            calls["x"] = x
            return x[:, :2] * 2

    manifold = types.ModuleType("cuml.manifold")
    manifold.UMAP = FakeCumlUMAP
    cuml = types.ModuleType("cuml")
    cuml.manifold = manifold
    monkeypatch.setitem(sys.modules, "cuml", cuml)
    monkeypatch.setitem(sys.modules, "cuml.manifold", manifold)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert umap_backend() == "cuml"
    x = np.random.default_rng(0).normal(size=(50, 4))
    p = MapParams(points=50, n_neighbors=7, min_dist=0.2, seed=3)
    emb = fit_umap(x, p)
    assert emb.dtype == np.float32 and emb.shape == (50, 2) and np.allclose(emb, 2 * x[:, :2])
    assert calls["kw"] == {"n_components": 2, "n_neighbors": 7, "min_dist": 0.2, "random_state": 3}
    assert calls["x"].dtype == np.float32 and calls["x"].flags["C_CONTIGUOUS"]
