"""What the image-mode Train tab shows besides the losses: the fixed-noise grid and a quick quality probe."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from explorer.core.data import to_uint8, to_unit
from explorer.core.latent import sample_z
from explorer.eval.features import classify
from explorer.eval.metrics import class_coverage, frechet_distance


class QualityProbe:
    """Every `every` steps: a fast FD estimate (n vs n pictures) and class coverage, in the features of
    a classifier trained on the run's own dataset (the session builds one only when such a classifier exists).
    For a class-conditional run the n fakes ask for every class in turn, and the probe also reports
    how often the classifier sees the class that was asked for."""

    def __init__(self, classifier, real_images: torch.Tensor, num_classes: int, every: int = 300, n: int = 500):
        self.clf, self.every, self.n, self.num_classes = classifier, every, n, num_classes
        self.real_feats, _ = classify(classifier, to_unit(real_images[:n]))
        self.last_step = -1

    def __call__(self, trainer, rec: dict) -> dict | None:
        if trainer.step < self.every or trainer.step // self.every == self.last_step // self.every:
            return None
        self.last_step = trainer.step
        z = sample_z(self.n, trainer.latent_dim, 1).to(trainer.device)
        classes = getattr(trainer, "num_classes", 0)
        asked = torch.arange(self.n, device=trainer.device) % classes if classes else None   # every class as often
        x = trainer.samples(z, asked)                                                        # [-1, 1]
        feats, pred = classify(self.clf, ((x + 1) / 2).cpu())
        out = {"fd_fast": frechet_distance(feats, self.real_feats), "coverage": class_coverage(pred, self.num_classes)}
        if classes:
            out["class_match"] = float((pred == asked.cpu()).double().mean())
        return out


@dataclass(frozen=True)
class ClassGrid:
    """A class-conditional run's fixed grid: one row per class, one column per fixed noise vector."""
    images: np.ndarray          # (rows, columns, H, W, C) uint8
    rows: tuple[str, ...]       # the class name of each row


def sample_grid(trainer) -> np.ndarray:
    """The fixed-noise samples as a uint8 (N, H, W, C) batch: the same noise every time."""
    x = trainer.samples()
    return to_uint8((x + 1) / 2).permute(0, 2, 3, 1).cpu().numpy()


def class_grid(trainer, class_names) -> ClassGrid:
    """A conditional trainer's fixed samples as rows = classes x columns = the same noise vectors;
    rows past the dataset's class names (labels naming more classes) are called by their index."""
    flat = sample_grid(trainer)                                      # (K * cols, H, W, C), row by row
    k = trainer.num_classes
    rows = tuple(str(class_names[i]) if i < len(class_names) else str(i) for i in range(k))
    return ClassGrid(flat.reshape(k, -1, *flat.shape[1:]), rows)     # -> (K, cols, H, W, C)
