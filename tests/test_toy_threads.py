"""The 2-D game trains on its own CPU thread count (live/settings.py TOY_THREADS) without changing
anyone else's: not the caller's, not a thread started while it runs, not the next image run's."""
from __future__ import annotations

import threading
import time

import pytest
import torch

from explorer.live.settings import TOY_THREADS, ImageSettings, ToySettings, image_trainer
from explorer.live.session import TrainingSession
from explorer.live.worker import TrainingWorker, limit_threads


@pytest.fixture
def two_threads():
    """PyTorch's default raised to 2 where the machine gives 1, so that 1 can be told apart from it."""
    before = torch.get_num_threads()
    torch.set_num_threads(max(2, before))
    yield torch.get_num_threads()
    torch.set_num_threads(before)


def count_in_new_thread() -> int:
    """What a thread that starts now (a Gradio handler, the next run) gets on its first PyTorch call."""
    seen = []
    t = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    t.start()
    t.join()
    return seen[0]


class ThreadCounts:
    """A live view that records, from the training thread, the thread count the run steps with."""

    def __init__(self):
        self.seen: list[int] = []

    def __call__(self):
        if threading.current_thread().name == "training-worker":
            self.seen.append(torch.get_num_threads())
        return None


def wait_for(cond, timeout=60.0):
    end = time.time() + timeout
    while not cond():
        assert time.time() < end, "condition not reached"
        time.sleep(0.02)


def test_limit_threads_changes_the_calling_thread_only(two_threads):
    seen = {}

    def run():
        seen["before"] = torch.get_num_threads()
        limit_threads(1)
        seen["own"] = torch.get_num_threads()
        seen["new_thread"] = count_in_new_thread()
        torch.ones(1000, 100).sum()             # a parallel op keeps the thread's count
        seen["after_op"] = torch.get_num_threads()

    t = threading.Thread(target=run)
    t.start()
    t.join()
    assert seen == {"before": two_threads, "own": 1, "new_thread": two_threads, "after_op": 1}
    assert torch.get_num_threads() == two_threads and count_in_new_thread() == two_threads


def test_toy_run_uses_its_threads_and_the_image_run_after_it_the_default(tmp_path, digits, two_threads):
    assert TOY_THREADS == 1
    session = TrainingSession("cpu", tmp_path)
    try:
        owner = session.start_toy(ToySettings(batch_size=32))
        toy_counts = ThreadCounts()
        session.worker.set_view(toy_counts)              # the toy's own view runs in its thread too
        wait_for(lambda: len(toy_counts.seen) >= 2 and session.status()["step"] >= 20)
        assert set(toy_counts.seen) == {TOY_THREADS}
        # while the toy trains: the main thread and threads started now keep the default
        assert torch.get_num_threads() == two_threads and count_in_new_thread() == two_threads
        session.control(owner, "stop")
    finally:
        session.close()
    # the next run (an image model, in a fresh training thread) steps with the default
    worker = TrainingWorker(view_every=0.0)
    image_counts = ThreadCounts()
    trainer, _, _ = image_trainer(ImageSettings(batch_size=8), "cpu")
    worker.start(trainer, view_fn=image_counts)
    try:
        wait_for(lambda: len(image_counts.seen) >= 1 and trainer.step >= 1)
    finally:
        worker.stop()
    assert set(image_counts.seen) == {two_threads}
    assert torch.get_num_threads() == two_threads
