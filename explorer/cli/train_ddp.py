"""The command line's side of data-parallel training (`torchrun ... -m explorer.train`).

`DataParallel.from_args()` is None for a plain run, which then trains exactly as before. Under
torchrun it checks the settings, picks this process's device and data share, joins the process
group, wraps the trainer in DDP, and gives the training loop the few collectives it needs at the
same steps in every process: the loss figures it logs (averaged over processes), and before rank 0
writes a sample grid or a checkpoint, a divergence vote and the BatchNorm running statistics
averaged over processes. Rank 0 alone prints and writes (explorer/cli/train.py asks `is_main`).
"""
from __future__ import annotations

import shlex

import torch

from explorer.core.validation import UserError
from explorer.training import distributed
from explorer.training.fast import unavailable_reason
from explorer.training.shards import EpochShards

DDP_MODELS = ("dcgan", "stylegan", "vae")
NO_BATCHNORM = ("stylegan", "vae")


def check_plain_args(args) -> None:
    """Settings that only mean something under torchrun, refused in a plain run."""
    if args.sync_bn:
        raise UserError("--sync-bn synchronises BatchNorm across the processes torchrun starts; this is a "
                        "single process (start it with torchrun --nproc_per_node=N -m explorer.train ...).")


class DataParallel:
    """One process of a torchrun launch, as the training command line sees it."""

    def __init__(self, launch: distributed.Launch, args):
        if args.model not in DDP_MODELS:
            raise UserError(f"Data-parallel training (torchrun) is for --model dcgan, stylegan or vae, not {args.model}; "
                            f"train a {args.model} in one process.")
        if args.sync_bn and args.model in NO_BATCHNORM:
            raise UserError(f"--sync-bn: the {args.model} model has no BatchNorm layers, so there is nothing to synchronise.")
        self.launch, self.args = launch, args
        self.backend = ""
        self.graphs = False
        self.fast_status = "off"
        self.synchronised = 0
        self.watchdog: distributed.Watchdog | None = None

    @classmethod
    def from_args(cls, args) -> "DataParallel | None":
        launch = distributed.from_environment()
        if launch is None:
            check_plain_args(args)
            return None
        return cls(launch, args)

    @property
    def is_main(self) -> bool:
        return self.launch.is_main

    def device(self, device: torch.device) -> torch.device:
        return distributed.device_for(self.launch, device)

    def command(self, argv) -> str:
        """The command line as the checkpoint records it: the torchrun launch it came from."""
        L = self.launch
        return (f"torchrun --nnodes={L.nodes} --nproc_per_node={L.local_world_size} -m explorer.train "
                + shlex.join(argv))

    def sampler(self, images, device, value_range, labels) -> EpochShards:
        return EpochShards(images, device, value_range, labels, batch=self.args.batch_size,
                           rank=self.launch.rank, world_size=self.launch.world_size, seed=self.args.seed)

    def begin(self, trainer, sampler: EpochShards) -> None:
        """Join the process group and wrap `trainer` (after any --resume: every process starts alike)."""
        sampler.check_step(getattr(trainer.cfg, "k", 1))
        device = trainer.device
        why_not = None
        if self.args.fast_path == "on":
            why_not = unavailable_reason(device) or distributed.graphs_unavailable(device)
            self.graphs = why_not is None
        self.backend = distributed.start(self.launch, device, self.args.ddp_timeout, self.graphs)
        self.synchronised = distributed.wrap_for_ddp(trainer, self.launch, self.args.sync_bn, self.graphs)
        if self.graphs:
            self.fast_status = trainer.use_fast_path()
        elif self.args.fast_path == "on":
            self.fast_status = f"eager ({why_not})"
        elif self.args.fast_path == "auto" and device.type == "cuda":
            self.fast_status = "eager (under torchrun the CUDA-graph fast path is opt-in: --fast-path on)"
        else:
            self.fast_status = trainer.use_fast_path() if self.args.fast_path == "auto" else "off"
        self.watchdog = distributed.Watchdog(self.args.ddp_timeout * 1.1 + 10, f"rank {self.launch.rank}")

    def describe(self, trainer) -> list[str]:
        """What rank 0 prints before training: processes, backend, global batch, learning rate, BatchNorm."""
        L, a = self.launch, self.args
        lr = self.learning_rates(trainer)
        bn = ("no BatchNorm layers" if a.model in NO_BATCHNORM else
              f"synchronised over the global batch ({self.synchronised} layers, --sync-bn)" if a.sync_bn else
              f"per-process statistics over {a.batch_size} pictures (--sync-bn: over the global batch)")
        return [
            f"data-parallel: {L.world_size} processes on {L.nodes} machine(s), backend {self.backend}, "
            f"this process on {trainer.device}",
            f"global batch {a.batch_size * L.world_size} = {a.batch_size} per process x {L.world_size}; learning rate "
            + ", ".join(f"{k} {v:g}" for k, v in lr.items()) + " (as given: not scaled with the number of processes)",
            f"BatchNorm: {bn}",
            f"fast path: {self.fast_status}",
        ]

    @staticmethod
    def learning_rates(trainer) -> dict[str, float]:
        cfg = trainer.cfg
        return {"generator": cfg.lr_g, "discriminator": cfg.lr_d} if hasattr(cfg, "lr_g") else {"vae": cfg.lr}

    def meta(self, trainer) -> dict:
        """The checkpoint's `distributed` record."""
        L, a = self.launch, self.args
        return {"processes": L.world_size, "machines": L.nodes, "backend": self.backend,
                "batch_per_process": a.batch_size, "global_batch": a.batch_size * L.world_size,
                "learning_rate": self.learning_rates(trainer), "sync_batchnorm": bool(a.sync_bn),
                "data_order": "a seeded permutation per epoch, each global batch shared out by rank",
                "fast_path": self.fast_status}

    # -- collectives, called by every process at the same steps
    def step_done(self) -> None:
        self.watchdog.beat()

    def logged_values(self, values: dict) -> dict:
        return distributed.mean_over_processes(values)

    def before_output(self, trainer) -> None:
        """Before rank 0 writes a grid or a checkpoint: stop every process if any diverged, and
        average the BatchNorm running statistics (the saved model's) over the processes."""
        trainer.raise_if_diverged()
        distributed.average_buffers(trainer.output_modules())   # a GAN's EMA as well

    def lost_contact_message(self, exc: BaseException, step: int, out) -> str | None:
        """The message for a failed collective (another process gone), or None if `exc` is something else."""
        if not distributed.lost_contact(exc):
            return None
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        kept = f" The last complete checkpoint is {out}." if out is not None and out.exists() else ""
        return (f"rank {self.launch.rank}: lost contact with the other training processes after step {step} "
                f"({first}). Another process has probably stopped; training stopped too and nothing was saved "
                f"for the unfinished step.{kept}")

    def end(self, ok: bool) -> None:
        """Stop the watchdog; leave the process group after a normal end (after a failure the group
        may be broken: the process just exits)."""
        if self.watchdog is not None:
            self.watchdog.close()
        if ok:
            distributed.stop()
