"""`python -m explorer.bench SUBCOMMAND [--json] [--quick]`: measure the speeds users feel.

  train     steps/s and images/s for the DCGAN and the VAE at the shipped settings: the plain eager
            loop and the fast path (whole step captured as a CUDA graph) side by side, same model,
            same seed, same batch. Off CUDA the fast-path column says why it cannot run.
  train-ui  the Train tab's live runs: 2-D GAN steps/s with the view refreshed 5 times a second
            (each refresh computes a full frame, as the UI does) against the same run with no view;
            the same for the image models (DCGAN, VAE at the Train tab's settings).
  decode    images/s at batch 1, 64 and 1024 for each shipped decoder on each available device
            (--variants: also with the weights in channels_last layout and under bf16 autocast).
  umap      map timings: a cold fit in a new process (JIT included), a warm fit, loading a cached
            map, and placing one new point on an existing map.
  startup   from `python app.py` to the first page served.
  gpu       on a CUDA machine: `train` and `decode --variants` on the GPU, checked against the GPU
            targets (fast path >= 2.5x eager; DCGAN decoding >= 100 000 images/s at batch 1024),
            one line per model as it is measured; --device cpu runs it on the CPU (nothing judged).
  quality-time  train the shipped DCGAN from scratch in this process (on CUDA for 16 epochs,
            evaluating an EMA of G): seconds from process start until the project's FD first falls
            below --threshold (default 10 and 8), the final FD, steps/s, and where the seconds went,
            phase by phase (evaluation timed apart).
  live-time the Train tab's image run (default: emoji) from pressing Start: seconds until its grid is
            recognisable (FD at or below the dataset's threshold), steps/s; --grids DIR writes the grids.
  memory    the server's memory over 10 000 plain-HTTP API calls after its session store is full
            (--calls N): RSS before and after, and the growth per call (a soak, not a test).
  ddp       data-parallel training (torchrun's way, DDP): steps/s and pictures/s of one process and
            of N (--procs; default: every GPU, or 2 on a CPU, gloo), and the scaling efficiency;
            on a CPU also one process with N threads (see explorer/cli/bench/ddp.py).
  latency   the app's `render` endpoint over HTTP against the trivial `ping` endpoint of the same
            app (Gradio's own floor): median and 95th percentile, one client and 20 concurrent
            clients dragging sliders (random slider values, each client checks its own results).

The app runs in a separate process (`python app.py`), as a user would run it. `--quick` runs a
seconds-long smoke version (used by the tests; no timing asserts anywhere).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from explorer.cli.bench import quality_time as _quality_clock  # noqa: F401 (first: the clock's origin)
from explorer.cli.args import whole


def _fmt(v) -> str:
    return f"{v:.4g}" if isinstance(v, (int, float)) else str(v)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m explorer.bench", description=__doc__.split("\n")[0])
    p.add_argument("what", choices=["latency", "train", "train-ui", "decode", "umap", "startup", "gpu", "quality-time",
                                    "live-time", "memory", "ddp"])
    p.add_argument("--device")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quick", action="store_true", help="seconds-long smoke run")
    p.add_argument("--model", default="fashion_dcgan",
                   help="latency: the model to render; 'colour' picks the folder's colour model (a conditional GAN first)")
    p.add_argument("--checkpoints-dir")
    p.add_argument("--variants", action="store_true", help="decode: also time channels_last and bf16 autocast")
    p.add_argument("--procs", type=whole("--procs", 1, 64),
                   help="ddp: processes to compare with one, 1-64 (default: GPUs, or 2 on a CPU)")
    p.add_argument("--fast-path", action="store_true", help="ddp on CUDA: also time the CUDA-graph fast path under DDP")
    p.add_argument("--toy-threads", type=int, help="train-ui: CPU threads of the 2-D run (default: the app's, 1)")
    q = p.add_argument_group("quality-time")
    q.add_argument("--threshold", type=float, action="append", help="FD threshold (repeatable; default 10 and 8)")
    q.add_argument("--steps", type=int, help="steps to train (default: the shipped 12 epochs; --quick: 16)")
    p.add_argument("--calls", type=int, help="memory: API calls to make (default 10 000; --quick: 200)")
    q.add_argument("--eval-every", type=int, help="steps between FD readings (default 250; --quick: 8)")
    q.add_argument("--samples", type=int, help="images per FD reading (default 10 000, as the model card; --quick: 256)")
    q.add_argument("--eager", action="store_true", help="no CUDA-graph fast path")
    q.add_argument("--batch-size", type=int, help="batch (default: 64, as shipped)")
    q.add_argument("--lr-rule", choices=["sqrt", "linear", "none"], default="sqrt",
                   help="learning rate for another batch: 2e-4 x (batch/64) ** 0.5, ** 1 or unchanged")
    q.add_argument("--epochs", type=float, help="epochs to train (default 12, as shipped; 16 on CUDA; --steps overrides)")
    q.add_argument("--ema-half-life", type=float,
                   help="evaluate an EMA of G with this half-life in pictures (default: 0 on the CPU, as shipped; "
                        "the CUDA recipe's on CUDA); 0: the live G")
    q.add_argument("--data-dir")
    lt = p.add_argument_group("live-time (also --device, --steps, --eval-every, --samples, --eager, --data-dir)")
    lt.add_argument("--dataset", default="emoji", help="the Train tab's data to train on (default emoji)")
    lt.add_argument("--grids", type=Path, help="write the 8 x 8 sample grid of every FD reading to this folder")
    args = p.parse_args(argv)
    if args.what == "quality-time":
        return _quality_time(args)
    if args.what == "live-time":
        return _live_time(args)
    if args.what == "ddp":
        from explorer.cli.bench.ddp import ddp_bench, print_ddp
        res = ddp_bench(args.quick, args.procs, args.device, args.fast_path)
        print(json.dumps(res)) if args.json else print_ddp(res)
        return 1 if any("error" in r for k in ("dcgan", "vae") for r in res[k].values() if isinstance(r, dict)) else 0
    from explorer.cli.bench.http import _print_latency, latency, startup
    from explorer.cli.bench.memory import memory
    from explorer.cli.bench.speed import (
        _print_train_ui,
        decode,
        train_speed,
        train_ui,
        umap_bench,
    )
    if args.what == "gpu":
        return _gpu(args)
    ck_dir = Path(args.checkpoints_dir) if args.checkpoints_dir else None
    simple = {"decode": lambda: decode(args.quick, ck_dir, args.variants), "umap": lambda: umap_bench(args.quick),
              "startup": lambda: startup(ck_dir), "train": lambda: train_speed(args.quick, args.device),
              "memory": lambda: memory(args.quick, args.calls, ck_dir)}
    if args.what in simple:
        res = simple[args.what]()
        if args.json:
            print(json.dumps(res))
        else:
            for k, v in res.items():
                print(f"  {k:40s} {v if not isinstance(v, dict) else ', '.join(f'{a}={_fmt(b)}' for a, b in v.items())}")
        return 1 if "error" in res else 0
    if args.what == "train-ui":
        res = train_ui(args.quick, args.device, args.toy_threads)
        print(json.dumps(res)) if args.json else _print_train_ui(res)
        return 0
    folder = Path(args.checkpoints_dir) if args.checkpoints_dir else None
    model = _colour_model(folder) if args.model == "colour" else args.model
    if model is None:
        print("error: --model colour: no colour (3-channel) model in the models folder", file=sys.stderr)
        return 2
    res = latency(args.quick, model, folder)
    res["machine"] = {"cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d")}
    print(json.dumps(res, indent=None)) if args.json else _print_latency(res)
    return 1 if res["concurrent"]["errors"] or res["concurrent"]["mismatches"] else 0


def _colour_model(folder: Path | None) -> str | None:
    """The colour model the tour would show, from the models folder's metadata (never its file names)."""
    from explorer.core.checkpoints import CHECKPOINT_DIR, list_checkpoints
    from explorer.explore.registry import colour_model, explorable
    return colour_model({p.stem: m for p, m in list_checkpoints(folder or CHECKPOINT_DIR) if explorable(m)})


def _gpu(args) -> int:
    """Each row as it is measured: on stdout, or with --json on stderr and the whole result on stdout."""
    from explorer.cli.bench.gpu import gpu, line_printer
    res = gpu(args.quick, args.device, line_printer(sys.stderr if args.json else sys.stdout, _fmt))
    if args.json:
        print(json.dumps(res))
    elif "error" in res:
        print(f"  error: {res['error']}")
    return 1 if "error" in res else 0


def _quality_time(args) -> int:
    from explorer.cli.bench.quality_time import print_quality_time, quality_time
    return _report(args, lambda: quality_time(args.quick, tuple(args.threshold or (10.0, 8.0)), args.device, args.steps,
                                              args.eval_every, args.samples, not args.eager, args.data_dir,
                                              args.batch_size, args.lr_rule, args.epochs, args.ema_half_life),
                   print_quality_time)


def _live_time(args) -> int:
    from explorer.cli.bench.live_time import live_time, print_live_time
    return _report(args, lambda: live_time(args.quick, args.dataset, args.device, args.steps, args.eval_every,
                                           args.samples, args.threshold[0] if args.threshold else None,
                                           not args.eager, args.data_dir, args.grids), print_live_time)


def _report(args, measure, show) -> int:
    """Run `measure()`; its result as JSON (--json) or through `show`; a UserError's words and exit code 2."""
    from explorer.core.validation import UserError
    try:
        res = measure()
    except UserError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(json.dumps(res)) if args.json else show(res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
