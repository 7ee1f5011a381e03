"""Directions in W for a style-based generator, and sliders limited to a range of its layers.

GANSpace on StyleGAN (Harkonen et al. 2020, section 3.1): the principal components of sampled w are
directions in W itself, no regression back to z needed. The family's latent is W+ (one w offset per layer,
explorer/core/families/stylegan.py), so a direction v (w_dim,) is applied to all layers as the row
(v, v, ..., v) / sqrt(L), or to a range of them (coarse: pose and shape; middle: features; fine: colour
and texture, the paper's figure 3) as v in those layers only, renormalised. One slider unit is still one
standard deviation of w along v in each layer it moves: the row's scale is sqrt(layers) x sigma.
Rows of different components stay orthogonal whatever their ranges (v_i . v_j = 0), so each slider is
still an independent coordinate.
"""
from __future__ import annotations

import math
from dataclasses import replace

import torch

from explorer.core.families import Family
from explorer.explore.directions import Directions, class_directions

ALL = "all"


@torch.no_grad()
def w_pca_directions(family: Family, samples: int = 5000, seed: int = 0, classifier=None, check: int = 200,
                     class_samples: int = 5000, **_) -> Directions:
    """Principal components of `samples` seeds' w offsets, each on all layers."""
    x = family.seed_latents(samples, seed)                                 # (N, L * w_dim): w offsets, tiled
    layers = max(r.stop for r in family.layer_groups().values())           # num_ws
    w = x[:, : x.shape[1] // layers].double()                               # (N, w_dim): one layer's copy
    w = w - w.mean(0)
    evals, evecs = torch.linalg.eigh(torch.cov(w.T))                        # ascending
    order = torch.argsort(evals, descending=True)[: min(w.shape[1], 32)]
    evals, v = evals[order].clamp(min=0), evecs[:, order].T                 # (k,), (k, w_dim)
    basis = v.repeat(1, layers) / math.sqrt(layers)                         # (k, L * w_dim) unit rows
    scales = (evals.sqrt() * math.sqrt(layers)).clamp(min=1e-6)
    routes = class_directions(family, classifier, class_samples, check) if classifier is not None else None
    return Directions(basis.float(), (evals / evals.sum()).float(), torch.zeros(x.shape[1]), scales.float(),
                      list(family.class_names) if routes is not None else [], routes)


def in_layers(d: Directions, ranges: list[str], groups: dict[str, range]) -> Directions:
    """The directions with slider i limited to the layers of `ranges[i]` ("all", or a name in `groups`);
    sliders past the list, and "all", move every layer."""
    if not any(r != ALL for r in ranges):
        return d
    layers = max(g.stop for g in groups.values())
    basis, scales = d.basis.clone(), d.scales.clone()
    for i, name in enumerate(ranges[: len(basis)]):
        if name == ALL:
            continue
        mask = torch.zeros(layers, 1)
        mask[groups[name].start:groups[name].stop] = 1
        row = basis[i].reshape(layers, -1) * mask                          # (L, w_dim): zero outside the range
        basis[i] = (row / row.norm()).flatten()
        scales[i] = d.scales[i] * math.sqrt(len(groups[name]) / layers)
    return replace(d, basis=basis, scales=scales)
