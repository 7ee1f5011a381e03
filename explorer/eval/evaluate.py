"""All figures for a checkpoint, measured against its *own* dataset's test split through a feature
network trained on that dataset (eval/features.py). Where none exists, the figures that need it are
reported as unavailable with the reason, never computed against another dataset.

A class-conditional model is measured on samples / classes latents, each drawn in every class
(so the classes are spread evenly), and gets three more figures: class_accuracy (the classifier
agrees with the requested class), fd_class_<i> (FD of class i against the real test images of
class i) and the style spread (README, "Conditional models"): each picture's brightness and width
as z-scores within its class; style_spread_fixed_z is their std across the classes for one z
(averaged over z and the two measures), style_spread_random_z the std across z within one class
(1 by construction). Below 1 means z carries the same style into every class."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from explorer.core.checkpoints import CHECKPOINT_DIR, Checkpoint, read_metadata
from explorer.core.data import load_dataset, to_unit
from explorer.core.families import family_of
from explorer.core.metadata import DatasetInfo
from explorer.core.validation import UserError
from explorer.eval.features import (
    FeaturesUnavailable,
    classifier_path_for,
    classify,
    load_classifier,
    unavailable_reason,
)
from explorer.eval.metrics import (
    class_coverage,
    frechet_distance,
    generate,
    precision_recall,
)


def evaluate(ck: Checkpoint, samples: int = 10_000, seed: int = 0, data_dir=None,
             classifier_path=None, k: int = 3) -> dict:
    """A flat dict of figures for a GAN/VAE (or test accuracy for a classifier). A GAN/VAE without a
    feature network for its dataset gets {"unavailable": reason} plus what can be measured without one."""
    dataset = DatasetInfo.from_meta(ck.meta).name
    try:
        test = load_dataset(dataset, "test", data_dir)
    except (UserError, FileNotFoundError) as exc:
        return {"unavailable": f"No test split of {dataset or 'this model’s data'} to measure against: {exc}"}
    real = to_unit(test.images)
    if ck.kind == "classifier":
        _, pred = classify(ck.modules["classifier"].eval(), real)
        return {"test_accuracy": float((pred == test.labels).double().mean())}
    family = family_of(ck)
    out: dict = family.extra_figures(real, test.labels, seed)      # a VAE's test -ELBO and reconstruction error
    if classifier_path:
        path = Path(classifier_path)
        other = DatasetInfo.from_meta(read_metadata(path)).name
        if other != dataset:
            raise FeaturesUnavailable(f"{path.name} was trained on {other or 'unknown data'}, not on {dataset}: "
                                      "its features cannot measure this model.")
    else:
        path = classifier_path_for(dataset, (CHECKPOINT_DIR, ck.path.parent if ck.path else None))
    if path is None:
        return {"unavailable": unavailable_reason(dataset), **out}
    net = load_classifier(path, family.device)
    real_f, _ = classify(net, real)
    num_classes = family.num_classes
    if num_classes:
        fake, fake_y = generate_conditional(family, samples // num_classes, seed)
        samples = len(fake)
    else:
        fake = generate(family, samples, seed)
    fake_f, fake_pred = classify(net, fake)
    perm = torch.from_numpy(np.random.default_rng(seed).permutation(len(real_f)))
    half = len(real_f) // 2
    precision, recall = precision_recall(real_f, fake_f, k)
    out = {
        "fd": frechet_distance(fake_f, real_f),
        "fd_real_floor": frechet_distance(real_f[perm[:half]], real_f[perm[half:]]),
        "class_coverage": class_coverage(fake_pred, len(test.class_names)),
        "precision": precision,
        "recall": recall,
        "samples": samples,
        "features": path.name,
        **out,
    }
    if num_classes:
        out.update(conditional_scores(fake, fake_y, fake_f, fake_pred, real_f, test.labels, num_classes))
    return out


@torch.no_grad()
def generate_conditional(family, n_z: int, seed: int = 0, batch: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
    """n_z latents from `seed`, each decoded in every class: images (n_z*K, C, H, W) in [0, 1]
    ordered z-major (picture i has latent i // K and class i % K), and their classes (n_z*K,)."""
    k, device = family.num_classes, family.device
    z = family.seed_latents(n_z, seed).repeat_interleave(k, 0)                # (n_z*K, D)
    y = torch.arange(k).repeat(n_z)                                            # (n_z*K,)
    imgs = []
    for i in range(0, len(z), batch):
        with family.lock:
            imgs.append(family.decode(z[i:i + batch].to(device), y[i:i + batch].to(device)).cpu())
    return torch.cat(imgs), y


def style_measures(images: torch.Tensor) -> torch.Tensor:
    """images (N, C, H, W) in [0, 1] -> (N, 2): mean brightness, and width = 4 x the ink-weighted
    std of the column position as a share of the picture width (about the object's width)."""
    ink = images.float().mean(1)                                               # (N, H, W)
    brightness = ink.mean((1, 2))
    cols = ink.sum(1)                                                          # (N, W) ink per column
    pos = torch.linspace(0, 1, cols.shape[1])
    w = cols / cols.sum(1, keepdim=True).clamp(min=1e-8)
    mean = (w * pos).sum(1, keepdim=True)
    width = 4 * ((w * (pos - mean) ** 2).sum(1)).sqrt()
    return torch.stack([brightness, width], 1)


def conditional_scores(fake, fake_y, fake_f, fake_pred, real_f, real_y, k: int) -> dict:
    """class_accuracy, fd_class_<i> and the style spread for samples from generate_conditional."""
    out = {"class_accuracy": float((fake_pred == fake_y).double().mean())}
    for c in range(k):
        if int((real_y == c).sum()) >= 2:    # a class without two real test pictures has no covariance to compare
            out[f"fd_class_{c}"] = frechet_distance(fake_f[fake_y == c], real_f[real_y == c])
    style = style_measures(fake).view(-1, k, 2)                                # (n_z, K, 2)
    zscores = (style - style.mean(0)) / style.std(0).clamp(min=1e-8)           # within each class
    out["style_spread_fixed_z"] = float(zscores.std(1).mean())                 # across classes, one z
    out["style_spread_random_z"] = float(zscores.std(0).mean())                # across z, one class
    return out

