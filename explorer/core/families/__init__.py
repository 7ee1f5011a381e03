"""Model families: one module each, registered here (explorer/core/families/base.py: the protocol).

Adding a family: write its module (a `Family` subclass saying what it can do), add it to FAMILIES below,
and, for a new PyTorch architecture, its nn.Modules and config to explorer/core/models/. Every tab, the
API, the maps, the evaluation and the command lines then ask the family; nothing else branches on kind.
"""
from __future__ import annotations

from explorer.core.checkpoints import Checkpoint
from explorer.core.families.base import Family
from explorer.core.families.dcgan import DCGANFamily
from explorer.core.families.vae import VAEFamily

FAMILIES: dict[str, type[Family]] = {f.kind: f for f in (DCGANFamily, VAEFamily)}


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


__all__ = ["FAMILIES", "Family", "family_class", "explorable", "family_of"]
