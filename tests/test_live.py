"""The Train tab's engine: one session owns the run, tokens decide who controls it, the worker steps it."""
from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from explorer.core.validation import UserError
from explorer.live.session import TrainerBusy, TrainingSession
from explorer.live.settings import ImageSettings, ToySettings, model_name, toy_trainer
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
    alice = session.start_toy(ToySettings(batch_size=32))
    session.control(alice, "pause")
    with pytest.raises(TrainerBusy):
        session.start_toy(ToySettings(batch_size=32), "bob-token-0123456789")
    clock.now += session.abandon_after + 1           # the owner's page sent no heartbeat since
    bob = session.start_toy(ToySettings(dataset="moons", batch_size=32), "bob-token-0123456789")
    assert bob == "bob-token-0123456789" and session.status(bob)["mine"]


def test_a_run_whose_owner_left_stops_within_a_second_and_says_why(session, clock):
    """Issue 32 #6: an abandoned run trained on for minutes, everyone saw "started by another visitor" and
    /train_status said busy_for_others: false. Now the watchdog stops it as soon as its owner has left."""
    alice = session.start_toy(ToySettings(batch_size=32))
    assert session.status("bob-token-0123456789")["busy_for_others"]
    clock.now += session.abandon_after + 1                       # no heartbeat from alice's page since
    wait_until(lambda: session.worker.state.value == "stopped", timeout=5)   # the watchdog, without anyone asking
    bob = session.status("bob-token-0123456789")
    assert not bob["busy_for_others"] and bob["state"] == "stopped" and "has left" in bob["left"]
    step = session.status()["step"]
    time.sleep(0.2)
    assert session.status()["step"] == step                      # it trains for nobody no longer
    assert session.status(alice)["mine"]                         # back after all: still hers (to save)


def test_a_closing_page_leaves_unless_it_comes_back_within_the_grace(session, clock):
    alice = session.start_toy(ToySettings(batch_size=32))
    session.leaving(alice)                                       # a reload: the page closes...
    clock.now += session.leave_grace - 1
    assert not session.stop_if_left()
    session.status(alice)                                        # ...and comes back
    clock.now += session.leave_grace + 1
    assert not session.stop_if_left() and session.status()["busy_for_others"]
    session.leaving("bob-token-0123456789")                      # someone else's token changes nothing
    clock.now += session.leave_grace + 1
    assert not session.stop_if_left()
    session.leaving(alice)                                       # closed for good
    clock.now += session.leave_grace + 1
    assert session.stop_if_left() and session.status()["state"] == "stopped"
    assert not session.status()["busy_for_others"]


def test_single_steps_only_when_paused(session):
    tok = session.start_toy(ToySettings(batch_size=32), paused=True)
    session.control(tok, "d")
    assert session.status()["step"] == 0 and "d_real" in session.status()["history"][-1]
    session.control(tok, "g")
    assert session.status()["step"] == 1
    session.control(tok, "play")
    with pytest.raises(UserError, match="Pause the run first"):
        session.control(tok, "d")


def test_a_bug_in_a_control_is_not_dressed_up_as_the_users_mistake(session, monkeypatch):
    """Only the worker's own refusals are user errors; a failure inside PyTorch (a CUDA error) is a bug."""
    tok = session.start_toy(ToySettings(batch_size=32), paused=True)

    def broken():
        raise RuntimeError("CUDA error: an illegal memory access was encountered")
    monkeypatch.setattr(session.worker.trainer, "d_step", broken)
    with pytest.raises(RuntimeError, match="CUDA error") as caught:
        session.control(tok, "d")
    assert not isinstance(caught.value, UserError)
    monkeypatch.undo()
    session.control(tok, "g")                                # the run is still there and still answers
    assert session.status()["step"] == 1


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
    # issue 32 #8: the rollback is news, not an error, and Play clears it (it stayed red above the verdict)
    status = session.status()
    assert status["message"].startswith("Rolled back to step") and status["message_kind"] == "info"
    session.control(tok, "play")
    assert session.status()["message"] == "" and session.status()["state"] == "running"


def test_bad_settings_name_the_parameter(session):
    with pytest.raises(Exception, match="Batch size must be between 8 and 4096, got 1e\\+07"):
        session.start_toy(ToySettings(batch_size=1e7))
    with pytest.raises(Exception, match="Real data must be one of"):
        session.start_toy(ToySettings(dataset="../etc"))
    assert session.status()["state"] == "idle"


@pytest.mark.slow
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


@pytest.mark.slow
def test_a_save_never_replaces_a_model_another_run_saved_and_says_why_a_save_failed(session, tmp_path, monkeypatch):
    import errno
    import os

    import explorer.core.checkpoints as checkpoints
    alice = session.start_images(ImageSettings(dataset="digits", model="vae", batch_size=16), paused=True)
    path, _ = session.save(alice, "Shared name")
    written = path.read_bytes()
    session.control(alice, "stop")
    bob = session.start_images(ImageSettings(dataset="digits", model="vae", batch_size=16), paused=True)
    assert bob != alice
    with pytest.raises(UserError, match="The title “Shared NAME!” gives the file name trained-shared-name.safetensors, "
                                        "which another model in the list already has; that model stays as it is"):
        session.save(bob, "Shared   NAME!")
    assert path.read_bytes() == written and sorted(tmp_path.glob("*")) == [path]

    def read_only(target, blob):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(target))
    monkeypatch.setattr(checkpoints, "_write_atomic", read_only)
    with pytest.raises(UserError) as refused:
        session.save(bob, "Bob's own")
    assert str(refused.value) == f"the models folder {tmp_path} cannot be written: the folder is on a read-only file system."


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


def test_a_conditional_gan_with_wgan_gp_is_refused_in_plain_words(session):
    from explorer.core.validation import UserError
    with pytest.raises(UserError, match="class-conditional GAN trains with the non-saturating or minimax loss"):
        ImageSettings(loss="wgan-gp", conditional=True).validated()
    with pytest.raises(UserError, match="Class-conditional must be true or false, got 'yes'"):
        ImageSettings(conditional="yes").validated()
    with pytest.raises(UserError, match="non-saturating or minimax"):
        session.start_images(ImageSettings(loss="wgan-gp", conditional=True))
    assert session.status()["state"] == "idle"
    assert ImageSettings(model="vae", loss="wgan-gp", conditional=True).validated().conditional    # a VAE has no GAN loss
    assert "class-conditional DCGAN on digits" in ImageSettings(conditional=True).describe("x")


@pytest.mark.parametrize("model", ["dcgan", "vae", "stylegan"])
def test_conditional_image_run_shows_a_named_row_per_class_and_saves_a_conditional_model(model, session, digits):
    from explorer.core.checkpoints import load_checkpoint
    from explorer.core.models import decoder_of
    from explorer.live.probe import ClassGrid
    tok = session.start_images(ImageSettings(dataset="digits", model=model, batch_size=16, conditional=True))
    wait_until(lambda: session.status()["step"] >= 3)
    session.control(tok, "pause")
    status = session.status(tok)
    assert status["description"].startswith(f"class-conditional {model_name(model)} on digits")
    assert status["settings"]["conditional"] is True and status["history"]
    view = session.view
    assert isinstance(view, ClassGrid) and view.images.shape == (10, 8, 28, 28, 1) and view.images.dtype == np.uint8
    assert view.rows == tuple(digits.class_names)
    assert not np.array_equal(view.images[0], view.images[1])                 # rows differ by class
    path, _ = session.save(tok, "My conditional digits")
    ck = load_checkpoint(path)
    dec = decoder_of(ck.modules).eval()
    assert ck.kind == model and dec.cfg.num_classes == 10 and ck.class_names == digits.class_names
    assert ck.meta["config"]["num_classes"] == 10
    z = torch.zeros(2, dec.cfg.latent_dim)
    assert dec.generate(z, torch.tensor([3, 7])).shape == (2, 1, 28, 28)


@pytest.mark.parametrize("model", ["dcgan", "stylegan"])
def test_the_unconditional_image_grid_stays_64_pictures(session, model):
    tok = session.start_images(ImageSettings(dataset="digits", model=model, batch_size=16), paused=True)
    assert isinstance(session.view, np.ndarray) and session.view.shape == (64, 28, 28, 1)
    assert "conditional" not in session.status(tok)["description"]


@pytest.mark.parametrize("model", ["dcgan", "vae", "stylegan"])
def test_the_quality_probe_asks_a_conditional_run_for_every_class(model, digits):
    from explorer.core.checkpoints import CHECKPOINT_DIR
    from explorer.eval.features import FeaturesUnavailable, classifier_for
    from explorer.live.probe import QualityProbe
    from explorer.live.settings import image_trainer
    try:
        clf = classifier_for("digits", "cpu", (CHECKPOINT_DIR,))
    except FeaturesUnavailable as exc:
        pytest.skip(str(exc))
    t, ds, _ = image_trainer(ImageSettings(model=model, batch_size=16, conditional=True), "cpu")
    probe = QualityProbe(clf, ds.images[-200:], 10, every=1, n=200)
    t.step = 1
    out = probe(t, {})
    assert set(out) == {"fd_fast", "coverage", "class_match"}
    assert np.isfinite(out["fd_fast"]) and out["fd_fast"] > 0 and 0 <= out["coverage"] <= 1
    assert out["class_match"] * 200 == pytest.approx(round(out["class_match"] * 200), abs=1e-6)   # a share of 200
    plain, _, _ = image_trainer(ImageSettings(model=model, batch_size=16), "cpu")
    plain.step = 2
    assert set(probe(plain, {})) == {"fd_fast", "coverage"}                  # unconditional: as before


def test_train_tab_starts_a_conditional_run_and_names_each_row(session):
    pytest.importorskip("gradio")
    from explorer.live.probe import ClassGrid
    from explorer.ui.train_tab import TrainTab, grid_picture
    tab = TrainTab(session, choices=lambda: [("Conditional digits", "trained-conditional-digits")])
    token = tab.start_images("digits", "dcgan", "non-saturating", 2e-4, 1, 16, False, True, None)["token"]
    out = tab.refresh(token)                              # the handlers are plain functions: no Blocks needed
    assert session.status(token)["settings"]["conditional"] and 'class="le-picture le-class-grid"' in out["grid"]
    assert out["grid"].count('<span style="flex:1') == 10 and "one row per class" in out["grid"]
    session.control(token, "stop")
    saved = tab.save("Conditional digits", token)        # written, and the page says where it can be used
    assert "Pick it in the model list" in saved["save_msg"] and saved["model"]["choices"][0][1] == "trained-conditional-digits"
    with pytest.raises(UserError, match="Not saved: Only the visitor who started"):
        tab.save("Someone else's", "not-the-owner-token-123")
    from explorer.core.checkpoints import read_metadata
    assert read_metadata(session.save_folder / "trained-conditional-digits.safetensors")["config"]["num_classes"] == 10
    # class names come from data or checkpoints: escaped wherever they are shown
    grid = ClassGrid(np.zeros((2, 8, 28, 28, 1), np.uint8), ("<b>shoe</b>", 'bag" onload="x'))
    page = grid_picture(grid)
    assert "<b>" not in page and "&lt;b&gt;shoe&lt;/b&gt;" in page and 'bag" onload' not in page
    plain = grid_picture(np.zeros((64, 28, 28, 1), np.uint8))                 # unconditional: as before
    assert "le-class-grid" not in plain and "the same 64 noise vectors" in plain
