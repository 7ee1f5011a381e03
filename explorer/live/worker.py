"""A background training run owned by the app, not by a browser tab.

The Train tab (and the API) drive one TrainingWorker: start, pause, resume, single D or G steps
while paused, stop, roll back after a divergence, save. A reloaded page or a second visitor sees
the same run through `snapshot()`; only the session that started a run may control it, others
are told the trainer is busy instead of silently queueing.

The worker converts step records to floats only every `report_every` seconds (one host sync), so
the UI refresh never throttles training on a GPU.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

import torch

from explorer.training.base import Trainer, TrainingDiverged


class WorkerBusy(RuntimeError):
    """Another session's run is in progress."""


@dataclass
class RunInfo:
    kind: str                          # "toy_gan", "dcgan", "vae"
    owner: str                         # session id of whoever started it
    description: str                   # one line for other visitors ("2-D GAN on ring, non-saturating")
    started: float = field(default_factory=time.time)


class TrainingWorker:
    def __init__(self, history: int = 2000, report_every: float = 0.1):
        self.trainer: Trainer | None = None
        self.info: RunInfo | None = None
        self.state = "idle"            # idle | running | paused | diverged | stopped
        self.message = ""
        self.history: deque[dict] = deque(maxlen=history)
        self.delay = 0.0               # seconds to sleep between steps (the UI's speed control)
        self.report_every = report_every
        self.on_report: Callable[[Trainer, dict], dict | None] | None = None   # e.g. a fast FD estimate
        # What the live view draws, computed *in the training thread* every `view_every` seconds: calling
        # into PyTorch's OpenMP pool from two threads in turn cost the 2-D run 60% of its speed.
        self.view_fn: Callable[[], object] | None = None
        self.view_every = 0.2
        self.view: object | None = None
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._steps_per_s = 0.0
        self._train_seconds = 0.0

    # ---------------------------------------------------------------- control
    def start(self, trainer: Trainer, info: RunInfo, paused: bool = False) -> None:
        with self._lock:
            if self.state in ("running", "paused", "diverged") and self.info and self.info.owner != info.owner:
                raise WorkerBusy(f"The trainer is busy: {self.info.description} (started {time.strftime('%H:%M', time.localtime(self.info.started))}).")
            old = self._detach_thread()
        self._join(old)                       # outside the lock: the old loop may need it to finish its step
        with self._lock:
            self.trainer, self.info, self.message = trainer, info, ""
            self.view = None
            self.history.clear()
            self._steps_per_s = self._train_seconds = 0.0
            self.state = "paused" if paused else "running"
            self._thread = threading.Thread(target=self._loop, name="training-worker", daemon=True)
            self._thread.start()
            self._wake.set()

    def check_owner(self, owner: str | None) -> None:
        if owner is not None and self.info is not None and self.info.owner != owner and self.state != "stopped":
            raise WorkerBusy(f"Only the visitor who started this run can control it ({self.info.description}).")

    def pause(self, owner: str | None = None) -> None:
        with self._lock:
            self.check_owner(owner)
            if self.state == "running":
                self.state = "paused"

    def resume(self, owner: str | None = None) -> None:
        with self._lock:
            self.check_owner(owner)
            if self.state == "paused":
                self.state = "running"
                self._wake.set()

    def stop(self, owner: str | None = None) -> None:
        with self._lock:
            self.check_owner(owner)
            old = self._detach_thread()
            if self.trainer is not None:
                self.state = "stopped"
        self._join(old)

    def single_step(self, which: str, owner: str | None = None) -> dict:
        """One discriminator ("d") or generator ("g") update while paused (GANs only)."""
        with self._lock:
            self.check_owner(owner)
            if self.state != "paused" or self.trainer is None:
                raise RuntimeError("Pause the run first to take single steps.")
            if not hasattr(self.trainer, "d_step"):
                raise RuntimeError("Single D/G steps exist only for GANs.")
            for m in self.trainer.modules.values():
                m.train()
            vals = self.trainer.d_step() if which == "d" else self.trainer.g_step()
            if which == "g":
                self.trainer.step += 1
            if self.view_fn is not None:
                self.view = self.view_fn()
            return self._record({k: float(v) for k, v in vals.items()})

    def rollback(self, owner: str | None = None) -> int:
        with self._lock:
            self.check_owner(owner)
            if self.trainer is None:
                raise RuntimeError("Nothing to roll back.")
            step = self.trainer.rollback()
            if self.view_fn is not None:
                self.view = self.view_fn()
            self.state, self.message = "paused", f"Rolled back to step {step}, the last good state."
            return step

    def set_speed(self, delay: float) -> None:
        self.delay = max(0.0, min(1.0, float(delay)))

    # ---------------------------------------------------------------- the loop
    def _loop(self) -> None:
        me = threading.current_thread()
        last_report = last_view = 0.0
        window_start, window_steps = time.perf_counter(), 0
        while self._thread is me:
            if self.state != "running":
                self._wake.wait(0.2)
                self._wake.clear()
                window_start, window_steps = time.perf_counter(), 0
                if self.trainer is not None:
                    for m in self.trainer.modules.values():   # train mode, as Trainer.run sets it
                        m.train()
                continue
            trainer = self.trainer   # the live view's loop: plain train_step() calls, dropout from the global RNG
            try:
                t0 = time.perf_counter()
                with self._lock:
                    if self.state != "running" or self._thread is not me:
                        continue
                    values = trainer.train_step()
                    if trainer.step % trainer.check_every == 0:
                        trainer.check_finite()
                self._train_seconds += time.perf_counter() - t0
                window_steps += 1
                now = time.perf_counter()
                if now - last_report >= self.report_every:
                    dt = now - window_start
                    self._steps_per_s = window_steps / dt if dt > 0 else 0.0
                    if dt > 2.0:
                        window_start, window_steps = now, 0
                    self._record(dict(zip(values, torch.stack([v.float() for v in values.values()]).tolist())))
                    last_report = now
                if self.view_fn is not None and now - last_view >= self.view_every:
                    with self._lock:
                        self.view = self.view_fn()
                    last_view = now
            except TrainingDiverged as exc:
                with self._lock:
                    self.state = "diverged"
                    self.message = (f"{exc} The forger and the inspector stopped making sense (a number overflowed). "
                                    "Press 'Roll back' to return to the last good state, then lower the learning rates.")
            except Exception as exc:  # keep the server alive; show what happened
                with self._lock:
                    self.state, self.message = "paused", f"Training stopped with an error: {exc}"
            if self.delay:
                time.sleep(self.delay)

    def _record(self, values: dict) -> dict:
        t = self.trainer
        rec = {"step": t.step, "time": self._train_seconds, **values}
        if self.on_report is not None:
            extra = self.on_report(t, rec)
            if extra:
                rec.update(extra)
        self.history.append(rec)
        return rec

    def _detach_thread(self) -> threading.Thread | None:
        """Tell the loop to end (it checks `self._thread is me`); join it later, outside the lock."""
        t, self._thread = self._thread, None
        self._wake.set()
        return t

    @staticmethod
    def _join(t: threading.Thread | None) -> None:
        if t is not None and t is not threading.current_thread():
            t.join(timeout=10)

    # ---------------------------------------------------------------- reading
    def snapshot(self) -> dict:
        with self._lock:
            return {"state": self.state, "message": self.message, "step": self.trainer.step if self.trainer else 0,
                    "steps_per_s": self._steps_per_s,
                    "fast_path": self.trainer.fast_path_status if self.trainer else "off", "train_seconds": self._train_seconds,
                    "description": self.info.description if self.info else "", "owner": self.info.owner if self.info else None,
                    "kind": self.info.kind if self.info else None, "history": list(self.history)}

