"""Maps per model: from the disk cache at once, else computed in the map worker process (one map
at a time) with visible progress. Nothing here blocks a caller: `get` returns None until the map
is ready. `warm_up()` starts the worker and compiles UMAP there ahead of need."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from explorer.core.metadata import DatasetInfo
from explorer.maps.cache import cache_path, load_map
from explorer.maps.layout import LatentMap, MapParams
from explorer.maps.worker import MapJobFailed, MapWorker, WorkerDied

log = logging.getLogger(__name__)


class MapStore:
    def __init__(self, classifier_path: Callable[[str], Path | None] | None = None, params: MapParams = MapParams(),
                 cache_dir: Path | None = None):
        self.params, self.cache_dir = params, cache_dir
        self._classifier_path = classifier_path or (lambda dataset: None)
        self._maps: dict[str, LatentMap] = {}
        self._status: dict[str, str] = {}
        self._lock = threading.Lock()
        self._threads: dict[str, threading.Thread] = {}
        self._one_at_a_time = threading.Lock()
        self.worker = MapWorker()

    # ---------------------------------------------------------------- the worker process
    @property
    def warm_status(self) -> str:
        return self.worker.warm_status

    def warm_up(self) -> None:
        """Start the worker process now and compile UMAP's JIT code in it (in the background)."""
        self.worker.warm_up()

    def close(self) -> None:
        """Stop the worker process for good: a map still running or waiting for its turn fails
        ("the map worker was stopped") rather than start a new process."""
        self.worker.close()

    # ---------------------------------------------------------------- maps
    def path(self, model) -> Path:
        # an uploaded model's map goes to its own (runtime) cache folder, not the shipped one
        return cache_path(model.name, model.digest, self.params, getattr(model, "cache_dir", None) or self.cache_dir)

    def status(self, name: str) -> str:
        return self._status.get(name, "not started")

    def get(self, model, start: bool = True) -> LatentMap | None:
        with self._lock:
            if model.name in self._maps:
                return self._maps[model.name]
        cached = load_map(self.path(model), model.family.seed_latents)
        if cached is not None:
            with self._lock:
                self._maps[model.name] = cached
                self._status[model.name] = "ready (from cache)"
            return cached
        if start:
            self.start(model)
        return None

    def start(self, model) -> None:
        with self._lock:
            if model.name in self._threads and self._threads[model.name].is_alive():
                return
            self._status[model.name] = "waiting for another map to finish"
            t = threading.Thread(target=self._compute, args=(model,), name=f"map-{model.name}", daemon=True)
            self._threads[model.name] = t
        t.start()

    def _compute(self, model) -> None:
        with self._one_at_a_time:
            t0 = time.perf_counter()
            out = self.path(model)
            out.parent.mkdir(parents=True, exist_ok=True)
            # a GAN's dots are labelled (and laid out) by a classifier of its own dataset, if there is one
            clf = self._classifier_path(DatasetInfo.from_meta(model.meta).name)
            self._status[model.name] = "0%: starting"
            error = None

            def progress(text):
                self._status[model.name] = text
            try:
                self.worker.submit(progress, ckpt_path=str(model.path), name=model.name,
                                   params=dict(self.params.__dict__), classifier_path=str(clf) if clf else None,
                                   out_path=str(out)).result()
            except (WorkerDied, MapJobFailed) as exc:     # reported in the UI, the server goes on
                error = str(exc)
            m = load_map(out, model.family.seed_latents) if error is None else None
            if m is None:
                log.warning("map for %s failed: %s", model.name, error)
                self._status[model.name] = f"failed ({error or 'unreadable result'}); see the server log"
                return
            with self._lock:
                if self._threads.get(model.name) is not threading.current_thread():
                    return                                  # forgotten meanwhile (an unloaded upload)
                self._maps[model.name] = m
            self._status[model.name] = f"ready (computed in {time.perf_counter() - t0:.0f} s)"

    def forget(self, name: str) -> None:
        """Drop a model's map (an unloaded upload); a computation still running for it keeps nothing."""
        with self._lock:
            self._maps.pop(name, None)
            self._status.pop(name, None)
            self._threads.pop(name, None)

    def wait(self, name: str, timeout: float | None = None) -> None:
        t = self._threads.get(name)
        if t is not None:
            t.join(timeout)
