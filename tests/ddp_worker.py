"""One process of the data-parallel equivalence test (tests/test_ddp.py), started the way torchrun
starts its workers (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT in the environment):

    python -m tests.ddp_worker OUT_DIR

For each case in CASES it trains a tiny model on its share of the global batch, wrapped in DDP
exactly as the command line does (explorer.training.distributed), then writes its final weights
and buffers and the data indices it drew in the first epoch to OUT_DIR/<case>-rank<r>.safetensors.
`reference()` trains the same case in one plain process (no DDP, no process group) on the whole
global batch, in the same data order: what the test compares against.

Everything runs in float64. GAN training amplifies rounding (the adversarial game, and Adam
dividing each gradient by its own running size, so a gradient near zero whose last bits differ
moves its weight by up to the learning rate): in float32 the conditional DCGAN's two equivalent
runs were 3e-4 apart after six steps, not far from the per-process BatchNorm control's 3e-3. In
float64 the equivalent runs agree to ~1e-15 and the control stands out by twelve orders of
magnitude. DDP_WORKER_DEVICE=cuda runs it on the GPUs (NCCL, PyTorch's SyncBatchNorm). The pictures are random (seeded) bytes: what they show does not
matter here, and nothing slow (scikit-learn) has to be imported.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import torch

from explorer.training import GANTrainConfig, StyleGANTrainConfig, VAETrainConfig, distributed, make_trainer
from explorer.training.shards import EpochShards

TINY_DCGAN = {"width": 8, "d_width": 8, "latent_dim": 8, "image_size": 8}
TINY_VAE = {"width": 8, "hidden": 32, "latent_dim": 4, "image_size": 8}
TINY_STYLEGAN = {"latent_dim": 8, "w_dim": 8, "mapping_layers": 2, "channel_base": 64, "channel_max": 8, "image_size": 8}
# R1 every other step (steps 0, 2, 4 take it), style mixing; R1's weight and the EMA's half-life given,
# as the command line gives them from the global batch (their defaults follow the batch given)
STYLEGAN_TRAINING = {"r1_every": 2, "r1_gamma": 0.5, "ema_half_life": 64.0, "mixing": 0.9}
PICTURES = 176          # 5 global batches of 32 per epoch, 16 pictures left over (a different 16 each epoch)
GLOBAL_BATCH = 32
STEPS = 6               # into the second epoch

# name -> (kind, model config, train config kwargs, --sync-bn). Dropout off: each process draws its
# own dropout masks, so with dropout a run matches one process in distribution only.
CASES = {
    "dcgan": ("dcgan", dict(TINY_DCGAN, d_dropout=0.0), {}, True),
    "dcgan_conditional": ("dcgan", dict(TINY_DCGAN, d_dropout=0.0, num_classes=10), {}, True),
    "dcgan_wgan_gp": ("dcgan", dict(TINY_DCGAN, d_dropout=0.0, d_norm="layer"), {"loss": "wgan-gp", "k": 2}, True),
    # the long-run recipe: G's EMA (each process's copy the same) and lazy R1 (D without BatchNorm: the
    # penalty of a BatchNorm D couples each process's pictures only with its own share)
    "dcgan_ema_r1": ("dcgan", dict(TINY_DCGAN, d_dropout=0.0, d_norm="layer"),
                     {"ema_half_life": 64, "r1_gamma": 1.0, "r1_every": 2}, True),
    "vae": ("vae", dict(TINY_VAE, dropout=0.0), {}, False),
    "vae_conditional": ("vae", dict(TINY_VAE, dropout=0.0, num_classes=10), {}, False),
    "stylegan": ("stylegan", TINY_STYLEGAN, STYLEGAN_TRAINING, False),
    "stylegan_conditional": ("stylegan", dict(TINY_STYLEGAN, num_classes=10), STYLEGAN_TRAINING, False),
    # the negative control: BatchNorm per process (no --sync-bn) is NOT one process's BatchNorm
    "dcgan_per_process_bn": ("dcgan", dict(TINY_DCGAN, d_dropout=0.0), {}, False),
}


DEVICE = os.environ.get("DDP_WORKER_DEVICE", "cpu")


class Float64Shards(EpochShards):
    def take(self, idx: torch.Tensor) -> torch.Tensor:
        return super().take(idx).double()


def build(case: str, rank: int, world_size: int, device: str = "cpu"):
    """(trainer, sampler) of `case` for process `rank` of `world_size`, batch GLOBAL_BATCH / world_size.
    Call with float64 as the default dtype (`float64()`)."""
    kind, model_cfg, train_kw, _ = CASES[case]
    g = torch.Generator().manual_seed(11)
    images = torch.randint(0, 256, (PICTURES, 1, 8, 8), dtype=torch.uint8, generator=g)
    labels = torch.randint(0, 10, (PICTURES,), generator=g)
    batch = GLOBAL_BATCH // world_size
    value_range = (0.0, 1.0) if kind == "vae" else (-1.0, 1.0)
    sampler = Float64Shards(images, device, value_range, labels, batch=batch, rank=rank, world_size=world_size, seed=7)
    config = {"dcgan": GANTrainConfig, "stylegan": StyleGANTrainConfig}.get(kind)
    cfg = config(batch_size=batch, seed=7, **train_kw) if config else VAETrainConfig(batch_size=batch, seed=7)
    return make_trainer(kind, model_cfg, cfg, sampler, device, check_every=2), sampler


def record_indices(sampler: EpochShards) -> list[torch.Tensor]:
    """Keep a copy of every index batch `sampler` hands out."""
    drawn: list[torch.Tensor] = []
    take = sampler.indices

    def logged(batch, generator=None):
        idx = take(batch, generator)
        drawn.append(idx.clone())
        return idx
    sampler.indices = logged
    return drawn


def state(trainer) -> dict[str, torch.Tensor]:
    """What a checkpoint would hold (a GAN with an EMA: the average, the live G and D)."""
    return {f"{n}.{k}": v.detach().cpu().clone() for n, m in trainer.output_modules().items()
            for k, v in m.state_dict().items()}


class float64:
    """Float64 as the default dtype inside the block (models built, noise drawn), then back."""

    def __enter__(self):
        self.before = torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)

    def __exit__(self, *exc):
        torch.set_default_dtype(self.before)


def reference(case: str, device: str = "cpu") -> dict[str, torch.Tensor]:
    """The case trained in one plain process on the global batch."""
    with float64():
        trainer, _ = build(case, 0, 1, device)
        for _ in trainer.run(STEPS):
            pass
        return state(trainer)


def main(out_dir: str) -> int:
    from safetensors.torch import save_file
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    launch = distributed.from_environment()
    device = distributed.device_for(launch, torch.device(DEVICE))
    distributed.start(launch, device, timeout_s=60)
    for case in CASES:
        trainer, sampler = build(case, launch.rank, launch.world_size, device)
        drawn = record_indices(sampler)
        distributed.wrap_for_ddp(trainer, launch, sync_bn=CASES[case][3])
        for _ in trainer.run(STEPS):
            pass
        distributed.average_buffers(trainer.output_modules())
        first_epoch = torch.cat(drawn[:sampler.batches_per_epoch]).cpu()
        save_file(dict(state(trainer), first_epoch_indices=first_epoch),
                  str(Path(out_dir) / f"{case}-rank{launch.rank}.safetensors"))
    distributed.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
