"""What the image-mode Train tab shows besides the losses: the fixed-noise grid and a quick quality probe.

`live_grid` is the grid as the training thread refreshes it: on CUDA a `PendingView`, the grid's
pixels copied to pinned host memory behind the queued training steps, so that the training thread
never waits for the GPU to drain (a host sync per refresh); the worker publishes it once ready.
On the CPU the finished grid, as `sample_grid` / `class_grid` give it."""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

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


def _grid_pixels(trainer) -> torch.Tensor:
    """The fixed-noise samples as uint8 (N, H, W, C), on the training device."""
    x = trainer.samples()                                            # (N, C, H, W) in [-1, 1]
    return to_uint8((x + 1) / 2).permute(0, 2, 3, 1)


def sample_grid(trainer) -> np.ndarray:
    """The fixed-noise samples as a uint8 (N, H, W, C) batch: the same noise every time."""
    return _grid_pixels(trainer).cpu().numpy()


def _rows(trainer, class_names) -> tuple[str, ...]:
    """Row names of a conditional grid; rows past the dataset's class names (labels naming more
    classes) are called by their index."""
    return tuple(str(class_names[i]) if i < len(class_names) else str(i) for i in range(trainer.num_classes))


def _as_class_grid(rows: tuple[str, ...], flat: np.ndarray) -> ClassGrid:
    return ClassGrid(flat.reshape(len(rows), -1, *flat.shape[1:]), rows)   # (K * cols, H, W, C) -> (K, cols, H, W, C)


def class_grid(trainer, class_names) -> ClassGrid:
    """A conditional trainer's fixed samples as rows = classes x columns = the same noise vectors."""
    return _as_class_grid(_rows(trainer, class_names), sample_grid(trainer))


class PendingView:
    """A grid on its way from the GPU: the copy to pinned host memory is queued on the current
    stream behind the training steps and an event marks its end; `ready()` asks without waiting,
    `result()` waits (when the run pauses) and gives the finished view."""

    def __init__(self, pixels: torch.Tensor, finish=None):
        self.host = torch.empty(pixels.shape, dtype=pixels.dtype, pin_memory=True)
        self.host.copy_(pixels, non_blocking=True)
        self.event = torch.cuda.Event()
        self.event.record()
        self.finish = finish

    def ready(self) -> bool:
        return self.event.query()

    def result(self):
        self.event.synchronize()
        grid = self.host.numpy()
        return self.finish(grid) if self.finish is not None else grid


def live_grid(trainer, class_names=None):
    """The Train tab's grid as its training thread refreshes it (rows = classes when `class_names`
    is given): a PendingView on CUDA, the finished grid elsewhere."""
    pixels = _grid_pixels(trainer)
    finish = partial(_as_class_grid, _rows(trainer, class_names)) if class_names is not None else None
    if pixels.device.type == "cuda":
        return PendingView(pixels, finish)
    grid = pixels.numpy()
    return finish(grid) if finish is not None else grid
