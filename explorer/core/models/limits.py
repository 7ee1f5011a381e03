"""Sane limits for model sizes, checked before any module is built or any memory allocated.

A checkpoint's config comes from a file someone else wrote: `latent_dim = 1e9` must be a clear
refusal, not an allocator failure. The limits are far above anything trained here (latent 64,
width 64, 28x28 grey and 64x64 colour images) and below what a laptop's memory holds. Which image
sizes each layout can build is checked in layout.py.
"""
from __future__ import annotations

from explorer.core.validation import UserError, check_whole

LATENT = (1, 1024)        # size of z
IMAGE = (8, 256)          # square image side, pixels (a multiple of 4)
CHANNELS = (1, 4)         # grayscale, RGB, RGBA
WIDTH = (1, 512)          # convolution channels of the first/last block
HIDDEN = (1, 8192)        # units of a fully connected layer
MAPPING_LAYERS = (1, 8)   # fully connected layers of a style-based mapping network (StyleGAN: 8)
CHANNEL_BASE = (1, 65536) # a style-based model's feature maps at resolution r: channel_base // r (capped)
MAX_DROPOUT = 0.95
CLASSES = (0, 1000)       # 0 = unconditional; K = a class-conditional model with K classes
MAX_PARAMETERS = 100_000_000   # 400 MB of float32 weights per model


def check_sizes(cfg, **limits: tuple[int, int]) -> None:
    """Each named field of `cfg` must be an int within its (lo, hi)."""
    for name, (lo, hi) in limits.items():
        check_whole(name, getattr(cfg, name), lo, hi)


def check_parameter_count(kind: str, count: int) -> None:
    if count > MAX_PARAMETERS:
        raise UserError(f"This {kind} configuration would have {count / 1e6:,.0f} million parameters;"
                        f" at most {MAX_PARAMETERS / 1e6:,.0f} million are allowed.")
