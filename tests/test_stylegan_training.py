"""Training the style-based GAN (explorer/training/stylegan.py) and its command line, tiny on the CPU:
two steps that save and load (the file's generator is the moving average), an exact resume, lazy
R1 on its schedule, style mixing, the conditional grid, and the CLI with --resume."""
import math

import pytest
import torch

from explorer.core.checkpoints import load_checkpoint, read_metadata
from explorer.core.models import decoder_of
from explorer.core.validation import UserError
from explorer.training import ImageSampler, StyleGANTrainConfig, make_trainer

TINY = {"latent_dim": 8, "w_dim": 16, "mapping_layers": 2, "channel_base": 64, "channel_max": 16, "image_size": 16}


@pytest.fixture(scope="module")
def pictures(digits):
    small = torch.nn.functional.interpolate(digits.images[:256].float(), size=16, mode="area").round().to(torch.uint8)
    return small, digits.labels[:256]


def trainer(pictures, classes=0, **kw):
    images, labels = pictures
    sampler = ImageSampler(images, "cpu", (-1, 1), labels if classes else None)
    cfg = StyleGANTrainConfig(**{"batch_size": 8, "r1_every": 2, "ema_half_life": 100, "seed": 3, **kw})
    return make_trainer("stylegan", dict(TINY, num_classes=classes), cfg, sampler, "cpu", check_every=1)


def same_state(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_two_steps_save_and_load_with_the_moving_average_as_generator(pictures, tmp_path):
    t = trainer(pictures)
    recs = list(t.run(2))
    values = recs[-1].floats()
    assert [r.step for r in recs] == [1, 2] and t.images_seen == 16
    assert {"d_real", "d_fake", "r1", "loss_d", "loss_g"} <= set(values)
    assert all(math.isfinite(v) for v in values.values()) and values["r1"] > 0
    live, average = t.modules["generator_live"].state_dict(), t.modules["generator"].state_dict()
    assert not same_state(live, average)                                # the average lags the trained weights
    path = t.save(tmp_path / "sg.safetensors", {"config": t.G.cfg.to_dict()})
    ck = load_checkpoint(path, with_optimizers=True)
    assert ck.kind == "stylegan" and set(ck.modules) == {"generator", "generator_live", "discriminator"}
    assert same_state(ck.modules["generator"].state_dict(), average)
    assert same_state(ck.modules["generator_live"].state_dict(), live)
    assert decoder_of(ck.modules) is ck.modules["generator"]
    z = torch.randn(3, 8)
    assert torch.allclose(ck.modules["generator"].generate(z), (t.samples(z) + 1).div(2).clamp(0, 1), atol=1e-6)
    shipped = load_checkpoint(t.save(tmp_path / "ship.safetensors", {"config": t.G.cfg.to_dict()}, with_optimizers=False))
    assert set(shipped.modules) == {"generator", "discriminator"}       # the live G is for resuming only
    assert same_state(shipped.modules["generator"].state_dict(), average)


def test_a_resumed_run_continues_exactly(pictures, tmp_path):
    a = trainer(pictures, mixing=0.5)
    list(a.run(3))
    path = a.save(tmp_path / "a.safetensors", {"config": a.G.cfg.to_dict()})
    a.gen.manual_seed(a.seed + 3)             # the random stream a resumed run takes up (Trainer.restore)
    b = trainer(pictures, mixing=0.5)
    ck = load_checkpoint(path, with_optimizers=True)
    b.restore(ck.modules, ck.optim_state, ck.meta["steps"], ck.meta["images_seen"])
    assert same_state(b.ema.module.state_dict(), a.ema.module.state_dict())           # the average is restored, not reset
    list(a.run(6))                            # the run that went on ...
    list(b.run(6))                            # ... and the one resumed from its file
    for name in ("generator", "generator_live", "discriminator"):
        assert same_state(a.modules[name].state_dict(), b.modules[name].state_dict()), name


def test_stopping_and_going_on_is_one_run(pictures):
    a = trainer(pictures)
    list(a.run(4))
    b = trainer(pictures)
    for rec in b.run(None):
        if rec.step == 2:
            break
    list(b.run(4))
    assert same_state(a.modules["generator"].state_dict(), b.modules["generator"].state_dict())


def test_lazy_r1_is_taken_on_its_schedule_only(pictures):
    t = trainer(pictures, r1_every=3)
    r1 = [rec.floats()["r1"] for rec in t.run(7)]
    assert r1[0] > 0 and r1[1] == r1[2] == r1[0]               # steps 0, 3, 6 measure it; the others repeat it
    assert r1[3] != r1[2] and r1[4] == r1[5] == r1[3] and r1[6] != r1[5]


def test_style_mixing_draws_cutoffs_for_some_pictures(pictures):
    t = trainer(pictures, mixing=0.5, batch_size=64)
    inputs = t.generator_inputs(64, None)
    cut = inputs["mix_cutoff"]
    assert cut.min() >= 1 and cut.max() <= t.G.num_ws
    assert 10 < int((cut < t.G.num_ws).sum()) < 54                # about half of them mixed
    assert len(inputs["noise"]) == len(t.G.synthesis.layers) and inputs["noise"][-1].shape == (64, 1, 16, 16)
    assert "mix_z" not in trainer(pictures, mixing=0.0).generator_inputs(4, None)


def test_a_conditional_run_has_one_grid_row_per_class(pictures):
    t = trainer(pictures, classes=10)
    list(t.run(2))
    grid = t.samples()
    assert grid.shape == (80, 1, 16, 16) and t.grid_columns == 8
    assert torch.equal(t.fixed_labels[::8], torch.arange(10))
    assert t.samples(torch.randn(5, 8), torch.tensor([0, 1, 2, 3, 4])).shape == (5, 1, 16, 16)
    assert t.modules["generator"].mapping.class_w_count.sum() > 0   # class averages tracked, copied to the average


def test_the_fast_path_stays_off_and_says_why(pictures):
    t = trainer(pictures)
    assert "lazy R1" in t.use_fast_path()
    assert t.use_fast_path(False) == "off"


def test_settings_are_checked():
    with pytest.raises(UserError, match="mixing must be between 0 and 1, got 1.5"):
        StyleGANTrainConfig(mixing=1.5)
    with pytest.raises(UserError, match="r1_every must be between 1 and 10000, got 0"):
        StyleGANTrainConfig(r1_every=0)
    assert StyleGANTrainConfig(batch_size=64).ema_half_life == 20_000


def test_train_cli_trains_resumes_and_records_its_settings(tmp_path):
    from explorer.cli.train import main
    out = tmp_path / "sg.safetensors"
    tiny = ["--model", "stylegan", "--dataset", "digits", "--image-size", "16", "--batch-size", "8", "--latent-dim", "8",
            "--w-dim", "16", "--mapping-layers", "2", "--channel-base", "64", "--channel-max", "16", "--conditional",
            "--r1-every", "2", "--out", str(out)]
    assert main(tiny + ["--steps", "2", "--sample-every", "2"]) == 0
    meta = read_metadata(out)
    assert meta["kind"] == "stylegan" and meta["config"]["num_classes"] == 10 and meta["config"]["image_size"] == 16
    assert meta["training"]["r1_gamma"] == pytest.approx(0.0002 * 16 ** 2 / 8)         # StyleGAN2-ADA's default
    assert meta["training"]["ema_half_life"] == 2500 and meta["training"]["mixing"] == 0.9
    assert (tmp_path / "sg-samples" / "step0000002.png").exists()
    assert main(tiny + ["--steps", "3", "--resume", str(out)]) == 0
    assert read_metadata(out)["steps"] == 3


def test_train_cli_refuses_another_loss(capsys):
    from explorer.cli.train import main
    assert main(["--model", "stylegan", "--dataset", "digits", "--loss", "wgan-gp", "--steps", "1", "--dry-run"]) == 2
    assert "non-saturating loss" in capsys.readouterr().err


@pytest.mark.parametrize("conditional", [False, True])
def test_the_train_tabs_engine_builds_and_steps_a_style_based_run(conditional):
    from explorer.live.probe import class_grid, sample_grid
    from explorer.live.settings import STYLEGAN_LR, ImageSettings, image_trainer
    t, ds, _ = image_trainer(ImageSettings(model="stylegan", batch_size=8, lr=STYLEGAN_LR, conditional=conditional), "cpu")
    assert t.kind == "stylegan" and t.G.cfg.image_size == 28 and t.G.cfg.num_classes == (10 if conditional else 0)
    assert t.cfg.lr_g == t.cfg.lr_d == 0.002 and t.r1_gamma == 0.3
    t.d_step()                                        # the tab's single inspector / forger steps
    t.g_step()
    assert list(t.run(2))[-1].step == 2
    if conditional:
        assert class_grid(t, ds.class_names).images.shape == (10, 8, 28, 28, 1)
    else:
        assert sample_grid(t).shape == (64, 28, 28, 1)
