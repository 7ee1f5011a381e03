"""training/adam.py: the trainers' Adam gives torch.optim.Adam(fused=True)'s weights bit for bit,
reads and writes its state dicts, and no training step imports torch._dynamo (seconds of set-up)."""
import copy
import subprocess
import sys
import textwrap

import pytest
import torch

from explorer.training.adam import FusedAdam


def _train(make_optimizer, steps: int = 6, set_to_none: bool = True, lr_change: bool = False):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                              torch.nn.Flatten(), torch.nn.Linear(4 * 6 * 6, 3))
    opt = make_optimizer(net.parameters())
    data = torch.Generator().manual_seed(1)
    for i in range(steps):
        if lr_change:
            opt.param_groups[0]["lr"] = 1e-3 * (i + 1)     # as the encoder's schedule does
        opt.zero_grad(set_to_none=set_to_none)
        net(torch.randn(5, 1, 8, 8, generator=data)).square().mean().backward()
        opt.step()
    return net, opt


@pytest.mark.slow
@pytest.mark.parametrize("set_to_none", [True, False])
def test_same_weights_as_torch_fused_adam(set_to_none):
    ours, _ = _train(lambda p: FusedAdam(p, lr=2e-3, betas=(0.5, 0.999)), set_to_none=set_to_none, lr_change=True)
    ref, _ = _train(lambda p: torch.optim.Adam(p, lr=2e-3, betas=(0.5, 0.999), fused=True),
                    set_to_none=set_to_none, lr_change=True)
    assert all(torch.equal(a, b) for a, b in zip(ours.parameters(), ref.parameters()))


def test_same_weights_as_torch_fused_adamw():
    ours, _ = _train(lambda p: FusedAdam(p, lr=2e-3, weight_decay=0.1, decoupled_weight_decay=True))
    ref, _ = _train(lambda p: torch.optim.AdamW(p, lr=2e-3, weight_decay=0.1, fused=True))
    assert all(torch.equal(a, b) for a, b in zip(ours.parameters(), ref.parameters()))


def test_state_dicts_are_interchangeable_with_torch_adam():
    """Old checkpoints (torch.optim.Adam's state) resume here, and a resumed run continues exactly."""
    net, ref = _train(lambda p: torch.optim.Adam(p, lr=2e-3, fused=True), steps=3)
    ours = FusedAdam(net.parameters(), lr=1.0)
    ours.load_state_dict(copy.deepcopy(ref.state_dict()))
    assert ours.param_groups[0]["lr"] == 2e-3 and ours.param_groups[0]["betas"] == (0.9, 0.999)
    mine, theirs = ours.state_dict(), ref.state_dict()
    assert {k: v for k, v in mine["param_groups"][0].items() if k != "weight_decay"} == \
           {k: v for k, v in theirs["param_groups"][0].items() if k != "weight_decay"}
    assert mine["state"].keys() == theirs["state"].keys()
    for i, st in mine["state"].items():
        assert st.keys() == theirs["state"][i].keys()
        assert all(torch.equal(st[k], theirs["state"][i][k]) and st[k].dtype == theirs["state"][i][k].dtype
                   for k in st)
    back = torch.optim.Adam(net.parameters(), fused=True)
    back.load_state_dict(copy.deepcopy(mine))        # and the other way round
    assert back.state_dict()["param_groups"][0]["lr"] == 2e-3


def test_refuses_what_the_fused_kernel_cannot_do():
    with pytest.raises(ValueError, match="empty"):
        FusedAdam([])
    with pytest.raises(ValueError, match="float parameters"):
        FusedAdam([torch.zeros(3, dtype=torch.int64)])


NO_DYNAMO = textwrap.dedent("""
    import sys, tempfile, os
    from explorer.core.data import load_digits
    from explorer.training import (ClassifierTrainConfig, GANTrainConfig, ImageSampler, VAETrainConfig,
                                   make_trainer)
    ds = load_digits("train")
    runs = [("dcgan", {"width": 8, "d_width": 8, "latent_dim": 8, "num_classes": 10}, GANTrainConfig(batch_size=8), (-1, 1)),
            ("dcgan", {"width": 8, "d_width": 8, "latent_dim": 8, "d_norm": "layer"},
             GANTrainConfig(batch_size=8, loss="wgan-gp", k=2), (-1, 1)),
            ("vae", {"width": 8, "hidden": 32, "latent_dim": 4}, VAETrainConfig(batch_size=8), (0, 1)),
            ("classifier", {"width": 4}, ClassifierTrainConfig(batch_size=8), (0, 1))]
    for kind, model, cfg, value_range in runs:
        t = make_trainer(kind, model, cfg, ImageSampler(ds.images, "cpu", value_range, ds.labels), "cpu", check_every=2)
        list(t.run(3))
        t.rollback()
        with tempfile.TemporaryDirectory() as d:
            t.save(os.path.join(d, "m.safetensors"), {"dataset": {"name": "digits"}})
    print("torch._dynamo" in sys.modules)
""")


@pytest.mark.slow
def test_training_steps_do_not_import_torch_dynamo():
    """A fresh process builds, trains, rolls back and saves each kind of model: torch._dynamo (seconds
    to import, needed only by torch.compile) must stay unimported. torch.optim's optimisers and a
    meta-device `normal_` import it; the trainers use neither."""
    out = subprocess.run([sys.executable, "-c", NO_DYNAMO], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
