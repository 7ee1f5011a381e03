"""Tiny colour models for the tests: random 32-px RGB models (a conditional GAN, a GAN, a 2-d VAE) and a
classifier of a tiny prepared colour dataset ("tinycolour": squares of a class's colour on white) that the
tests write themselves; markup in its attribution, which must be shown escaped."""
from __future__ import annotations

import os
from contextlib import contextmanager

import numpy as np
import torch

from explorer.core.data.prepared import write_prepared
from tests.apphelpers import save_models

SIDE = 32
CLASSES = ["Red things", "Green things", "Blue things"]
ATTRIBUTION = 'Pictures: <img src=x onerror="window.__pwned=1"> licensed CC-BY 4.0'
DATA = {"name": "tinycolour", "split": "train", "size": 60, "class_names": CLASSES, "attribution": ATTRIBUTION}
MODELS = {
    "colour_cgan": ("dcgan", {"width": 4, "d_width": 4, "latent_dim": 6, "image_size": SIDE, "channels": 3, "num_classes": 3}),
    "colour_gan": ("dcgan", {"width": 4, "d_width": 4, "latent_dim": 6, "image_size": SIDE, "channels": 3}),
    "colour_vae2": ("vae", {"width": 4, "hidden": 16, "latent_dim": 2, "image_size": SIDE, "channels": 3}),
    "tinycolour_classifier": ("classifier", {"width": 4, "image_size": SIDE, "channels": 3, "num_classes": 3}),
}


def colour_pictures(n: int) -> tuple[np.ndarray, np.ndarray]:
    """n pictures (n, 3, SIDE, SIDE): a square of its class's colour on white, at a random place."""
    rng = np.random.default_rng(0)
    images = np.full((n, 3, SIDE, SIDE), 255, np.uint8)
    labels = np.arange(n) % 3
    for i, c in enumerate(labels):
        y, x = rng.integers(0, SIDE // 2, 2)
        images[i, :, y:y + SIDE // 2, x:x + SIDE // 2] = 40
        images[i, c, y:y + SIDE // 2, x:x + SIDE // 2] = 230
    return images, labels


def save_colour_models(folder) -> None:
    torch.manual_seed(0)
    save_models(folder, MODELS, DATA)


@contextmanager
def colour_data(root):
    """The prepared dataset in `root`, found through EXPLORER_DATA while the context lasts (the map worker,
    a process of its own, reads it there too)."""
    images, labels = colour_pictures(90)
    write_prepared(root / "tinycolour", {"name": "tinycolour", "class_names": CLASSES, "attribution": ATTRIBUTION},
                   images, labels, {"train": np.arange(60), "test": np.arange(60, 90)})
    before = os.environ.get("EXPLORER_DATA")
    os.environ["EXPLORER_DATA"] = str(root)
    try:
        yield root
    finally:
        if before is None:
            os.environ.pop("EXPLORER_DATA", None)
        else:
            os.environ["EXPLORER_DATA"] = before


def is_colour(image: np.ndarray) -> bool:
    """(…, H, W, 3) with channels that differ somewhere: not a grey picture stored as RGB."""
    return image.shape[-1] == 3 and bool((image[..., 0] != image[..., 1]).any() or (image[..., 1] != image[..., 2]).any())
