"""The map worker: one persistent child process that computes maps, one at a time.

numba's JIT compilation and UMAP's optimisation hold the GIL for seconds at a time, which would
freeze every other request if they ran in a server thread, so maps are computed in a child
process ("spawn": no forked copy of the server's threads). Only the standard library's public
process tools are used: `Process`, one-way `Pipe`s for jobs and for progress, and
`multiprocessing.connection.wait` on the pipe and the process's sentinel, so a death is noticed
at once (no polling), the jobs it held fail with "the map worker process died", and the next job
starts a fresh worker. The child ends itself when its parent is gone, even after a `kill -9`.
"""
from __future__ import annotations

import atexit
import itertools
import logging
import multiprocessing as mp
import os
import signal
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from multiprocessing.connection import wait
from pathlib import Path

import numpy as np
import torch

log = logging.getLogger(__name__)


class WorkerDied(RuntimeError):
    """The worker process ended while it held a job (killed, out of memory, crashed)."""


class MapJobFailed(RuntimeError):
    """The job raised in the worker; the message is the exception's type and text."""


# ---------------------------------------------------------------- in the child process

def _warm_up_umap() -> float:
    """Compiles UMAP's numba code on a small problem, so the first real map costs a warm fit,
    not a cold one. Returns the seconds it took."""
    from explorer.maps.layout import MapParams
    from explorer.maps.umap_fit import fit_umap
    t0 = time.perf_counter()
    x = np.random.default_rng(0).normal(size=(500, 16)).astype(np.float32)
    fit_umap(x, MapParams(points=len(x)))
    return time.perf_counter() - t0


def compute_map_file(ckpt_path: str, name: str, params: dict, classifier_path: str | None, out_path: str,
                     progress: Callable[[float, str], None] | None = None) -> None:
    """Load the checkpoint, compute its map and write it to `out_path` (the worker's job)."""
    from explorer.core.families import open_model
    from explorer.core.loaded_model import LoadedModel
    from explorer.maps.cache import save_map
    from explorer.maps.layout import MapParams
    from explorer.maps.umap_fit import compute_map

    model = LoadedModel(name, open_model(ckpt_path, "cpu"), "")
    clf = None
    if classifier_path and model.family.map_items == "samples":   # the parent chose a classifier of the model's own dataset
        from explorer.eval.features import load_classifier
        clf = load_classifier(classifier_path, "cpu")
    p = MapParams(**params)
    save_map(compute_map(model, p, clf, progress=progress), Path(out_path), p)


def _end_with_parent() -> None:
    """A watcher thread: when the parent process is gone (even killed), this process ends too."""
    parent = mp.parent_process()
    if parent is None:
        return

    def watch():
        wait([parent.sentinel])
        os._exit(0)
    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _serve(jobs, events) -> None:
    """The worker's loop: ("warm",) or ("map", job id, kwargs) in; ("warm", seconds, error),
    ("progress", id, text) and ("done", id, error) out. One thread: the server's other cores stay free."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C reaches the whole process group: the parent ends us
    torch.set_num_threads(1)
    _end_with_parent()
    while True:
        try:
            job = jobs.recv()
        except (EOFError, OSError):     # the parent closed the pipe: nothing more to do
            return
        if job is None:
            return
        if job[0] == "warm":
            try:
                events.send(("warm", _warm_up_umap(), None))
            except Exception as exc:  # noqa: BLE001 - reported to the parent
                events.send(("warm", None, f"{type(exc).__name__}: {exc}"))
            continue
        _, job_id, kwargs = job
        try:
            compute_map_file(**kwargs, progress=lambda f, msg, j=job_id: events.send(("progress", j, f"{f:.0%}: {msg}")))
            events.send(("done", job_id, None))
        except Exception as exc:  # noqa: BLE001 - reported to the parent, the worker goes on
            events.send(("done", job_id, f"{type(exc).__name__}: {exc}"))


# ---------------------------------------------------------------- in the server process

_LIVE: weakref.WeakSet[MapWorker] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for worker in list(_LIVE):
        worker.close()


STOPPED = "the map worker was stopped"


class MapWorker:
    """The server's handle on the worker process: started on demand (or by `warm_up`), replaced
    when it died, ended for good by `close()` (also at interpreter exit): a job asked for after
    that (a map that was waiting for its turn) fails at once instead of starting a new process."""

    def __init__(self):
        self._lock = threading.Lock()
        self._proc = None
        self._jobs_out = None                      # our end of the jobs pipe
        self._pending: dict[int, tuple[Future, Callable[[str], None], object]] = {}
        self._stopped: weakref.WeakSet = weakref.WeakSet()   # processes ended by close(), not by dying
        self._ids = itertools.count()
        self.warm_status = "not started"
        self._closed = False
        _LIVE.add(self)

    @property
    def pid(self) -> int | None:
        """The worker's process id while it runs, else None."""
        proc = self._proc
        return proc.pid if proc is not None and proc.is_alive() else None

    def start(self) -> None:
        with self._lock:
            self._start_locked()

    def _start_locked(self) -> None:
        """Start the process unless it runs; raises WorkerDied once `close()` was called."""
        if self._closed:
            raise WorkerDied(STOPPED)
        if self._proc is not None:
            if self._proc.is_alive():
                return
            self._drop_locked(self._proc)          # died a moment ago: its listener fails what it held
        ctx = mp.get_context("spawn")
        jobs_in, jobs_out = ctx.Pipe(duplex=False)
        events_in, events_out = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_serve, args=(jobs_in, events_out), name="map-worker", daemon=True)
        proc.start()
        jobs_in.close()                            # the child holds these ends now; closing ours lets
        events_out.close()                         # each side see the other's end as EOF
        self._proc, self._jobs_out = proc, jobs_out
        threading.Thread(target=self._listen, args=(proc, events_in), daemon=True, name="map-worker-events").start()

    def warm_up(self) -> None:
        """Start the worker now and compile UMAP's JIT code in it (in the background)."""
        with self._lock:
            try:
                self._start_locked()
            except WorkerDied:                     # closed: nothing to warm
                return
            self.warm_status = "warming up"
            self._jobs_out.send(("warm",))

    def submit(self, progress: Callable[[str], None] | None = None, **kwargs) -> Future:
        """Queue a map job (see `compute_map_file` for the arguments); the Future ends with None,
        MapJobFailed or WorkerDied. `progress(text)` is called as the job reports."""
        fut: Future = Future()
        with self._lock:
            try:
                self._start_locked()
            except WorkerDied as exc:              # closed: the job fails at once
                fut.set_exception(exc)
                return fut
            job_id = next(self._ids)
            self._pending[job_id] = (fut, progress or (lambda text: None), self._proc)
            try:
                self._jobs_out.send(("map", job_id, kwargs))
            except OSError:                        # the worker is already gone; the listener fails the job
                pass
        return fut

    def _listen(self, proc, events) -> None:
        """Deliver the worker's messages until it ends; then fail whatever it still held."""
        while True:
            ready = wait([events, proc.sentinel])
            if events not in ready:
                break
            try:
                kind, *rest = events.recv()
            except (EOFError, OSError):
                break
            if kind == "warm":
                secs, error = rest
                self.warm_status = f"warm (JIT compiled in {secs:.1f} s)" if error is None else f"warm-up failed: {error}"
            elif kind == "progress":
                entry = self._pending.get(rest[0])
                if entry:
                    entry[1](rest[1])
            elif kind == "done":
                with self._lock:
                    entry = self._pending.pop(rest[0], None)
                if entry:
                    entry[0].set_result(None) if rest[1] is None else entry[0].set_exception(MapJobFailed(rest[1]))
        proc.join()
        events.close()
        with self._lock:
            held = [jid for jid, (_, _, p) in self._pending.items() if p is proc]
            lost = [self._pending.pop(jid)[0] for jid in held]
            closed = proc in self._stopped
            self._drop_locked(proc)
        why = STOPPED if closed else f"the map worker process died (exit code {proc.exitcode})"
        if not closed:
            log.warning("%s; a new one starts with the next map", why)
            if self.warm_status == "warming up":
                self.warm_status = f"warm-up failed: {why}"
        for fut in lost:
            fut.set_exception(WorkerDied(why))

    def _drop_locked(self, proc) -> None:
        if self._proc is proc:
            self._jobs_out.close()
            self._proc = self._jobs_out = None

    def close(self, timeout: float = 3.0) -> None:
        """End the worker process now, for good (an unfinished map fails and is computed again by the next server)."""
        with self._lock:
            self._closed = True
            proc = self._proc
            if proc is None:
                return
            self._stopped.add(proc)
            self._drop_locked(proc)
        proc.terminate()
        proc.join(timeout)
        if proc.is_alive():
            proc.kill()
            proc.join()
