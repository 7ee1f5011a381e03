"""Feature networks: the classifier trained on a model's own dataset, found by reading checkpoint headers.

A figure such as FD or class coverage means something only when the real images and the feature
network come from the model's own dataset: a digits GAN measured against clothes through the
Fashion-MNIST classifier gives a number that looks fine and says nothing. So every metric asks
`classifier_path_for(dataset)`; where no classifier of that dataset exists the metric is reported
as unavailable, with the command that trains one.
"""
from __future__ import annotations

from pathlib import Path

import torch

from explorer.core.checkpoints import (
    CHECKPOINT_DIR,
    CheckpointError,
    list_checkpoints,
    load_checkpoint,
)
from explorer.core.metadata import DatasetInfo
from explorer.core.validation import UserError


class FeaturesUnavailable(UserError):
    """No feature network for a dataset; the message says how to train one."""


def classifier_path_for(dataset: str, folders=(CHECKPOINT_DIR,)) -> Path | None:
    """The first classifier checkpoint trained on `dataset` in `folders` (headers only: cheap), or None."""
    for folder in dict.fromkeys(Path(f) for f in folders if f is not None):
        if not folder.is_dir():
            continue
        for path, meta in list_checkpoints(folder):
            if isinstance(meta, dict) and meta.get("kind") == "classifier" and DatasetInfo.from_meta(meta).name == dataset:
                return path
    return None


def unavailable_reason(dataset: str) -> str:
    name = dataset or "this model's data"
    return (f"No feature network trained on {name}, so FD, coverage and class labels are not available for it. "
            f"Train one with: python -m explorer.train --model classifier --dataset {dataset or 'NAME'} "
            f"--out checkpoints/{(dataset or 'NAME').replace('-', '_')}_classifier.safetensors")


def load_classifier(path, device="cpu"):
    ck = load_checkpoint(path, device)
    if ck.kind != "classifier":
        raise CheckpointError(f"{ck.path.name} is a {ck.kind}, not a classifier.")
    return ck.modules["classifier"].eval()


def classifier_for(dataset: str, device="cpu", folders=(CHECKPOINT_DIR,)):
    """The loaded classifier of `dataset`, or FeaturesUnavailable saying plainly why not."""
    path = classifier_path_for(dataset, folders)
    if path is None:
        raise FeaturesUnavailable(unavailable_reason(dataset))
    return load_classifier(path, device)


@torch.no_grad()
def classify(net, images: torch.Tensor, batch: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """images (N, C, H, W) float in [0, 1] -> (features (N, F) float64 on CPU, predicted labels (N,))."""
    device = next(net.parameters()).device
    feats, preds = [], []
    for i in range(0, len(images), batch):
        f = net.features(images[i:i + batch].to(device))
        feats.append(f.double().cpu())
        preds.append(net.head(f).argmax(1).cpu())
    return torch.cat(feats), torch.cat(preds)
