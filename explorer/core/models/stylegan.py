"""A small style-based generator (StyleGAN2) and its residual discriminator, grey or colour,
28 px (the classic layout: a 7x7 start) or 8-256 px (a 4x4 start), optionally class-conditional.

Karras, Laine & Aila 2019 ("A Style-Based Generator Architecture for GANs"): a mapping network
turns z into w; the synthesis network starts from a learned constant and each of its layers reads
a copy of w (a "style"), so the copies given to the coarse layers set pose and shape, the fine ones
texture and colour; per-pixel noise with a learned strength supplies the stochastic detail; the
average w (`w_avg`) makes the truncation trick w' = w_avg + psi (w - w_avg) possible.
Karras et al. 2020 ("Analyzing and Improving the Image Quality of StyleGAN", StyleGAN2): modulated
and demodulated convolutions instead of AdaIN, skip-connected toRGB outputs summed with upsampling
(fig. 7b), a residual discriminator with minibatch standard deviation (fig. 7c).
Karras et al. 2020 ("Training GANs with Limited Data", StyleGAN2-ADA): the class goes into the
mapping network as a normalised embedding beside z, and the discriminator projects its last
features onto an embedding of the class (cmap). Structure after NVlabs' stylegan2-ada-pytorch
`training/networks.py`, in standard PyTorch operators only (layers: stylegan_layers.py).

Which w each layer reads: `ws` (B, num_ws, w_dim), coarse to fine; `ws_resolutions[i]` is the
resolution of the convolution ws[:, i] drives, `layer_groups()` the coarse / middle / fine ranges.

A conditional model also tracks the average w of each class (`class_w_avg`), so truncation moves a
picture towards its own class's average, not to one picture shared by every class.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from explorer.core.models.dcgan import check_classes
from explorer.core.models.layout import resolve_layout, smallest_side, stages
from explorer.core.models.limits import (
    CHANNEL_BASE,
    CHANNELS,
    CLASSES,
    IMAGE,
    LATENT,
    MAPPING_LAYERS,
    WIDTH,
    check_sizes,
)
from explorer.core.models.stylegan_layers import (
    DiscriminatorBlock,
    EqualConv2d,
    EqualLinear,
    SynthesisBlock,
    minibatch_stddev,
    normalize_2nd_moment,
)
from explorer.core.validation import UserError, check_choice, check_int, check_number

MAPPING_LR = 0.01            # learning-rate multiplier of the mapping layers (StyleGAN sec. 2, appendix C)
W_AVG_BETA = 0.995           # decay of the running average of w, per training batch (StyleGAN2-ADA)
NOISE_MODES = ("const", "random", "none")
PSI_RANGE = (-2.0, 2.0)
GROUP_NAMES = ("coarse", "middle", "fine")
GROUP_TOPS = (8, 16, 10**9)   # the largest resolution in each group: 4-8, 16, 32+ px


@dataclass
class StyleGANConfig:
    latent_dim: int = 64        # size of z
    w_dim: int = 128            # size of w, the style vector (StyleGAN2: 512; small pictures need fewer)
    mapping_layers: int = 4     # fully connected layers z -> w (StyleGAN: 8; StyleGAN2-ADA's small-data setting: 2)
    image_size: int = 32        # 28 (classic layout: 7 -> 14 -> 28) or 8, 16, ..., 256 (grow: 4 -> 8 -> ...)
    channels: int = 1           # 1 = grey, 3 = RGB
    channel_base: int = 4096    # feature maps at resolution r: min(channel_base // r, channel_max) (ADA's cbase)
    channel_max: int = 256      # (ADA's cmax); the discriminator uses the same widths
    num_classes: int = 0        # 0 = unconditional; K > 0 = class-conditional (classes 0..K-1)
    mbstd_group: int = 4        # pictures per minibatch-standard-deviation group in the discriminator
    layout: str = "auto"        # "classic" (28 px) or "grow" (powers of two); see layout.py

    def __post_init__(self):
        check_sizes(self, latent_dim=LATENT, w_dim=LATENT, mapping_layers=MAPPING_LAYERS, image_size=IMAGE,
                    channels=CHANNELS, channel_base=CHANNEL_BASE, channel_max=WIDTH, num_classes=CLASSES,
                    mbstd_group=(1, 64))
        self.layout = resolve_layout(self.layout, self.image_size)
        if self.channel_base < self.image_size:
            raise UserError(f"channel_base must be at least the image size ({self.image_size}) so that every "
                            f"resolution gets a feature map, got {self.channel_base}.")

    def resolutions(self) -> list[int]:
        """The synthesis network's resolutions, smallest first: [7, 14, 28] or [4, 8, 16, 32]."""
        start = smallest_side(self.layout, self.image_size)
        return [start * 2 ** i for i in range(stages(self.layout, self.image_size) + 1)]

    def width(self, resolution: int) -> int:
        return min(self.channel_base // resolution, self.channel_max)

    def to_dict(self) -> dict:
        return asdict(self)


class MappingNetwork(nn.Module):
    """z (B, latent_dim) [+ class y (B,)] -> w (B, w_dim); tracks the running average of w."""

    def __init__(self, cfg: StyleGANConfig):
        super().__init__()
        self.num_classes = cfg.num_classes
        extra = cfg.w_dim if cfg.num_classes else 0
        if cfg.num_classes:
            self.embed = nn.Embedding(cfg.num_classes, cfg.w_dim)
            # per-class running sums of w and of counts, both per training picture: their ratio is the class's average w
            self.register_buffer("class_w_sum", torch.zeros(cfg.num_classes, cfg.w_dim))
            self.register_buffer("class_w_count", torch.zeros(cfg.num_classes))
        sizes = [cfg.latent_dim + extra] + [cfg.w_dim] * cfg.mapping_layers
        self.layers = nn.ModuleList(EqualLinear(sizes[i], sizes[i + 1], lr_multiplier=MAPPING_LR, activation=True)
                                    for i in range(cfg.mapping_layers))
        self.register_buffer("w_avg", torch.zeros(cfg.w_dim))

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None, class_embedding: torch.Tensor | None = None,
                track: bool = True) -> torch.Tensor:
        """A conditional network takes class indices y (B,) or, to blend classes, embeddings (B, w_dim).
        In training mode (and `track`) the running averages of w move towards this batch's."""
        x = normalize_2nd_moment(z)                                            # (B, z) on the unit sphere * sqrt(z)
        if self.num_classes:
            e = class_embedding if class_embedding is not None else self.embed(y)   # (B, w_dim)
            x = torch.cat([x, normalize_2nd_moment(e.to(x.dtype))], dim=1)     # -> (B, z + w_dim)
        for layer in self.layers:
            x = layer(x)                                                       # -> (B, w_dim)
        if self.training and track:
            self._track(x.detach(), y if class_embedding is None else None)
        return x

    @torch.no_grad()
    def _track(self, w: torch.Tensor, y: torch.Tensor | None) -> None:
        # linear in the batch's pictures, so under data parallelism the processes' averages, averaged, are one run's
        self.w_avg.copy_(w.mean(dim=0).lerp(self.w_avg, W_AVG_BETA))
        if self.num_classes and y is not None:
            onehot = F.one_hot(y, self.num_classes).to(w.dtype)                # (B, K)
            self.class_w_sum.copy_((onehot.t() @ w / len(w)).lerp(self.class_w_sum, W_AVG_BETA))   # (K, w_dim)
            self.class_w_count.copy_(onehot.mean(dim=0).lerp(self.class_w_count, W_AVG_BETA))     # (K,)

    def class_w_avg(self) -> torch.Tensor:
        """The average w of each class (K, w_dim); the overall w_avg for a class never seen in training."""
        seen = self.class_w_count > 0
        mean = self.class_w_sum / self.class_w_count.clamp(min=1e-8)[:, None]
        return torch.where(seen[:, None], mean, self.w_avg[None])


class SynthesisNetwork(nn.Module):
    """ws (B, num_ws, w_dim) -> images (B, C, H, W) in about [-1, 1] (no tanh: StyleGAN2 leaves the
    output linear)."""

    def __init__(self, cfg: StyleGANConfig):
        super().__init__()
        self.w_dim = cfg.w_dim
        res = cfg.resolutions()
        self.blocks = nn.ModuleList(
            SynthesisBlock(cfg.width(r // 2) if i else 0, cfg.width(r), cfg.w_dim, r, cfg.channels)
            for i, r in enumerate(res))
        self.num_ws = sum(b.num_conv for b in self.blocks) + 1
        self.layers = [layer for b in self.blocks for layer in b.layers()]      # every modulated conv, coarse -> fine
        # the resolution of the convolution each w drives (the last one drives the last toRGB)
        self.ws_resolutions = tuple(layer.resolution for layer in self.layers) + (res[-1],)

    def forward(self, ws: torch.Tensor, noise_mode: str = "random", noise: list | None = None,
                generator: torch.Generator | None = None, grouped: bool = False) -> torch.Tensor:
        """noise_mode: "const" (each layer's fixed noise buffer: the same picture every time), "random"
        (fresh noise from `generator`) or "none"; `noise` (one (B, 1, r, r) tensor per layer) overrides it.
        `grouped`: compute the modulated convolutions as grouped ones (models/stylegan_layers.py)."""
        if noise is None:
            noise = self.make_noise(ws.shape[0], noise_mode, generator, ws)
        elif len(noise) != len(self.layers):
            raise ValueError(f"noise needs one tensor per layer ({len(self.layers)}), got {len(noise)}")
        x = img = None
        w_idx = 0
        for block in self.blocks:
            n = block.num_conv
            x, img = block(x, img, ws[:, w_idx:w_idx + n + 1], noise[w_idx:w_idx + n], grouped)  # -> (B, c, r, r), (B, C, r, r)
            w_idx += n
        return img

    def make_noise(self, n: int, noise_mode: str, generator: torch.Generator | None = None,
                   like: torch.Tensor | None = None) -> list:
        check_choice("noise_mode", noise_mode, NOISE_MODES)
        if noise_mode == "none":
            return [None] * len(self.layers)
        if noise_mode == "const":
            return [layer.noise_const for layer in self.layers]                # (r, r) each, broadcast over the batch
        ref = like if like is not None else self.layers[0].noise_const
        return [torch.randn(n, 1, layer.resolution, layer.resolution, generator=generator, device=ref.device,
                            dtype=ref.dtype) for layer in self.layers]


class Generator(nn.Module):
    """z (B, latent_dim) [+ class y (B,)] -> w -> images (B, C, H, W) in [-1, 1].

    The pieces to explore with: `mapping(z, y)` -> w (B, w_dim); `num_ws`; `synthesis(ws, noise_mode)`
    with ws (B, num_ws, w_dim); `truncate`; `generate` (images in [0, 1], the project's decoder call)."""

    def __init__(self, cfg: StyleGANConfig):
        super().__init__()
        self.cfg = cfg
        self.synthesis = SynthesisNetwork(cfg)
        self.mapping = MappingNetwork(cfg)
        self.num_ws = self.synthesis.num_ws
        self.ws_resolutions = self.synthesis.ws_resolutions

    def layer_resolution(self, i: int) -> int:
        """The resolution (pixels) of the layer ws[:, i] drives."""
        return self.ws_resolutions[i]

    def layer_group(self, i: int) -> str:
        """"coarse" (up to 8 px: pose, shape), "middle" (16 px: features) or "fine" (32 px and up:
        texture, colour) for the layer ws[:, i] drives; a 28-px model's 7, 14 and 28 px in that order."""
        r = self.ws_resolutions[i]
        if self.cfg.layout == "classic":
            return GROUP_NAMES[min(self.cfg.resolutions().index(r), 2)]
        return next(name for name, top in zip(GROUP_NAMES, GROUP_TOPS) if r <= top)

    def layer_groups(self) -> dict[str, range]:
        """{"coarse": range, "middle": range, "fine": range} of ws indices, coarse to fine; a group with
        no layers (a 16-px model has no fine ones) is left out."""
        groups: dict[str, list[int]] = {}
        for i in range(self.num_ws):
            groups.setdefault(self.layer_group(i), []).append(i)
        return {name: range(idx[0], idx[-1] + 1) for name, idx in groups.items()}

    def broadcast(self, w: torch.Tensor) -> torch.Tensor:
        """One w for every layer: (B, w_dim) -> (B, num_ws, w_dim), by broadcasting an addition of zeros: exported
        to ONNX, an expand or a repeat with a free batch becomes operators (Where, Expand of a computed shape)
        whose sizes ONNX's shape inference cannot follow, and the app refuses such a graph (core/families)."""
        return w.unsqueeze(1) + w.new_zeros(1, self.num_ws, 1)

    def w_center(self, y: torch.Tensor | None = None) -> torch.Tensor:
        """Where truncation pulls towards: w_avg (w_dim,), or for a conditional model each picture's
        class average (B, w_dim)."""
        if y is None or not self.cfg.num_classes:
            return self.mapping.w_avg
        return self.mapping.class_w_avg()[y]

    def truncate(self, ws: torch.Tensor, psi, cutoff: int | None = None, center: torch.Tensor | None = None) -> torch.Tensor:
        """The truncation trick w' = center + psi (w - center) on ws (B, num_ws, w_dim), on the first
        `cutoff` layers only when given (the coarse ones); center: `w_center(y)`, default w_avg."""
        center = self.mapping.w_avg if center is None else center
        center = center.reshape(-1, 1, self.cfg.w_dim) if center.dim() == 2 else center      # (B|1, 1, w_dim)
        out = center + psi * (ws - center)
        if cutoff is None or cutoff >= self.num_ws:
            return out
        near = (torch.arange(self.num_ws, device=ws.device) < cutoff).reshape(1, -1, 1)    # (1, num_ws, 1)
        return torch.where(near, out, ws)

    def mix(self, ws: torch.Tensor, other: torch.Tensor, cutoff: torch.Tensor) -> torch.Tensor:
        """Style mixing: layers i >= cutoff (B,) take `other`'s styles, (B, num_ws, w_dim) each."""
        later = torch.arange(self.num_ws, device=ws.device).reshape(1, -1, 1) >= cutoff.reshape(-1, 1, 1)
        return torch.where(later, other, ws)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None, *, noise_mode: str = "random",
                noise: list | None = None, mix_z: torch.Tensor | None = None, mix_cutoff: torch.Tensor | None = None,
                class_embedding: torch.Tensor | None = None) -> torch.Tensor:
        """The training pass. With mix_z (B, latent_dim) and mix_cutoff (B,), picture b takes the
        styles of mix_z[b] from layer mix_cutoff[b] on (style mixing regularisation, StyleGAN sec. 3.1;
        cutoff = num_ws: none). Returns (B, C, H, W) in about [-1, 1]."""
        ws = self.broadcast(self.mapping(z, y, class_embedding))                           # (B, num_ws, w_dim)
        if mix_z is not None:
            other = self.broadcast(self.mapping(mix_z, y, class_embedding, track=False))
            ws = self.mix(ws, other, mix_cutoff)
        return self.synthesis(ws, noise_mode, noise)

    @torch.no_grad()
    def generate(self, z: torch.Tensor, y=None, psi=1.0, truncation_cutoff: int | None = None,
                 noise_mode: str = "const", class_embedding: torch.Tensor | None = None) -> torch.Tensor:
        """Images in [0, 1] (B, C, H, W), the common output of every decoder in this project.
        psi: truncation towards the average w (of the class, for a conditional model); 1 = none,
        0 = the average picture. noise_mode "const" draws the same picture for the same z every time."""
        exporting = torch.compiler.is_exporting() or torch.jit.is_tracing()   # ONNX export: checks need values
        if class_embedding is None and not exporting:
            y = check_classes(y, self.cfg.num_classes, z.shape[0], z.device)
        if isinstance(psi, (int, float)):
            check_number("psi (truncation)", psi, *PSI_RANGE)
        if truncation_cutoff is not None and not exporting:
            check_int("truncation_cutoff", truncation_cutoff, 0, self.num_ws)
        ws = self.broadcast(self.mapping(z, y, class_embedding, track=False))               # (B, num_ws, w_dim)
        if not (isinstance(psi, (int, float)) and psi == 1):
            ws = self.truncate(ws, psi, truncation_cutoff, self.w_center(y if class_embedding is None else None))
        return self.generate_from_ws(ws, noise_mode)

    @torch.no_grad()
    def generate_from_ws(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        """ws (B, num_ws, w_dim) -> images (B, C, H, W) in [0, 1] (clamped: the output has no tanh)."""
        return ((self.synthesis(ws, noise_mode) + 1) * 0.5).clamp(0, 1)


class Discriminator(nn.Module):
    """images (B, C, H, W) in [-1, 1] [+ class y (B,)] -> logits (B,), residual (StyleGAN2 fig. 7c)."""

    def __init__(self, cfg: StyleGANConfig):
        super().__init__()
        self.cfg = cfg
        res = cfg.resolutions()[::-1]                                          # e.g. [32, 16, 8, 4]
        self.fromrgb = EqualConv2d(cfg.channels, cfg.width(res[0]), 1)
        self.blocks = nn.ModuleList(DiscriminatorBlock(cfg.width(r), cfg.width(r // 2)) for r in res[:-1])
        c, s = cfg.width(res[-1]), res[-1]
        self.conv = EqualConv2d(c + 1, c, 3)                                   # + the minibatch-std channel
        self.fc = EqualLinear(c * s * s, c, activation=True)
        self.out = EqualLinear(c, c if cfg.num_classes else 1)
        if cfg.num_classes:
            self.embed = nn.Embedding(cfg.num_classes, c)                      # the class's cmap (ADA), N(0, 1)
        self.cmap_gain = 1.0 / math.sqrt(c)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        x = self.fromrgb(x)                                                    # (B, C, H, W) -> (B, c, H, W)
        for block in self.blocks:
            x = block(x)                                                       # -> (B, c', r/2, r/2) ... (B, c, s, s)
        x = self.conv(minibatch_stddev(x, self.cfg.mbstd_group))               # -> (B, c+1, s, s) -> (B, c, s, s)
        x = self.out(self.fc(x.flatten(1)))                                    # -> (B, c*s*s) -> (B, c) -> (B, 1 or c)
        if self.cfg.num_classes:
            x = (x * self.embed(y)).sum(dim=1, keepdim=True) * self.cmap_gain  # projection onto the class: (B, 1)
        return x.squeeze(1)                                                    # -> (B,)
