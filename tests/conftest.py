"""Shared fixtures: tiny models and data so every test runs in seconds on a 2-core CPU."""
from __future__ import annotations

import pytest
import torch

from explorer.core.data import load_digits

torch.set_num_threads(min(2, torch.get_num_threads()))

TINY_DCGAN = {"width": 8, "d_width": 8, "latent_dim": 8}
TINY_VAE = {"width": 8, "hidden": 32, "latent_dim": 4}


@pytest.fixture(scope="session")
def digits():
    return load_digits("train")
