"""Shipped weights stored as float16 where that changes no picture by more than one grey level.

Half precision halves a model file (the repository carries every shipped model in its history), but
its 11-bit mantissa is not free: rounding every tensor of the 64-px emoji cDCGAN changed one picture
in five by 2-3 levels, nearly all of it from the class embedding and the first layer, whose errors
every later layer carries along. So the choice is measured, not assumed (`choose_float16`): first
every tensor in float16; then the small tensors every picture passes through (norms, biases,
embeddings) kept in float32; then, one at a time, the weights whose rounding alone moves the pictures
most, until the pictures a caller checks differ from the float32 ones by at most `max_levels`.
Loading needs nothing special: `load_state_dict` copies float16 tensors
into the float32 modules, so a stored file draws exactly the pictures that were checked.
"""
from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save as st_save

from explorer.core.checkpoints import META_KEY, Checkpoint, _write_atomic, read_metadata
from explorer.core.validation import UserError

HALF_MAX = float(torch.finfo(torch.float16).max)
RESUMING_ONLY = {"generator_live"}   # modules only a resumed run reads (a GAN's live G beside its EMA)

Pictures = Callable[[Checkpoint], np.ndarray]     # a checkpoint -> the uint8 pictures that must not change


def _floating(ck: Checkpoint) -> dict[str, tuple[torch.Tensor, bool]]:
    """"module.key" -> (tensor, whether it belongs to an embedding) for every floating tensor, in module order."""
    out = {}
    for m, mod in ck.modules.items():
        embeddings = {name for name, sub in mod.named_modules() if isinstance(sub, torch.nn.Embedding)}
        for k, t in mod.state_dict().items():
            if t.is_floating_point():
                out[f"{m}.{k}"] = (t, k.rpartition(".")[0] in embeddings)
    return out


def rounded(ck: Checkpoint, keep: set[str]) -> Checkpoint:
    """A copy of `ck` whose floating tensors outside `keep` went through float16 and back."""
    out = copy.deepcopy(ck)
    for m, mod in out.modules.items():
        with torch.no_grad():
            for k, t in mod.state_dict(keep_vars=True).items():
                if t.is_floating_point() and f"{m}.{k}" not in keep:
                    t.copy_(t.half().float())
    return out


def choose_float16(ck: Checkpoint, pictures: Pictures, max_levels: int = 1) -> tuple[set[str], int]:
    """(the tensors to keep in float32, the largest change in grey levels): every tensor in float16 if
    that keeps the pictures within `max_levels` of the float32 ones; else the 1-d tensors and embeddings
    (small, and every picture passes through them) kept too; else, in addition, the weights one at a time,
    the one whose rounding alone moves the pictures most first, until they are within `max_levels`.
    A tensor with values beyond float16's range is always kept (it would become infinite)."""
    reference = pictures(ck).astype(np.int16)

    def change(keep: set[str]) -> np.ndarray:
        return np.abs(pictures(rounded(ck, keep)).astype(np.int16) - reference)

    tensors = _floating(ck)
    keep = {n for n, (t, _) in tensors.items() if t.numel() and float(t.abs().max()) > HALF_MAX}
    for more in ({n for n, (t, embedding) in tensors.items() if t.dim() <= 1 or embedding}, None):
        d = int(change(keep).max())
        if d <= max_levels:
            return keep, d
        if more is not None:
            keep |= more
    rest = [n for n in tensors if n not in keep]
    alone = {n: float(change(set(tensors) - {n}).mean()) for n in rest}      # only n rounded
    for n in sorted(rest, key=lambda n: -alone[n]):
        keep.add(n)
        d = int(change(keep).max())
        if d <= max_levels:
            return keep, d
    return set(tensors), 0


def write_float16(src: str | Path, dst: str | Path, keep: set[str], note: dict, meta_updates: dict | None = None,
                  without_resuming: bool = False) -> Path:
    """Copy checkpoint file `src` to `dst` with its module tensors outside `keep` stored as float16
    (integers and the kept tensors as they are); `note` goes into the metadata as `storage` (what was
    checked, and how much it changed), `meta_updates` (a title, a description) beside it. A file that holds
    what only resuming reads (optimiser state, random streams, a GAN's live generator) is refused, unless
    `without_resuming` leaves all of that out: a float16 copy is for exploring, never for training on."""
    src, dst = Path(src), Path(dst)
    meta = dict(read_metadata(src), **(meta_updates or {}))
    resuming = RESUMING_ONLY | set(meta.get("module_copies") or {})
    left_out = resuming | {"optim", "random"} if without_resuming else set()   # by a key's first part
    if without_resuming:
        meta = {k: v for k, v in meta.items() if k not in ("optimizers", "module_copies")}
        meta["modules"] = [n for n in meta.get("modules", []) if n not in resuming]
    elif meta.get("optimizers"):
        raise UserError(f"{src.name} holds optimiser state for resuming; store float16 copies of shipped files "
                        "without it (--without-optimizer).")
    modules = set(meta.get("modules", []))
    tensors, halved = {}, 0
    with safe_open(str(src), framework="pt", device="cpu") as f:
        for key in f.keys():
            if key.split(".", 1)[0] in left_out:
                continue
            t = f.get_tensor(key)
            if key.split(".", 1)[0] in modules and t.is_floating_point() and key not in keep:
                t, halved = t.half(), halved + 1
            tensors[key] = t
    meta["storage"] = dict(note, float16_tensors=halved, float32_tensors=sorted(keep))
    _write_atomic(dst, st_save(tensors, metadata={META_KEY: json.dumps(meta, sort_keys=True)}))
    return dst
