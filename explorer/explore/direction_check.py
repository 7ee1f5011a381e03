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
import threading
from collections.abc import Callable
from pathlib import Path

import torch

from explorer.core.checkpoints import CHECKPOINT_DIR
from explorer.core.metadata import DatasetInfo
from explorer.eval.features import load_classifier
from explorer.explore.class_routes import Judge, Sampler, check_latents, classifier_judge
from explorer.explore.directions import Directions
from explorer.explore.registry import LoadedModel

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
def class_agreement(d: Directions, steer: Judge, second: Judge, sampler: Sampler, check: int = CHECK_SEEDS) -> dict[int, float]:
    """{class: share of `check` test seeds whose route end (steered by `steer`) `second` labels as the class}."""
    r = d.routes
    if r is None:
        return {}
    z = check_latents(check, sampler)                                      # (check, D)
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


class SecondOpinions:
    """The second judge's figures per model and judge (both by content digest): computed once, cached
    as JSON beside the model's other caches. Asked without waiting, a figure not yet known is computed
    in a background thread (one per model at a time) and None is answered now."""

    def __init__(self, cache_dir: Path, classifier: Callable[[str], object], device, judges: Path = JUDGES_DIR):
        """`classifier(dataset)` is the steering classifier, the one the routes were judged with."""
        self.cache_dir, self.device, self.judges = Path(cache_dir), device, Path(judges)
        self._classifier = classifier
        self._known: dict[tuple, dict[str, float]] = {}
        self._running: set[tuple] = set()
        self._lock = threading.Lock()

    def get(self, m: LoadedModel, d: Directions, wait: bool = True) -> dict[str, float] | None:
        """{named direction: share of test seeds the second judge sees as the named class at the route's
        end}; None where no second judge of the model's dataset is installed, or (`wait=False`) while
        the figures are being computed."""
        dataset = DatasetInfo.from_meta(m.meta).name
        path = judge_path(dataset, self.judges)
        if path is None or d.routes is None or not d.named():
            return None
        key = (m.name, m.digest, str(path))
        cache = (m.cache_dir or self.cache_dir) / f"{m.name}-{m.digest}-check-{file_digest(path)}.json"
        if key not in self._known and not wait and not cache.exists():
            with self._lock:
                start = key not in self._running
                self._running.add(key)
            if start:
                threading.Thread(target=self._in_background, args=(m, d, key), daemon=True).start()
            return None
        if key not in self._known:
            steer = classifier_judge(m.family, self._classifier(dataset))
            second = classifier_judge(m.family, load_classifier(path, self.device))
            self._known[key] = cached_agreement(cache, lambda: direction_agreement(
                d, class_agreement(d, steer, second, m.family.seed_latents)))
        return self._known[key]

    def _in_background(self, m: LoadedModel, d: Directions, key: tuple) -> None:
        try:
            self.get(m, d)
        except Exception:  # noqa: BLE001 - a figure that could not be computed is left out, its traceback logged
            log.exception("second-judge figures for %s", m.name)
        finally:
            with self._lock:
                self._running.discard(key)
