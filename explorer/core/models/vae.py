"""Convolutional VAE (Kingma & Welling 2014) for grey or colour images, 28 px to 256 px.

Encoder: strided convs with LeakyReLU and dropout -> (mean, log-variance), as in the MNIST
MNIST-drawing VAE article the project started from; z = mean + std * eps (reparameterisation);
decoder: linear -> transposed convolutions -> per-pixel logits (Bernoulli) or means (Gaussian).
The loss is the negative ELBO in nats per image: reconstruction term + KL(q(z|x) || N(0, I)).
How many convolutions (models/layout.py): two stride-2 stages in the classic 28-px layout, one per
doubling from a 4x4 map in the grow layout (64 px: 64 -> 32 -> 16 -> 8 -> 4 and back), channels
doubling on the way down (width, 2 width, ...) and halving on the way up.

Class-conditional (num_classes > 0, a cVAE, Sohn et al. 2015): the encoder's hidden layer gets a
learned per-class offset, so q(z | x, y) need not spend z on the class, and the decoder gets a
class embedding concatenated with z: z is left to carry the style. num_classes = 0 (the default)
builds exactly the unconditional modules, so old checkpoints load.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from explorer.core.models.dcgan import CLASS_DIM, check_classes
from explorer.core.models.dropout import Dropout
from explorer.core.models.limits import (
    CHANNELS,
    CLASSES,
    HIDDEN,
    IMAGE,
    LATENT,
    MAX_DROPOUT,
    WIDTH,
    check_sizes,
)
from explorer.core.models.layout import resolve_layout, smallest_side, stages
from explorer.core.validation import check_choice, check_number


@dataclass
class VAEConfig:
    latent_dim: int = 16          # 16 for exploring, 2 for the "decoded manifold" map
    image_size: int = 28          # square: a multiple of 4 (classic layout) or 8, 16, ..., 256 (grow)
    channels: int = 1             # 1 = grayscale, 3 = RGB
    width: int = 32               # channels of the first encoder conv; the next use 2x, 4x, ...
    hidden: int = 256             # fully connected layer between convs and (mean, log-variance)
    dropout: float = 0.2          # encoder dropout in training (the article's keep-probability 0.8)
    recon: str = "bernoulli"      # "bernoulli" (cross-entropy) or "gaussian" (squared error)
    sigma: float = 0.1            # std of the Gaussian likelihood when recon == "gaussian"
    num_classes: int = 0          # 0 = unconditional; K > 0 = a cVAE (classes 0..K-1)
    layout: str = "auto"          # "classic" (28 px) or "grow" (a block per doubling); see layout.py

    def __post_init__(self):
        # sizes are checked before anything is built or allocated (limits in models/limits.py)
        check_sizes(self, latent_dim=LATENT, image_size=IMAGE, channels=CHANNELS, width=WIDTH, hidden=HIDDEN)
        self.layout = resolve_layout(self.layout, self.image_size)
        self.dropout = check_number("dropout", self.dropout, 0.0, MAX_DROPOUT)
        check_choice("recon", self.recon, ("bernoulli", "gaussian"))
        self.sigma = check_number("sigma", self.sigma, 1e-4, 10.0)
        check_sizes(self, num_classes=CLASSES)

    def to_dict(self) -> dict:
        return asdict(self)


class ConvVAE(nn.Module):
    def __init__(self, cfg: VAEConfig):
        super().__init__()
        self.cfg = cfg
        w, s = cfg.width, smallest_side(cfg.layout, cfg.image_size)    # s: 7 (classic 28 px), 4 (grow)
        n = stages(cfg.layout, cfg.image_size)                           # 2 (classic), 4 for grow 64 px
        top = w * 2 ** (n - 1)                                           # channels of the smallest map
        self.side = s
        down, c = [], cfg.channels
        for i in range(n):   # (B, c, H/2^i, .) -> (B, w*2^i, H/2^(i+1), .); classic: C -> w -> 2w
            down += [nn.Conv2d(c, w * 2 ** i, 4, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True),
                     Dropout(cfg.dropout)]
            c = w * 2 ** i
        self.encoder = nn.Sequential(
            *down,                                                  # (B, C, H, W) -> (B, top, s, s)
            nn.Flatten(),                                           # -> (B, top*s*s)
            nn.Linear(top * s * s, cfg.hidden), nn.LeakyReLU(0.2, inplace=True),
        )
        self.to_mean = nn.Linear(cfg.hidden, cfg.latent_dim)
        self.to_logvar = nn.Linear(cfg.hidden, cfg.latent_dim)
        if cfg.num_classes:
            self.enc_class = nn.Embedding(cfg.num_classes, cfg.hidden)   # class offset of the hidden layer
            self.dec_class = nn.Embedding(cfg.num_classes, CLASS_DIM)    # concatenated with z
            nn.init.normal_(self.enc_class.weight, 0.0, 0.1)
        self.decoder_fc = nn.Sequential(
            nn.Linear(cfg.latent_dim + (CLASS_DIM if cfg.num_classes else 0), cfg.hidden), nn.ReLU(inplace=True),
            nn.Linear(cfg.hidden, top * s * s), nn.ReLU(inplace=True),
        )
        up = []
        for i in range(n - 1, 0, -1):   # (B, w*2^i, ., .) -> (B, w*2^(i-1), x2, x2); classic: 2w -> w
            up += [nn.ConvTranspose2d(w * 2 ** i, w * 2 ** (i - 1), 4, stride=2, padding=1), nn.ReLU(inplace=True)]
        self.decoder_conv = nn.Sequential(
            *up,                                                    # (B, top, s, s) -> (B, w, H/2, W/2)
            nn.ConvTranspose2d(w, cfg.channels, 4, stride=2, padding=1),  # -> (B, C, H, W)
        )

    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, C, H, W) in [0, 1] [+ class y (B,)] -> mean, log-variance, each (B, latent_dim)."""
        h = self.encoder(x)                                         # (B, hidden)
        if self.cfg.num_classes:
            h = h + self.enc_class(y)
        return self.to_mean(h), self.to_logvar(h).clamp(-12.0, 8.0)

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None,
               class_embedding: torch.Tensor | None = None) -> torch.Tensor:
        """z (B, latent_dim) [+ class y (B,) or embedding (B, CLASS_DIM)] -> raw decoder output
        (B, C, H, W): logits (Bernoulli) or means (Gaussian)."""
        if self.cfg.num_classes:
            e = class_embedding if class_embedding is not None else self.dec_class(y)
            z = torch.cat([z, e.to(z.dtype)], 1)                    # (B, latent_dim + CLASS_DIM)
        h = self.decoder_fc(z).view(z.shape[0], -1, self.side, self.side)
        return self.decoder_conv(h)

    @torch.no_grad()
    def generate(self, z: torch.Tensor, y=None, class_embedding: torch.Tensor | None = None) -> torch.Tensor:
        """Images in [0, 1], the common output range of every decoder in this project."""
        if class_embedding is None:
            y = check_classes(y, self.cfg.num_classes, z.shape[0], z.device)
        out = self.decode(z, y, class_embedding)
        return torch.sigmoid(out) if self.cfg.recon == "bernoulli" else out.clamp(0, 1)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None, y: torch.Tensor | None = None,
                eps: torch.Tensor | None = None):
        """(decoder output, mean, log-variance); eps (B, latent_dim) ~ N(0, I) is drawn from
        `generator` unless given (data-parallel training draws it for the whole global batch)."""
        mean, logvar = self.encode(x, y)
        if eps is None:
            eps = torch.randn(mean.shape, device=mean.device, dtype=mean.dtype, generator=generator)
        z = mean + torch.exp(0.5 * logvar) * eps                    # reparameterisation trick
        return self.decode(z, y), mean, logvar

    def loss_terms(self, x: torch.Tensor, out: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor):
        """Per-batch means of (reconstruction NLL, KL), both in nats per image."""
        if self.cfg.recon == "bernoulli":
            nll = F.binary_cross_entropy_with_logits(out, x, reduction="none").flatten(1).sum(1)
        else:  # -log N(x; out, sigma^2 I)
            var = self.cfg.sigma ** 2
            d = x[0].numel()
            nll = ((out - x) ** 2).flatten(1).sum(1) / (2 * var) + 0.5 * d * math.log(2 * math.pi * var)
        kl = 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar).sum(1)  # KL(N(m, s^2) || N(0, 1))
        return nll.mean(), kl.mean()
