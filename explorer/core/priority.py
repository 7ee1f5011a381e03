"""Interactive requests first: a gate that background work (the training thread) waits at.

A slider drag decodes one small picture; a training step on the same 2 cores can hold Python's
GIL and the math threads for longer, so without a rule a live run made Explore sluggish (a 2-s drag
gave 8-10 s of lag). Each interactive request holds the gate while it runs; the training thread
calls `wait_until_idle()` between steps and waits (briefly, bounded) while any request is in flight.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager


class InteractiveGate:
    def __init__(self, max_wait: float = 0.5):
        self.max_wait = max_wait          # never starve training: at most this long per step
        self._busy = 0
        self._cond = threading.Condition()

    @contextmanager
    def interactive(self):
        with self._cond:
            self._busy += 1
        try:
            yield
        finally:
            with self._cond:
                self._busy -= 1
                if not self._busy:
                    self._cond.notify_all()

    @property
    def busy(self) -> bool:
        return self._busy > 0

    def wait_until_idle(self) -> bool:
        """Block while an interactive request runs (up to max_wait); True if it had to wait."""
        if not self._busy:
            return False
        with self._cond:
            self._cond.wait_for(lambda: self._busy == 0, timeout=self.max_wait)
        return True
