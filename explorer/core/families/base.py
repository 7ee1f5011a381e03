"""The model-family protocol: what one loaded model of a family can draw and do.

Every place above this layer asks the family, never a checkpoint's `kind` (harskish/ganspace's
`BaseModel` is the model: every generator behind one interface, so the PCA and the UI never ask which
network they hold). A family is one module in this folder plus one line in `families/__init__.py`.

What a family declares (class attributes: no model needed to read them):
  kind          the checkpoint kind (or file type) it opens: "dcgan", "vae", "onnx", ...
  words         what it is, in a person's words ("GAN", "VAE", "decoder")
  adversarial   its pictures come from noise alone (a GAN): a map of it lays out samples, not encodings
  inversion     how a person's picture is placed in its latent space:
                  "encode"  its own encoder (a VAE's posterior mean);
                  "refine"  a learned guess (an encoder file beside it, else random starts) polished by
                            gradient descent through `decode_with_grad`;
                  "search"  a bounded gradient-free search (a decoder one cannot differentiate);
                  ""        not available
  directions    how its sliders' directions are found (explore/directions.py has one method per name):
                  "encoded-pca"  principal components of its encodings of the test pictures;
                  "ganspace"     GANSpace: PCA of `direction_features` over sampled latents, regressed to z
  map_items     what its map lays out: "test-images" (encoded) or "samples" (drawn from seeds)
  trains_encoder  a picture encoder can be trained for it (python -m explorer.train --model encoder)
  blends_classes  a class-conditional model of it has learned class vectors to blend (`class_vectors`,
                `decode_blend`): Interpolate can walk from one class to another
  data_range    the pixel range it trains on and draws in raw form: (-1, 1) for a tanh GAN, (0, 1) else
  train_tab     the small model settings the Train tab's image mode trains it with; None: not offered there

What each loaded model answers (the methods below): its sizes and classes, `decode` (latents ->
pictures in [0, 1] on its device), the latent prior (`seed_latents`) and what temperature does to a
latent (`tempered`), and, where its declarations say so, `decode_with_grad`, `encode`,
`direction_features`, `class_vectors` and `decode_blend`.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import ClassVar

import torch

from explorer.core.families.temperature import TemperatureScale
from explorer.core.latent import sample_z
from explorer.core.metadata import DatasetInfo
from explorer.core.validation import UserError


class Family:
    kind: ClassVar[str] = ""
    words: ClassVar[str] = "model"
    adversarial: ClassVar[bool] = False
    inversion: ClassVar[str] = ""
    directions: ClassVar[str] = ""
    map_items: ClassVar[str] = "samples"
    trains_encoder: ClassVar[bool] = False
    blends_classes: ClassVar[bool] = False
    data_range: ClassVar[tuple[float, float]] = (0.0, 1.0)
    train_tab: ClassVar[dict | None] = None

    def __init__(self, meta: dict, device, path: Path | None = None):
        self.meta, self.path = meta, path
        self.device = torch.device(device)
        self.lock = threading.Lock()          # one forward at a time per model (BatchNorm/dropout in eval mode)

    # ---------------------------------------------------------------- what it draws
    latent_dim: int = 0
    num_classes: int = 0                      # 0: unconditional
    image_size: int = 0
    channels: int = 1

    @property
    def class_names(self) -> list[str]:
        return list(DatasetInfo.from_meta(self.meta).class_names)

    @property
    def dataset(self) -> str:
        return DatasetInfo.from_meta(self.meta).name

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Latents (B, D) [+ classes (B,)] on the model's device -> pictures (B, C, H, W) in [0, 1], no gradients."""
        raise NotImplementedError

    def generate(self, z: torch.Tensor, y=None) -> torch.Tensor:
        """`decode` with the classes checked (a conditional model needs one; an unconditional one refuses one)."""
        from explorer.core.models.dcgan import check_classes
        return self.decode(z, check_classes(y, self.num_classes, z.shape[0], z.device))

    def decode_with_grad(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """As `decode`, with gradients flowing to z (families whose inversion is "refine")."""
        raise UserError(f"A {self.words} cannot be differentiated: its pictures cannot be refined by gradient.")

    # ---------------------------------------------------------------- the latent prior and temperature
    def seed_latents(self, n: int, seed: int) -> torch.Tensor:
        """n latents (n, D) on the CPU as seed `seed` draws them from the prior (Explore's seeds, maps)."""
        return sample_z(n, self.latent_dim, seed)

    def tempered(self, z: torch.Tensor, temperature: float) -> torch.Tensor:
        """A latent moved towards (t < 1) or away from (t > 1) the prior's centre: N(0, I) scaled by t."""
        return z * temperature

    # ---------------------------------------------------------------- capabilities some families have
    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Pictures (B, C, H, W) in [0, 1] on the device -> (mean, log-variance), each (B, D)."""
        raise UserError(f"A {self.words} has no encoder of its own.")

    def direction_features(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """(B, D) -> (B, F): what GANSpace's PCA reads for this family (and a map of samples without a classifier)."""
        raise UserError(f"A {self.words} gives no features for GANSpace.")

    def class_vectors(self) -> torch.Tensor:
        """The learned vector of every class (K, E) on the CPU: blending two blends the classes."""
        raise UserError("This model has no learned class vectors to blend.")

    def decode_blend(self, z: torch.Tensor, embeddings: torch.Tensor) -> torch.Tensor:
        """Latents (B, D) drawn with class vectors (B, E) instead of classes: pictures in [0, 1]."""
        raise UserError("This model has no learned class vectors to blend.")

    # ---------------------------------------------------------------- what its sliders and exports need
    temperature: ClassVar[TemperatureScale] = TemperatureScale()    # the Explore tab's range and words for it

    @property
    def typical_norm(self) -> float:
        """The length of a typical latent from the prior (refinement keeps a fitted latent near it)."""
        return float(self.latent_dim) ** 0.5

    def layer_groups(self) -> dict[str, range]:
        """Ranges of a layered latent (coarse / middle / fine) a slider can be limited to; {} for none."""
        return {}

    def onnx_decoder(self) -> tuple[torch.nn.Module, int]:
        """(a module: latents [+ classes] -> pictures in [0, 1], the size of its latent input) for ONNX export."""
        from explorer.core.families.export_module import DecoderModule
        return DecoderModule(self), self.latent_dim

    def extra_figures(self, images: torch.Tensor, labels: torch.Tensor, seed: int = 0) -> dict[str, float]:
        """Figures of this family beyond its samples' (python -m explorer.evaluate), from the test pictures
        (N, C, H, W) in [0, 1] and their labels: none by default."""
        return {}

    @property
    def modules(self) -> dict[str, torch.nn.Module]:
        """Its PyTorch modules ({} for a family run by another runtime)."""
        return {}
