"""The training thread: runs one trainer in the background, paused or running, and records what it saw.

It iterates `Trainer.run()` (the same loop as the command line, with its reproducible dropout
stream and its NaN/inf checks), one step at a time under a lock so that control calls (pause,
single steps, rollback, save) never interleave with a step. It knows nothing about owners or
visitors: `live.session.TrainingSession` decides who may call what.

Readings are turned into floats only every `report_every` seconds (one host sync), and the live
view is computed *in this thread* every `view_every` seconds: calling into PyTorch's OpenMP pool
from two threads in turn cost the 2-D run 60 % of its speed. The view may take at most
`VIEW_SHARE` of this thread's time: a costly refresh (a big model on a slow CPU) comes less often,
not at the training's expense. On CUDA an image grid comes back without a host sync: the view
function returns a pending copy (live/probe.py `PendingView`), published once the GPU has done it,
and no new one is started while one is on its way.

A run may ask for its own CPU thread count (`start(..., threads=1)`: the 2-D game, whose tiny
layers drown in thread hand-offs on a many-core machine). It applies to this run's thread only;
see `limit_threads` for why that takes two calls.
"""
from __future__ import annotations

import enum
import threading
import time
from collections import deque
from typing import Callable

import torch

from explorer.core.priority import InteractiveGate
from explorer.core.validation import UserError
from explorer.live.step_lock import StepLock
from explorer.training import Trainer, TrainingDiverged


class NotNow(UserError):
    """A control that the run's state does not allow at this moment ("pause first", "GANs only")."""


class RunState(str, enum.Enum):
    IDLE = "idle"            # nothing started yet
    RUNNING = "running"
    PAUSED = "paused"
    DIVERGED = "diverged"    # a loss went NaN/inf: paused until rolled back
    STOPPED = "stopped"      # finished by its owner (or released); its state can still be saved


ACTIVE = (RunState.RUNNING, RunState.PAUSED, RunState.DIVERGED)
VIEW_SHARE = 0.05          # at most this share of the training thread's time goes to the live view


def _finished(view):
    """A view as shown: a pending one (PendingView) waited for."""
    return view.result() if hasattr(view, "ready") else view


def view_interval(view_every: float, refresh_cost: float, share: float = VIEW_SHARE) -> float:
    """Seconds between refreshes: `view_every`, stretched so that a refresh costing `refresh_cost`
    seconds of the training thread takes at most `share` of it."""
    return max(view_every, refresh_cost / share)


def limit_threads(n: int) -> None:
    """PyTorch's CPU threads for the calling thread only: n from now on, every other thread as it was.

    `torch.set_num_threads` does two things (ATen's ParallelOpenMP.cpp): it sets the calling
    thread's OpenMP and MKL thread counts, which are per thread, and it stores n as the count that
    each thread not yet using PyTorch takes on its first parallel call (the Gradio handlers that
    decode pictures, the next run's training thread). The second is put back from a short-lived
    thread, whose own count does not matter, so only this thread keeps n."""
    default = torch.get_num_threads()      # a new thread's count: this one's before it sets its own
    torch.set_num_threads(n)
    if default != n:
        restore = threading.Thread(target=torch.set_num_threads, args=(default,), name="restore-thread-count")
        restore.start()
        restore.join()


class TrainingWorker:
    def __init__(self, history: int = 2000, report_every: float = 0.1, view_every: float = 0.2,
                 gate: InteractiveGate | None = None):
        self.history: deque[dict] = deque(maxlen=history)
        self.report_every, self.view_every = report_every, view_every
        self.gate = gate                    # yields to interactive requests (slider drags) while training
        self.trainer: Trainer | None = None
        self.state = RunState.IDLE
        self.message = ""
        self.message_kind = "error"         # "error" (a divergence, a failure) or "info" (a rollback): how it is shown
        self.view: object | None = None     # the latest frame of the live view
        self.delay = 0.0                    # seconds to sleep between steps (slow motion)
        self._view_fn: Callable[[], object] | None = None
        self._on_report: Callable[[Trainer, dict], dict | None] | None = None
        self._lock = StepLock()             # held through each step; let go of fairly between steps
        self._history_lock = threading.Lock()   # the readings only: a snapshot never waits for a step
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._steps_per_s = 0.0
        self._train_seconds = 0.0
        self._pending = None                # a view on its way back from the GPU (has .ready(), .result())
        self._view_cost = 0.0               # recent seconds per refresh, in the training thread

    # ---------------------------------------------------------------- control (the session calls these)
    def start(self, trainer: Trainer, view_fn=None, on_report=None, paused: bool = False,
              threads: int | None = None) -> None:
        """Replace whatever ran before with `trainer`, its view and its quality probe, all at once;
        `threads`: the CPU threads this run's steps (and view) use, leaving every other thread's alone."""
        old = self.detach()
        with self._lock:
            self.trainer, self._view_fn, self._on_report = trainer, view_fn, on_report
            self.view, self.message, self.message_kind, self._pending, self._view_cost = None, "", "error", None, 0.0
            with self._history_lock:
                self.history.clear()
            self._steps_per_s = self._train_seconds = 0.0
            self.state = RunState.PAUSED if paused else RunState.RUNNING
            if view_fn is not None:
                self.view = _finished(view_fn())   # the first frame before the first step: the audience sees the start
            self._thread = threading.Thread(target=self._loop, args=(threads,), name="training-worker",
                                            daemon=True)
            self._thread.start()
            self._wake.set()
        self._join(old)

    def pause(self) -> None:
        with self._lock:
            if self.state == RunState.RUNNING:
                self.state = RunState.PAUSED

    def resume(self) -> None:
        """Play: a paused run goes on, and what was said about its pause (a rollback, an error) is cleared."""
        with self._lock:
            if self.state == RunState.PAUSED:
                self.state, self.message, self.message_kind = RunState.RUNNING, "", "error"
                self._wake.set()

    def stop(self) -> None:
        old = self.detach()
        with self._lock:
            if self.trainer is not None:
                self.state = RunState.STOPPED
        self._join(old)

    def single_step(self, which: str) -> dict:
        """One discriminator ("d") or generator ("g") update while paused (GANs only)."""
        with self._lock:
            if self.state != RunState.PAUSED or self.trainer is None:
                raise NotNow("Pause the run first to take single steps.")
            if not hasattr(self.trainer, "d_step"):
                raise NotNow("Single inspector/forger steps exist only for GANs.")
            for m in self.trainer.modules.values():
                m.train()
            vals = self.trainer.d_step() if which == "d" else self.trainer.g_step()
            if which == "g":
                self.trainer.step += 1
            self._refresh_view(wait=True)
            return self._record({k: float(v) for k, v in vals.items()})

    def rollback(self) -> int:
        with self._lock:
            if self.trainer is None:
                raise NotNow("Nothing to roll back.")
            step = self.trainer.rollback()
            self._refresh_view(wait=True)
            self.state, self.message, self.message_kind = RunState.PAUSED, f"Rolled back to step {step}, the last good state.", "info"
            return step

    def set_speed(self, delay: float) -> None:
        self.delay = max(0.0, min(1.0, float(delay)))

    def set_view(self, view_fn) -> None:
        """Show another live view (None: none) from the next step on, without restarting the run."""
        with self._lock:
            self._view_fn, self.view, self._pending, self._view_cost = view_fn, None, None, 0.0

    def call_locked(self, fn: Callable[[Trainer], object]):
        """Run fn(trainer) between two steps (e.g. saving), never during one."""
        with self._lock:
            if self.trainer is None:
                raise NotNow("Nothing has been trained yet.")
            return fn(self.trainer)

    def detach(self) -> threading.Thread | None:
        """Tell the loop to end (it checks `self._thread is me`); join the returned thread outside the lock."""
        with self._lock:
            t, self._thread = self._thread, None
            self._wake.set()
            return t

    # ---------------------------------------------------------------- the loop
    def _loop(self, threads: int | None = None) -> None:
        me = threading.current_thread()
        if threads:
            limit_threads(threads)              # a fresh thread per run: nothing to put back at the end
        while self._thread is me:
            if self.state != RunState.RUNNING:
                self._wake.wait(0.2)
                self._wake.clear()
                continue
            self._run_until_paused(me)

    def _run_until_paused(self, me: threading.Thread) -> None:
        """One `Trainer.run()` pass, from (re)start until paused, stopped or diverged."""
        trainer = self.trainer
        steps = trainer.run(until=lambda: self.state != RunState.RUNNING or self._thread is not me)
        last_report = last_view = 0.0
        window_start, window_steps = time.perf_counter(), 0
        try:
            while True:
                if self.gate is not None:
                    self.gate.wait_until_idle()       # a slider drag goes first; training resumes right after
                self._lock.let_waiters_in()           # so do control calls waiting for the lock (pause, stop...)
                t0 = time.perf_counter()
                with self._lock:
                    if self.state != RunState.RUNNING or self._thread is not me:
                        break
                    rec = next(steps, None)
                if rec is None:
                    break
                self._train_seconds += time.perf_counter() - t0
                window_steps += 1
                now = time.perf_counter()
                if now - last_report >= self.report_every:
                    dt = now - window_start
                    self._steps_per_s = window_steps / dt if dt > 0 else 0.0
                    if dt > 2.0:
                        window_start, window_steps = now, 0
                    with self._lock:
                        self._record(rec.floats())
                    last_report = now
                pending = self._pending
                if pending is not None and pending.ready():
                    with self._lock:
                        if self._pending is pending and self._thread is me:
                            self._publish_pending()
                if (self._view_fn is not None and self._pending is None
                        and now - last_view >= view_interval(self.view_every, self._view_cost)):
                    with self._lock:
                        t1 = time.perf_counter()
                        if self._thread is me:
                            self._refresh_view()
                        cost = time.perf_counter() - t1
                    self._view_cost = 0.7 * self._view_cost + 0.3 * cost if self._view_cost else cost
                    last_view = now
                if self.delay:
                    time.sleep(self.delay)
        except TrainingDiverged as exc:
            with self._lock:
                self.state, self.message_kind = RunState.DIVERGED, "error"
                self.message = (f"{exc} The forger and the inspector stopped making sense (a number overflowed). "
                                "Press 'Roll back' to return to the last good state, then lower the learning rates.")
        except Exception:  # noqa: BLE001 - keep the server alive; the run pauses and says so
            import logging
            logging.getLogger(__name__).exception("training step failed")
            with self._lock:
                self.state, self.message_kind = RunState.PAUSED, "error"
                self.message = "Training stopped with an internal error (logged on the server)."
        finally:
            steps.close()                         # restores the outside RNG state (Trainer.run's finally)
            with self._lock:
                try:
                    if self._thread is me:        # paused or diverged: show the last grid asked for
                        self._publish_pending()
                except Exception:  # noqa: BLE001 - a failed copy leaves the previous view; the run's own error is kept
                    import logging
                    logging.getLogger(__name__).exception("live view copy failed")

    def _refresh_view(self, wait: bool = False) -> None:
        """Compute the view; a pending one (CUDA) is kept until the GPU has it, unless `wait`."""
        if self._view_fn is None:
            return
        view = self._view_fn()
        if hasattr(view, "ready") and not wait:
            self._pending = view
        else:
            self.view, self._pending = _finished(view), None

    def _publish_pending(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            self.view = pending.result()

    def _record(self, values: dict) -> dict:
        t = self.trainer
        rec = {"step": t.step, "time": self._train_seconds, **values}
        if self._on_report is not None:
            extra = self._on_report(t, rec)
            if extra:
                rec.update(extra)
        with self._history_lock:
            self.history.append(rec)
        return rec

    @staticmethod
    def _join(t: threading.Thread | None) -> None:
        if t is not None and t is not threading.current_thread():
            t.join(timeout=10)

    # ---------------------------------------------------------------- reading
    def snapshot(self) -> dict:
        """The run's state and readings now; never waits for a training step to end."""
        t = self.trainer
        with self._history_lock:
            history = list(self.history)
        return {"state": self.state.value, "message": self.message, "message_kind": self.message_kind,
                "step": t.step if t else 0,
                "steps_per_s": self._steps_per_s, "fast_path": t.fast_path_status if t else "off",
                "train_seconds": self._train_seconds, "device": str(t.device) if t else "",
                "history": history}

