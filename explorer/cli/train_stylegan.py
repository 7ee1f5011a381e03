"""The command line's settings for `python -m explorer.train --model stylegan` (the style-based GAN,
core/models/stylegan.py, trained by training/stylegan.py).

Defaults follow StyleGAN2-ADA's "auto" configuration where they depend on the run: R1's weight
0.0002 * side^2 / batch and the EMA's half-life 10 000 pictures per 32 in a batch, both computed
from the global batch (all processes together under torchrun), so a data-parallel run trains as
one process with that batch would.
"""
from __future__ import annotations

from explorer.cli.args import number, whole
from explorer.core.models.limits import CHANNEL_BASE, LATENT, MAPPING_LAYERS, WIDTH
from explorer.core.validation import UserError
from explorer.training.diffaugment import resolve_policy
from explorer.training.stylegan import StyleGANTrainConfig, default_ema_half_life, default_r1_gamma


def add_stylegan_args(p) -> None:
    s = p.add_argument_group("style-based GAN (--model stylegan; also --latent-dim, --lr-g, --lr-d, --beta1, "
                             "--beta2, --diffaugment, --r1, --r1-every, --ema-half-life, --conditional, --image-size)")
    s.add_argument("--w-dim", type=whole("--w-dim", *LATENT), help="size of w, the style vector (default 128)")
    s.add_argument("--mapping-layers", type=whole("--mapping-layers", *MAPPING_LAYERS),
                   help="fully connected layers of the mapping network z -> w (default 4)")
    s.add_argument("--channel-base", type=whole("--channel-base", *CHANNEL_BASE),
                   help="feature maps at resolution r: min(channel-base / r, channel-max) (default 4096)")
    s.add_argument("--channel-max", type=whole("--channel-max", *WIDTH), help="the most feature maps of a layer (default 256)")
    s.add_argument("--mixing", type=number("--mixing", 0.0, 1.0), default=0.9, help="style mixing probability")


def stylegan_train_config(args) -> StyleGANTrainConfig:
    if args.loss != "non-saturating":
        raise UserError(f"The style-based GAN trains with the non-saturating loss (and R1), not {args.loss}.")
    side = args.image_shape[1]
    global_batch = args.batch_size * getattr(args, "world_size", 1)
    return StyleGANTrainConfig(
        batch_size=args.batch_size, lr_g=args.lr_g or 0.0025, lr_d=args.lr_d or 0.0025,
        beta1=0.0 if args.beta1 is None else args.beta1, beta2=0.99 if args.beta2 is None else args.beta2,
        r1_gamma=args.r1 if args.r1 is not None else default_r1_gamma(side, global_batch), r1_every=args.r1_every,
        ema_half_life=args.ema_half_life if args.ema_half_life is not None else default_ema_half_life(global_batch),
        mixing=args.mixing, diffaugment=resolve_policy(args.diffaugment, getattr(args, "data_size", 0)), seed=args.seed)
