"""The GAN recipe for long runs (training/gan.py with training/ema.py): the EMA of G's weights is what
is sampled and saved, the live G goes beside it, a resumed run continues both (and the optimisers and
random streams) exactly, old files still resume, and the lazy R1 penalty reaches D's gradients."""
import copy
import json
import math

import pytest
import torch
from safetensors.torch import load_file, save_file

from explorer.cli.train import main
from explorer.core.checkpoints import META_KEY, load_checkpoint, read_metadata
from explorer.core.validation import UserError
from explorer.training import GANTrainConfig, ImageSampler, make_trainer
from tests.conftest import TINY_DCGAN

TINY = ["--model", "dcgan", "--dataset", "digits", "--width", "8", "--d-width", "8", "--latent-dim", "8",
        "--batch-size", "8", "--sample-every", "0", "--log-every", "1"]
RECIPE = ["--ema-half-life", "64", "--r1", "1", "--r1-every", "2"]


def gan(digits, conditional=False, **kw):
    model = dict(TINY_DCGAN, num_classes=10) if conditional else TINY_DCGAN
    return make_trainer("dcgan", model, GANTrainConfig(batch_size=16, **kw),
                        ImageSampler(digits.images, "cpu", labels=digits.labels), "cpu", check_every=1000)


def flat(module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in module.parameters()])


def same_state(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_the_average_differs_from_the_live_weights_and_is_what_is_sampled(digits):
    t = gan(digits, conditional=True, ema_half_life=64)
    start = flat(t.ema.module).clone()
    list(t.run(6))
    avg, live = flat(t.ema.module), flat(t.G)
    assert not torch.equal(avg, live) and not torch.equal(avg, start)
    assert (avg - live).abs().max() > 1e-5
    drawn = t.samples()
    with torch.no_grad():
        expected = t.ema.module.eval()(t.fixed_noise, t.fixed_labels)
    assert torch.equal(drawn, expected) and t.G.training                # the live G left as it was
    plain = gan(digits, conditional=True)
    list(plain.run(6))
    assert plain.ema is None and torch.equal(flat(plain.G), live)        # the average does not change training


def test_the_averages_batchnorm_statistics_are_its_own(digits):
    t = gan(digits, ema_half_life=64)
    list(t.run(4))
    live_mean = next(b for n, b in t.G.named_buffers() if n.endswith("running_mean")).clone()
    t.samples()
    own_mean = next(b for n, b in t.ema.module.named_buffers() if n.endswith("running_mean"))
    assert not torch.equal(own_mean, live_mean) and not t.ema.batchnorm_stale
    list(t.run(5))
    assert t.ema.batchnorm_stale                                          # moved again: measured again when used


def test_the_file_holds_the_average_as_its_generator_and_the_live_one_beside_it(digits, tmp_path):
    t = gan(digits, ema_half_life=64)
    list(t.run(4))
    path = t.save(tmp_path / "g.safetensors", {"config": TINY_DCGAN})
    tensors = load_file(str(path))
    ema, live = t.ema.module.state_dict(), t.G.state_dict()
    assert all(torch.equal(tensors[f"generator.{k}"], v) for k, v in ema.items())
    assert all(torch.equal(tensors[f"generator_live.{k}"], v) for k, v in live.items())
    assert any(not torch.equal(ema[k], live[k]) for k in ema if k.endswith("weight"))
    app = load_checkpoint(path)                                         # what the app loads: the average
    assert set(app.modules) == {"generator", "discriminator"}
    assert torch.equal(flat(app.modules["generator"]), flat(t.ema.module))
    shipped = load_file(str(t.save(tmp_path / "s.safetensors", {"config": TINY_DCGAN}, with_optimizers=False)))
    assert not any(k.startswith(("generator_live.", "optim.", "random.")) for k in shipped)


def test_a_resumed_run_continues_the_average_and_the_live_weights_exactly(tmp_path):
    whole, part = tmp_path / "whole.safetensors", tmp_path / "part.safetensors"
    args = TINY + RECIPE + ["--diffaugment", "color,translation,cutout", "--conditional", "--seed", "3"]
    assert main(args + ["--steps", "6", "--out", str(whole)]) == 0
    assert main(args + ["--steps", "3", "--out", str(part)]) == 0
    tensors, meta = load_file(str(part)), read_metadata(part)
    save_file(tensors, str(part), metadata={META_KEY: json.dumps(dict(meta, train_seconds=1000.0))})   # a long first part
    assert main(args + ["--steps", "6", "--resume", str(part), "--out", str(part)]) == 0
    assert 1000 < read_metadata(part)["train_seconds"] < 1100    # the whole run's time, not the last part's
    a, b = load_file(str(whole)), load_file(str(part))
    assert a.keys() == b.keys() and any(k.startswith("generator_live.") for k in a)
    differ = [k for k in a if not torch.equal(a[k], b[k])]
    assert differ == []                     # EMA, live G, D (dropout on), Adam's state, random streams
    g = {k: v for k, v in a.items() if k.startswith("generator.")}
    assert any(not torch.equal(v, a["generator_live." + k.split(".", 1)[1]]) for k, v in g.items())


def test_an_old_file_without_an_average_resumes_and_starts_one(digits, tmp_path):
    old = gan(digits)                                       # as every file before the EMA
    list(old.run(3))
    path = old.save(tmp_path / "old.safetensors", {"config": TINY_DCGAN})
    ck = load_checkpoint(path, with_optimizers=True)
    assert "generator_live" not in ck.modules
    t = gan(digits, ema_half_life=64)
    t.restore(ck.modules, ck.optim_state, ck.meta["steps"], ck.meta["images_seen"], ck.random_state)
    assert torch.equal(flat(t.ema.module), flat(old.G)) and torch.equal(flat(t.G), flat(old.G))
    list(t.run(5))
    assert t.step == 5 and not torch.equal(flat(t.ema.module), flat(t.G))
    # and a file with an average resumed without one continues the live weights
    path = t.save(tmp_path / "new.safetensors", {"config": TINY_DCGAN})
    ck = load_checkpoint(path, with_optimizers=True)
    plain = gan(digits)
    plain.restore(ck.modules, ck.optim_state, ck.meta["steps"], ck.meta["images_seen"], ck.random_state)
    assert torch.equal(flat(plain.G), flat(t.G))


@pytest.mark.parametrize("conditional", [False, True])
def test_r1_changes_ds_gradients_and_is_finite(digits, conditional):
    base = gan(digits, conditional=conditional, r1_gamma=10.0, r1_every=1)
    list(base.run(2))
    grads = {}
    for r1 in (False, True):
        t = copy.deepcopy(base)
        t.optimizers["discriminator"].step = lambda: None      # keep the gradients, do not apply them
        out = t.d_step(r1=r1)
        grads[r1] = torch.cat([p.grad.flatten() for p in t.D.parameters()])
        assert all(math.isfinite(float(v)) for v in out.values())
    assert float(out["r1"]) > 0 and torch.isfinite(grads[True]).all()
    assert not torch.allclose(grads[True], grads[False])


def test_lazy_r1_comes_every_n_discriminator_steps_and_is_reported_every_step(digits):
    t = gan(digits, r1_gamma=1.0, r1_every=3, k=2)
    plans, values = [], []
    for rec in t.run(4):
        plans.append(t.step_variant())
        values.append(float(rec.values["r1"]))
    assert plans == [(True, False), (False, True), (False, False), (True, False)]   # D steps 0, 3, 6 of 0..7
    assert values[0] > 0 and values[2] == values[1] != values[3]        # the last value, until the next


def test_settings_are_refused_in_plain_words(capsys):
    with pytest.raises(UserError, match="R1 penalty is for the non-saturating and minimax"):
        GANTrainConfig(loss="wgan-gp", r1_gamma=1.0)
    with pytest.raises(UserError, match="r1_every at least 1 \\(got 0\\)"):
        GANTrainConfig(r1_gamma=1.0, r1_every=0)
    assert main(["--model", "vae", "--dataset", "digits", "--steps", "1", "--ema-half-life", "100"]) == 2
    assert "--ema-half-life and --r1 are GAN settings" in capsys.readouterr().err


def test_the_command_line_smoke_run_with_every_option(tmp_path):
    out = tmp_path / "g.safetensors"
    assert main(TINY + RECIPE + ["--ema-rampup", "0.1", "--diffaugment", "color,translation,cutout", "--conditional",
                                 "--label-smoothing", "0.9", "--steps", "2", "--sample-every", "1",
                                 "--out", str(out)]) == 0
    ck = load_checkpoint(out, with_optimizers=True)
    assert ck.meta["training"]["ema_half_life"] == 64 and ck.meta["training"]["r1_gamma"] == 1
    assert ck.meta["module_copies"] == {"generator_live": "generator"} and "generator_live" in ck.modules
    assert (tmp_path / "g-samples" / "step0000002.png").exists()


def test_a_file_whose_module_copies_name_no_module_is_refused(digits, tmp_path):
    from explorer.core.checkpoints import CheckpointError, update_metadata
    t = gan(digits, ema_half_life=64)
    path = t.save(tmp_path / "g.safetensors", {"config": TINY_DCGAN})
    update_metadata(path, {"module_copies": {"generator_live": "os.system"}})
    with pytest.raises(CheckpointError, match="unreadable module_copies"):
        load_checkpoint(path)
