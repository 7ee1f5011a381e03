"""The style-based family (StyleGAN2, explorer/core/models/stylegan.py): explored in W+, not in z.

A style-based generator's z goes through a mapping network to w, and each synthesis layer reads its own
copy of w (coarse layers: pose and shape; middle: features; fine: texture and colour). W is far less
tangled than z (Karras et al. 2019, section 4), so this family's latent - what the sliders move, the link
carries and interpolation walks - is W+: one w per layer, as an offset from the average w of the
picture's class (the overall average for an unconditional model), flattened to num_ws x w_dim numbers.
That makes:
  - truncation psi the temperature: an offset scaled by psi is the truncation trick
    w' = w_avg + psi (w - w_avg) (StyleGAN section 5 / appendix B); at psi = 0 the average picture;
  - a class a separate choice, as for the other conditional models: the same offsets drawn around
    another class's average w keep the style and change the class, and the class averages are the class
    vectors Interpolate blends;
  - a seed's latent its w offset in every layer: for a conditional model, the average over the classes
    of mapping(z, class) - that class's average, so a seed is a style, drawn in whichever class is chosen.
Directions are the principal components of sampled w (GANSpace, Harkonen et al. 2020, section 3.1, on
StyleGAN: PCA in W needs no regression), each applied to all layers or to a range of them (directions.py).
Noise is the generator's fixed per-layer noise, so a latent always draws the same picture.
"""
from __future__ import annotations

import torch

from explorer.core.families.checkpoint import CheckpointFamily
from explorer.core.families.temperature import TemperatureScale
from explorer.core.latent import sample_z

GROUP_WORDS = {"coarse": "shape", "middle": "details", "fine": "colours"}   # what each layer range changes
SAMPLES_FOR_SCALE = 2000       # seeds whose offsets measure a typical latent's length


class StyleGANFamily(CheckpointFamily):
    kind = "stylegan"
    words = "style-based GAN"
    adversarial = True
    inversion = "refine"
    directions = "w-pca"
    map_items = "samples"
    blends_classes = True
    data_range = (-1.0, 1.0)
    # 64/36/18 feature maps at 7/14/28 px, 64/64/32/16/8 at 4...64 px: about 2.5 steps/s of 32 pictures on
    # one busy CPU core at 28 px (README, "Style-based GAN")
    train_tab = {"latent_dim": 32, "w_dim": 64, "mapping_layers": 2, "channel_base": 512, "channel_max": 64}
    # psi 0: the average w's picture (a readable one: test_stylegan_family.py); above 1, further out than training drew
    temperature = TemperatureScale(lowest=0.0, highest=1.5, step=0.05, name="Truncation ψ",
                                   words="the average picture ↔ varied")

    def __init__(self, checkpoint, device=None):
        super().__init__(checkpoint, device)
        self._typical: float | None = None

    @property
    def net(self) -> torch.nn.Module:
        """The generator (the moving average of the trained weights: what the run saved as `generator`)."""
        return self.checkpoint.modules["generator"]

    # ---------------------------------------------------------------- W+ as the latent
    @property
    def num_ws(self) -> int:
        return self.net.num_ws

    @property
    def w_dim(self) -> int:
        return self.net.cfg.w_dim

    @property
    def z_dim(self) -> int:
        return self.net.cfg.latent_dim

    @property
    def latent_dim(self) -> int:
        return self.num_ws * self.w_dim

    def layer_groups(self) -> dict[str, range]:
        """{"coarse": range, "middle": range, "fine": range} of layers, coarse to fine (empty ones left out)."""
        return self.net.layer_groups()

    def _centre(self, y: torch.Tensor | None, n: int) -> torch.Tensor:
        """The average w each of n pictures is an offset from: (n, w_dim)."""
        c = self.net.w_center(y)
        return c.expand(n, -1) if c.dim() == 1 else c

    def ws(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Latents (B, num_ws * w_dim) [+ classes (B,)] -> the synthesis network's ws (B, num_ws, w_dim)."""
        return x.reshape(len(x), self.num_ws, self.w_dim) + self._centre(y, len(x))[:, None]

    @torch.no_grad()
    def latents_from_z(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, z_dim) on the device -> this family's latents (B, num_ws * w_dim): each w offset, in every layer."""
        k = self.num_classes
        if not k:
            offsets = self.net.mapping(z, None, track=False) - self.net.mapping.w_avg
        else:                                              # a style: the offset averaged over the classes
            avg = self.net.mapping.class_w_avg()
            offsets = sum(self.net.mapping(z, torch.full((len(z),), c, device=z.device), track=False) - avg[c]
                          for c in range(k)) / k
        return offsets.repeat(1, self.num_ws)

    def seed_latents(self, n: int, seed: int) -> torch.Tensor:
        z = sample_z(n, self.z_dim, seed)
        with self.lock:
            return self.latents_from_z(z.to(self.device)).cpu()

    # ---------------------------------------------------------------- the protocol
    @torch.no_grad()
    def decode(self, x, y=None):
        return self.net.generate_from_ws(self.ws(x, y))

    def decode_with_grad(self, x, y=None):
        return ((self.net.synthesis(self.ws(x, y), "const") + 1) * 0.5).clamp(0, 1)

    def class_vectors(self) -> torch.Tensor:
        return self.net.mapping.class_w_avg().detach().float().cpu()        # (K, w_dim): each class's average w

    @torch.no_grad()
    def decode_blend(self, x, embeddings):
        ws = x.reshape(len(x), self.num_ws, self.w_dim) + embeddings[:, None].to(x)
        return self.net.generate_from_ws(ws)

    @torch.no_grad()
    def direction_features(self, x, y=None):
        return x.reshape(len(x), self.num_ws, self.w_dim)[:, 0]                # a seed's w offset (every layer alike)

    @property
    def typical_norm(self) -> float:
        """The length of a typical seed's latent (refinement keeps a fitted latent near it)."""
        if self._typical is None:
            x = self.seed_latents(SAMPLES_FOR_SCALE, 0)
            self._typical = float(x.norm(dim=1).pow(2).mean().sqrt())
        return self._typical

    def onnx_decoder(self) -> tuple[torch.nn.Module, int]:
        """What `explorer.export --onnx` writes: z [+ class] -> picture in [0, 1] (no truncation), so the file
        is an ordinary decoder of N(0, I) noise wherever it is opened."""
        return _ZDecoder(self.net), self.z_dim


class _ZDecoder(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, z, y=None):
        return self.net.generate(z, y)                 # (B, z) [+ (B,)] -> (B, C, H, W) in [0, 1]


def group_words(name: str) -> str:
    """What a layer range changes, in a person's words ("all": everything)."""
    return GROUP_WORDS.get(name, "everything")
