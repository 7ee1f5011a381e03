"""Class-conditional set-up shared by the command line and the Train tab: which models can be
class-conditional, with which loss, on which data, and how many classes they get.

The labels of real images go into D (and the cVAE's encoder); G (and the decoder) is told which class
to draw (Mirza & Osindero 2014). WGAN-GP is left out: the trainer's gradient penalty scores the
critic without a class, so `GANTrainer` refuses that pair; this says so before any data is loaded.
"""
from __future__ import annotations

from explorer.core.validation import UserError

CONDITIONAL_KINDS = ("dcgan", "stylegan", "vae")
CONDITIONAL_LOSS = "A class-conditional GAN trains with the non-saturating or minimax loss; choose one of those."


def check_conditional(kind: str, loss: str) -> None:
    """UserError if a `kind` model trained with `loss` cannot be class-conditional (a VAE ignores `loss`)."""
    if kind not in CONDITIONAL_KINDS:
        raise UserError(f"Only a DCGAN, a style-based GAN or a VAE can be class-conditional (model dcgan, stylegan "
                        f"or vae), not {kind}.")
    if kind == "dcgan" and loss == "wgan-gp":
        raise UserError(CONDITIONAL_LOSS)


def class_count(kind: str, loss: str, sampler, class_names) -> int:
    """How many classes a class-conditional model gets from its data: the dataset's class names, or
    more if the labels name more. UserError if this model, loss or data cannot train one."""
    check_conditional(kind, loss)
    if getattr(sampler, "labels", None) is None or not sampler.num_classes:
        raise UserError("A class-conditional model needs labelled images: a dataset with classes, "
                        "or an image folder with one subfolder per class.")
    return max(len(class_names), sampler.num_classes)
