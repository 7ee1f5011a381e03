"""The Train tab's engine: one session owns the run, tokens decide who controls it, the worker steps it."""
from __future__ import annotations

import time

import pytest
import torch

from explorer.live.session import TrainerBusy, TrainingSession
from explorer.live.settings import ImageSettings, ToySettings, toy_trainer
from explorer.live.toy_view import ToyView
from explorer.live.verdict import game_verdict


def wait_until(cond, timeout=20.0):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.02)
    raise AssertionError("condition not reached")


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def session(tmp_path, clock):
    s = TrainingSession("cpu", tmp_path, clock=clock)
    s.worker.report_every = 0.02
    yield s
    s.close()


def test_start_pause_resume_stop_with_the_owner_token(session):
    alice = session.start_toy(ToySettings(batch_size=32))
    assert session.status(alice)["mine"] and not session.status("someone-else-entirely")["mine"]
    wait_until(lambda: session.status()["step"] >= 20)
    session.control(alice, "pause")
    time.sleep(0.1)
    paused_at = session.status()["step"]
    time.sleep(0.3)
    assert session.status()["step"] == paused_at and session.status()["state"] == "paused"
    session.control(alice, "play")
    wait_until(lambda: session.status()["step"] > paused_at + 10)
    assert {"d_real", "d_fake", "loss_d", "loss_g"} <= set(session.status()["history"][-1])
    session.control(alice, "stop")
    stopped_at = session.status()["step"]
    time.sleep(0.2)
    assert session.status()["step"] == stopped_at and session.status()["state"] == "stopped"


def test_a_reload_keeps_control_and_others_cannot_control(session):
    alice = session.start_toy(ToySettings(batch_size=32))
    with pytest.raises(TrainerBusy, match="Only the visitor who started"):
        session.control("bob-token-0123456789", "stop")
    with pytest.raises(TrainerBusy, match="Only the visitor who started"):
        session.control(None, "pause")
    session.control(alice, "pause")          # the same token after a reload: still in control
    assert session.status(alice)["state"] == "paused"
    # restarting with one's own token keeps the token
    assert session.start_toy(ToySettings(batch_size=32), alice) == alice


def test_refused_start_does_not_touch_the_running_run(session):
    alice = session.start_toy(ToySettings(dataset="grid", batch_size=32))
    wait_until(lambda: isinstance(session.view, dict))
    trainer_before = session.worker.trainer
    with pytest.raises(TrainerBusy, match="busy"):
        session.start_images(ImageSettings(dataset="digits", batch_size=16), "bob-token-0123456789")
    assert session.worker.trainer is trainer_before
    assert isinstance(session.view, dict) and session.view["coverage"][1] == 25     # still the grid's 2-D frame
    assert session.status(alice)["kind"] == "toy_gan" and session.status(alice)["description"].startswith("2-D GAN on grid")


def test_an_abandoned_run_can_be_replaced(session, clock):
    session.start_toy(ToySettings(batch_size=32))
    session.control(session._owner, "pause")
    with pytest.raises(TrainerBusy):
        session.start_toy(ToySettings(batch_size=32), "bob-token-0123456789")
    clock.now += session.abandon_after + 1           # the owner's page sent no heartbeat since
    bob = session.start_toy(ToySettings(dataset="moons", batch_size=32), "bob-token-0123456789")
    assert bob == "bob-token-0123456789" and session.status(bob)["mine"]


def test_single_steps_only_when_paused(session):
    tok = session.start_toy(ToySettings(batch_size=32), paused=True)
    session.control(tok, "d")
    assert session.status()["step"] == 0 and "d_real" in session.status()["history"][-1]
    session.control(tok, "g")
    assert session.status()["step"] == 1
    session.control(tok, "play")
    with pytest.raises(Exception, match="Pause"):
        session.control(tok, "d")


def test_divergence_pauses_and_rollback_restores(session):
    tok = session.start_toy(ToySettings(batch_size=32))
    t = session.worker.trainer
    wait_until(lambda: t.snapshot_step >= 25)
    session.control(tok, "pause")
    time.sleep(0.05)
    with torch.no_grad():
        next(t.D.parameters()).fill_(float("inf"))
    session.control(tok, "play")
    wait_until(lambda: session.status()["state"] == "diverged")
    assert "Roll back" in session.status()["message"]
    assert session.control(tok, "rollback").startswith("Rolled back to step")
    assert session.status()["state"] == "paused" and all(torch.isfinite(p).all() for p in t.D.parameters())


def test_bad_settings_name_the_parameter(session):
    with pytest.raises(Exception, match="Batch size must be between 8 and 4096, got 1e\\+07"):
        session.start_toy(ToySettings(batch_size=1e7))
    with pytest.raises(Exception, match="Real data must be one of"):
        session.start_toy(ToySettings(dataset="../etc"))
    assert session.status()["state"] == "idle"


def test_image_run_saves_and_a_second_save_with_the_same_title_replaces_it(session, tmp_path):
    from explorer.core.checkpoints import load_checkpoint
    tok = session.start_images(ImageSettings(dataset="digits", model="dcgan", batch_size=16))
    wait_until(lambda: session.status()["step"] >= 26)
    session.control(tok, "pause")
    with pytest.raises(TrainerBusy):
        session.save("bob-token-0123456789", "x")
    path, replaced = session.save(tok, "My digits GAN <b>")
    assert not replaced and path.name == "trained-my-digits-gan-b.safetensors"
    again, replaced = session.save(tok, "My  digits GAN <b>")
    assert replaced and again == path and len(list(tmp_path.glob("trained-*.safetensors"))) == 1
    ck = load_checkpoint(path)
    assert ck.meta["title"] == "My digits GAN <b>" and ck.meta["dataset"]["name"] == "digits"
    assert ck.kind == "dcgan" and ck.meta["steps"] >= 25


def test_toy_game_runs_on_the_cpu_and_its_view_frame(session):
    tok = session.start_toy(ToySettings(dataset="grid", batch_size=32))
    assert session.status(tok)["where"].startswith("on the CPU")
    t = toy_trainer(ToySettings(dataset="grid", batch_size=32))
    f = ToyView(t, "grid", points=64, grid=10, mesh=5).frame()
    assert f["real"].shape == (64, 2) and f["fake"].shape == (64, 2) and f["heat"].shape == (10, 10)
    assert f["mesh"].shape == (5, 5, 2) and f["arrows"].shape == (64, 2) and f["coverage"][1] == 25
    assert 0 <= f["heat"].min() and f["heat"].max() <= 1 and f["coverage_history"][-1][0] == 0


@pytest.mark.parametrize("args, label", [
    ((100, 0.9, 0.1, (0, 8), []), "just started"),
    ((3000, 0.95, 0.02, (0, 8), []), "the inspector is winning"),                       # forger lost, not collapsed
    ((3000, 0.5, 0.45, (2, 8), [(1000, 2), (2000, 2), (3000, 2)]), "mode collapse"),
    ((3000, 0.5, 0.48, (5, 8), [(1000, 2), (2000, 4), (3000, 5)]), "still spreading out"),   # still finding modes
    ((3000, 0.51, 0.49, (8, 8), [(1000, 8), (3000, 8)]), "the forger has won"),
])
def test_game_verdict_names_what_happens(args, label):
    assert game_verdict(*args)[0] == label
