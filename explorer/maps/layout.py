"""A map of a model's latent space: its parameters, the 2-D layout, and placing new points on it.

New points (the Explore latent, an interpolation path) are placed by inverse-distance weighting
of their k nearest neighbours in the layout's key space (UMAP's own transform initialises new
points the same way): milliseconds, no JIT.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np

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
    classes: np.ndarray | None = None   # (N,) int64: the class a conditional model draws each dot with

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
