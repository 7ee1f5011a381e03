"""The CUDA-graph fast path (training/fast.py) on the colour models: the grow layout's DCGAN
(class-conditional, with DiffAugment) and VAE. On CPU: the step reads nothing back to the host and
the real captured step, replayed through the CPU graph stand-in, trains exactly like the eager one.
On CUDA (skipped without a GPU): the same at 64 px RGB, on the device."""
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from explorer.training import GANTrainConfig, ImageSampler, VAETrainConfig, make_trainer
from explorer.training.diffaugment import PAPER_POLICY
from tests.cuda_stand_ins import CpuGraph, patch_graphs
from tests.test_fast_path import HOST_READS, _enable, assert_replays_never_sync, params

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def colour_data(size: int, device: str):
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (64, 3, size, size), dtype=torch.uint8, generator=g)
    return images, torch.randint(0, 5, (64,), generator=g)


def cgan(size=16, device="cpu", width=2):
    images, labels = colour_data(size, device)
    cfg = {"width": width, "d_width": width, "latent_dim": 8, "image_size": size, "channels": 3, "num_classes": 5}
    return make_trainer("dcgan", cfg, GANTrainConfig(batch_size=4, diffaugment=PAPER_POLICY),
                        ImageSampler(images, device, (-1, 1), labels), device, check_every=1000)


def cvae(size=16, device="cpu", width=2):
    images, labels = colour_data(size, device)
    cfg = {"width": width, "hidden": 16, "latent_dim": 4, "image_size": size, "channels": 3, "num_classes": 5}
    return make_trainer("vae", cfg, VAETrainConfig(batch_size=4), ImageSampler(images, device, (0, 1), labels),
                        device, check_every=1000)


@pytest.mark.parametrize("make", [cgan, cvae])
def test_the_colour_step_reads_nothing_back_to_the_host(make):
    class Record(TorchDispatchMode):
        ops = set()

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.ops.add(func.overloadpacket.__name__)
            return func(*args, **(kwargs or {}))

    t = make()
    t.zero_grad_to_none = False
    for _ in t.run(1):
        pass
    with Record() as rec:
        t._step()
    assert "_fused_adam_" in rec.ops and not rec.ops & HOST_READS, rec.ops & HOST_READS


@pytest.mark.parametrize("make", [cgan, cvae])
def test_the_captured_colour_step_trains_exactly_like_eager_on_a_cpu_graph(monkeypatch, make):
    patch_graphs(monkeypatch)
    eager, graphed = make(), make()
    _enable(graphed)
    recs_e, recs_g = list(eager.run(6)), list(graphed.run(6))
    assert graphed.fast_path_status == "CUDA graph" and CpuGraph.captures == 1
    assert [r.floats() for r in recs_g] == [r.floats() for r in recs_e]
    assert torch.equal(params(eager), params(graphed))


# ---------------------------------------------------------------- on a CUDA GPU, 64 px RGB
@cuda
@pytest.mark.parametrize("make", [cgan, cvae])
def test_cuda_graph_step_trains_the_64_px_colour_models_like_eager(make):
    eager, graphed = make(64, "cuda", 16), make(64, "cuda", 16)
    assert graphed.use_fast_path() == "CUDA graph (warming up)"
    recs_e = [r.floats() for r in eager.run(30)]
    recs_g = [r.floats() for r in graphed.run(30)]
    assert graphed.fast_path_status == "CUDA graph" and graphed.step == 30
    for k in recs_e[-1]:
        assert recs_g[-1][k] == pytest.approx(recs_e[-1][k], rel=1e-2, abs=1e-3), k
    assert torch.allclose(params(eager), params(graphed), atol=1e-3)


@cuda
def test_cuda_graph_replays_of_the_64_px_gan_with_diffaugment_never_sync():
    assert_replays_never_sync(cgan(64, "cuda", 16))
