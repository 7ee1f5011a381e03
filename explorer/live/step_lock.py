"""The training worker's lock: re-entrant, and let go of fairly between training steps.

A training step holds the lock for the whole step (0.2 s for the Train tab's DCGAN on a 2-core
CPU; over a second for a 64-px colour model). A plain lock released at the end of one step is
almost always taken again by the training thread for the next step before a control call
waiting for it (pause, stop, save, a new view) has woken up: a Stop waited 2 s, and the bench's
timing windows read the step counter several steps late. Between two steps the training thread
calls `let_waiters_in()`, which waits (bounded) until the calls that were waiting have had it.
"""
from __future__ import annotations

import threading


class StepLock:
    def __init__(self, max_wait: float = 0.5):
        self.max_wait = max_wait            # never starve training: at most this long between two steps
        self._lock = threading.RLock()
        self._waiting = 0
        self._cond = threading.Condition()  # guards _waiting

    def acquire(self) -> bool:
        if self._lock.acquire(blocking=False):   # free, or already this thread's
            return True
        with self._cond:
            self._waiting += 1
        try:
            self._lock.acquire()
        finally:
            with self._cond:
                self._waiting -= 1
                self._cond.notify_all()
        return True

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> StepLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def let_waiters_in(self) -> bool:
        """From the training thread between steps (not holding the lock): wait until every call waiting
        for the lock now has had it (at most `max_wait`). True if any was waiting."""
        if not self._waiting:
            return False
        with self._cond:
            self._cond.wait_for(lambda: self._waiting == 0, timeout=self.max_wait)
        return True
