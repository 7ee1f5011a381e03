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
from explorer.training.vae import VAETrainConfig, VAETrainer


def make_trainer(kind: str, model_config, train_config, sampler, device="cpu", check_every: int = 50) -> Trainer:
    """A fresh trainer for `kind` (dcgan, toy_gan, vae, classifier) on a data sampler.
    (An encoder trains against a frozen generator: build EncoderTrainer directly.)"""
    seed = getattr(train_config, "seed", 0)
    with torch.random.fork_rng(devices=[]):   # weights initialised from the run's seed, globals untouched
        torch.manual_seed(seed)
        modules = build(kind, model_config)
    if kind in ("dcgan", "toy_gan"):
        return GANTrainer(modules, sampler, train_config, device, kind=kind, check_every=check_every)
    if kind == "vae":
        return VAETrainer(modules, sampler, train_config, device, check_every=check_every)
    return ClassifierTrainer(modules, sampler, train_config, device, check_every=check_every)


__all__ = ["make_trainer", "critic_settings", "StepRecord", "Trainer", "TrainingDiverged", "ImageSampler",
           "ToySampler", "GANTrainConfig", "GANTrainer", "LOSSES", "VAETrainConfig", "VAETrainer",
           "ClassifierTrainConfig", "ClassifierTrainer", "EncoderTrainConfig", "EncoderTrainer",
           "CONDITIONAL_LOSS", "check_conditional", "class_count"]
