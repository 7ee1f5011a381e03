"""Class-conditional models, as plain functions the Explore, Interpolate and Map tabs call: decode
with a class, "one z, every class" rows, interpolation between two classes at a fixed z, and the
style map of a cVAE. No Gradio here.

A conditional decoder (DCGAN generator or cVAE, num_classes > 0) takes z plus a class; the class
enters through a learned embedding vector, so blending two classes means blending their embedding
vectors with z held fixed: the style stays, the kind of object morphs.
"""
from __future__ import annotations

import numpy as np
import torch

from explorer.core.data import to_uint8
from explorer.core.latent import fractions, lerp, slerp
from explorer.core.validation import UserError, check_int

MAX_FRAMES = 64


def check_class(model, value, name: str = "Class") -> int:
    """A class index for `model` as an int, or UserError naming the range (or saying it has none)."""
    if not model.num_classes:
        raise UserError(f"{model.name} is unconditional: it takes no class.")
    if value is None or value == "":
        raise UserError(f"{name}: give a class index between 0 and {model.num_classes - 1}.")
    return model.check_class(value, name)


def class_vectors(model) -> torch.Tensor:
    """The learned embedding vector of every class, (K, CLASS_DIM) float32 on the CPU."""
    if not model.num_classes:
        raise UserError(f"{model.name} is unconditional: it has no class vectors.")
    dec = model.decoder
    table = dec.embed if hasattr(dec, "embed") else dec.dec_class      # DCGAN generator / cVAE decoder
    return table.weight.detach().float().cpu()


def class_embedding(model, c: int) -> torch.Tensor:
    """The learned embedding vector (CLASS_DIM,) of class c, float32 on the CPU."""
    return class_vectors(model)[check_class(model, c)]


def _images(imgs: torch.Tensor) -> np.ndarray:
    return to_uint8(imgs).permute(0, 2, 3, 1).cpu().numpy()             # (B, C, H, W) -> (B, H, W, C)


def class_row(model, z) -> np.ndarray:
    """One latent (D,) drawn in every class: uint8 images (K, H, W, C), class 0 first."""
    z = model.check_latent(z)
    if len(z) != 1:
        raise UserError(f"A class row takes one latent vector, got {len(z)}.")
    k = model.num_classes
    if not k:
        raise UserError(f"{model.name} is unconditional: it has no classes to show in a row.")
    return model.decode(z.expand(k, -1), np.arange(k))


def class_paths(model, class_a, class_b, frames: int) -> dict[str, torch.Tensor]:
    """The class embedding from class_a to class_b, straight ("linear") and along the arc between
    the two vectors ("spherical"): {name: (frames, CLASS_DIM)}. The ends are exactly the two classes."""
    frames = check_int("Frames", frames, 2, MAX_FRAMES)
    table = class_vectors(model)
    ea, eb = table[check_class(model, class_a, "From class")], table[check_class(model, class_b, "To class")]
    t = fractions(frames)
    return {"linear": lerp(ea, eb, t), "spherical": slerp(ea, eb, t)}


@torch.inference_mode()
def decode_blends(model, z, embeddings: torch.Tensor) -> np.ndarray:
    """One latent z (D,) drawn with each class embedding (F, CLASS_DIM): uint8 (F, H, W, C)."""
    z = model.check_latent(z)
    if len(z) != 1:
        raise UserError(f"A class interpolation takes one latent vector, got {len(z)}.")
    with model.lock:
        imgs = model.decoder.generate(z.to(model.device).expand(len(embeddings), -1),
                                      class_embedding=embeddings.to(model.device))
    return _images(imgs)
