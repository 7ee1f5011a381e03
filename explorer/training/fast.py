"""The CUDA fast path: a trainer's whole step captured once as a CUDA graph and replayed.

One replay runs everything `trainer._step()` does (for a GAN: data sampling, k discriminator
forward/backward passes and Adam steps, the generator's forward/backward pass and Adam step, the
finiteness watch) as one graph launch, with no Python or kernel-launch overhead per op and no host
sync. It works because the step already keeps its data on the device (ImageSampler), draws all
its randomness from device generators, and reads no value back to the host.

What capture needs, and where it is arranged:
- gradients zeroed in place, not set to None (`Trainer.zero_grad_to_none = False`), so every
  backward pass writes to the same addresses on every replay;
- Adam with `capturable=True` (fused where PyTorch has it): its step counter lives on the device;
- the trainer's own generators (data, dropout) registered with the graph, so each replay draws
  fresh numbers;
- a few eager warm-up steps on a side stream first (optimizer state, cuDNN autotuning);
- the step's outputs gathered into one static vector that is cloned after each replay, so step
  records never alias each other.

A step whose Python decides differently (a GAN's lazy R1 penalty: every r1_every-th D step has a
second backward pass through D) is a different graph: the fast path keeps one graph per form of the
step (`trainer.step_variant()`), each warmed up and captured the first times it comes. The choice:
R1 on every step (not lazy, weighted gamma / 2) would keep one graph but pay the double backward pass
on every step (about as much again as D's own step); R1 steps run eagerly would pay Python and launch
overhead on every 16th step (an eager step costs about five replays); two graphs cost one more
capture and a second memory pool, small for these models, and every step stays a replay.
The EMA of G's weights is in the graph too: its in-place update reads its weight from a device
tensor that `trainer.before_step()` fills before each replay.

Anything that changes tensors the graph has baked in (loading a state dict: a rollback after a
divergence, a resume) drops the graph; the next step re-captures. When capture is impossible the
trainer goes on eagerly and says why (`Trainer.fast_path_status`). Never used on CPU or MPS.

Under torchrun (DDP) the graph holds DDP's gradient all-reduces as well; that takes NCCL >= 2.9.6,
DDP built on a side stream, NCCL's asynchronous error handling off (distributed.py arranges those)
and DDP_WARMUP_STEPS eager steps before the capture. It is opt-in there (`--fast-path on`).
"""
from __future__ import annotations

import torch

WARMUP_STEPS = 3
DDP_WARMUP_STEPS = 11    # DDP needs 11 eager steps before its all-reduces can be captured (PyTorch's CUDA-graph notes)


def unavailable_reason(device: torch.device) -> str | None:
    """Why the fast path cannot run on `device`, or None when it can."""
    if device.type != "cuda":
        return f"CUDA graphs need a CUDA device; this run is on {device.type}"
    if not torch.cuda.is_available():
        return "this PyTorch sees no CUDA GPU"
    if not hasattr(torch.cuda, "CUDAGraph"):
        return "this PyTorch has no CUDA graph support"
    return None


def make_capturable(optimizers) -> None:
    """Flip Adam to its capturable form (step counters on the device); loading a state dict resets it."""
    for opt in optimizers:
        for group in opt.param_groups:
            group["capturable"] = True
            for p in group["params"]:
                st = opt.state.get(p)
                if st and torch.is_tensor(st.get("step")) and st["step"].device != p.device:
                    st["step"] = st["step"].to(p.device)


class GraphedStep:
    """A captured `trainer._step()`; call it to replay one whole step. Build it through the trainer."""

    def __init__(self, trainer):
        self.trainer = trainer
        self.graph = torch.cuda.CUDAGraph()
        if hasattr(self.graph, "register_generator_state"):
            for gen in (trainer.gen, trainer.dropout_gen):      # the data's stream and dropout's
                self.graph.register_generator_state(gen)
        seen, step = trainer.images_seen, trainer.step
        # thread_local: the app keeps decoding for other visitors in other threads during a capture
        with torch.cuda.graph(self.graph, capture_error_mode="thread_local"):
            values = trainer._step()
            self.names = list(values)
            self.out = torch.stack([v.detach().float().reshape(()) for v in values.values()])
        self.images_per_step = trainer.images_seen - seen   # Python-side counters ran once, during capture
        trainer.images_seen, trainer.step = seen, step

    def __call__(self) -> dict[str, torch.Tensor]:
        self.graph.replay()
        self.trainer.images_seen += self.images_per_step
        values = self.out.clone()                        # one small device copy, no sync
        return dict(zip(self.names, values.unbind()))


class FastPath:
    """The trainer's fast-path state machine: warm-up steps on a side stream, capture, replays."""

    def __init__(self, trainer):
        self.trainer = trainer
        self.graphs: dict[object, GraphedStep] = {}     # one per form of the step (trainer.step_variant())
        self.warm: dict[object, int] = {}
        self.failed: str | None = None
        self.stream = torch.cuda.Stream(device=trainer.device)
        torch.backends.cudnn.benchmark = True           # fixed shapes: autotune once, in warm-up
        trainer.zero_grad_to_none = False

    @property
    def graph(self) -> GraphedStep | None:
        """The first captured graph (None while warming up)."""
        return next(iter(self.graphs.values()), None)

    @property
    def status(self) -> str:
        if self.failed:
            return f"eager (CUDA graph capture failed: {self.failed})"
        return "CUDA graph" if self.graphs else "CUDA graph (warming up)"

    def invalidate(self) -> None:
        """Tensors the graphs point at were replaced (a state dict was loaded): capture again."""
        self.graphs, self.warm = {}, {}

    def step(self) -> dict[str, torch.Tensor]:
        t = self.trainer
        if self.failed:
            return t._step()
        variant = t.step_variant()
        if variant in self.graphs:
            return self.graphs[variant]()
        make_capturable(t.optimizers.values())
        if self.warm.get(variant, 0) < (DDP_WARMUP_STEPS if t.ddp else WARMUP_STEPS):
            self.stream.wait_stream(torch.cuda.current_stream(t.device))
            with torch.cuda.stream(self.stream):
                values = t._step()
            torch.cuda.current_stream(t.device).wait_stream(self.stream)
            self.warm[variant] = self.warm.get(variant, 0) + 1
            return values
        seen, step = t.images_seen, t.step
        try:
            self.graphs[variant] = GraphedStep(t)
        except Exception as exc:   # noqa: BLE001 - any capture failure means: go on eagerly
            t.images_seen, t.step = seen, step
            self.failed = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
            for m in t.modules.values():
                for p in m.parameters():
                    p.requires_grad_(True)
            torch.cuda.synchronize(t.device)
            return t._step()
        return self.graphs[variant]()
