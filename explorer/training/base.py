"""What every trainer shares: step records, the stoppable/resumable step iterator, divergence
checks with an in-memory last-good snapshot, reproducible random streams (the data's and
dropout's, each a generator of the trainer's own: nothing is drawn from the process's global RNG,
which the app's other threads share), and saving.

A trainer is driven by iterating `trainer.run(max_steps)`: each item is a StepRecord. The caller
(CLI progress bar, the UI's background worker) may stop consuming at any time and call `run`
again later to resume; `state_dict()` / `load_state_dict()` carry a run across processes.

Hot-loop rule: records hold 0-d tensors on the training device and nothing calls `.item()` per
step; the only host sync is the finiteness check every `check_every` steps (and at the end of a run).

Data parallelism (explorer/training/distributed.py, under torchrun): `rank` / `world_size` say which
share of each global batch this process trains on, `ddp` holds the DistributedDataParallel wrappers
that training passes run through (`forward_module`), and random numbers for a batch are drawn for the
whole global batch and cut to this process's rows (`own_rows`). One process: rank 0 of 1, no
wrappers, and every step draws exactly what it always drew.

Snapshots: the rollback point is the state last verified finite *on the schedule* (every
`check_every` steps) or taken with `take_snapshot()`. Ending a run and saving check for NaN too,
but do not move it: "Roll back" returns where the user expects, whatever step a run stopped at.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import torch
from torch import nn

from explorer.core.checkpoints import save_checkpoint
from explorer.core.models.dropout import draw_from
from explorer.training.adam import FusedAdam, fused_kernel_available


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite. `trainer.rollback()` restores the last good snapshot."""


@dataclass
class StepRecord:
    step: int                                    # optimisation steps done (generator steps for a GAN)
    values: dict[str, torch.Tensor]              # 0-d tensors on the training device
    elapsed: float                               # seconds since this run() call started
    images_per_s: float                          # real images consumed per second, recent average
    epoch: float = 0.0                           # images seen / dataset size

    def floats(self) -> dict[str, float]:
        """Plain floats (one host sync): call it only when the values are shown or logged."""
        if not self.values:
            return {}
        stacked = torch.stack([v.detach().float() for v in self.values.values()]).cpu().tolist()
        return dict(zip(self.values, stacked))


def make_adam(params, device: torch.device, decoupled_weight_decay: bool = False, **kw):
    """Adam (AdamW with decoupled_weight_decay) on the fused kernel where PyTorch has one (CPU,
    CUDA): one call updates every tensor, measured 20% faster per step than the per-tensor loop on
    the 2-D toy GAN. It is `adam.FusedAdam`, which does not import torch._dynamo (torch.optim's
    optimisers do, seconds before the first step); elsewhere (MPS) torch.optim's own."""
    params = list(params)
    if fused_kernel_available(device) and all(p.is_floating_point() for p in params):
        return FusedAdam(params, decoupled_weight_decay=decoupled_weight_decay, **kw)
    cls = torch.optim.AdamW if decoupled_weight_decay else torch.optim.Adam
    return cls(params, **kw)


class Trainer:
    """Base class; subclasses set self.modules / self.optimizers and implement `_step()`."""

    kind = ""

    def __init__(self, device, seed: int, check_every: int = 50):
        self.device = torch.device(device)
        self.seed = seed
        self.check_every = max(1, check_every)
        self.step = 0
        self.images_seen = 0
        self.dataset_size = 0
        self.gen = torch.Generator(device=self.device).manual_seed(seed)
        self.modules: dict[str, nn.Module] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        # the sum of every watched loss since the last scheduled check: one in-place add per loss, and
        # NaN or infinity in any of them leaves it non-finite (cheaper than an isfinite test per loss)
        self._watched = torch.zeros((), device=self.device)
        # the models' Dropout draws from this stream (core/models/dropout.py), never from the process's
        # global RNG: a run, stopped and resumed or not, is reproducible from its seed, and nothing
        # another thread draws (the app's visitors) comes from it or disturbs it
        self.dropout_gen = torch.Generator(device=self.device).manual_seed(seed + 1)
        self._snapshot: dict | None = None
        self.snapshot_step = 0
        self.zero_grad_to_none = True          # False under the CUDA-graph fast path (static grads)
        self._fast = None                      # fast.FastPath while the fast path is on
        self._fast_reason = "off"
        # data parallelism: set by distributed.wrap_for_ddp under torchrun
        self.rank, self.world_size = 0, 1
        self.ddp: dict[str, nn.Module] = {}    # name -> DistributedDataParallel wrapper of self.modules[name]
        self.any_rank: Callable[[torch.Tensor], torch.Tensor] | None = None   # a flag OR-ed over all processes

    # -- the CUDA-graph fast path (fast.py)
    def use_fast_path(self, on: bool = True) -> str:
        """Ask for the CUDA-graph fast path (or turn it off); returns `fast_path_status`.
        Off CUDA this leaves the trainer eager and says why."""
        from explorer.training.fast import FastPath, unavailable_reason
        if not on:
            self._fast, self._fast_reason = None, "off"
            return self.fast_path_status
        reason = unavailable_reason(self.device)
        if reason:
            self._fast, self._fast_reason = None, f"eager ({reason})"
        elif self._fast is None:
            self._fast = FastPath(self)
        return self.fast_path_status

    @property
    def fast_path_status(self) -> str:
        """"CUDA graph", "CUDA graph (warming up)", or "eager (why)" / "off"."""
        return self._fast.status if self._fast is not None else self._fast_reason

    # -- subclasses implement
    def _step(self) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def before_step(self) -> None:
        """Python-side choices for the next step, made before it runs or is replayed (a captured step
        bakes its Python decisions in): nothing here; a GAN sets its EMA decay and lazy R1 plan."""

    def step_variant(self) -> object:
        """Which form of `_step` the next step takes (the fast path keeps one graph per form)."""
        return None

    def output_modules(self, for_resume: bool = True) -> dict[str, nn.Module]:
        """The modules a checkpoint holds, by name (`for_resume`: also what only resuming needs)."""
        return self.modules

    module_copies: dict[str, str] = {}   # saved module name -> the built module it has the shape of

    # -- data parallelism
    def forward_module(self, name: str) -> nn.Module:
        """The module a training pass whose gradients update `name` runs through: its DDP wrapper
        under torchrun (so backward averages the gradients across processes), else the module."""
        return self.ddp.get(name, self.modules[name])

    def own_rows(self, x: torch.Tensor) -> torch.Tensor:
        """This process's rows of `x`, drawn for the whole global batch: (world*B, ...) -> (B, ...).
        Every process draws the same numbers from the same seeded stream and keeps its share, so a
        step's randomness does not depend on how many processes split the batch."""
        if self.world_size == 1:
            return x
        n = x.shape[0] // self.world_size
        return x[self.rank * n:(self.rank + 1) * n]

    # -- the loop
    def _watch(self, *losses: torch.Tensor) -> None:
        for loss in losses:
            self._watched.add_(loss.detach())

    def raise_if_diverged(self, all_ranks: bool = True) -> None:
        """One host sync: raise TrainingDiverged if any watched loss went NaN/inf since the last
        snapshot. The rollback point does not move. Under torchrun the flag is OR-ed over every
        process (a collective: all of them call this at the same step, and all of them stop
        together); `all_ranks=False` reads this process's flag alone (rank 0 saving)."""
        bad = ~torch.isfinite(self._watched)
        if all_ranks and self.any_rank is not None:
            bad = self.any_rank(bad)
        if bool(bad):
            raise TrainingDiverged(
                f"Training diverged: a loss became NaN or infinite between steps {self.snapshot_step} and {self.step}. "
                f"The last good state (step {self.snapshot_step}) is kept; try a lower learning rate.")

    def check_finite(self) -> None:
        """The scheduled check (every `check_every` steps): raise TrainingDiverged if a loss went
        NaN/inf, else this state is verified good and becomes the rollback point."""
        self.raise_if_diverged()
        self._watched.zero_()                  # verified: the next check sums afresh
        self.take_snapshot()

    def run(self, max_steps: int | None = None, until: Callable[[], bool] | None = None) -> Iterator[StepRecord]:
        """Yield a StepRecord after every step until `max_steps` total steps (None: forever) or `until()`."""
        for m in self.modules.values():
            m.train()
        draw_from(self.modules.values(), self.dropout_gen)
        if self._snapshot is None:
            self.take_snapshot()
        start = last_t = time.perf_counter()
        last_seen, rate = self.images_seen, 0.0
        while (max_steps is None or self.step < max_steps) and not (until and until()):
            values = self.train_step()
            if self.step % self.check_every == 0:
                self.check_finite()
            now = time.perf_counter()
            if now - last_t > 0.5:
                rate = (self.images_seen - last_seen) / (now - last_t)
                last_seen, last_t = self.images_seen, now
            epoch = self.images_seen / self.dataset_size if self.dataset_size else 0.0
            yield StepRecord(self.step, values, now - start, rate, epoch)
        # Still raise on NaN, but snapshot only on the schedule or when asked: a run that ends
        # at an odd step (a stopped iterator, run(15) after take_snapshot() at 10) must not
        # move the point "Roll back" returns to.
        self.raise_if_diverged()

    def train_step(self) -> dict[str, torch.Tensor]:
        sampler = getattr(self, "sample_real", None)
        if hasattr(sampler, "prepare"):        # epoch-order data (shards.py): positioned from images_seen
            sampler.prepare(self.images_seen)
        self.before_step()
        values = self._fast.step() if self._fast is not None else self._step()
        self.step += 1
        return values

    # -- snapshots, state, saving
    def state_dict(self) -> dict:
        """A deep copy of everything needed to continue this run exactly (not views of live tensors)."""
        return _copied({
            "modules": {n: m.state_dict() for n, m in self.modules.items()},
            "optimizers": {n: o.state_dict() for n, o in self.optimizers.items()},
            "step": self.step, "images_seen": self.images_seen, "rng": self.gen.get_state(),
            "dropout_rng": self.dropout_gen.get_state(),
        })

    def load_state_dict(self, state: dict) -> None:
        for n, m in self.modules.items():
            m.load_state_dict(state["modules"][n])
        for n, o in self.optimizers.items():
            if n in state.get("optimizers", {}):
                o.load_state_dict(state["optimizers"][n])
        self.step = state.get("step", self.step)
        self.images_seen = state.get("images_seen", self.images_seen)
        if state.get("rng") is not None:
            self.gen.set_state(state["rng"])
        if state.get("dropout_rng") is not None:
            self.dropout_gen.set_state(state["dropout_rng"])
        self._watched.zero_()
        if self._fast is not None:
            self._fast.invalidate()   # the optimisers' state tensors were replaced

    def take_snapshot(self) -> None:
        self._snapshot = self.state_dict()
        self.snapshot_step = self.step

    def rollback(self) -> int:
        """Restore the last good snapshot; returns its step."""
        if self._snapshot is not None:
            self.load_state_dict(copy.deepcopy(self._snapshot))
        return self.step

    def save(self, path: str | Path, meta: dict, with_optimizers: bool = True) -> Path:
        """Checkpoint the current state after checking it is finite (never a diverged one); the
        rollback point stays where the schedule or `take_snapshot()` put it."""
        self.raise_if_diverged(all_ranks=False)     # rank 0 saves alone: no collective here
        meta = dict(meta, steps=self.step, images_seen=self.images_seen, seed=self.seed)
        modules = self.output_modules(for_resume=with_optimizers)
        copies = {n: of for n, of in self.module_copies.items() if n in modules}
        meta = dict(meta, module_copies=copies) if copies else {k: v for k, v in meta.items() if k != "module_copies"}
        return save_checkpoint(path, self.kind, modules, meta, self.optimizers if with_optimizers else None,
                               self.random_state() if with_optimizers else None)

    def random_state(self) -> dict[str, torch.Tensor]:
        """The random streams a resumed run continues exactly: the trainer's generator and the dropout stream."""
        return {"rng": self.gen.get_state(), "dropout_rng": self.dropout_gen.get_state()}

    def restore(self, modules_state: dict[str, nn.Module], optim_state: dict[str, dict], step: int, images_seen: int = 0,
                random_state: dict[str, torch.Tensor] | None = None) -> None:
        """Resume from a loaded checkpoint's modules, optimiser state and (where the file holds them,
        saved on the same kind of device) random streams: then the run goes on exactly as if it had
        never stopped. Otherwise it continues with a fresh stream seeded from its seed and step."""
        for n, m in self.modules.items():
            m.load_state_dict(modules_state[n].state_dict())
        for n, o in self.optimizers.items():
            if n in optim_state:
                o.load_state_dict(optim_state[n])
        if self._fast is not None:
            self._fast.invalidate()
        self.step, self.images_seen = step, images_seen
        rng, dropout = (random_state or {}).get("rng"), (random_state or {}).get("dropout_rng")
        if rng is not None and rng.shape == self.gen.get_state().shape:     # CPU and CUDA states differ in size
            self.gen.set_state(rng.to(torch.uint8).cpu())
        else:
            self.gen.manual_seed(self.seed + step)
        if dropout is not None and dropout.shape == self.dropout_gen.get_state().shape:
            self.dropout_gen.set_state(dropout.to(torch.uint8).cpu())
        self.take_snapshot()


def _copied(tree):
    """A deep copy of nested dicts, lists and tuples of tensors and plain values: tensors cloned, the
    rest copied. The snapshot every `check_every` steps: copy.deepcopy's Python per tensor cost the
    2-D game (Train tab, a snapshot every 25 steps of about a millisecond) 4 % of its speed."""
    if isinstance(tree, torch.Tensor):
        return tree.detach().clone()
    if isinstance(tree, dict):
        return {k: _copied(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_copied(v) for v in tree)
    return copy.deepcopy(tree)

