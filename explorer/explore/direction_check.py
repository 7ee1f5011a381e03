"""A second opinion on named directions: how often a classifier that did not steer them agrees.

A route to "more like Bag" ends where the steering classifier is first 90% sure it sees a Bag, so
that classifier's own verdict on the ends is near 100% by construction: a figure an audience should
not be asked to trust. Here the same route ends (Amount 1, or -1 for the left class of a pair) on
`check` test seeds are shown to a second classifier trained apart (checkpoints/judges/), and the
share it labels as the named class is the figure the Explore tab shows. Cached as JSON per model
and judge (both by content digest), since it decodes a few thousand pictures once.
"""
from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import torch

from explorer.core.checkpoints import CHECKPOINT_DIR
from explorer.explore.class_routes import Judge, check_latents
from explorer.explore.directions import Directions

JUDGES_DIR = CHECKPOINT_DIR / "judges"
CHECK_SEEDS = 60          # test seeds per class: a share to within about ±6 points
log = logging.getLogger(__name__)


def judge_path(dataset: str, folder: Path = JUDGES_DIR) -> Path | None:
    """The second judge of `dataset` (e.g. judges/fashion_judge.safetensors), or None."""
    p = Path(folder) / f"{dataset.replace('-mnist', '').replace('-', '_')}_judge.safetensors"
    return p if p.is_file() else None


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


@torch.no_grad()
def class_agreement(d: Directions, steer: Judge, second: Judge, dim: int, check: int = CHECK_SEEDS) -> dict[int, float]:
    """{class: share of `check` test seeds whose route end (steered by `steer`) `second` labels as the class}."""
    r = d.routes
    if r is None:
        return {}
    z = check_latents(check, dim)                                          # (check, D)
    out = {}
    for c in range(len(d.class_names)):
        if r.levels[c] > 0:
            ends = r.end(z, c, steer)                                      # (check, D)
            out[c] = float((second(ends).argmax(1) == c).float().mean())
    return out


def direction_agreement(d: Directions, per_class: dict[int, float]) -> dict[str, float]:
    """{direction name: the second judge's share}; a pair "A ↔ B" gets its weaker end's."""
    out = {}
    for name, info in d.all_named().items():
        ends = [info.plus] + ([info.minus] if info.minus else [])
        shares = [per_class.get(d.class_names.index(c)) for c in ends]
        if all(s is not None for s in shares):
            out[name] = min(shares)
    return out


def cached_agreement(path: Path, compute) -> dict[str, float]:
    """The JSON at `path`, or `compute()` written there (kept in memory only where it cannot be written)."""
    try:
        return {str(k): float(v) for k, v in json.loads(Path(path).read_text()).items()}
    except (OSError, ValueError, AttributeError):
        pass
    found = compute()
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(found, indent=1, ensure_ascii=False))
    except OSError as exc:
        log.warning("second-judge figures kept in memory only: cannot write %s (%s)", path, exc)
    return found
