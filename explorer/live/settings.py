"""What a live run is made of: its settings (plain, validated values) and the trainer they build.

The 2-D game always runs on the CPU: its networks are tiny MLPs, so on a GPU every step is a
handful of kernel launches waiting on Python. Measured with `bench train-ui`: 536 steps/s on the
project's 2-core CPU against 177 on an NVIDIA H100. And on one CPU thread (TOY_THREADS), set for
its run alone: with PyTorch's default of one thread per core it made 77 steps/s on a 16-core
machine, its tiny layers waiting on thread hand-offs (README, "Performance").
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from explorer.core.data import TOY_NAMES, DataNotFound, ImageDataset, list_prepared, load_dataset
from explorer.core.families import FAMILIES
from explorer.core.validation import check_choice, check_flag, check_int, check_number, check_seed
from explorer.training import (
    LOSSES,
    GANTrainConfig,
    ImageSampler,
    ToySampler,
    Trainer,
    check_conditional,
    class_count,
    image_model_settings,
    image_train_config,
    make_trainer,
)

TOY_DEVICE = torch.device("cpu")
TOY_DEVICE_NOTE = "on the CPU (tiny networks run about 3× faster there than on a GPU)"
TOY_THREADS = 1           # the 2-D run's own CPU threads; image runs and the app keep PyTorch's default
TOY_MODEL = {"hidden": 64, "layers": 3}
IMAGE_MODELS = {kind: f.train_tab for kind, f in FAMILIES.items() if f.train_tab}   # what image mode trains
STYLEGAN_LR = 0.002       # the learning rate a style-based run wants (the CPU recipe's); the tab's default is the DCGAN's
MODEL_NAMES = {"dcgan": "DCGAN", "vae": "VAE", "stylegan": "StyleGAN"}     # how the tab names each model
IMAGE_DATASETS = ("digits", "fashion-mnist")     # always offered; prepared datasets (emoji, folders) join them
CHECK_EVERY = 25          # NaN/inf check (and rollback point) every 25 steps: a diverged run loses little


def image_datasets(data_dir=None) -> tuple[str, ...]:
    """What image mode can train on: digits, Fashion-MNIST and every prepared dataset found
    (`python -m explorer.prepare emoji` / `folder`), each at its own size and colours."""
    return IMAGE_DATASETS + tuple(p.name for p in list_prepared(data_dir) if p.name not in IMAGE_DATASETS)


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

    def validated(self) -> "ToySettings":
        return ToySettings(check_choice("Real data", self.dataset, TOY_NAMES), check_choice("Loss", self.loss, LOSSES),
                           check_number("Forger learning rate", self.lr_g, 1e-6, 1.0),
                           check_number("Inspector learning rate", self.lr_d, 1e-6, 1.0),
                           check_int("k (inspector steps per forger step)", self.k, 1, 20),
                           check_int("Batch size", self.batch_size, 8, 4096), check_int("Noise size", self.noise_dim, 1, 64),
                           check_seed(self.seed))

    def describe(self) -> str:
        return f"2-D GAN on {self.dataset}, {self.loss} loss"


@dataclass
class ImageSettings:
    dataset: str = "digits"        # "digits", "fashion-mnist" or a prepared dataset's name ("emoji")
    model: str = "dcgan"           # a family kind in IMAGE_MODELS: "dcgan", "stylegan" or "vae"
    loss: str = "non-saturating"
    lr: float = 2e-4
    k: int = 1
    batch_size: int = 64
    label_smoothing: float = 1.0
    seed: int = 0
    conditional: bool = False      # class-conditional: told which class to draw; the grid gets one row per class

    def validated(self, data_dir=None) -> "ImageSettings":
        offered = IMAGE_DATASETS if self.dataset in IMAGE_DATASETS else image_datasets(data_dir)
        s = ImageSettings(check_choice("Data", self.dataset, offered),
                          check_choice("Model", self.model, tuple(IMAGE_MODELS)), check_choice("Loss", self.loss, LOSSES),
                          check_number("Learning rate", self.lr, 1e-6, 1.0),
                          check_int("k (inspector steps per forger step)", self.k, 1, 20),
                          check_int("Batch size", self.batch_size, 8, 1024),
                          check_number("Label smoothing", self.label_smoothing, 0.51, 1.0), check_seed(self.seed),
                          check_flag("Class-conditional", self.conditional))
        if s.conditional:
            check_conditional(s.model, s.loss)
        return s

    def describe(self, data_note: str) -> str:
        what = ("class-conditional " if self.conditional else "") + model_name(self.model)
        return f"{what} on {self.dataset} ({data_note})" + (f", {self.loss} loss" if FAMILIES[self.model].adversarial else "")


def toy_trainer(s: ToySettings) -> Trainer:
    s = s.validated()
    cfg = GANTrainConfig(loss=s.loss, k=s.k, batch_size=s.batch_size, lr_g=s.lr_g, lr_d=s.lr_d, seed=s.seed)
    model = dict(TOY_MODEL, latent_dim=s.noise_dim)
    return make_trainer("toy_gan", model, cfg, ToySampler(s.dataset, TOY_DEVICE), TOY_DEVICE, check_every=CHECK_EVERY)


def image_data(dataset: str, data_dir=None) -> tuple[ImageDataset, str]:
    """(training images, a note on which): Fashion-MNIST's 60 000 when installed, else the shipped 10 000."""
    if dataset == "digits":
        return load_dataset("digits", "train"), "scikit-learn's 1 497 training digits"
    if dataset != "fashion-mnist":              # a prepared dataset: its own training split
        ds = load_dataset(dataset, "train", data_dir)
        count = f"{len(ds.images):,}".replace(",", " ")
        return ds, f"its {count} training pictures, {ds.images.shape[-1]} px"
    try:
        return load_dataset(dataset, "train", data_dir), "the full 60 000-image training set"
    except DataNotFound:
        return load_dataset(dataset, "test", data_dir), "the 10 000 shipped test images (install dataset-fashion-mnist for all 60 000)"


def model_name(kind: str) -> str:
    """A model kind as the Train tab says it ("StyleGAN", not "STYLEGAN")."""
    return MODEL_NAMES.get(kind, kind.upper())


def default_lr(kind: str) -> float:
    """The learning rate the tab offers for a model: a style-based GAN's recipes train at 0.002, ten times the
    DCGAN's 2e-4 (StyleGAN2's own is 0.0025)."""
    return STYLEGAN_LR if kind == "stylegan" else ImageSettings.lr


def image_trainer(s: ImageSettings, device, data_dir=None) -> tuple[Trainer, ImageDataset, str]:
    """(trainer, its training images, a note on which): a fresh DCGAN, style-based GAN or VAE, class-conditional if asked,
    with one class per class name of the dataset."""
    s = s.validated(data_dir)
    ds, note = image_data(s.dataset, data_dir)
    sampler = ImageSampler(ds.images, device, FAMILIES[s.model].data_range, ds.labels if s.conditional else None)
    channels, side = ds.images.shape[1], ds.images.shape[-1]                  # (N, C, H, W)
    model = dict(IMAGE_MODELS[s.model], image_size=side, channels=channels)
    if s.conditional:
        model["num_classes"] = class_count(s.model, s.loss, sampler, ds.class_names)
    model.update(image_model_settings(s.model, s.loss))
    cfg = image_train_config(s.model, s.loss, s.lr, s.k, s.batch_size, s.label_smoothing, s.seed)
    t = make_trainer(s.model, model, cfg, sampler, device, check_every=CHECK_EVERY)
    if t.device.type == "cuda":
        t.use_fast_path()   # whole step as one CUDA graph; goes on eagerly (and says why) if capture fails
    return t, ds, note
