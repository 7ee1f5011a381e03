"""Choose the compute device once (CUDA -> MPS -> CPU), overridable by name.

The chosen torch.device is passed down to everything else; nothing re-detects it, so one
run never mixes devices by accident.
"""
from __future__ import annotations

import torch

from explorer.core.validation import UserError


def choose_device(name: str | None = None) -> torch.device:
    """Return the device called `name`, or the best available one when `name` is None/"auto"."""
    if name in (None, "", "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise UserError(f"Unknown device {name!r}: use cpu, cuda, cuda:N or mps.") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"Device {name!r} asked for, but this PyTorch sees no CUDA GPU.")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise UserError(f"Device {name!r} asked for, but MPS is not available here.")
    return device


def synchronize(device) -> None:
    """Wait for the device's queued work (CUDA only), so a timer measures the work and not its launch."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)
