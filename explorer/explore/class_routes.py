"""Named class directions that work: "more like Bag" and "Sneaker ↔ Ankle boot" as per-picture routes.

One fixed latent vector added to every seed turns only some pictures into the class: on the shipped
models, class-mean differences at the old slider end (+2) reached the class for 24-95 % of seeds on
the GAN and 0-98 % on the VAEs, because a class is a region of latent space, not a half-space, and
on the 2-d VAE some classes are small islands. Also measured on the GAN, 200 seeds: a longer reach
(class-mean difference, length 8: Dress 51 %, Shirt 56 %), a logistic-regression probe's weights
(Dress 2 % at length 8) and 32 steps up the classifier's gradient through the generator (46-82 %,
with end pictures that fooled the classifier: a nearest-neighbour check on pixels agreed for 12-40 %).
So a named direction is a route, chosen for each picture from its latent alone (no randomness: a
Recipe reproduces it):

  1. the ray: from z along the class's vector v (mean latent of bank samples the classifier calls
     the class with confidence, minus the mean of all bank samples), stopping at the first of
     RAY_STEPS where the shipped classifier calls the picture the class with probability >= 0.9;
  2. if the ray never gets there, the straight line to the nearest anchor (a bank sample the
     classifier confidently calls the class), stopping at the first such point on it.

Amount a moves z to z + a (end - z): 0 is the picture itself, 1 the end of the route. A pair
"A ↔ B" joins two such routes through the picture: -1 is the end of the route to A, +1 the end of
the route to B. (A ray along mean(B) - mean(A) was measured too: from random seeds it reached B
for only 6-63 % of seeds on the 16-d VAE, so most pictures would have needed the anchor line.)
Pairs are the classes the model itself confuses most (each class with its runner-up), where the
pictures between the two ends mean something. Every route is checked on seeds disjoint from the
bank it was fitted on; the share whose picture the classifier calls the class at the end is stored.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch


Judge = Callable[[torch.Tensor], torch.Tensor]     # latents (N, D) -> class probabilities (N, C)
Sampler = Callable[[int, int], torch.Tensor]       # (n, seed) -> n latents from the model's prior: Family.seed_latents

RAY_STEPS = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0)   # latent units along v; beyond 6 pictures degrade
ANCHOR_STEPS = tuple(i / 10 for i in range(1, 11))                # fractions of the way to the anchor
STOP = 0.9              # classifier probability at which a route ends
MIN_ANCHORS = 3         # a class the model draws this rarely with confidence gets no route: the 2-d VAE's best
                        # "Coat" (p = 0.75) is a noisy blob far from the origin, which no one would call a coat
ANCHORS = 32            # anchors kept per class
MAX_PAIRS = 8
BANK_SEED = 987_654_321             # fitting samples: one batch from this generator seed
CHECK_SEED0 = 1_000_000             # checking seeds: sample_z(1, D, CHECK_SEED0 + i), as the Explore tab draws them


def classifier_judge(family, classifier, batch: int = 500) -> Judge:
    """Decode latents with an (unconditional) model family and return the classifier's class
    probabilities (N, C) on the CPU."""
    clf_device = next(classifier.parameters()).device

    @torch.no_grad()
    def judge(z: torch.Tensor) -> torch.Tensor:
        out = []
        for chunk in z.split(batch):
            with family.lock:                          # the model's lock: one forward at a time per model
                images = family.decode(chunk.to(family.device))            # (B, C, H, W) in [0, 1]
            out.append(torch.softmax(classifier(images.to(clf_device)), 1).float().cpu())
        return torch.cat(out)
    return judge


def check_latents(n: int, sampler: Sampler) -> torch.Tensor:
    """The checking seeds' latents (n, D), drawn one seed at a time like the Explore tab does."""
    return torch.cat([sampler(1, CHECK_SEED0 + i) for i in range(n)])


def _first_hits(points: torch.Tensor, target: int, level: float, judge: Judge, chunk: int = 3):
    """points (N, S, D) along each row's route -> (index of the first point judged `target`, or -1).

    Judged a few steps at a time and only for rows without a hit yet: the same answer as judging
    every point, at about a third of the cost (most routes end within their first steps)."""
    n, steps = points.shape[:2]
    first = torch.full((n,), -1, dtype=torch.long)
    for s0 in range(0, steps, chunk):
        todo = (first < 0).nonzero().flatten()
        if not len(todo):
            break
        block = points[todo, s0:s0 + chunk]                                   # (T, c, D)
        ok = (judge(block.reshape(-1, points.shape[2]))[:, target] >= level).view(len(todo), -1)
        hit = ok.any(1)
        first[todo[hit]] = s0 + ok[hit].float().argmax(1)
    return first


def route_ends(z: torch.Tensor, vector: torch.Tensor, target: int, level: float, anchors: torch.Tensor,
               judge: Judge) -> tuple[torch.Tensor, torch.Tensor]:
    """Ends (N, D) of the routes from latents z (N, D) to class `target`, and which ended on the ray.

    A row that reaches the class neither on the ray nor on the way to its nearest anchor ends at
    the anchor itself (possible only where the anchor is judged differently, e.g. on another device)."""
    ray = z[:, None] + torch.tensor(RAY_STEPS)[None, :, None] * vector[None, None]     # (N, S, D)
    first = _first_hits(ray, target, level, judge)
    on_ray = first >= 0
    ends = ray[torch.arange(len(z)), first.clamp(min=0)]
    miss = (~on_ray).nonzero().flatten()
    if len(miss):
        zm = z[miss]
        nearest = anchors[torch.cdist(zm, anchors).argmin(1)]                            # (M, D)
        frac = torch.tensor(ANCHOR_STEPS)[None, :, None]
        line = zm[:, None] + frac * (nearest - zm)[:, None]                              # (M, S, D)
        f = _first_hits(line, target, level, judge)
        ends[miss] = torch.where((f >= 0)[:, None], line[torch.arange(len(miss)), f.clamp(min=0)], nearest)
    return ends, on_ray


@dataclass
class ClassRoutes:
    """What is fitted once per model and stored in its directions cache (C classes, P pairs)."""
    class_means: torch.Tensor     # (C, D) mean latent of confidently labelled bank samples
    levels: torch.Tensor          # (C,) classifier probability at which a route to the class ends (0: no route)
    anchors: torch.Tensor         # (C, A, D) confidently labelled bank samples (rows past anchor_counts unused)
    anchor_counts: torch.Tensor   # (C,) long
    vectors: torch.Tensor         # (C, D) unit vector of each class's ray
    success: torch.Tensor         # (C,) share of checking seeds judged the class at the route's end
    pairs: torch.Tensor           # (P, 2) long: classes at -1 and +1 of each "A ↔ B"
    checked: int                  # how many checking seeds

    def end(self, z: torch.Tensor, cls: int, judge: Judge) -> torch.Tensor:
        """Ends (N, D) of the routes from z (N, D) to class `cls`."""
        n = int(self.anchor_counts[cls])
        return route_ends(z, self.vectors[cls], cls, float(self.levels[cls]), self.anchors[cls, :n], judge)[0]


def _pairs(probs: torch.Tensor, usable: list[int]) -> list[tuple[int, int]]:
    """Each usable class with the usable class the classifier most often mistakes it for (its
    runner-up), strongest confusions first; each pair once, lower class index first."""
    labels = probs.argmax(1)
    found: dict[tuple[int, int], float] = {}
    for a in usable:
        sel = labels == a
        others = [b for b in usable if b != a]
        if sel.sum() < 2 or not others:
            continue
        mean_p = probs[sel].mean(0)
        b = max(others, key=lambda k: float(mean_p[k]))
        key = (min(a, b), max(a, b))
        found[key] = max(found.get(key, 0.0), float(mean_p[b]))
    return sorted(found, key=lambda k: -found[k])[:MAX_PAIRS]


@torch.no_grad()
def fit_class_routes(judge: Judge, sampler: Sampler, n_classes: int, samples: int = 5000, check: int = 200) -> ClassRoutes:
    """Fit vectors and anchors on a bank of `samples` prior latents, then check every route on
    `check` other seeds (the checking seeds, CHECK_SEED0 onwards)."""
    z = sampler(samples, BANK_SEED)                                       # (N, D)
    dim = z.shape[1]
    probs = judge(z)                                                      # (N, C)
    overall = z.mean(0)
    means = overall.repeat(n_classes, 1)
    vectors = torch.zeros(n_classes, dim)
    levels = torch.zeros(n_classes)
    anchors = torch.zeros(n_classes, ANCHORS, dim)
    counts = torch.zeros(n_classes, dtype=torch.long)
    for c in range(n_classes):
        sure = probs[:, c] >= STOP
        if sure.sum() < MIN_ANCHORS:
            continue
        means[c] = z[sure].mean(0)
        vectors[c] = (means[c] - overall) / (means[c] - overall).norm().clamp(min=1e-8)
        levels[c] = STOP
        a = z[sure][:ANCHORS]                                   # bank order: a spread of typical examples
        anchors[c, :len(a)] = a
        counts[c] = len(a)
    usable = [c for c in range(n_classes) if levels[c] > 0]
    pairs = torch.tensor(_pairs(probs, usable), dtype=torch.long).view(-1, 2)
    routes = ClassRoutes(means, levels, anchors, counts, vectors, torch.zeros(n_classes), pairs, check)
    zc = check_latents(check, sampler)
    for c in usable:
        routes.success[c] = (judge(routes.end(zc, c, judge)).argmax(1) == c).float().mean()
    return routes
