"""Data-parallel training under torchrun: one process per GPU (or CPU share), DistributedDataParallel.

`torchrun --nproc_per_node=N -m explorer.train ...` starts N copies of the command line with
RANK, WORLD_SIZE and LOCAL_RANK (and MASTER_ADDR/PORT) in their environment; `from_environment()`
reads them (None: a plain single-process run, untouched). Then, in each process:

- `start()` joins the process group: NCCL on CUDA (one GPU per process, cuda:LOCAL_RANK), gloo on
  the CPU, with a timeout so a collective whose partner is gone fails instead of waiting forever;
- the data comes from `shards.EpochShards` (each process its own share of every global batch);
- `wrap_for_ddp()` wraps each trained module in DDP (gradients averaged over processes in the
  backward pass), optionally swaps BatchNorm for its synchronised form (sync_bn.py), gives each
  process its own dropout stream and makes the divergence check a vote of all processes;
- rank 0 alone prints, writes sample grids and checkpoints (the CLI's job); the saved modules are
  the plain ones, so a checkpoint has no `module.` prefixes and loads anywhere.

Failure: a process that dies (kill -9, out of memory) closes its connections, and the others'
next collective raises (gloo at once; NCCL by its watchdog within the timeout); `Watchdog` is the
last line, for a process stuck outside any collective or with NCCL's error handling off.
"""
from __future__ import annotations

import datetime
import inspect
import os
import sys
import gc
import threading
import time
from dataclasses import dataclass
from typing import Callable

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from explorer.core.validation import UserError
from explorer.training.sync_bn import synchronise_batchnorm

ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK")
# buffers are averaged before saving, not broadcast from rank 0 before every forward pass (PyTorch
# 2.13 renamed the switch)
NO_BUFFER_SYNC = ({"forward_sync_buffers": False}
                  if "forward_sync_buffers" in inspect.signature(DistributedDataParallel.__init__).parameters
                  else {"broadcast_buffers": False})
DEFAULT_TIMEOUT_S = 300
JOIN_TIMEOUT_S = 20          # without torchrun: how long the processes wait for each other to start
HOW_TO_START = ("Start data-parallel training with torchrun (e.g. torchrun --nproc_per_node=2 -m explorer.train ...), "
                "or unset RANK, WORLD_SIZE and LOCAL_RANK to train in one process.")
# CUDA graphs can capture DDP's all-reduces from NCCL 2.9.6 on (PyTorch's CUDA-graph notes, "Usage
# with DistributedDataParallel"; the 11 eager warm-up steps they ask for are fast.DDP_WARMUP_STEPS)
GRAPH_NCCL = (2, 9, 6)


@dataclass(frozen=True)
class Launch:
    """Where this process sits in a torchrun launch."""
    rank: int                   # 0 .. world_size-1 over all machines
    world_size: int             # processes in all
    local_rank: int             # index on this machine (picks the GPU)
    local_world_size: int       # processes on this machine

    @property
    def nodes(self) -> int:
        return max(1, self.world_size // max(1, self.local_world_size))

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def _env_int(name: str, env) -> int:
    try:
        return int(env[name])
    except ValueError:
        raise UserError(f"The environment variable {name} must be a whole number, got {env[name]!r}.") from None


def from_environment(env=None) -> Launch | None:
    """The torchrun launch this process belongs to, or None for a plain run (none of RANK,
    WORLD_SIZE, LOCAL_RANK set). UserError for a partial or inconsistent set."""
    env = os.environ if env is None else env
    present = [k for k in ENV if k in env]
    if not present:
        return None
    if len(present) < len(ENV):
        missing = ", ".join(k for k in ENV if k not in env)
        raise UserError(f"{', '.join(present)} set but {missing} not: start data-parallel training with torchrun "
                        f"(e.g. torchrun --nproc_per_node=2 -m explorer.train ...), or unset them for one process.")
    rank, world, local = (_env_int(k, env) for k in ENV)
    local_world = _env_int("LOCAL_WORLD_SIZE", env) if "LOCAL_WORLD_SIZE" in env else world
    if world < 1 or not 0 <= rank < world or not 0 <= local < local_world:
        raise UserError(f"Inconsistent torchrun environment: RANK={rank}, WORLD_SIZE={world}, LOCAL_RANK={local}, "
                        f"LOCAL_WORLD_SIZE={local_world}.")
    return Launch(rank, world, local, local_world)


def device_for(launch: Launch, device: torch.device) -> torch.device:
    """This process's device: cuda:LOCAL_RANK on CUDA (one GPU per process; with one process per
    machine, --device cuda:N picks the GPU), else `device`."""
    if device.type == "cuda":
        if device.index is not None:
            if launch.local_world_size > 1:
                raise UserError(f"--device {device}: under torchrun each process takes cuda:LOCAL_RANK; give --device cuda.")
            return device
        count = torch.cuda.device_count()
        if launch.local_rank >= count:
            raise UserError(f"torchrun started {launch.local_world_size} processes on this machine but it has "
                            f"{count} GPU(s): use --nproc_per_node={count} or fewer.")
        return torch.device("cuda", launch.local_rank)
    if device.type != "cpu":
        raise UserError(f"Data-parallel training runs on CUDA GPUs (NCCL) or on the CPU (gloo), not on {device.type}.")
    return device


def backend_for(device: torch.device) -> str:
    return "nccl" if device.type == "cuda" else "gloo"


def start(launch: Launch, device: torch.device, timeout_s: float = DEFAULT_TIMEOUT_S,
          graphs: bool = False) -> str:
    """Join the process group (MASTER_ADDR/PORT from torchrun; without torchrun the processes wait at most
    JOIN_TIMEOUT_S for each other, `_join`); returns the backend's name.
    `graphs`: the CUDA-graph fast path will capture DDP's all-reduces, which needs NCCL's
    asynchronous error handling off (the Watchdog then bounds a hang instead)."""
    backend = backend_for(device)
    kw = {}
    if backend == "nccl":
        torch.cuda.set_device(device)
        kw["device_id"] = device
        if graphs:
            os.environ["TORCH_NCCL_ASYNC_ERROR_HANDLING"] = "0"
    if "TORCHELASTIC_RUN_ID" not in os.environ:     # not torchrun's: its peers may not exist at all
        _STORES.append(_join(launch, timeout_s))
        kw.update(store=_STORES[-1], rank=launch.rank, world_size=launch.world_size)
    dist.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout_s), **kw)
    if dist.get_world_size() != launch.world_size or dist.get_rank() != launch.rank:
        raise RuntimeError(f"process group is rank {dist.get_rank()} of {dist.get_world_size()}, "
                           f"the environment said {launch.rank} of {launch.world_size}")
    return backend


_STORES: list = []          # the store of a launch torchrun did not start, closed by `stop`


def _join(launch: Launch, timeout_s: float, join_s: float | None = None):
    """The rendezvous of a launch torchrun did not start (RANK, WORLD_SIZE... set by hand or by another
    launcher): rank 0 waits at most `join_s` (JOIN_TIMEOUT_S) for the others, the others as long for
    rank 0, and a UserError says what is missing, instead of a DistStoreError after --ddp-timeout.
    (Under torchrun every process of the launch was started by its agents: env:// as usual.)"""
    join_s = JOIN_TIMEOUT_S if join_s is None else join_s
    addr, port = os.environ.get("MASTER_ADDR"), os.environ.get("MASTER_PORT")
    if not addr or not port:
        raise UserError(f"RANK, WORLD_SIZE and LOCAL_RANK are set but {'MASTER_ADDR' if not addr else 'MASTER_PORT'} is "
                        f"not: {HOW_TO_START}")
    port = _env_int("MASTER_PORT", os.environ)
    others = launch.world_size - 1
    try:
        store = dist.TCPStore(addr, port, launch.world_size, is_master=launch.rank == 0,
                              timeout=datetime.timedelta(seconds=join_s), wait_for_workers=True, multi_tenant=True)
    except (RuntimeError, ValueError, OSError) as exc:     # DistStoreError, DistNetworkError: RuntimeErrors
        who = (f"waited {join_s:g} s for the other {others} process{'es' if others > 1 else ''} of this launch "
               f"(WORLD_SIZE={launch.world_size}) at {addr}:{port}, and {'they' if others > 1 else 'it'} did not come"
               if launch.rank == 0 else f"could not reach rank 0 at {addr}:{port} within {join_s:g} s")
        raise UserError(f"{who[0].upper()}{who[1:]} ({str(exc).splitlines()[0][:120]}). {HOW_TO_START}") from None
    store.set_timeout(datetime.timedelta(seconds=timeout_s))
    return store


def graphs_unavailable(device: torch.device) -> str | None:
    """Why the CUDA-graph fast path cannot capture DDP here, or None when it may."""
    if device.type != "cuda":
        return None                             # fast.py says why (no CUDA device)
    version = torch.cuda.nccl.version() if hasattr(torch.cuda, "nccl") else ()
    if tuple(version) < GRAPH_NCCL:
        return f"CUDA graphs with DDP need NCCL >= {'.'.join(map(str, GRAPH_NCCL))}, this PyTorch has {version or 'none'}"
    return None


def wrap_for_ddp(trainer, launch: Launch, sync_bn: bool = False, graphs: bool = False) -> int:
    """Make `trainer` one process of a data-parallel run; returns how many BatchNorm layers were
    synchronised. Call after `restore` (so every process starts from the same state) and before
    the first step. DDP broadcasts rank 0's weights, so all processes start identical."""
    device = trainer.device
    swapped = sum(synchronise_batchnorm(m, device) for m in trainer.modules.values()) if sync_bn else 0
    trainer.rank, trainer.world_size = launch.rank, launch.world_size
    # buffers (BatchNorm running statistics) are averaged over processes before saving and
    # sampling (average_buffers), not broadcast from rank 0 before every forward pass
    kw = dict(device_ids=[device.index] if device.type == "cuda" else None, **NO_BUFFER_SYNC)
    side = torch.cuda.Stream(device) if graphs and device.type == "cuda" else None
    for name, module in trainer.modules.items():
        if any(p.requires_grad for p in module.parameters()):
            if side is not None:                # capture needs DDP built on a side stream
                with torch.cuda.stream(side):
                    trainer.ddp[name] = DistributedDataParallel(module, **kw)
                torch.cuda.current_stream(device).wait_stream(side)
            else:
                trainer.ddp[name] = DistributedDataParallel(module, **kw)
    # dropout masks: each process its own stream (rank 0 keeps the one-process stream)
    trainer.dropout_gen.manual_seed(trainer.seed + 1 + launch.rank)
    trainer.any_rank = any_rank
    return swapped


def any_rank(flag: torch.Tensor) -> torch.Tensor:
    """`flag` (0-d bool) OR-ed over all processes; a collective."""
    t = flag.to(torch.int32).reshape(1)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return t[0].bool()


def average_buffers(modules: dict[str, nn.Module]) -> None:
    """Average every floating-point buffer (BatchNorm running mean and variance) over the processes,
    in place; a collective. The running mean, an exponential average of batch means, becomes that of
    the global batches' means; with --sync-bn the buffers already agree and this changes nothing."""
    world = dist.get_world_size()
    for m in modules.values():
        for b in m.buffers():
            if b.is_floating_point():
                dist.all_reduce(b)
                b.div_(world)


def mean_over_processes(values: dict[str, torch.Tensor]) -> dict[str, float]:
    """Step values (0-d tensors: losses, D(x)) averaged over the processes, as floats (one host
    sync), so the log shows the global batch's figures, not rank 0's share; a collective."""
    if not values:
        return {}
    stacked = torch.stack([v.detach().float().reshape(()) for v in values.values()])
    dist.all_reduce(stacked)
    return dict(zip(values, (stacked / dist.get_world_size()).cpu().tolist()))


def lost_contact(exc: BaseException) -> bool:
    """Whether `exc` says another process is gone (a failed or timed-out collective), not a bug here."""
    if isinstance(exc, getattr(dist, "DistError", ())):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and any(
        s in text for s in ("gloo", "nccl", "connection reset", "connection closed", "broken pipe", "timed out", "timeout"))


def stop() -> None:
    """Leave the process group after a run that ended normally, and close the store `start` made (rank 0's
    serves the others from a thread of its own: left to Python's shutdown, its destructor can run while
    that thread does, and the process aborts, "terminate called without an active exception")."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
    _STORES.clear()
    gc.collect()


class Watchdog:
    """Ends this process when training makes no progress for `timeout_s` seconds (no `beat()`):
    the last resort when another process vanished without the collectives noticing. `on_stall`
    (default: print the message and os._exit(3)) gets the message; nothing is saved, so no
    checkpoint can be half-written by it (saving is atomic besides)."""

    def __init__(self, timeout_s: float, what: str, on_stall: Callable[[str], None] | None = None):
        self.timeout_s, self.what = timeout_s, what
        self.on_stall = on_stall or _exit_stalled
        self._last = time.monotonic()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="ddp-watchdog", daemon=True)
        self._thread.start()

    def beat(self) -> None:
        self._last = time.monotonic()

    def close(self) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._done.wait(min(1.0, self.timeout_s / 4)):
            idle = time.monotonic() - self._last
            if idle > self.timeout_s:
                self.on_stall(f"{self.what}: no training step finished for {idle:.0f} s (limit {self.timeout_s:g} s, "
                              f"--ddp-timeout); another process has probably stopped. Stopping; no checkpoint was "
                              f"written for the unfinished step.")
                return


def _exit_stalled(message: str) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)
    os._exit(3)
