"""Plain functions behind the Train tab: set up a live run (2-D or images), describe its state,
estimate FD / class coverage quickly, and save it as a checkpoint the model picker lists."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from explorer.core.data import DataNotFound, load_dataset, to_uint8, to_unit
from explorer.live.worker import TrainingWorker
from explorer.training import (
    GANTrainConfig,
    ImageSampler,
    ToySampler,
    VAETrainConfig,
    make_trainer,
)

TOY_DEFAULTS = {"hidden": 64, "layers": 3}
IMAGE_DEFAULTS = {"dcgan": {"width": 16, "d_width": 16, "latent_dim": 32}, "vae": {"width": 16, "hidden": 128, "latent_dim": 16}}


@dataclass
class ToySettings:
    dataset: str = "ring"
    loss: str = "non-saturating"
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    k: int = 1
    batch_size: int = 128
    noise_dim: int = 2
    seed: int = 0


@dataclass
class ImageSettings:
    dataset: str = "digits"        # "fashion-mnist" or "digits"
    model: str = "dcgan"           # "dcgan" or "vae"
    loss: str = "non-saturating"
    lr: float = 2e-4
    k: int = 1
    batch_size: int = 64
    label_smoothing: float = 1.0
    seed: int = 0


def _check(name: str, x: float, lo: float, hi: float) -> float:
    x = float(x)
    if not np.isfinite(x) or not lo <= x <= hi:
        raise ValueError(f"{name} must be between {lo:g} and {hi:g}.")
    return x


def toy_trainer(s: ToySettings, device):
    cfg = GANTrainConfig(loss=s.loss, k=int(_check("k", s.k, 1, 20)), batch_size=int(_check("Batch size", s.batch_size, 8, 4096)),
                         lr_g=_check("Generator learning rate", s.lr_g, 1e-6, 1.0),
                         lr_d=_check("Discriminator learning rate", s.lr_d, 1e-6, 1.0), seed=int(s.seed),
                         beta1=0.5, beta2=0.999 if s.loss != "wgan-gp" else 0.9)
    model = dict(TOY_DEFAULTS, latent_dim=int(_check("Noise size", s.noise_dim, 1, 64)))
    return make_trainer("toy_gan", model, cfg, ToySampler(s.dataset, device), device, check_every=25)


def image_data(dataset: str, data_dir=None):
    """(dataset, note): Fashion-MNIST's 60 000 training images when installed, else the shipped 10 000."""
    if dataset == "digits":
        return load_dataset("digits", "train"), "scikit-learn's 1 497 training digits"
    try:
        return load_dataset(dataset, "train", data_dir), "the full 60 000-image training set"
    except DataNotFound:
        return load_dataset(dataset, "test", data_dir), "the 10 000 shipped test images (install dataset-fashion-mnist for all 60 000)"


def image_trainer(s: ImageSettings, device, data_dir=None):
    ds, note = image_data(s.dataset, data_dir)
    bs = int(_check("Batch size", s.batch_size, 8, 1024))
    lr = _check("Learning rate", s.lr, 1e-6, 1.0)
    if s.model == "vae":
        t = make_trainer("vae", IMAGE_DEFAULTS["vae"], VAETrainConfig(batch_size=bs, lr=lr, seed=int(s.seed)),
                         ImageSampler(ds.images, device, (0.0, 1.0)), device, check_every=25)
    else:
        model = dict(IMAGE_DEFAULTS["dcgan"], d_norm="layer" if s.loss == "wgan-gp" else "batch")
        cfg = GANTrainConfig(loss=s.loss, k=int(_check("k", s.k, 1, 20)), batch_size=bs, lr_g=lr, lr_d=lr,
                             label_smoothing=_check("Label smoothing", s.label_smoothing, 0.51, 1.0), seed=int(s.seed))
        t = make_trainer("dcgan", model, cfg, ImageSampler(ds.images, device), device, check_every=25)
    if t.device.type == "cuda":
        t.use_fast_path()   # whole step as one CUDA graph; goes on eagerly (and says why) if capture fails
    return t, ds, note


class QualityProbe:
    """Every `every` steps: a fast FD estimate (500 vs 500 images) and class coverage, in the shipped
    classifier's features. Only for Fashion-MNIST models (the classifier knows no other classes)."""

    def __init__(self, classifier, real_images: torch.Tensor, every: int = 300, n: int = 500):
        from explorer.eval.metrics import classify
        self.clf, self.every, self.n = classifier, every, n
        self.real_feats, _ = classify(classifier, to_unit(real_images[:n]))
        self.last_step = -1

    def __call__(self, trainer, rec: dict) -> dict | None:
        if trainer.step // self.every == self.last_step // self.every or trainer.step < self.every:
            return None
        from explorer.core.latent import sample_z
        from explorer.eval.metrics import class_coverage, classify, frechet_distance
        self.last_step = trainer.step
        z = sample_z(self.n, trainer.latent_dim, 1).to(trainer.device)
        x = trainer.samples(z)                         # [-1, 1]
        feats, pred = classify(self.clf, ((x + 1) / 2).cpu())
        return {"fd_fast": frechet_distance(feats, self.real_feats), "coverage": class_coverage(pred, 10)}


def sample_grid(trainer) -> np.ndarray:
    """The fixed-noise samples as a uint8 (N, H, W, C) batch: the same noise every time."""
    x = trainer.samples()
    return to_uint8((x + 1) / 2).permute(0, 2, 3, 1).cpu().numpy()


def save_run(worker: TrainingWorker, folder: Path, title: str, data_meta: dict) -> Path:
    """Save the current (last good) state under a generated file name; the title goes in the metadata."""
    t = worker.trainer
    if t is None or worker.info is None or worker.info.kind not in ("dcgan", "vae"):
        raise ValueError("Only image models can be saved and explored.")
    title = " ".join(str(title or "").split())[:80] or f"My {worker.info.kind.upper()}"
    name = f"trained-{time.strftime('%Y%m%d-%H%M%S')}"
    last = worker.history[-1] if worker.history else {}
    evaluation = {k: last[k] for k in ("fd_fast", "coverage") if k in last}
    meta = {"title": title, "description": f"Trained live in the Train tab: {worker.info.description}.",
            "command": f"Train tab: {worker.info.description}", "dataset": data_meta,
            "config": next(iter(t.modules.values())).cfg.to_dict(), "train_seconds": worker.snapshot()["train_seconds"],
            "device": str(t.device), "evaluation": evaluation}
    with worker._lock:
        return t.save(folder / f"{name}.safetensors", meta, with_optimizers=False)
