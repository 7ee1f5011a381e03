"""Data-parallel training (torchrun + DDP), on the CPU with gloo, two processes started here the
way torchrun starts them.

- Two processes train like one: after the same steps on the same global batch, seed and data
  order, a 2-process run's weights equal a plain 1-process run's (DCGAN, conditional DCGAN,
  WGAN-GP, the EMA + R1 recipe, VAE, cVAE, style-based GAN with lazy R1 and style mixing, unconditional and
  conditional; float64, see tests/ddp_worker.py), and per-process BatchNorm, which is
  not the same thing, is told apart from them.
- In an epoch each process sees its own half of the data, no picture twice.
- Killing one process ends the other with a clear error in bounded time; the checkpoint on disk
  stays whole, loads in one process, and a one-process checkpoint resumes under torchrun.
- Mistakes are refused before training: a process with no pictures, settings that need torchrun.
CUDA tests (NCCL, the fast path with DDP) are skipped without a GPU.
"""
import signal
import threading
import time

import pytest
import torch
from torch import nn

from explorer.cli.bench.ddp import start_local, wait_all
from explorer.core.checkpoints import load_checkpoint, read_metadata
from explorer.core.validation import UserError
from explorer.training import distributed
from explorer.training.shards import EpochShards
from explorer.training.sync_bn import GlobalBatchNorm2d, synchronise_batchnorm
from tests import ddp_worker

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
two_gpus = pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two CUDA GPUs")
EQUIVALENT = [c for c in ddp_worker.CASES if c != "dcgan_per_process_bn"]


# ---------------------------------------------------------------- the data order (one process, fast)
def shard_rows(sampler: EpochShards, batches: int) -> list[torch.Tensor]:
    out = []
    for b in range(batches):
        sampler.prepare(b * sampler.global_batch)
        out.append(sampler.indices(sampler.batch))
    return out


def test_epoch_shards_split_each_epoch_between_processes_in_one_order():
    images = torch.zeros(50, 1, 4, 4, dtype=torch.uint8)
    one = EpochShards(images, "cpu", batch=12, seed=3)                  # n = 50 // 12 = 4 batches an epoch
    three = [EpochShards(images, "cpu", batch=4, rank=r, world_size=3, seed=3) for r in range(3)]
    rows = {r: shard_rows(s, 8) for r, s in enumerate(three)}          # two epochs
    whole = shard_rows(one, 8)
    for b in range(8):             # the processes' rows of a global batch are one process's batch
        assert torch.equal(torch.cat([rows[r][b] for r in range(3)]), whole[b])
    for epoch in range(2):
        seen = [torch.cat(rows[r][4 * epoch:4 * epoch + 4]).tolist() for r in range(3)]
        assert all(len(s) == len(set(s)) == 16 for s in seen)             # nothing twice
        assert not set(seen[0]) & set(seen[1]) and not set(seen[1]) & set(seen[2]) and not set(seen[0]) & set(seen[2])
        assert sorted(sum(seen, [])) == sorted(one.epoch_order(epoch).tolist())
    assert not torch.equal(one.epoch_order(0), one.epoch_order(1))        # a fresh order each epoch
    # a step draws its batches without the host: several in a row, across the epoch boundary
    s = EpochShards(images, "cpu", batch=12, seed=3)
    s.prepare(3 * 12)
    assert torch.equal(s.indices(12), whole[3]) and torch.equal(s.indices(12), whole[4])
    with pytest.raises(UserError, match="fewer than one global batch"):
        EpochShards(images, "cpu", batch=20, rank=0, world_size=3)
    with pytest.raises(UserError, match="holds only 4"):
        one.check_step(5)


def test_synchronised_batchnorm_keeps_the_tensors_and_is_plain_batchnorm_in_one_process():
    net = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.Sequential(nn.BatchNorm2d(3)))
    before = {k: v.data_ptr() for k, v in net.state_dict().items()}
    x = torch.randn(4, 1, 6, 6)
    expected = net(x)
    assert synchronise_batchnorm(net, torch.device("cpu")) == 2
    assert isinstance(net[1], GlobalBatchNorm2d) and isinstance(net[2][0], GlobalBatchNorm2d)
    assert {k: v.data_ptr() for k, v in net.state_dict().items()} == before     # same tensors, same keys
    assert torch.allclose(net(x), expected)                                       # no process group: plain BN
    plain = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.Sequential(nn.BatchNorm2d(3)))
    plain.load_state_dict(net.state_dict())                                       # loads as an ordinary model


# ---------------------------------------------------------------- two processes train like one
@pytest.fixture(scope="module")
def two_process_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    procs = start_local(["tests.ddp_worker", str(out)], 2, out)
    codes = wait_all(procs, 240)
    assert codes == [0, 0], (out / "rank0.log").read_text()[-3000:] + (out / "rank1.log").read_text()[-3000:]
    return out


def load_rank(out, case, rank):
    from safetensors.torch import load_file
    return load_file(str(out / f"{case}-rank{rank}.safetensors"))


def max_difference(a: dict, b: dict) -> float:
    assert a.keys() <= b.keys()
    return max((a[k].double() - b[k].double()).abs().max().item() for k in a)


@pytest.fixture
def one_thread():
    """The references train on one thread: tiny float64 models on a busy 2-core machine are 8x
    slower on two."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.slow
def test_two_processes_end_with_the_weights_of_one(two_process_run, one_thread):
    for case in ddp_worker.CASES:
        ref = ddp_worker.reference(case)
        r0, r1 = load_rank(two_process_run, case, 0), load_rank(two_process_run, case, 1)
        assert max_difference(ref, r1) == max_difference(ref, r0)              # DDP keeps them identical
        gap = max_difference(ref, r0)
        if case == "dcgan_ema_r1":     # the average (sampled, saved as the generator): the same in every process
            assert all(torch.equal(r0[k], r1[k]) for k in r0 if k.startswith("generator."))
            assert any(not torch.equal(r0[k], r0["generator_live." + k.split(".", 1)[1]])
                       for k in r0 if k.startswith("generator."))
        if case in EQUIVALENT:
            assert gap < 1e-10, f"{case}: 2 processes differ from 1 by {gap:.3g}"
        else:   # BatchNorm over each process's 16 pictures is not BatchNorm over the global 32
            assert gap > 1e-4, f"{case}: per-process BatchNorm should differ from one process, by {gap:.3g} only"


@pytest.mark.slow
def test_each_process_saw_its_own_half_of_the_data_in_an_epoch(two_process_run):
    per_epoch = ddp_worker.PICTURES // ddp_worker.GLOBAL_BATCH * ddp_worker.GLOBAL_BATCH    # 160 of 176
    for case in ddp_worker.CASES:
        seen = [load_rank(two_process_run, case, r)["first_epoch_indices"].tolist() for r in (0, 1)]
        assert len(seen[0]) == len(seen[1]) == per_epoch // 2
        assert len(set(seen[0])) == len(set(seen[1])) == per_epoch // 2          # nothing twice
        assert not set(seen[0]) & set(seen[1])                                     # nothing shared
        assert set(seen[0]) | set(seen[1]) <= set(range(ddp_worker.PICTURES))


# ---------------------------------------------------------------- a process dies
TINY = ["--model", "dcgan", "--dataset", "fashion-mnist", "--split", "test", "--width", "8", "--d-width", "8", "--latent-dim", "8",
        "--batch-size", "8", "--sample-every", "0", "--log-every", "1000"]


def wait_for(condition, timeout_s: float, what: str) -> None:
    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)


def steps_saved(path) -> int:
    try:
        return read_metadata(path)["steps"]
    except Exception:            # noqa: BLE001 - not there yet
        return 0


@pytest.mark.slow
def test_killing_one_process_stops_the_other_and_leaves_a_whole_checkpoint(tmp_path):
    from explorer.cli.train import main
    plain = tmp_path / "plain.safetensors"
    assert main(TINY + ["--steps", "2", "--out", str(plain)]) == 0      # one process...
    out = tmp_path / "ddp.safetensors"
    procs = start_local(["explorer.train", *TINY, "--steps", "1000000", "--resume", str(plain), "--out", str(out),
                         "--save-every", "2", "--ddp-timeout", "60"], 2, tmp_path)     # ...resumed by two
    try:
        wait_for(lambda: steps_saved(out) >= 6 or any(p.poll() is not None for p in procs), 120, "checkpoints")
        assert all(p.poll() is None for p in procs), (tmp_path / "rank0.log").read_text()[-2000:]
        procs[1].send_signal(signal.SIGKILL)
        t0 = time.monotonic()
        code = procs[0].wait(timeout=100)     # at once when the peer's socket closes; at worst the 60-s collective timeout
        took = time.monotonic() - t0
    finally:
        wait_all(procs, 0)
    log = (tmp_path / "rank0.log").read_text()
    assert code == 3, log[-2000:]
    assert "lost contact with the other training processes" in log and "nothing was saved" in log, log[-2000:]
    assert took < 100
    assert "resumed from" in log and "global batch 16 = 8 per process x 2" in log
    ck = load_checkpoint(out, with_optimizers=True)        # whole, valid, no "module." prefixes
    assert ck.meta["steps"] >= 6 and ck.meta["steps"] % 2 == 0
    assert ck.meta["distributed"]["global_batch"] == 16 and ck.meta["distributed"]["processes"] == 2
    assert ck.meta["command"].startswith("python -m explorer.train") and "&& torchrun --nnodes=1 --nproc_per_node=2" in ck.meta["command"]
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    # and back to one process
    steps = ck.meta["steps"]
    assert main(TINY + ["--steps", str(steps + 1), "--resume", str(out), "--out", str(out)]) == 0
    assert read_metadata(out)["steps"] == steps + 1


# ---------------------------------------------------------------- refused before training
def test_mistakes_are_refused_before_any_process_group(monkeypatch, capsys):
    from explorer.cli.train import main
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "2000")
    monkeypatch.setenv("LOCAL_RANK", "0")
    # 10 000 test pictures < 2000 processes x 8: some processes would have no pictures
    assert main(["--model", "vae", "--dataset", "fashion-mnist", "--split", "test", "--batch-size", "8"]) == 2
    assert "fewer than one global batch (8 per process x 2000 processes = 16000)" in capsys.readouterr().err
    assert main(["--model", "classifier", "--dataset", "digits"]) == 2
    assert "for --model dcgan, stylegan or vae" in capsys.readouterr().err
    for model in ("vae", "stylegan"):
        assert main(["--model", model, "--dataset", "digits", "--sync-bn"]) == 2
        assert f"the {model} model has no BatchNorm" in capsys.readouterr().err
    monkeypatch.delenv("LOCAL_RANK")
    assert main(["--model", "vae", "--dataset", "digits"]) == 2
    assert "LOCAL_RANK not" in capsys.readouterr().err
    for k in ("RANK", "WORLD_SIZE"):
        monkeypatch.delenv(k)
    assert main(["--model", "dcgan", "--dataset", "digits", "--sync-bn"]) == 2
    assert "this is a single process" in capsys.readouterr().err
    assert not torch.distributed.is_initialized()


def test_watchdog_ends_a_stalled_process_and_spares_a_busy_one():
    stalled, said = threading.Event(), []

    def on_stall(message):
        said.append(message)
        stalled.set()
    dog = distributed.Watchdog(0.4, "rank 1", on_stall)
    try:
        end = time.monotonic() + 1.2              # three timeouts of steady progress: quiet
        while time.monotonic() < end:
            dog.beat()
            time.sleep(0.02)
        assert not stalled.is_set()
        assert stalled.wait(5), "the watchdog never fired"
    finally:
        dog.close()
    assert said[0].startswith("rank 1: no training step finished for") and "--ddp-timeout" in said[0]
    assert distributed.lost_contact(RuntimeError("[gloo/transport/tcp/pair.cc:537] Read error: Connection reset by peer"))
    assert distributed.lost_contact(RuntimeError("[unbound_buffer.cc:81] Timed out waiting 300000ms for recv operation"))
    assert not distributed.lost_contact(RuntimeError("mat1 and mat2 shapes cannot be multiplied"))


# ---------------------------------------------------------------- on GPUs (skipped without them)
@cuda
@pytest.mark.slow
def test_one_gpu_under_torchrun_trains_with_nccl_and_the_fast_path(tmp_path):
    out = tmp_path / "g.safetensors"
    procs = start_local(["explorer.train", *TINY, "--device", "cuda", "--steps", "40", "--fast-path", "on",
                         "--out", str(out)], 1, tmp_path)
    codes = wait_all(procs, 300)
    log = (tmp_path / "rank0.log").read_text()
    assert codes == [0], log[-3000:]
    assert "backend nccl" in log and "fast path: CUDA graph\n" in log, log[-3000:]      # captured, not just warming up
    assert load_checkpoint(out).meta["distributed"]["backend"] == "nccl"


@two_gpus
@pytest.mark.slow
def test_two_gpus_end_with_the_weights_of_one(tmp_path):
    procs = start_local(["tests.ddp_worker", str(tmp_path)], 2, tmp_path, env={"DDP_WORKER_DEVICE": "cuda"})
    assert wait_all(procs, 300) == [0, 0], (tmp_path / "rank0.log").read_text()[-3000:]
    for case in EQUIVALENT:
        gap = max_difference(ddp_worker.reference(case, "cuda"), load_rank(tmp_path, case, 0))
        assert gap < 1e-8, f"{case}: 2 GPUs differ from 1 by {gap:.3g}"
