import math

import pytest
import torch

from explorer.training import (
    LOSSES,
    ClassifierTrainConfig,
    GANTrainConfig,
    ImageSampler,
    ToySampler,
    TrainingDiverged,
    VAETrainConfig,
    make_trainer,
)
from tests.conftest import TINY_DCGAN, TINY_VAE


def gan(digits, **kw):
    return make_trainer("dcgan", TINY_DCGAN, GANTrainConfig(batch_size=16, **kw),
                        ImageSampler(digits.images, "cpu"), "cpu", check_every=1)


@pytest.mark.parametrize("loss", LOSSES)
def test_gan_two_steps_each_loss(digits, loss):
    t = gan(digits, loss=loss, k=2, label_smoothing=0.9 if loss != "wgan-gp" else 1.0)
    recs = list(t.run(2))
    assert [r.step for r in recs] == [1, 2]
    vals = recs[-1].floats()
    assert all(math.isfinite(v) for v in vals.values())
    if loss == "wgan-gp":
        assert {"critic_real", "critic_fake", "gradient_penalty"} <= set(vals)
    else:
        assert 0 < vals["d_real"] < 1 and 0 < vals["d_fake"] < 1
    assert t.images_seen == 2 * 2 * 16   # k D-steps per G-step, each one real batch


def test_vae_and_classifier_two_steps(digits):
    v = make_trainer("vae", TINY_VAE, VAETrainConfig(batch_size=16), ImageSampler(digits.images, "cpu", (0, 1)), "cpu")
    vals = list(v.run(2))[-1].floats()
    assert vals["kl"] > 0 and vals["loss"] == pytest.approx(vals["recon"] + vals["kl"], rel=1e-5)   # beta = 1
    c = make_trainer("classifier", {"width": 4}, ClassifierTrainConfig(batch_size=16),
                     ImageSampler(digits.images, "cpu", (0, 1), digits.labels), "cpu")
    accuracy = list(c.run(2))[-1].floats()["accuracy"]
    assert accuracy * 16 == pytest.approx(round(accuracy * 16), abs=1e-5)   # a share of the batch's 16 pictures


def test_toy_gan_two_steps():
    t = make_trainer("toy_gan", {"hidden": 16, "layers": 2}, GANTrainConfig(batch_size=32), ToySampler("ring", "cpu"))
    assert list(t.run(2))[-1].step == 2
    assert t.samples().shape == (64, 2)


def test_stop_and_resume_is_identical_to_one_run(digits):
    a = gan(digits, seed=3)
    list(a.run(4))
    b = gan(digits, seed=3)
    for rec in b.run(None):          # a caller stops consuming after two steps...
        if rec.step == 2:
            break
    list(b.run(4))                   # ...and resumes later
    for pa, pb in zip(a.G.parameters(), b.G.parameters()):
        assert torch.allclose(pa, pb)


def test_state_dict_resume_across_trainers(digits):
    a = gan(digits, seed=5)
    list(a.run(2))
    state = a.state_dict()
    list(a.run(4))
    b = gan(digits, seed=5)
    b.load_state_dict(state)
    list(b.run(4))
    for pa, pb in zip(a.D.parameters(), b.D.parameters()):
        assert torch.allclose(pa, pb)


def test_divergence_stops_and_rolls_back(digits):
    t = gan(digits)
    list(t.run(2))
    good = [p.clone() for p in t.G.parameters()]
    with torch.no_grad():
        next(t.D.parameters()).fill_(float("nan"))
    with pytest.raises(TrainingDiverged, match="NaN or infinite"):
        list(t.run(5))
    assert t.rollback() == 2
    assert all(torch.equal(a, b) for a, b in zip(good, t.G.parameters()))
    assert all(torch.isfinite(p).all() for p in t.D.parameters())


def test_save_and_resume_from_checkpoint(digits, tmp_path):
    from explorer.core.checkpoints import load_checkpoint
    t = gan(digits)
    list(t.run(2))
    path = t.save(tmp_path / "g.safetensors", {"config": TINY_DCGAN})
    ck = load_checkpoint(path, with_optimizers=True)
    assert ck.meta["steps"] == 2
    t2 = gan(digits)
    t2.restore(ck.modules, ck.optim_state, ck.meta["steps"])
    assert t2.step == 2 and list(t2.run(3))[-1].step == 3


def test_train_cli_smoke(tmp_path):
    from explorer.cli.train import main
    from explorer.core.checkpoints import read_metadata
    out = tmp_path / "d.safetensors"
    assert main(["--model", "dcgan", "--dataset", "digits", "--steps", "2", "--width", "8", "--d-width", "8",
                 "--batch-size", "8", "--out", str(out), "--sample-every", "1"]) == 0
    meta = read_metadata(out)
    assert meta["steps"] == 2 and meta["command"].startswith("python -m explorer.train --model dcgan")
    assert (tmp_path / "d-samples" / "step0000001.png").exists()
    assert main(["--model", "dcgan", "--dataset", "digits", "--steps", "3", "--width", "8", "--d-width", "8",
                 "--batch-size", "8", "--resume", str(out), "--out", str(out)]) == 0
    assert read_metadata(out)["steps"] == 3


def _params(t) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for m in t.modules.values() for p in m.parameters()])


@pytest.mark.parametrize("kind", ["dcgan", "vae"])
def test_an_open_run_leaves_the_global_rng_to_other_threads(digits, kind):
    """The Train tab keeps a run's iterator open for minutes while other threads serve visitors: what
    they draw from the process's global RNG is what they would draw with no run, and the run's own
    numbers (its dropout masks) are the same whatever they draw."""
    import threading

    def trainer():
        if kind == "dcgan":
            return gan(digits)                                     # discriminator dropout 0.3
        return make_trainer("vae", TINY_VAE, VAETrainConfig(batch_size=16),       # encoder dropout 0.2
                            ImageSampler(digits.images, "cpu", (0, 1)), "cpu", check_every=1)

    def drawn_in_a_thread() -> torch.Tensor:
        out = []
        worker = threading.Thread(target=lambda: out.append(torch.rand(8)))
        worker.start()
        worker.join()
        return out[0]
    torch.manual_seed(123)
    alone = drawn_in_a_thread()
    quiet = trainer()
    for _ in quiet.run(3):
        pass
    torch.manual_seed(123)
    busy = trainer()
    run = busy.run(3)
    next(run)                                                      # the run is open, as in the Train tab
    assert torch.equal(drawn_in_a_thread(), alone)
    for _ in run:
        torch.rand(1000)                                           # a visitor's draws between its steps
    assert torch.equal(_params(busy), _params(quiet))
