"""The live view's cost to the training thread (live/worker.py, live/probe.py): a grid on its way
back from the GPU is published when ready without the training thread waiting for it, no second
one is started meanwhile, a pause shows the last one asked for, and a costly view comes less often."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch

from explorer.live.probe import ClassGrid, class_grid, live_grid, sample_grid
from explorer.live.settings import ImageSettings, image_trainer
from explorer.live.worker import VIEW_SHARE, TrainingWorker, view_interval

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def wait_for(cond, timeout=60.0):
    end = time.time() + timeout
    while not cond():
        assert time.time() < end, "condition not reached"
        time.sleep(0.01)


class SlowCopy:
    """Stands in for probe.PendingView: not ready until `release` is set (as a GPU still busy)."""

    def __init__(self, value, release: threading.Event):
        self.value, self.release = value, release

    def ready(self) -> bool:
        return self.release.is_set()

    def result(self):
        return self.value


def test_a_pending_view_is_published_when_ready_and_none_is_started_meanwhile(digits):
    trainer, _, _ = image_trainer(ImageSettings(batch_size=8), "cpu")
    release, calls = threading.Event(), []
    third = threading.Event()          # holds the third frame back until frame 2 has been seen (a fast CPU step made
                                       # frames 2 and 3 follow each other within the test's 10-ms look)

    def view():
        calls.append(trainer.step)
        if len(calls) == 3:
            third.wait(60)
        return SlowCopy(f"frame {len(calls)}", release)

    w = TrainingWorker(view_every=0.0)
    w.start(trainer, view_fn=view)
    try:
        assert w.view == "frame 1" and calls == [0]         # the first frame is waited for: the audience sees the start
        wait_for(lambda: len(calls) == 2 and trainer.step >= 5)
        assert w.view == "frame 1" and len(calls) == 2       # training goes on; the copy is not waited for
        release.set()
        wait_for(lambda: w.view == "frame 2")                # published once ready
        third.set()
        wait_for(lambda: len(calls) >= 4)                    # and the next ones follow
        release.clear()                                      # the GPU is slow again...
        wait_for(lambda: trainer.step >= calls[-1] + 5)
        w.pause()                                            # ...when the run is paused:
        wait_for(lambda: w.view == f"frame {len(calls)}")    # the last one asked for is shown
    finally:
        third.set()
        w.stop()


def test_a_costly_view_comes_less_often():
    assert view_interval(0.2, 0.001) == 0.2                   # cheap: as often as asked
    assert view_interval(0.2, 0.05) == pytest.approx(0.05 / VIEW_SHARE)
    assert 0.05 / view_interval(0.2, 0.05) <= VIEW_SHARE      # its share of the training thread is capped


@pytest.mark.parametrize("conditional", [False, True])
def test_live_grid_on_the_cpu_is_the_finished_grid(conditional):
    trainer, ds, _ = image_trainer(ImageSettings(batch_size=8, conditional=conditional), "cpu")
    names = ds.class_names if conditional else None
    got = live_grid(trainer, names)
    want = class_grid(trainer, names) if conditional else sample_grid(trainer)
    if conditional:
        assert isinstance(got, ClassGrid) and got.rows == want.rows
        got, want = got.images, want.images
    assert isinstance(got, np.ndarray) and got.dtype == np.uint8 and np.array_equal(got, want)


@cuda
@pytest.mark.parametrize("conditional", [False, True])
def test_live_grid_on_cuda_comes_back_without_a_sync_and_matches(conditional):
    from explorer.live.probe import PendingView
    trainer, ds, _ = image_trainer(ImageSettings(batch_size=8, conditional=conditional), "cuda")
    names = ds.class_names if conditional else None
    pending = live_grid(trainer, names)
    assert isinstance(pending, PendingView)
    got, want = pending.result(), (class_grid(trainer, names) if conditional else sample_grid(trainer))
    if conditional:
        assert got.rows == want.rows
        got, want = got.images, want.images
    assert np.array_equal(got, want)


def test_a_slow_step_keeps_the_readout_and_the_controls_answering():
    """A step that takes long (a 64-px model on a CPU): the readout answers during the step, and a
    control call gets the worker's lock at the end of the step it arrived in (or the next), not after
    whichever step the training thread happens to let go of the lock in (a plain lock: Stop took 2 s)."""
    trainer, _, _ = image_trainer(ImageSettings(batch_size=8), "cpu")
    inner, gate, in_step, done = trainer.train_step, threading.Event(), threading.Event(), []

    def slow_step():
        in_step.set()
        gate.wait(5)
        time.sleep(0.02)
        done.append(1)
        return inner()
    trainer.train_step = slow_step
    w = TrainingWorker(view_every=0.0)
    w.start(trainer)
    try:
        assert in_step.wait(10)
        snap = w.snapshot()                                   # mid-step (the step waits for `gate`)
        assert snap["state"] == "running" and snap["step"] == 0 and not done   # answered during the step
        gate.set()                                            # from here on each step takes ~20 ms
        wait_for(lambda: trainer.step >= 3)
        for _ in range(5):
            asked = trainer.step
            got = w.call_locked(lambda t: t.step)
            assert got - asked <= 2, f"the call waited {got - asked} steps for the lock"
        w.pause()
        steps = trainer.step
        time.sleep(0.1)
        assert trainer.step <= steps + 1                      # paused at the end of the step under way
    finally:
        w.stop()
