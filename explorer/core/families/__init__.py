"""Model families: one module each, registered here (explorer/core/families/base.py: the protocol).

Adding a family: write its module (a `Family` subclass saying what it can do), add it to FAMILIES below,
and, for a new PyTorch architecture, its nn.Modules and config to explorer/core/models/. Every tab, the
API, the maps, the evaluation and the command lines then ask the family; nothing else branches on kind.
"""
from __future__ import annotations

from pathlib import Path

from explorer.core.checkpoints import Checkpoint, load_checkpoint
from explorer.core.families.base import Family
from explorer.core.families.dcgan import DCGANFamily
from explorer.core.families.onnx import OnnxFamily
from explorer.core.families.stylegan import StyleGANFamily
from explorer.core.families.vae import VAEFamily

FAMILIES: dict[str, type[Family]] = {f.kind: f for f in (DCGANFamily, VAEFamily, StyleGANFamily, OnnxFamily)}
MODEL_SUFFIXES = (".safetensors", ".onnx")     # the files a models folder (or an upload) may hold


def family_class(meta) -> type[Family] | None:
    """The family that opens a checkpoint with this metadata, or None (a classifier, a 2-D toy, an encoder)."""
    return FAMILIES.get(meta.get("kind")) if isinstance(meta, dict) else None


def explorable(meta) -> bool:
    """Whether the model can be explored (it has an image decoder of a registered family)."""
    return family_class(meta) is not None


def family_of(checkpoint: Checkpoint, device=None) -> Family:
    """The loaded checkpoint as its family's model (its modules already on `device`)."""
    cls = family_class(checkpoint.meta)
    if cls is None:
        from explorer.core.validation import UserError
        raise UserError(f"A {checkpoint.kind} has no image decoder to explore.")
    return cls(checkpoint, device)


def open_model(path: str | Path, device="cpu") -> Family:
    """A model file as its family's model: an ONNX decoder (checked, run by ONNX Runtime) or a Latent
    Explorer checkpoint (its modules on `device`)."""
    path = Path(path)
    if path.suffix.lower() == ".onnx":
        return OnnxFamily(path)
    return family_of(load_checkpoint(path, device))


__all__ = ["FAMILIES", "MODEL_SUFFIXES", "Family", "family_class", "explorable", "family_of", "open_model"]
