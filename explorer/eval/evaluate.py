"""All figures for a checkpoint, measured against its *own* dataset's test split through a feature
network trained on that dataset (eval/features.py). Where none exists, the figures that need it are
reported as unavailable with the reason, never computed against another dataset."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from explorer.core.checkpoints import CHECKPOINT_DIR, Checkpoint, read_metadata
from explorer.core.data import load_dataset, to_unit
from explorer.core.metadata import DatasetInfo
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
    vae_scores,
)


def evaluate(ck: Checkpoint, samples: int = 10_000, seed: int = 0, data_dir=None,
             classifier_path=None, k: int = 3) -> dict:
    """A flat dict of figures for a GAN/VAE (or test accuracy for a classifier). A GAN/VAE without a
    feature network for its dataset gets {"unavailable": reason} plus what can be measured without one."""
    dataset = DatasetInfo.from_meta(ck.meta).name
    device = next(next(iter(ck.modules.values())).parameters()).device
    try:
        test = load_dataset(dataset, "test", data_dir)
    except (ValueError, FileNotFoundError) as exc:
        return {"unavailable": f"No test split of {dataset or 'this model’s data'} to measure against: {exc}"}
    real = to_unit(test.images)
    if ck.kind == "classifier":
        _, pred = classify(ck.modules["classifier"].eval(), real)
        return {"test_accuracy": float((pred == test.labels).double().mean())}
    out: dict = {}
    if ck.kind == "vae":
        out.update(vae_scores(ck, real, seed))
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
    net = load_classifier(path, device)
    real_f, _ = classify(net, real)
    fake_f, fake_pred = classify(net, generate(ck, samples, seed))
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
    return out

