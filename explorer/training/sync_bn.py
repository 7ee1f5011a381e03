"""BatchNorm over the global batch of a data-parallel run (`--sync-bn`).

Plain BatchNorm in a DDP run normalises each process's B pictures with their own mean and
variance: a W-process run then trains like one process whose BatchNorm sees batches of B, not of
W * B (and each process's running statistics follow its own batches). Synchronised BatchNorm
sums the statistics over all processes first, so every process normalises with the mean and
variance of the whole global batch, exactly as one process with batch W * B would.

On CUDA this is PyTorch's `nn.SyncBatchNorm` (fused kernels, NCCL). PyTorch's version refuses
CPU tensors, so gloo runs on the CPU get `GlobalBatchNorm2d` below: two all-reduces per layer
(the count and sum, then the centred sum of squares: the variance is computed around the global
mean, as one process computes it), differentiable, so the backward pass carries each process's
share of the gradient through the statistics to the others (Ioffe & Szegedy 2015, eq. for
dL/dx; the all-reduce's gradient is an all-reduce of the gradients).
"""
from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn


class _SumOverProcesses(torch.autograd.Function):
    """all_reduce(SUM) with a gradient: d(sum over processes)/dx_r is the sum of every process's
    upstream gradient, itself an all-reduce."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        out = x.clone(memory_format=torch.contiguous_format)
        dist.all_reduce(out)
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return _SumOverProcesses.apply(grad)


def sum_over_processes(x: torch.Tensor) -> torch.Tensor:
    return _SumOverProcesses.apply(x)


class GlobalBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d whose training-mode statistics are those of the global batch (all processes).
    Same parameters, buffers and state-dict keys as nn.BatchNorm2d; eval mode and a one-process
    run are plain BatchNorm2d."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:            # (B, C, H, W) -> same
        if not (self.training and dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)
        count = torch.full((1,), x.numel() // x.shape[1], dtype=x.dtype, device=x.device)
        sums = sum_over_processes(torch.cat([x.sum((0, 2, 3)), count]))           # (C + 1,)
        n = sums[-1].detach()                                                      # pictures x pixels, all processes
        mean = sums[:-1] / n                                                       # (C,)
        centred = x - mean[None, :, None, None]
        var = sum_over_processes(centred.pow(2).sum((0, 2, 3))) / n                # (C,) biased, as BN normalises
        y = centred * torch.rsqrt(var + self.eps)[None, :, None, None]
        if self.affine:
            y = y * self.weight[None, :, None, None] + self.bias[None, :, None, None]
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                m = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                self.running_mean.mul_(1 - m).add_(mean.detach(), alpha=m)
                self.running_var.mul_(1 - m).add_(var.detach() * (n / (n - 1)), alpha=m)   # unbiased, as BN keeps
        return y


def synchronise_batchnorm(module: nn.Module, device: torch.device) -> int:
    """Swap every BatchNorm2d inside `module` for its global-batch form, in place, keeping the very
    same parameter and buffer tensors (optimisers built on them stay valid; checkpoints keep
    their keys). Returns how many layers were swapped."""
    cls = nn.SyncBatchNorm if device.type == "cuda" else GlobalBatchNorm2d
    swapped = 0
    for parent in list(module.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is nn.BatchNorm2d:
                new = cls(child.num_features, child.eps, child.momentum, child.affine, child.track_running_stats)
                if child.affine:
                    new.weight, new.bias = child.weight, child.bias
                new.running_mean, new.running_var = child.running_mean, child.running_var
                new.num_batches_tracked = child.num_batches_tracked
                new.train(child.training)
                setattr(parent, name, new)
                swapped += 1
    return swapped
