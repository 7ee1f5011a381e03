"""Training loops as stoppable iterators of step records; no UI code here.

`make_trainer(kind, model_config, train_config, data, device)` builds the right trainer.
Data-parallel training under torchrun: distributed.py (process group, DDP wrapping, failure),
shards.py (each process's share of every epoch), sync_bn.py (BatchNorm over the global batch).
"""
from __future__ import annotations

import torch

from explorer.core.models import build
from explorer.training.base import StepRecord, Trainer, TrainingDiverged
from explorer.training.classifier import ClassifierTrainConfig, ClassifierTrainer
from explorer.training.conditional import CONDITIONAL_LOSS, check_conditional, class_count
from explorer.training.encoder import EncoderTrainConfig, EncoderTrainer
from explorer.training.gan import LOSSES, GANTrainConfig, GANTrainer, critic_settings
from explorer.training.samplers import ImageSampler, ToySampler
from explorer.training.stylegan import StyleGANTrainConfig, StyleGANTrainer
from explorer.training.vae import VAETrainConfig, VAETrainer


STYLEGAN_R1 = 0.3        # a style-based run's R1 weight in the Train tab (the CPU recipe's: README, "Style-based GAN")


def image_train_config(kind: str, loss: str, lr: float, k: int, batch_size: int, label_smoothing: float,
                       seed: int):
    """The training settings of an image model of `kind` from the Train tab's plain values (a VAE takes
    no loss, k or label smoothing)."""
    if kind == "vae":
        return VAETrainConfig(batch_size=batch_size, lr=lr, seed=seed)
    if kind == "stylegan":     # its own loss (non-saturating + lazy R1) and Adam betas; k and smoothing do not apply
        return StyleGANTrainConfig(batch_size=batch_size, lr_g=lr, lr_d=lr, r1_gamma=STYLEGAN_R1, seed=seed)
    return GANTrainConfig(loss=loss, k=k, batch_size=batch_size, lr_g=lr, lr_d=lr, label_smoothing=label_smoothing,
                          seed=seed)


def image_model_settings(kind: str, loss: str) -> dict:
    """Model settings a loss needs (a WGAN-GP critic without BatchNorm); none for a VAE."""
    return critic_settings(loss) if kind == "dcgan" else {}


def make_trainer(kind: str, model_config, train_config, sampler, device="cpu", check_every: int = 50) -> Trainer:
    """A fresh trainer for `kind` (dcgan, stylegan, toy_gan, vae, classifier) on a data sampler.
    (An encoder trains against a frozen generator: build EncoderTrainer directly.)"""
    seed = getattr(train_config, "seed", 0)
    with torch.random.fork_rng(devices=[]):   # weights initialised from the run's seed, globals untouched
        torch.manual_seed(seed)
        modules = build(kind, model_config)
    if kind in ("dcgan", "toy_gan"):
        return GANTrainer(modules, sampler, train_config, device, kind=kind, check_every=check_every)
    if kind == "stylegan":
        return StyleGANTrainer(modules, sampler, train_config, device, check_every=check_every)
    if kind == "vae":
        return VAETrainer(modules, sampler, train_config, device, check_every=check_every)
    return ClassifierTrainer(modules, sampler, train_config, device, check_every=check_every)


__all__ = ["make_trainer", "image_train_config", "image_model_settings", "critic_settings", "StepRecord", "Trainer", "TrainingDiverged", "ImageSampler",
           "ToySampler", "GANTrainConfig", "GANTrainer", "LOSSES", "VAETrainConfig", "VAETrainer",
           "ClassifierTrainConfig", "ClassifierTrainer", "StyleGANTrainConfig", "StyleGANTrainer", "EncoderTrainConfig", "EncoderTrainer",
           "CONDITIONAL_LOSS", "check_conditional", "class_count"]
