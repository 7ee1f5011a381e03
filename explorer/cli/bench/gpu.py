"""`python -m explorer.bench gpu`: the GPU figures the project promises, checked against their
targets, reported one model at a time as each is measured (each line flushed: on a busy machine the
whole run takes minutes, and a silent minute looks like a hang).

It times the training fast path against the eager loop for every shipped model's settings (target:
at least 2.5x), then decoding of every shipped model with its variants (target: the DCGAN at batch
1024 at least 100 000 images/s; `--quick` stops at batch 64, so that target is not judged there).
Decoding is timed on the GPU alone (the CPU's figures are `bench decode`'s). `--quick` is the
seconds-long smoke run: a few steps and repetitions each, well within a minute on a GPU.
`--device cpu` runs the same procedure on the CPU (for tests: no fast path, no target judged).
"""
from __future__ import annotations

import time
from typing import Callable

from explorer.cli.bench.speed import SHIPPED_TRAINING, decode_rows, train_rows

GPU_TARGETS = {"fast_path_speedup": 2.5, "dcgan_decode_images_per_s_batch1024": 100_000}


def gpu(quick: bool = False, device: str | None = None, report: Callable[[str, object], None] | None = None) -> dict:
    """Measure, calling `report(name, row)` as each row is done; returns every row. On CUDA unless
    `device` names another (then nothing is judged against the GPU targets)."""
    import torch

    from explorer.core.device import choose_device
    if device is None and not torch.cuda.is_available():
        return {"error": "no CUDA GPU is visible to this PyTorch; run this on a GPU machine"}
    dev = choose_device(device or "cuda")
    on_gpu = dev.type == "cuda"
    say = report or (lambda name, row: None)
    out = {"device": str(dev) + (f" ({torch.cuda.get_device_name(dev)})" if on_gpu else ""),
           "torch": torch.__version__, "cuda": torch.version.cuda, "quick": quick}
    say("device", out["device"] + f", torch {out['torch']}" + (", quick" if quick else ""))
    speedup_target = GPU_TARGETS["fast_path_speedup"]
    for kind, row in train_rows(quick, dev):
        if kind in SHIPPED_TRAINING:       # the 64-px emoji models: reported, no target yet
            speedup = row.get("speedup")
            row = {"eager_steps_per_s": row["eager_steps_per_s"], "fast_steps_per_s": row.get("fast_steps_per_s"),
                   "speedup": speedup, "fast_path": row["fast_path"], "target": f">= {speedup_target}x",
                   "met": bool(speedup and speedup >= speedup_target) if on_gpu else None}
        out[f"train_{kind}"] = row
        say(f"train_{kind}", row)
    out["decode"] = {}
    for name, row in decode_rows(quick, None, variants=True, devices=[dev.type]):
        out["decode"][name] = row
        say(f"decode {name}", row)
    row = out["decode"].get(f"fashion_dcgan@{dev.type}/batch1024")
    if row is not None:   # absent with --quick (batches 1 and 64 only)
        target = GPU_TARGETS["dcgan_decode_images_per_s_batch1024"]
        out["decode_dcgan_batch1024"] = dict(row, target=f">= {target} images/s",
                                             met=row["images_per_s"] >= target if on_gpu else None)
        say("decode_dcgan_batch1024", out["decode_dcgan_batch1024"])
    return out


def line_printer(stream, fmt: Callable[[object], str]) -> Callable[[str, object], None]:
    """A `report` that writes one line per row to `stream` at once, with the seconds since it was made."""
    start = time.monotonic()

    def report(name: str, row) -> None:
        text = ", ".join(f"{k}={fmt(v)}" for k, v in row.items()) if isinstance(row, dict) else str(row)
        print(f"[{time.monotonic() - start:6.1f} s] {name:36s} {text}", file=stream, flush=True)
    return report
