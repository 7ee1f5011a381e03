"""The CUDA-graph fast path (explorer/training/fast.py).

On CPU: the trainer says why it stays eager; zeroing gradients in place (what capture needs) gives
the same training as setting them to None; the warm-up / capture / fallback / re-capture state
machine, driven through stand-ins for the CUDA stream calls. On CUDA (skipped without a GPU): a
captured step trains like the eager one, replays never sync with the host, a rollback re-captures.
"""
import pytest
import torch

from explorer.training import (
    GANTrainConfig,
    ImageSampler,
    TrainingDiverged,
    VAETrainConfig,
    fast,
    make_trainer,
)
from tests.conftest import TINY_DCGAN, TINY_VAE
from tests.cuda_stand_ins import CpuGraph, patch_graphs, patch_streams

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def gan(digits, device="cpu", **kw):
    return make_trainer("dcgan", TINY_DCGAN, GANTrainConfig(batch_size=16, **kw),
                        ImageSampler(digits.images, device), device, check_every=1000)


def recipe(digits, device="cpu"):
    """A GAN with the long-run recipe: an EMA of G (updated inside the step) and lazy R1 every 3 steps."""
    return gan(digits, device, ema_half_life=64, r1_gamma=1.0, r1_every=3)


def vae(digits, device="cpu"):
    return make_trainer("vae", TINY_VAE, VAETrainConfig(batch_size=16),
                        ImageSampler(digits.images, device, (0, 1)), device, check_every=1000)


def params(t):
    return torch.cat([p.detach().flatten().cpu() for m in t.modules.values() for p in m.parameters()])


def test_off_cuda_the_trainer_says_why_and_stays_eager(digits):
    t = gan(digits)
    status = t.use_fast_path()
    assert status == t.fast_path_status == "eager (CUDA graphs need a CUDA device; this run is on cpu)"
    assert list(t.run(2))[-1].step == 2 and t.zero_grad_to_none
    assert t.use_fast_path(False) == "off"
    assert fast.unavailable_reason(torch.device("mps")).endswith("this run is on mps")


@pytest.mark.parametrize("make", [gan, vae])
def test_gradients_zeroed_in_place_train_exactly_like_set_to_none(digits, make):
    a, b = make(digits), make(digits)
    b.zero_grad_to_none = False
    for _ in a.run(6):
        pass
    for _ in b.run(6):
        pass
    assert torch.equal(params(a), params(b))


# ops whose result size or value the host must read: each one is a device->host sync on CUDA and
# makes graph capture fail (or bakes one step's value into every replay)
HOST_READS = {"_local_scalar_dense", "nonzero", "masked_select", "is_nonzero", "unique_dim", "_unique2", "equal"}


@pytest.mark.slow
@pytest.mark.parametrize("make", [gan, vae, recipe])
def test_the_captured_step_reads_nothing_back_to_the_host(digits, make):
    from torch.utils._python_dispatch import TorchDispatchMode

    class Record(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.ops = set()

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.ops.add(func.overloadpacket.__name__)
            return func(*args, **(kwargs or {}))

    t = make(digits)
    t.zero_grad_to_none = False
    for _ in t.run(1):             # optimiser state exists, as after the warm-up
        pass
    with Record() as rec:
        t._step()                  # (the recipe: step 0's plan, with R1; the EMA update)
    assert {"randint", "randn"} & rec.ops and "_fused_adam_" in rec.ops   # the recorder sees the step
    if make is recipe:
        assert {"_foreach_mul_", "_foreach_add_"} <= rec.ops
    assert not rec.ops & HOST_READS, rec.ops & HOST_READS


@pytest.fixture
def fake_cuda_streams(monkeypatch):
    patch_streams(monkeypatch)


@pytest.fixture
def cpu_graphs(monkeypatch):
    patch_graphs(monkeypatch)


def _enable(t):
    t._fast = fast.FastPath(t)    # what use_fast_path does on a CUDA device
    return t._fast


def test_failed_capture_falls_back_to_eager_and_loses_no_step(digits, fake_cuda_streams, monkeypatch):
    def refuse(trainer):
        trainer._step()            # capture runs the step's Python once; counters must be put back
        raise RuntimeError("operation not permitted when stream is capturing")
    monkeypatch.setattr(fast, "GraphedStep", refuse)
    ref, t = gan(digits), gan(digits)
    fp = _enable(t)
    statuses = []
    for _ in t.run(6):
        statuses.append(t.fast_path_status)
    for _ in ref.run(6):
        pass
    assert statuses[:3] == ["CUDA graph (warming up)"] * 3
    assert statuses[-1].startswith("eager (CUDA graph capture failed: RuntimeError: operation not permitted")
    assert fp.failed and t.step == 6 and t.images_seen == ref.images_seen == 6 * 16
    assert all(p.requires_grad for m in t.modules.values() for p in m.parameters())
    for group in t.optimizers["generator"].param_groups:
        assert group["capturable"]


class _ReplayDouble:
    """Behaves like a GraphedStep whose replay runs the captured step (eagerly, on CPU)."""
    captures = 0

    def __init__(self, trainer):
        type(self).captures += 1
        self.trainer = trainer

    def __call__(self):
        return self.trainer._step()


def test_warm_up_capture_replay_and_recapture_after_rollback(digits, fake_cuda_streams, monkeypatch):
    monkeypatch.setattr(fast, "GraphedStep", _ReplayDouble)
    _ReplayDouble.captures = 0
    t = gan(digits)
    fp = _enable(t)
    assert not t.zero_grad_to_none
    for _ in t.run(fast.WARMUP_STEPS):
        pass
    assert fp.graph is None and t.fast_path_status == "CUDA graph (warming up)"
    for _ in t.run(fast.WARMUP_STEPS + 4):
        pass
    assert _ReplayDouble.captures == 1 and t.fast_path_status == "CUDA graph"
    t.take_snapshot()
    t.rollback()                   # loads a state dict: optimiser state tensors are replaced
    assert fp.graph is None and t.fast_path_status == "CUDA graph (warming up)"
    for _ in t.run(t.step + fast.WARMUP_STEPS + 1):
        pass
    assert _ReplayDouble.captures == 2


@pytest.mark.parametrize("make", [gan, vae])
def test_the_real_captured_step_trains_exactly_like_eager_on_a_cpu_graph(digits, cpu_graphs, make):
    eager, graphed = make(digits), make(digits)
    _enable(graphed)
    recs_e, recs_g = list(eager.run(12)), list(graphed.run(12))
    assert graphed.fast_path_status == "CUDA graph" and CpuGraph.captures == 1
    assert graphed.step == eager.step == 12 and graphed.images_seen == eager.images_seen
    assert [r.floats() for r in recs_g] == [r.floats() for r in recs_e]   # records never alias each other
    assert torch.equal(params(eager), params(graphed))


def test_ema_and_lazy_r1_on_two_cpu_graphs_train_exactly_like_eager(digits, cpu_graphs):
    eager, graphed = recipe(digits), recipe(digits)
    fp = _enable(graphed)
    recs_e, recs_g = list(eager.run(14)), list(graphed.run(14))
    # steps 0, 3, 6 (R1) warm up its form, step 9 captures it; the plain form is captured at step 5
    assert CpuGraph.captures == 2 and set(fp.graphs) == {(True,), (False,)}
    assert [r.floats() for r in recs_g] == [r.floats() for r in recs_e]
    assert torch.equal(params(eager), params(graphed))
    assert torch.equal(torch.cat([p.flatten() for p in eager.ema.module.parameters()]),
                       torch.cat([p.flatten() for p in graphed.ema.module.parameters()]))
    assert not torch.equal(next(graphed.ema.module.parameters()), next(graphed.G.parameters()))
    graphed.samples()                      # BatchNorm statistics measured on the average...
    assert not graphed.ema.batchnorm_stale
    list(graphed.run(16))                  # ...and again after replayed steps moved it (no Python runs in a replay)
    assert graphed.ema.batchnorm_stale


def _rollback_sequence(t):
    """The CUDA rollback test's sequence; returns what it checks, plus the counters."""
    for _ in t.run(10):
        pass
    t.take_snapshot()
    before, seen_before = params(t), t.images_seen
    for _ in t.run(15):
        pass
    at_15 = params(t)
    back = t.rollback()
    restored = torch.equal(params(t), before) and t.images_seen == seen_before and t.step == 10
    for _ in t.run(15):
        pass
    reproduced = torch.equal(params(t), at_15)    # same seed, same restored streams: same 5 steps
    for _ in t.run(20):
        pass
    return back, restored, reproduced, not torch.equal(params(t), before)


def test_rollback_returns_to_the_explicit_snapshot_eagerly(digits):
    t = gan(digits)
    assert _rollback_sequence(t) == (10, True, True, True)
    assert t.snapshot_step == 10 and t.step == 20     # run() ending at 15 and 20 moved nothing


@pytest.mark.slow
def test_rollback_on_the_fast_path_returns_to_the_snapshot_and_recaptures(digits, cpu_graphs):
    t, eager = gan(digits), gan(digits)
    _enable(t)
    assert _rollback_sequence(t) == (10, True, True, True)
    assert t.fast_path_status == "CUDA graph" and CpuGraph.captures == 2   # once at first, once after the rollback
    for _ in eager.run(20):        # the detour through step 15 and back left no trace
        pass
    assert t.images_seen == eager.images_seen == 20 * 16 and torch.equal(params(t), params(eager))


def test_a_scheduled_snapshot_taken_mid_run_rolls_back_reproducibly(digits):
    """The dropout stream lives in the global RNG inside run(): the snapshot must read it there."""
    t = make_trainer("dcgan", TINY_DCGAN, GANTrainConfig(batch_size=16), ImageSampler(digits.images, "cpu"),
                     "cpu", check_every=5)
    for _ in t.run(12):
        pass
    for _ in t.run(14):
        pass
    at_14 = params(t)
    assert t.snapshot_step == 10 and t.rollback() == 10
    for _ in t.run(14):
        pass
    assert torch.equal(params(t), at_14)


def test_save_checks_but_does_not_move_the_rollback_point(digits, tmp_path):
    t = gan(digits)
    for _ in t.run(3):
        pass
    t.take_snapshot()
    for _ in t.run(5):
        pass
    t.save(tmp_path / "g.safetensors", {"config": TINY_DCGAN})
    assert t.rollback() == 3
    with torch.no_grad():
        next(t.D.parameters()).fill_(float("nan"))
    with pytest.raises(TrainingDiverged):
        for _ in t.run(4):
            pass
    with pytest.raises(TrainingDiverged, match="between steps 3 and 4"):
        t.save(tmp_path / "bad.safetensors", {"config": TINY_DCGAN})
    assert not (tmp_path / "bad.safetensors").exists()


# ---------------------------------------------------------------- on a CUDA GPU
@cuda
@pytest.mark.parametrize("make", [gan, vae, recipe])
def test_cuda_graph_step_trains_like_eager(digits, make):
    eager, graphed = make(digits, "cuda"), make(digits, "cuda")
    assert graphed.use_fast_path() == "CUDA graph (warming up)"
    recs_e = [r.floats() for r in eager.run(30)]
    recs_g = [r.floats() for r in graphed.run(30)]
    assert graphed.fast_path_status == "CUDA graph"
    assert graphed.images_seen == eager.images_seen and graphed.step == 30
    for k in recs_e[-1]:          # same seed, same random draws: the runs agree to float noise
        assert recs_g[-1][k] == pytest.approx(recs_e[-1][k], rel=1e-2, abs=1e-3), k
    assert torch.allclose(params(eager), params(graphed), atol=1e-3)


def assert_replays_never_sync(t, warm_steps: int = fast.WARMUP_STEPS + 2) -> None:
    """A CUDA trainer, warmed up and captured, then 20 replayed steps with any host sync an error."""
    t.use_fast_path()
    for _ in t.run(warm_steps):
        pass
    assert t.fast_path_status == "CUDA graph"
    torch.cuda.set_sync_debug_mode("error")
    try:
        for _ in range(20):
            t.train_step()
    finally:
        torch.cuda.set_sync_debug_mode("default")
    t.check_finite()


@cuda
def test_cuda_graph_replays_never_sync_with_the_host(digits):
    assert_replays_never_sync(gan(digits, "cuda"))


@cuda
def test_cuda_graphs_of_the_ema_and_r1_recipe_never_sync_with_the_host(digits):
    t = recipe(digits, "cuda")
    assert_replays_never_sync(t, warm_steps=14)      # both forms of the step captured by then
    assert set(t._fast.graphs) == {(True,), (False,)}


@cuda
def test_cuda_graph_recaptures_after_a_rollback(digits):
    t = gan(digits, "cuda")
    t.use_fast_path()
    for _ in t.run(10):
        pass
    t.take_snapshot()
    before = params(t)
    for _ in t.run(15):
        pass
    assert t.rollback() == 10 and torch.equal(params(t), before)
    for _ in t.run(20):
        pass
    assert t.fast_path_status == "CUDA graph" and not torch.equal(params(t), before)
