"""Adam and AdamW on PyTorch's fused kernel, without `torch.optim.Optimizer`.

Why not `torch.optim.Adam(fused=True)`: every public method of `torch.optim.Optimizer` (the
constructor's `add_param_group`, `zero_grad`, `step`, `state_dict`, `load_state_dict`) is wrapped
in `torch._disable_dynamo` or `_use_grad_for_differentiable`, which import `torch._dynamo` on first
use. That import pulls in most of torch.compile and took 5.4 s on a 16-core GPU machine (2.5 s on
the project's 2-core CPU) before a training run could take its first step; a training loop that
never compiles anything does not need it.

`FusedAdam.step()` does what `torch.optim.Adam(fused=True).step()` does (torch/optim/adam.py,
`_fused_adam`): add 1 to each parameter's step counter, then one `torch._fused_adam_` (or
`torch._fused_adamw_`) call per (device, dtype) group. Same kernel, same inputs, so the weights
are bit-for-bit those of `torch.optim.Adam(fused=True)` (tests/test_training.py checks it). It is
capturable in a CUDA graph as it stands: the step counters live on the parameters' device.

`state_dict()` / `load_state_dict()` use `torch.optim.Adam`'s layout (state keyed by parameter
index: step, exp_avg, exp_avg_sq; param_groups with the hyperparameters and the indices), so
checkpoints written before this file existed resume here, and the other way round.
"""
from __future__ import annotations

import torch

# The keys torch.optim.Adam stores in a param group; kept so state dicts stay interchangeable.
GROUP_DEFAULTS = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False,
                  "maximize": False, "foreach": None, "capturable": False, "differentiable": False,
                  "fused": True, "decoupled_weight_decay": False}
FUSED_DEVICES = ("cpu", "cuda")       # where torch._fused_adam_ has kernels in every PyTorch we support


def fused_kernel_available(device: torch.device) -> bool:
    return torch.device(device).type in FUSED_DEVICES and hasattr(torch, "_fused_adam_")


class FusedAdam:
    """Adam (Kingma & Ba 2015), or AdamW (Loshchilov & Hutter 2019) with decoupled_weight_decay,
    for float parameters on one CPU or CUDA device. The subset of torch.optim.Adam the trainers use:
    `param_groups` (one group; its "lr" may be changed between steps), `state`, `zero_grad`, `step`,
    `state_dict`, `load_state_dict`."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled_weight_decay: bool = False):
        params = list(params)
        if not params:
            raise ValueError("FusedAdam got an empty parameter list")
        for p in params:
            if not (p.is_floating_point() and fused_kernel_available(p.device)):
                raise ValueError(f"FusedAdam needs float parameters on {' or '.join(FUSED_DEVICES)}, "
                                 f"got {p.dtype} on {p.device}")
        if not (lr >= 0 and eps >= 0 and weight_decay >= 0 and all(0 <= b < 1 for b in betas)):
            raise ValueError(f"invalid Adam settings: lr={lr}, betas={betas}, eps={eps}, weight_decay={weight_decay}")
        group = dict(GROUP_DEFAULTS, lr=lr, betas=tuple(float(b) for b in betas), eps=eps,
                     weight_decay=weight_decay, decoupled_weight_decay=decoupled_weight_decay)
        self.param_groups: list[dict] = [dict(group, params=params)]
        self.defaults = group
        self.state: dict[torch.Tensor, dict] = {}

    @torch.no_grad()
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Gradients to None, or zeroed in place (the CUDA-graph fast path needs fixed addresses)."""
        grads = []
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if p.grad.grad_fn is not None:
                        p.grad.detach_()
                    else:
                        p.grad.requires_grad_(False)
                    grads.append(p.grad)
        if grads:
            torch._foreach_zero_(grads)

    def _state(self, p: torch.Tensor) -> dict:
        st = self.state.get(p)
        if not st:   # lazily, as torch.optim.Adam: the step counter on the device (fused kernels read it there)
            st = self.state[p] = {"step": torch.zeros((), dtype=torch.float32, device=p.device),
                                  "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                                  "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format)}
        return st

    @torch.no_grad()
    def step(self) -> None:
        for group in self.param_groups:
            buckets: dict[tuple, tuple[list, list, list, list, list]] = {}
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError("FusedAdam does not support sparse gradients")
                st = self._state(p)
                lists = buckets.setdefault((p.device, p.dtype), ([], [], [], [], []))
                for lst, t in zip(lists, (p, p.grad, st["exp_avg"], st["exp_avg_sq"], st["step"])):
                    lst.append(t)
            kernel = torch._fused_adamw_ if group["decoupled_weight_decay"] else torch._fused_adam_
            beta1, beta2 = group["betas"]
            for params, grads, exp_avgs, exp_avg_sqs, steps in buckets.values():
                torch._foreach_add_(steps, 1)
                kernel(params, grads, exp_avgs, exp_avg_sqs, [], steps, amsgrad=False, lr=group["lr"],
                       beta1=beta1, beta2=beta2, weight_decay=group["weight_decay"], eps=group["eps"],
                       maximize=False, grad_scale=None, found_inf=None)

    # -- torch.optim.Adam's state-dict layout
    def state_dict(self) -> dict:
        """{"state": {index: {step, exp_avg, exp_avg_sq}}, "param_groups": [...]}: references to the
        live tensors, as torch.optim does (callers deep-copy what they keep)."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({k: v for k, v in group.items() if k != "params"} | {"params": ids})
        state = {index[id(p)]: st for p, st in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a state dict of this class or of torch.optim.Adam/AdamW (the same layout): copies the
        hyperparameters and moves the moments to each parameter's device and dtype."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        by_index: dict[int, torch.Tensor] = {}
        for group, saved in zip(self.param_groups, saved_groups):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                                 "optimizer's group")
            by_index.update(zip(saved["params"], group["params"]))
        for group, saved in zip(self.param_groups, saved_groups):
            for key, value in saved.items():
                if key != "params" and key in GROUP_DEFAULTS:
                    group[key] = tuple(value) if key == "betas" else value
        self.state = {}
        for pid, st in state_dict["state"].items():
            p = by_index.get(int(pid))
            if p is None:
                continue
            step = st["step"]
            self.state[p] = {
                "step": (step.detach().clone() if torch.is_tensor(step) else torch.tensor(float(step)))
                .to(device=p.device, dtype=torch.float32),
                "exp_avg": st["exp_avg"].detach().to(device=p.device, dtype=p.dtype, copy=True),
                "exp_avg_sq": st["exp_avg_sq"].detach().to(device=p.device, dtype=p.dtype, copy=True),
            }
