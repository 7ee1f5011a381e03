"""What the image-mode Train tab shows besides the losses: the fixed-noise grid and a quick quality probe."""
from __future__ import annotations

import numpy as np
import torch

from explorer.core.data import to_uint8, to_unit
from explorer.core.latent import sample_z
from explorer.eval.features import classify
from explorer.eval.metrics import class_coverage, frechet_distance


class QualityProbe:
    """Every `every` steps: a fast FD estimate (n vs n pictures) and class coverage, in the features of
    a classifier trained on the run's own dataset (the session builds one only when such a classifier exists)."""

    def __init__(self, classifier, real_images: torch.Tensor, num_classes: int, every: int = 300, n: int = 500):
        self.clf, self.every, self.n, self.num_classes = classifier, every, n, num_classes
        self.real_feats, _ = classify(classifier, to_unit(real_images[:n]))
        self.last_step = -1

    def __call__(self, trainer, rec: dict) -> dict | None:
        if trainer.step < self.every or trainer.step // self.every == self.last_step // self.every:
            return None
        self.last_step = trainer.step
        z = sample_z(self.n, trainer.latent_dim, 1).to(trainer.device)
        x = trainer.samples(z)                         # [-1, 1]
        feats, pred = classify(self.clf, ((x + 1) / 2).cpu())
        return {"fd_fast": frechet_distance(feats, self.real_feats), "coverage": class_coverage(pred, self.num_classes)}


def sample_grid(trainer) -> np.ndarray:
    """The fixed-noise samples as a uint8 (N, H, W, C) batch: the same noise every time."""
    x = trainer.samples()
    return to_uint8((x + 1) / 2).permute(0, 2, 3, 1).cpu().numpy()
