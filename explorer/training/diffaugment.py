"""DiffAugment (Zhao, Liu, Lin, Zhu & Han 2020, "Differentiable Augmentation for Data-Efficient GAN
Training"): the same random, differentiable augmentations applied to every picture the
discriminator sees, real and fake, in D's step and in G's step, so D cannot simply memorise a small
training set and G's gradient passes through the augmentation.

The three transforms of the paper's reference implementation (DiffAugment_pytorch.py), on
pictures in [-1, 1]:
  color        brightness + U(-0.5, 0.5); saturation x U(0, 2) around the pixel's channel mean;
               contrast x U(0.5, 1.5) around the picture's mean
  translation  a shift of up to 1/8 of the side in x and y, whole pixels, the border filled with 0
  cutout       a square of half the side set to 0, centred anywhere in the picture
Every random number comes from the trainer's torch.Generator on the training device, and nothing is
read back to the host, so runs are reproducible from their seed and the step can be captured as a
CUDA graph (training/fast.py). Shifts and the cut-out square are built with index arithmetic and
gathers (no data-dependent shapes).
"""
from __future__ import annotations

import torch

from explorer.core.validation import UserError

TRANSFORMS = ("color", "translation", "cutout")
PAPER_POLICY = "color,translation,cutout"
TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5
AUTO_MAX_IMAGES = 10_000     # "auto": on for training sets up to this size (measured on emoji: README)


def parse_policy(policy: str) -> tuple[str, ...]:
    """"color,translation,cutout" -> ("color", "translation", "cutout"); "" or "off" -> (); a
    UserError names an unknown transform."""
    parts = tuple(p.strip() for p in (policy or "").split(",") if p.strip())
    if parts in ((), ("off",), ("none",)):
        return ()
    bad = [p for p in parts if p not in TRANSFORMS]
    if bad:
        raise UserError(f"Unknown DiffAugment transform(s) {', '.join(bad)}; use a comma-separated list of "
                         f"{', '.join(TRANSFORMS)}, or off.")
    return parts


def resolve_policy(setting: str, dataset_size: int) -> str:
    """The policy a run uses: "auto" is the paper's full policy for a training set of at most
    AUTO_MAX_IMAGES pictures (where it was measured to win) and off above; anything else as given."""
    if setting == "auto":
        return PAPER_POLICY if 0 < dataset_size <= AUTO_MAX_IMAGES else ""
    return ",".join(parse_policy(setting))


def diff_augment(x: torch.Tensor, policy: tuple[str, ...], generator: torch.Generator) -> torch.Tensor:
    """x (B, C, H, W) in [-1, 1] -> the same shape, each picture augmented by its own random draw."""
    for name in policy:
        x = _TRANSFORMS[name](x, generator)
    return x


def _uniform(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return torch.rand(x.shape[0], 1, 1, 1, device=x.device, dtype=x.dtype, generator=generator)   # (B, 1, 1, 1)


def color(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    x = x + (_uniform(x, generator) - 0.5)                                       # brightness
    mean = x.mean(dim=1, keepdim=True)                                           # (B, 1, H, W)
    x = (x - mean) * (_uniform(x, generator) * 2) + mean                         # saturation
    mean = x.mean(dim=(1, 2, 3), keepdim=True)                                   # (B, 1, 1, 1)
    return (x - mean) * (_uniform(x, generator) + 0.5) + mean                    # contrast


def _shift(n: int, batch: int, limit: int, device, generator) -> tuple[torch.Tensor, torch.Tensor]:
    """For a shift of each picture by s in [-limit, limit]: source index (B, n) clamped into range, and
    whether it was in range (B, n), for new[i] = old[i + s] (the reference implementation's sign)."""
    s = torch.randint(-limit, limit + 1, (batch, 1), device=device, generator=generator)
    src = torch.arange(n, device=device)[None] + s                               # (B, n)
    return src.clamp(0, n - 1), (src >= 0) & (src < n)


def translation(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    B, C, H, W = x.shape
    iy, vy = _shift(H, B, int(H * TRANSLATION_RATIO + 0.5), x.device, generator)
    ix, vx = _shift(W, B, int(W * TRANSLATION_RATIO + 0.5), x.device, generator)
    x = x.gather(2, iy[:, None, :, None].expand(B, C, H, W))                     # rows moved
    x = x.gather(3, ix[:, None, None, :].expand(B, C, H, W))                     # columns moved
    inside = (vy[:, :, None] & vx[:, None, :]).to(x.dtype)                       # (B, H, W)
    return x * inside[:, None]                                                   # the uncovered border is 0


def cutout(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    B, _, H, W = x.shape
    size_y, size_x = int(H * CUTOUT_RATIO + 0.5), int(W * CUTOUT_RATIO + 0.5)
    cy = torch.randint(0, H + (1 - size_y % 2), (B, 1), device=x.device, generator=generator)
    cx = torch.randint(0, W + (1 - size_x % 2), (B, 1), device=x.device, generator=generator)
    ys, xs = torch.arange(H, device=x.device)[None], torch.arange(W, device=x.device)[None]
    in_y = (ys >= cy - size_y // 2) & (ys < cy - size_y // 2 + size_y)           # (B, H)
    in_x = (xs >= cx - size_x // 2) & (xs < cx - size_x // 2 + size_x)           # (B, W)
    keep = ~(in_y[:, :, None] & in_x[:, None, :])                                # (B, H, W)
    return x * keep[:, None].to(x.dtype)


_TRANSFORMS = {"color": color, "translation": translation, "cutout": cutout}
