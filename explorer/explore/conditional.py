"""Class-conditional models, as plain functions the Explore and Interpolate tabs call: "one z, every
class" rows and interpolation between two classes at a fixed z. No Gradio here; the values are
checked where they enter (the classes with `LoadedModel.check_class`).

A conditional decoder (DCGAN generator or cVAE, num_classes > 0) takes z plus a class; the class
enters through a learned embedding vector, so blending two classes means blending their embedding
vectors with z held fixed: the style stays, the kind of object morphs.
"""
from __future__ import annotations

import numpy as np
import torch

from explorer.core.data import to_uint8
from explorer.core.latent import fractions, lerp, slerp
from explorer.core.validation import UserError


def class_vectors(model) -> torch.Tensor:
    """The learned embedding vector of every class, (K, CLASS_DIM) float32 on the CPU."""
    if not model.num_classes:
        raise UserError(f"{model.name} is unconditional: it has no class vectors.")
    return model.family.class_vectors()


def _images(imgs: torch.Tensor) -> np.ndarray:
    return to_uint8(imgs).permute(0, 2, 3, 1).cpu().numpy()             # (B, C, H, W) -> (B, H, W, C)


def class_row(model, z: torch.Tensor) -> np.ndarray:
    """One latent (D,) drawn in every class: uint8 images (K, H, W, C), class 0 first."""
    k = model.num_classes
    if not k:
        raise UserError(f"{model.name} is unconditional: it has no classes to show in a row.")
    return model.decode(z.reshape(1, -1).expand(k, -1), np.arange(k))


def class_paths(model, class_a: int, class_b: int, frames: int) -> dict[str, torch.Tensor]:
    """The class embedding from class_a to class_b, straight ("linear") and along the arc between
    the two vectors ("spherical"): {name: (frames, CLASS_DIM)}. The ends are exactly the two classes."""
    table = class_vectors(model)
    ea, eb = table[class_a], table[class_b]
    t = fractions(frames)
    return {"linear": lerp(ea, eb, t), "spherical": slerp(ea, eb, t)}


@torch.inference_mode()
def decode_blends(model, z: torch.Tensor, embeddings: torch.Tensor) -> np.ndarray:
    """One latent z (D,) drawn with each class embedding (F, CLASS_DIM): uint8 (F, H, W, C)."""
    with model.lock:
        imgs = model.family.decode_blend(z.reshape(1, -1).to(model.device).expand(len(embeddings), -1),
                                         embeddings.to(model.device))
    return _images(imgs)
