"""The EMA of a generator's weights and the R1 penalty (explorer/training/ema.py)."""
import math

import torch
from torch import nn

from explorer.training.ema import EMA, ema_beta, r1_penalty


def test_the_average_follows_the_live_weights_by_its_half_life():
    live = nn.Linear(3, 2)
    ema = EMA(live, half_life_images=64, rampup=None)
    start = ema.module.weight.clone()
    with torch.no_grad():
        live.weight.add_(1.0)
    ema.update(live, batch=64, images_seen=64)        # one half-life: half way
    assert torch.allclose(ema.module.weight, start + 0.5)
    assert not ema.module.weight.requires_grad
    assert not torch.equal(ema.module.weight, live.weight)


def test_the_ramp_up_shortens_the_half_life_early():
    assert ema_beta(64, 10_000, images_seen=640, rampup=0.05) == 0.5 ** (64 / 32)
    assert ema_beta(64, 10_000, images_seen=10**7, rampup=0.05) == 0.5 ** (64 / 10_000)
    assert math.isclose(ema_beta(64, 10_000, 0, None), 0.5 ** (64 / 10_000))


def test_buffers_are_copied_not_averaged():
    live = nn.BatchNorm1d(2)
    ema = EMA(live, half_life_images=1e9, rampup=None)
    live.running_mean.fill_(3.0)
    ema.update(live, 1, 1)
    assert torch.equal(ema.module.running_mean, live.running_mean)


def test_r1_is_the_squared_input_gradient_of_the_logit():
    d = nn.Linear(4, 1, bias=False)
    with torch.no_grad():
        d.weight.copy_(torch.tensor([[1.0, 2.0, 0.0, -2.0]]))
    x = torch.randn(5, 4)
    pen = r1_penalty(lambda t: d(t).squeeze(1), x)
    assert math.isclose(float(pen), 9.0, rel_tol=1e-6)        # |w|^2 for every picture
    pen.backward()                                             # it reaches D's weights
    assert d.weight.grad is not None and d.weight.grad.abs().sum() > 0


def test_the_update_reads_its_weight_from_the_device_and_matches_the_formula():
    live = nn.Linear(3, 2)
    ema = EMA(live, half_life_images=32, rampup=None)
    start = [p.clone() for p in ema.module.parameters()]
    with torch.no_grad():
        for p in live.parameters():
            p.add_(2.0)
    ema.set_decay(batch=64, images_seen=64)              # two half-lives: 3/4 of the way
    assert float(ema.weight) == 0.75 and ema.weight.dim() == 0
    ema.step(live)
    for s, p, q in zip(start, ema.module.parameters(), live.parameters()):
        assert torch.allclose(p, s + 0.75 * (q - s))
    assert ema.batchnorm_stale


def test_batchnorm_statistics_are_measured_again_on_the_averaged_weights():
    live = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    ema = EMA(live, half_life_images=1e9, rampup=None)
    ema.module[1].running_mean.fill_(5.0)                # as copied from the live weights' activations
    batches = [torch.randn(16, 2, generator=torch.Generator().manual_seed(i)) for i in range(4)]
    ema.refresh_batchnorm(lambda i: (batches[i],), batches=4)
    with torch.no_grad():
        acts = torch.cat([ema.module[0](b) for b in batches])
    assert torch.allclose(ema.module[1].running_mean, acts.mean(0), atol=1e-6)   # equal batches: the plain mean
    assert not ema.module.training and ema.module[1].momentum == 0.1 and not ema.batchnorm_stale
