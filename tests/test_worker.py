"""The background training worker: start, pause, resume, single steps, stop, rollback, ownership."""
from __future__ import annotations

import time

import pytest
import torch

from explorer.live.settings import (
    ImageSettings,
    ToySettings,
    image_trainer,
    save_run,
    toy_trainer,
)
from explorer.live.toy_view import ToyView
from explorer.live.worker import RunInfo, TrainingWorker, WorkerBusy


def wait_until(cond, timeout=20.0):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.02)
    raise AssertionError("condition not reached")


@pytest.fixture
def worker():
    w = TrainingWorker(report_every=0.02)
    yield w
    w.stop()


def test_start_pause_resume_stop(worker):
    worker.start(toy_trainer(ToySettings(batch_size=32), "cpu"), RunInfo("toy_gan", "alice", "2-D test"))
    wait_until(lambda: worker.snapshot()["step"] >= 20)
    worker.pause("alice")
    time.sleep(0.1)
    paused_at = worker.snapshot()["step"]
    time.sleep(0.3)
    assert worker.snapshot()["step"] == paused_at and worker.snapshot()["state"] == "paused"
    worker.resume("alice")
    wait_until(lambda: worker.snapshot()["step"] > paused_at + 10)
    snap = worker.snapshot()
    assert snap["history"] and {"d_real", "d_fake", "loss_d", "loss_g"} <= set(snap["history"][-1])
    worker.stop("alice")
    stopped_at = worker.snapshot()["step"]
    time.sleep(0.2)
    assert worker.snapshot()["step"] == stopped_at and worker.snapshot()["state"] == "stopped"


def test_single_steps_only_when_paused(worker):
    worker.start(toy_trainer(ToySettings(batch_size=32), "cpu"), RunInfo("toy_gan", "a", "x"), paused=True)
    d = worker.single_step("d", "a")
    assert "d_real" in d and worker.snapshot()["step"] == 0
    g = worker.single_step("g", "a")
    assert "loss_g" in g and worker.snapshot()["step"] == 1
    worker.resume("a")
    with pytest.raises(RuntimeError, match="Pause"):
        worker.single_step("d", "a")


def test_another_visitor_is_told_it_is_busy(worker):
    worker.start(toy_trainer(ToySettings(), "cpu"), RunInfo("toy_gan", "alice", "Alice's ring"))
    with pytest.raises(WorkerBusy, match="busy.*Alice's ring"):
        worker.start(toy_trainer(ToySettings(), "cpu"), RunInfo("toy_gan", "bob", "Bob's"))
    with pytest.raises(WorkerBusy):
        worker.pause("bob")
    worker.stop("alice")
    worker.start(toy_trainer(ToySettings(), "cpu"), RunInfo("toy_gan", "bob", "Bob's"))   # free once stopped


def test_divergence_pauses_and_rollback_restores(worker):
    t = toy_trainer(ToySettings(batch_size=32), "cpu")
    worker.start(t, RunInfo("toy_gan", "a", "x"))
    wait_until(lambda: t.snapshot_step >= 25)
    worker.pause("a")
    time.sleep(0.05)
    with torch.no_grad():
        next(t.D.parameters()).fill_(float("inf"))
    worker.resume("a")
    wait_until(lambda: worker.snapshot()["state"] == "diverged")
    assert "Roll back" in worker.snapshot()["message"]
    step = worker.rollback("a")
    assert worker.snapshot()["state"] == "paused" and step == t.snapshot_step
    assert all(torch.isfinite(p).all() for p in t.D.parameters())
    worker.resume("a")
    wait_until(lambda: worker.snapshot()["step"] > step + 5)


def test_toy_view_frame(worker):
    t = toy_trainer(ToySettings(dataset="grid", batch_size=32), "cpu")
    f = ToyView(t, "grid", points=64, grid=10, mesh=5).frame()
    assert f["real"].shape == (64, 2) and f["fake"].shape == (64, 2) and f["heat"].shape == (10, 10)
    assert f["mesh"].shape == (5, 5, 2) and f["arrows"].shape == (64, 2) and f["coverage"][1] == 25
    assert 0 <= f["heat"].min() and f["heat"].max() <= 1


def test_image_run_saves_an_explorable_checkpoint(worker, tmp_path):
    from explorer.core.checkpoints import load_checkpoint
    t, ds, _ = image_trainer(ImageSettings(dataset="digits", model="dcgan", batch_size=16), "cpu")
    worker.start(t, RunInfo("dcgan", "a", "DCGAN on digits"))
    wait_until(lambda: worker.snapshot()["step"] >= 3, 60)
    worker.pause("a")
    path = save_run(worker, tmp_path, "My digits GAN", {"name": "digits", "class_names": ds.class_names})
    ck = load_checkpoint(path)
    assert ck.kind == "dcgan" and ck.meta["title"] == "My digits GAN" and path.name.startswith("trained-")
    assert ck.meta["steps"] >= 3
