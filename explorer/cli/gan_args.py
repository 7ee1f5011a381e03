"""The GAN settings of `python -m explorer.train` (losses, Adam, DiffAugment, and the long-run recipe:
the EMA of G's weights and the lazy R1 penalty; training/gan.py says what each does)."""
from __future__ import annotations

import argparse

from explorer.cli.args import number, whole
from explorer.core.validation import UserError
from explorer.training import LOSSES
from explorer.training.diffaugment import TRANSFORMS, parse_policy


def add_gan_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("GAN training")
    g.add_argument("--loss", choices=LOSSES, default="non-saturating")
    g.add_argument("--k", type=whole("--k", 1, 100), help="discriminator steps per generator step")
    g.add_argument("--lr-g", type=number("--lr-g", 1e-8, 1.0))
    g.add_argument("--lr-d", type=number("--lr-d", 1e-8, 1.0))
    g.add_argument("--beta1", type=number("--beta1", 0.0, 0.9999))
    g.add_argument("--beta2", type=number("--beta2", 0.0, 0.9999))
    g.add_argument("--label-smoothing", type=number("--label-smoothing", 0.5, 1.0), default=1.0, help="real target for D; 0.9 = one-sided smoothing")
    g.add_argument("--diffaugment", type=diffaugment_setting, default="auto", metavar="POLICY",
                   help=f"DiffAugment for D's inputs: a comma-separated list of {', '.join(TRANSFORMS)}; off; or auto"
                        " (all three for a training set of at most 10 000 pictures, off above)")
    g.add_argument("--ema-half-life", type=number("--ema-half-life", 0, 1e9), metavar="IMAGES",
                   help="sample and save an exponential moving average of G's weights whose half-life is this many "
                        "pictures (StyleGAN2: 10000); the live G is kept beside it for --resume; 0: off (default: off "
                        "for a DCGAN; 10 000 per 32 pictures in the global batch for a style-based GAN)")
    g.add_argument("--ema-rampup", type=number("--ema-rampup", 0.0, 1.0), default=0.05,
                   help="the EMA's half-life is at most this share of the pictures seen so far (0: no ramp-up)")
    g.add_argument("--r1", type=number("--r1", 0.0, 1e6), metavar="GAMMA",
                   help="R1 penalty (gamma / 2) |grad D(x)|^2 on real pictures, non-saturating or minimax loss; 0: off "
                        "(default: off for a DCGAN; 0.0002 x side^2 / global batch, StyleGAN2-ADA's, for a style-based GAN)")
    g.add_argument("--r1-every", type=whole("--r1-every", 1, 10**6), default=16,
                   help="lazy R1: computed every N discriminator steps and weighted by N (StyleGAN2)")


def diffaugment_setting(text: str) -> str:
    """--diffaugment: auto, off, or a checked policy."""
    if text == "auto":
        return text
    try:
        return ",".join(parse_policy(text)) or "off"
    except UserError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
