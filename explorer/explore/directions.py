"""Meaningful directions in a model's latent space, for the Explore tab's sliders.

Principal directions
  VAE: principal components of the posterior means of the encoded test set.
  GAN: GANSpace (Harkonen et al. 2020, section 3.1, their BigGAN recipe): PCA of the activations
       of an early generator layer over many random z, then the latent basis U that best maps
       the PCA coordinates back to z (least squares), orthonormalised (QR, in order of variance)
       so each slider is an independent coordinate. The early layer is after the first
       BatchNorm+ReLU: z -> (4w, 7, 7) is linear before it, so the PCA there would only recover
       the singular vectors of one weight matrix.
  Each direction reports the share of variance it explains.
Named class directions ("more like Sneaker", "Sneaker ↔ Ankle boot")
  Per-picture routes judged by the shipped classifier (explorer/explore/class_routes.py). Each
  stores the share of checking seeds that end as the named class; only those that pass (at least
  PASS) are offered, with that share in plain words.
"""
from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from explorer.core.data import load_dataset, to_unit
from explorer.core.families import Family
from explorer.core.validation import UserError, check_number
from explorer.explore.class_routes import (
    ClassRoutes,
    Judge,
    classifier_judge,
    fit_class_routes,
)

FORMAT_VERSION = 2       # 1: class means only (no version field); 2: checked class routes
PASS = 0.8               # a named direction is offered if at least this share of checking seeds ends as its class
_ENDS_KEPT = 512         # route ends remembered per model: dragging Amount re-uses the route


@dataclass(frozen=True)
class DirectionInfo:
    """What the UI shows for one named direction."""
    name: str
    plus: str                          # class reached at Amount +1
    minus: str                         # class reached at Amount -1; "" for "more like X" (Amount 0..1)
    success_plus: float                # share of checking seeds judged `plus` at +1
    success_minus: float               # same at -1 (NaN for "more like X")
    checked: int                       # how many checking seeds
    amount_range: tuple[float, float]
    description: str                   # one plain sentence for a tooltip

    @property
    def success(self) -> float:
        """The weaker end's share."""
        return self.success_plus if math.isnan(self.success_minus) else min(self.success_plus, self.success_minus)


def _article(word: str) -> str:
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


@dataclass
class Directions:
    basis: torch.Tensor            # (K, D) orthonormal rows, in order of explained variance
    explained: torch.Tensor        # (K,) share of variance each direction explains (0..1)
    center: torch.Tensor           # (D,) the origin the sliders measure from
    scales: torch.Tensor           # (K,) one slider unit (1 sigma) in latent units
    class_names: list[str]
    routes: ClassRoutes | None = None          # named class directions; None without a classifier
    _ends: OrderedDict = field(default_factory=OrderedDict, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def class_means(self) -> torch.Tensor:
        """(C, D) mean latent per class, as the classifier labels the model's pictures (empty without)."""
        return self.routes.class_means if self.routes is not None else torch.zeros(0, len(self.center))

    # ---------------------------------------------------------------- cache format
    def to_tensors(self) -> dict[str, torch.Tensor]:
        t = {"basis": self.basis, "explained": self.explained, "center": self.center, "scales": self.scales}
        t = {k: v.float().contiguous() for k, v in t.items()}
        t["format_version"] = torch.tensor([FORMAT_VERSION])
        if self.routes is not None:
            r = self.routes
            for k in ("class_means", "levels", "anchors", "vectors", "success"):
                t[f"routes.{k}"] = getattr(r, k).float().contiguous()
            t["routes.anchor_counts"] = r.anchor_counts.long().contiguous()
            t["routes.pairs"] = r.pairs.long().contiguous()
            t["routes.checked"] = torch.tensor([r.checked])
        return t

    @classmethod
    def from_tensors(cls, t: dict[str, torch.Tensor], class_names: list[str]) -> "Directions":
        """Raises ValueError for another format (an older cache is recomputed, not misread)."""
        version = int(t["format_version"][0]) if "format_version" in t else 1
        if version != FORMAT_VERSION:
            raise ValueError(f"directions cache format {version}, expected {FORMAT_VERSION}")
        routes = None
        if "routes.vectors" in t:
            routes = ClassRoutes(t["routes.class_means"], t["routes.levels"], t["routes.anchors"],
                                 t["routes.anchor_counts"], t["routes.vectors"], t["routes.success"],
                                 t["routes.pairs"], int(t["routes.checked"][0]))
            if len(class_names) != len(routes.levels):
                raise ValueError(f"{len(class_names)} class names for {len(routes.levels)} classes")
        return cls(t["basis"], t["explained"], t["center"], t["scales"], list(class_names), routes)

    # ---------------------------------------------------------------- principal directions
    def coordinates(self, z: torch.Tensor) -> torch.Tensor:
        """Slider values (K,) of a latent (D,): where it sits along each direction, in sigmas."""
        return (self.basis @ (z - self.center)) / self.scales

    def apply(self, z: torch.Tensor, sliders: torch.Tensor) -> torch.Tensor:
        """Move z (D,) so that its slider coordinates become `sliders` (K,); the rest of z is kept."""
        delta = sliders * self.scales - self.coordinates(z) * self.scales
        return z + delta @ self.basis

    # ---------------------------------------------------------------- named directions
    def _all(self) -> list[tuple[tuple[int, int], DirectionInfo]]:
        """((class at -1 or -1, class at +1), info) for every fitted named direction, "more like X" first."""
        r = self.routes
        if r is None:
            return []
        ok = r.success.tolist()
        n = r.checked
        out = []
        for c, name in enumerate(self.class_names):
            if r.levels[c] > 0:
                text = (f"Amount 1 turns the picture into {_article(name)} for {ok[c]:.0%} of {n} test seeds "
                        f"(as the built-in clothing classifier sees it); 0 leaves it as it is.")
            else:
                text = f"Not offered: this model never draws {_article(name)} that the built-in classifier is sure of."
            out.append(((-1, c), DirectionInfo(f"more like {name}", name, "", ok[c], math.nan, n, (0.0, 1.0), text)))
        for a, b in r.pairs.tolist():
            na, nb = self.class_names[a], self.class_names[b]
            text = (f"Amount -1 turns the picture into {_article(na)} ({ok[a]:.0%} of {n} test seeds), "
                    f"+1 into {_article(nb)} ({ok[b]:.0%}); 0 leaves it as it is.")
            out.append(((a, b), DirectionInfo(f"{na} ↔ {nb}", nb, na, ok[b], ok[a], n, (-1.0, 1.0), text)))
        return out

    def all_named(self) -> dict[str, DirectionInfo]:
        """Every named direction that was fitted and checked, passing or not (for reports)."""
        return {info.name: info for _, info in self._all()}

    def named(self) -> dict[str, DirectionInfo]:
        """The named directions the UI offers: those that pass, "more like X" first, then pairs."""
        return {info.name: info for _, info in self._all() if info.success >= PASS}

    def success(self, name: str) -> float:
        """Share of checking seeds whose picture becomes the named class (the weaker end for a pair)."""
        return self.info(name).success

    def info(self, name: str) -> DirectionInfo:
        offered = self.named()
        if name not in offered:
            choices = ", ".join(list(offered)[:4]) or "none for this model"
            raise UserError(f"Unknown direction {str(name)[:60]!r} for this model; choose one from the list ({choices}…).")
        return offered[name]

    def move(self, z: torch.Tensor, name: str, amount: float, judge: Judge) -> torch.Tensor:
        """z (D,) moved `amount` of the way along its route for direction `name`: z + |a| (end - z)."""
        info = self.info(name)
        lo, hi = info.amount_range
        amount = check_number(f"Amount for {name!r}", amount, lo, hi)
        if amount == 0:
            return z
        minus, plus = next(ends for ends, d in self._all() if d.name == name)
        cls = plus if amount > 0 else minus
        key = (z.detach().float().cpu().numpy().tobytes(), cls)
        with self._lock:
            end = self._ends.get(key)
        if end is None:
            end = self.routes.end(z.detach().float().cpu()[None], cls, judge)[0]
            with self._lock:
                self._ends[key] = end
                while len(self._ends) > _ENDS_KEPT:
                    self._ends.popitem(last=False)
        return z + abs(amount) * (end.to(z) - z)


def svd_lowrank(a: torch.Tensor, q: int, niter: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(U (m, q), S (q,)) of a randomized SVD of a (m, n) with its own random stream: Halko et al. 2009,
    Algorithms 4.4 and 5.1, step for step as `torch.svd_lowrank` does it (same numbers for the same
    seed), but never touching the global RNG: a server thread must not reseed a training run's stream."""
    tall = a.shape[0] >= a.shape[1]
    t = a if tall else a.mH                                            # work on the tall orientation
    x = t @ torch.randn(t.shape[1], q, dtype=t.dtype, generator=generator)
    basis = torch.linalg.qr(x).Q
    for _ in range(niter):                                             # subspace iterations
        basis = torch.linalg.qr(t.mH @ basis).Q
        basis = torch.linalg.qr(t @ basis).Q
    u, s, vh = torch.linalg.svd(basis.mH @ t, full_matrices=False)
    return (basis @ u if tall else vh.mH), s


def _orthonormal_rows(u: torch.Tensor) -> torch.Tensor:
    q, r = torch.linalg.qr(u.T)                                # (D, K): columns orthonormal, order kept
    return (q * torch.sign(torch.diagonal(r))[None]).T         # keep each row's original orientation


def class_directions(family: Family, classifier, samples: int = 5000, check: int = 200) -> ClassRoutes:
    """Named class directions for a model whose pictures the classifier can label (its classes)."""
    judge = classifier_judge(family, classifier)
    return fit_class_routes(judge, family.seed_latents, len(family.class_names), samples, check)


@torch.no_grad()
def encoded_pca_directions(family: Family, data_dir=None, max_images: int = 10_000, classifier=None, check: int = 200,
                           class_samples: int = 5000, **_) -> Directions:
    """Principal components of the family's encodings of the test pictures (a VAE's posterior means)."""
    device = family.device
    test = load_dataset(family.dataset, "test", data_dir)
    x = to_unit(test.images[:max_images])
    y = test.labels[:max_images] if family.num_classes else None     # a cVAE encodes with the true class
    means = torch.cat([family.encode(x[i:i + 1000].to(device), None if y is None else y[i:i + 1000].to(device))[0].cpu()
                       for i in range(0, len(x), 1000)])   # (N, D)
    center = means.mean(0)
    cov = torch.cov((means - center).T.double())
    evals, evecs = torch.linalg.eigh(cov)                         # ascending
    order = torch.argsort(evals, descending=True)
    evals, basis = evals[order].clamp(min=0), evecs[:, order].T   # (D,), (D, D) rows = components
    routes = class_directions(family, classifier, class_samples, check) if classifier is not None else None
    return Directions(basis.float(), (evals / evals.sum()).float(), center, evals.sqrt().float().clamp(min=1e-3),
                      list(family.class_names) if routes is not None else list(test.class_names), routes)


@torch.no_grad()
def ganspace_directions(family: Family, samples: int = 5000, seed: int = 0, classifier=None, check: int = 200,
                        class_samples: int = 5000, features: Callable | None = None, **_) -> Directions:
    """GANSpace (module docstring) on `features(z, y)`, by default the family's `direction_features`."""
    features = features or family.direction_features
    device = family.device
    D = family.latent_dim
    z = family.seed_latents(samples, seed)                                             # (N, D)
    k_cls = family.num_classes
    y = torch.arange(samples) % k_cls if k_cls else None                             # conditional: every class alike
    acts = []
    for i in range(0, samples, 500):
        with family.lock:                                                              # e.g. the first BN + ReLU
            acts.append(features(z[i:i + 500].to(device), None if y is None else y[i:i + 500].to(device)).cpu())
    y = torch.cat(acts)                                                               # (N, F)
    y -= y.mean(0)
    total_var = (y * y).sum()
    k = min(D, 32)
    u_svd, s = svd_lowrank(y, k + 8, 4, torch.Generator().manual_seed(seed))            # PCA: top components only
    coords = (u_svd[:, :k] * s[:k]).double()                                          # (N, k) PCA coordinates
    latent_basis = torch.linalg.lstsq(coords, z.double()).solution                     # (k, D): coords @ U ~ z
    basis = _orthonormal_rows(latent_basis).float()
    explained = (s[:k] ** 2 / total_var).float()
    routes = class_directions(family, classifier, class_samples, check) if classifier is not None else None
    return Directions(basis, explained, torch.zeros(D), torch.ones(k), list(family.class_names) if routes is not None else [], routes)


def picture_pca_directions(family: Family, looks=None, **kw) -> Directions:
    """GANSpace computed on what the pictures look like, for a decoder one cannot see inside (an ONNX file):
    the features of the dataset's classifier (`looks`), where the model names its dataset and there is
    one, else the family's own (its pictures' pixels, averaged down)."""
    if looks is None:
        return ganspace_directions(family, **kw)
    return ganspace_directions(family, features=lambda z, y: looks.features(family.decode(z, y).to(_device(looks))), **kw)


def _device(module) -> torch.device:
    return next(module.parameters()).device
