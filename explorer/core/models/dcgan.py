"""DCGAN generator and discriminator, grey or colour, 28 px (the classic layout) or 8-256 px.

Follows Radford et al. 2015 as a PyTorch implementation article describes it:
generator = linear -> reshape -> [BatchNorm, upsample + 3x3 conv (stride 1, same padding), ReLU]
blocks -> conv -> tanh; discriminator = strided convs, LeakyReLU(0.2), dropout, BatchNorm on
every block but the first, linear head giving a *logit* (losses use the stable logit form).
Weights start from N(0, 0.02) as the DCGAN paper prescribes.

How many blocks: models/layout.py. The classic layout (28 px) starts at image_size/4 with two
upsampling blocks; the grow layout (32, 64, 128 px...) is the paper's: a 4x4 start and one x2
block per doubling (4 -> 8 -> 16 -> 32 -> 64), channels halving from width * 2**blocks to width,
and a discriminator that mirrors it (4x4 stride-2 convs down to 4x4).

Class-conditional (num_classes > 0, Mirza & Osindero 2014): G gets a learned class embedding
concatenated with z before its first layer; D is told the class either by projection (Miyato &
Koyama 2018: logit += <embed(y), features>) or by one-hot maps concatenated to the image.
num_classes = 0 (the default) builds exactly the unconditional modules, so old checkpoints load.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from explorer.core.models.dropout import Dropout
from explorer.core.models.limits import (
    CHANNELS,
    CLASSES,
    IMAGE,
    LATENT,
    MAX_DROPOUT,
    WIDTH,
    check_sizes,
)
from explorer.core.models.layout import resolve_layout, smallest_side, stages
from explorer.core.validation import UserError, check_choice, check_number

CLASS_DIM = 16                  # size of G's class embedding (concatenated with z)


@dataclass
class DCGANConfig:
    latent_dim: int = 64        # size of z; 64 vs 100 not compared for quality (see README)
    image_size: int = 28        # square images: a multiple of 4 (classic layout) or 8, 16, ..., 256 (grow)
    channels: int = 1           # 1 = grayscale, 3 = RGB
    width: int = 64             # channels of the last generator block; earlier blocks use 2x, 4x, ...
    upsample: str = "nearest"   # "nearest" (upsample + conv, the article's choice) or "transposed"
    d_width: int = 64           # channels of the discriminator's first block
    d_norm: str = "batch"       # "batch" (DCGAN), "layer" or "none" (WGAN-GP critics avoid BatchNorm)
    d_dropout: float = 0.3      # dropout in the discriminator (training only)
    num_classes: int = 0        # 0 = unconditional; K > 0 = class-conditional G and D (classes 0..K-1)
    d_condition: str = "projection"  # how D sees the class: "projection" (Miyato & Koyama) or "concat"
    layout: str = "auto"        # "classic" (28 px) or "grow" (4x4 start, a block per doubling); see layout.py

    def __post_init__(self):
        # sizes are checked before anything is built or allocated (limits in models/limits.py)
        check_sizes(self, latent_dim=LATENT, image_size=IMAGE, channels=CHANNELS, width=WIDTH, d_width=WIDTH)
        self.layout = resolve_layout(self.layout, self.image_size)
        self.d_dropout = check_number("d_dropout", self.d_dropout, 0.0, MAX_DROPOUT)
        check_choice("upsample", self.upsample, ("nearest", "transposed"))
        check_choice("d_norm", self.d_norm, ("batch", "layer", "none"))
        check_sizes(self, num_classes=CLASSES)
        check_choice("d_condition", self.d_condition, ("projection", "concat"))

    def to_dict(self) -> dict:
        return asdict(self)


def init_dcgan_weights(module: nn.Module) -> None:
    """N(0, 0.02) for conv/linear weights, N(1, 0.02) for norm scales (DCGAN paper, section 4)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d, nn.GroupNorm)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def check_classes(y, num_classes: int, n: int, device) -> torch.Tensor | None:
    """Class indices for n pictures as a long tensor (N,) on `device`, or UserError naming the range.
    One host sync: for the public generate() paths only, never inside a training step."""
    if num_classes == 0:
        if y is not None:
            raise UserError("This model is unconditional: it takes no class.")
        return None
    if y is None:
        raise UserError(f"This model is class-conditional: give a class index between 0 and {num_classes - 1}.")
    t = torch.as_tensor(y, device=device)
    if t.dim() == 0:
        t = t.expand(n)
    if t.dtype == torch.bool or (t.is_floating_point() and bool((t != t.round()).any())):
        raise UserError(f"Class must be a whole number between 0 and {num_classes - 1}.")
    t = t.long()
    if t.shape != (n,):
        raise UserError(f"Give one class per picture: {n} pictures but {tuple(t.shape)} classes.")
    if n and (int(t.min()) < 0 or int(t.max()) >= num_classes):
        bad = int(t.min()) if int(t.min()) < 0 else int(t.max())
        raise UserError(f"Class must be between 0 and {num_classes - 1}, got {bad}.")
    return t


def _up_block(c_in: int, c_out: int, mode: str) -> list[nn.Module]:
    if mode == "transposed":
        up = [nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=False)]
    else:
        up = [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)]
    return up + [nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


class Generator(nn.Module):
    """z (B, latent_dim) [+ class y (B,)] -> images (B, C, H, W) in [-1, 1]."""

    def __init__(self, cfg: DCGANConfig):
        super().__init__()
        self.cfg = cfg
        self.base = smallest_side(cfg.layout, cfg.image_size)  # s: 7 for classic 28 px, 4 for grow
        n = stages(cfg.layout, cfg.image_size)                 # x2 blocks: 2 (classic), 4 for grow 64 px
        c0 = cfg.width * 2 ** n
        extra = CLASS_DIM if cfg.num_classes else 0
        if cfg.num_classes:
            self.embed = nn.Embedding(cfg.num_classes, CLASS_DIM)     # N(0, 1) like z: same scale
        self.project = nn.Linear(cfg.latent_dim + extra, c0 * self.base * self.base, bias=False)
        blocks = []
        for i in range(n):   # (B, w*2^(n-i), s*2^i, .) -> (B, w*2^(n-i-1), s*2^(i+1), .); classic: 4w -> 2w -> w
            blocks += _up_block(cfg.width * 2 ** (n - i), cfg.width * 2 ** (n - i - 1), cfg.upsample)
        self.body = nn.Sequential(
            nn.BatchNorm2d(c0), nn.ReLU(inplace=True),
            *blocks,                                           # (B, c0, s, s) -> (B, w, H, W)
            nn.Conv2d(cfg.width, cfg.channels, 3, padding=1),  # -> (B, C, H, W)
            nn.Tanh(),
        )
        init_dcgan_weights(self)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None,
                class_embedding: torch.Tensor | None = None) -> torch.Tensor:
        """A conditional G takes class indices y (B,) or, to blend classes, embeddings (B, CLASS_DIM)."""
        if self.cfg.num_classes:
            e = class_embedding if class_embedding is not None else self.embed(y)   # (B, CLASS_DIM)
            z = torch.cat([z, e.to(z.dtype)], 1)               # (B, z + CLASS_DIM)
        x = self.project(z)                                    # (B, z) -> (B, c0*s*s)
        x = x.view(z.shape[0], -1, self.base, self.base)       # -> (B, c0, s, s)
        return self.body(x)

    @torch.no_grad()
    def early_features(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The activations after the first BatchNorm + ReLU, flattened (B, c0*s*s): the layer GANSpace's PCA
        reads and generator-feature maps lay out by (z -> (c0, s, s) is linear before it). A conditional G
        also takes the classes y (B,)."""
        if self.cfg.num_classes:
            z = torch.cat([z, self.embed(y).to(z.dtype)], 1)
        x = self.project(z).view(z.shape[0], -1, self.base, self.base)      # (B, z) -> (B, c0, s, s)
        return self.body[:2](x).flatten(1)                                  # -> (B, c0*s*s)

    @torch.no_grad()
    def generate(self, z: torch.Tensor, y=None, class_embedding: torch.Tensor | None = None) -> torch.Tensor:
        """Images in [0, 1], the common output range of every decoder in this project."""
        if class_embedding is None:
            y = check_classes(y, self.cfg.num_classes, z.shape[0], z.device)
        return (self.forward(z, y, class_embedding) + 1) * 0.5


def _norm(kind: str, c: int) -> list[nn.Module]:
    if kind == "batch":
        return [nn.BatchNorm2d(c)]
    if kind == "layer":
        return [nn.GroupNorm(1, c)]  # layer norm over (C, H, W): no batch coupling, safe for gradient penalty
    return []


def down_blocks(c_in: int, width: int, n: int, norm: str, dropout: float) -> list[nn.Module]:
    """The grow layout's way down, mirroring the generator: n stride-2 4x4 convs, channels
    width, 2 width, ..., width * 2**(n-1), normalised on every block but the first (DCGAN paper)."""
    out, c = [], c_in
    for i in range(n):   # (B, c, H/2^i, .) -> (B, w*2^i, H/2^(i+1), .)
        c_out = width * 2 ** i
        out += [nn.Conv2d(c, c_out, 4, stride=2, padding=1, bias=i == 0), *(_norm(norm, c_out) if i else []),
                nn.LeakyReLU(0.2, inplace=True), Dropout(dropout)]
        c = c_out
    return out


class Discriminator(nn.Module):
    """images (B, C, H, W) in [-1, 1] -> logits (B,). sigmoid(logit) = D(x), the probability x is real."""

    def __init__(self, cfg: DCGANConfig):
        super().__init__()
        self.cfg = cfg
        w, p = cfg.d_width, cfg.d_dropout
        self.concat = cfg.num_classes if cfg.num_classes and cfg.d_condition == "concat" else 0
        if cfg.layout == "classic":
            self.body = nn.Sequential(
                nn.Conv2d(cfg.channels + self.concat, w, 4, stride=2, padding=1),      # (B, C, H, W) -> (B, w, H/2, W/2)
                nn.LeakyReLU(0.2, inplace=True), Dropout(p),
                nn.Conv2d(w, w * 2, 4, stride=2, padding=1, bias=False),     # -> (B, 2w, H/4, W/4)
                *_norm(cfg.d_norm, w * 2), nn.LeakyReLU(0.2, inplace=True), Dropout(p),
                nn.Conv2d(w * 2, w * 4, 3, stride=2, padding=1, bias=False),  # -> (B, 4w, ~H/8, ~W/8)
                *_norm(cfg.d_norm, w * 4), nn.LeakyReLU(0.2, inplace=True), Dropout(p),
                nn.Flatten(),
            )
            features = w * 4 * (-(-cfg.image_size // 8)) ** 2             # ceil: 28 -> 4x4
        else:
            n = stages(cfg.layout, cfg.image_size)
            self.body = nn.Sequential(*down_blocks(cfg.channels + self.concat, w, n, cfg.d_norm, p), nn.Flatten())
            features = w * 2 ** (n - 1) * 4 * 4                          # (B, w*2^(n-1), 4, 4) flattened
        self.head = nn.Linear(features, 1)
        if cfg.num_classes and not self.concat:
            self.embed = nn.Embedding(cfg.num_classes, features)         # projection: one vector per class
        init_dcgan_weights(self)
        if hasattr(self, "embed"):
            nn.init.normal_(self.embed.weight, 0.0, 0.02)      # small, like the head: no huge logits at start

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.concat:                                        # one-hot maps: (B, C, H, W) -> (B, C+K, H, W)
            onehot = nn.functional.one_hot(y, self.concat).to(x.dtype)[:, :, None, None]
            x = torch.cat([x, onehot.expand(-1, -1, x.shape[2], x.shape[3])], 1)
        h = self.body(x)                                       # (B, features)
        logit = self.head(h).squeeze(1)                        # -> (B,)
        if hasattr(self, "embed"):
            logit = logit + (self.embed(y) * h).sum(1)         # projection term <embed(y), h>
        return logit
