"""Each model's directions, computed once and cached on disk by model content and sample size.

Computing a model's named class directions judges ~20 000 pictures (45-105 s on one busy CPU
core), so the store computes them once per model at a time, keeps them in memory, and writes them
beside the other caches; a cache of an older format or a damaged one is recomputed, never misread.
Where the cache cannot be written (a read-only folder) the directions are kept in memory and the
log says so.
"""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from safetensors import safe_open
from safetensors.torch import load_file, save

from explorer.core.checkpoints import _write_atomic
from explorer.explore.direction_methods import METHODS
from explorer.explore.directions import Directions
from explorer.explore.registry import LoadedModel

log = logging.getLogger(__name__)
DIRECTION_SAMPLES = 5000   # pictures judged per model for its directions (the shipped caches' size)


class DirectionStore:
    def __init__(self, cache_dir: Path, classifier: Callable[[str], object], samples: int = DIRECTION_SAMPLES):
        """`classifier(dataset)` gives the classifier that names directions (None: principal ones only);
        `samples` sizes the work per model (tests ask for few)."""
        self.cache_dir, self.samples, self._classifier = Path(cache_dir), samples, classifier
        self._known: dict[str, Directions] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def path(self, m: LoadedModel) -> Path:
        """Where the model's directions are cached (its content digest and, unless default, the sample size
        in the name; an upload's in the runtime folder)."""
        size = "" if self.samples == DIRECTION_SAMPLES else f"-n{self.samples}"
        return (m.cache_dir or self.cache_dir) / f"{m.name}-{m.digest}-directions{size}.safetensors"

    def get(self, m: LoadedModel) -> Directions:
        """The model's principal and named directions: from memory, the cache, or computed now."""
        if m.name in self._known:
            return self._known[m.name]
        with self._lock:
            lock = self._locks.setdefault(m.name, threading.Lock())
        with lock:
            if m.name in self._known:             # computed meanwhile by another request
                return self._known[m.name]
            path = self.path(m)
            d = read_directions(path)
            if d is None and self.samples != DIRECTION_SAMPLES:     # a full-size cache will do too
                d = read_directions(path.with_name(f"{m.name}-{m.digest}-directions.safetensors"), quiet=True)
            if d is None:
                d = self._compute(m)
                try:
                    _write_atomic(path, save(d.to_tensors(), metadata={"class_names": json.dumps(d.class_names)}))
                except OSError as exc:
                    log.warning("directions for %s kept in memory only: cannot write %s (%s)", m.name, path, exc)
            self._known[m.name] = d
            return d

    def __contains__(self, name: str) -> bool:
        """Whether the model's directions are held in memory now."""
        return name in self._known

    def forget(self, name: str) -> None:
        """Drop what is kept in memory for a model (an unloaded upload)."""
        with self._lock:
            self._known.pop(name, None)
            self._locks.pop(name, None)

    def _compute(self, m: LoadedModel) -> Directions:
        # named class directions need a classifier of the model's own dataset; a conditional model
        # has none: its class is chosen directly
        looks = self._classifier(m.family.dataset)
        clf = None if m.num_classes else looks
        n = self.samples
        check = min(200, max(20, n // 10))
        how = METHODS[m.family.directions]
        size = {"max_images": 2 * n} if m.family.directions == "encoded-pca" else {"samples": n}
        return how(m.family, classifier=clf, looks=looks, check=check, class_samples=n, **size)


def read_directions(path: Path, quiet: bool = False) -> Directions | None:
    """Directions from a cache file, or None if absent, of an older format or damaged (then recomputed)."""
    if not path.is_file():
        return None
    try:
        with safe_open(str(path), "pt") as f:
            meta = json.loads(f.metadata()["class_names"])
        return Directions.from_tensors(load_file(str(path)), meta)
    except Exception as exc:      # an older format or a damaged file: recompute, never misread
        if not quiet:
            log.warning("recomputing directions for %s: %s", path.name, exc)
        return None
