"""`python -m explorer.bench quality-time`: seconds from process start until a GAN trained from
scratch is good, the figure a GPU user feels.

It trains the shipped DCGAN (checkpoints/train-shipped.sh: latent 64, widths 32, label smoothing
0.9, seed 0, 12 epochs of Fashion-MNIST) in this process and, every `eval_every` steps, measures the
project's own FD (explorer/eval/metrics.py: the shipped classifier's features, `samples` generated
images from fixed latents against as many test images; with 10 000 it is the model card's FD). It
reports when the FD first fell below each threshold, the final FD, steps/s, and where every second
went, phase by phase.

The recipe: the shipped batch of 64 with Adam at 2e-4, for 12 epochs, on the CPU; on CUDA (`GPU_RECIPE`)
the same batch for 16 epochs, and what is evaluated is an exponential moving average of G's weights
(training/ema.py), which reached each FD after fewer pictures than the live G (README, "Time to
quality": the H200's figures at batches 64 and 256, and FD per picture measured on the CPU at 64 and
128; not yet measured on a GPU). Another batch scales Adam's learning rate by the square root of the
batch ratio (`--lr-rule`; Malladi et al. 2022, "On the SDEs and Scaling Rules for Adaptive Gradient
Algorithms"; Hoffer et al. 2017). `--batch-size`, `--lr-rule`, `--epochs` and `--ema-half-life` choose
another.

The clock starts at process start, read from /proc/self/stat (the kernel's start time of this
process, against CLOCK_BOOTTIME, 10 ms resolution); where /proc is missing it starts when this
module is imported, and `clock_origin` says so. Evaluation is timed apart: the "seconds from start"
of an FD reading leave out every evaluation before it, so they mean what a run without evaluation
would take. Evaluation does not change the run: it draws from its own generator and puts the
generator in eval mode only for the sampling.

Set-up is cut where results stay the same: the dataset is read once, kept as uint8 on the device
(each batch is converted on the device), the device initialises in a second thread while the
files are read, nothing on the training path imports torch._dynamo (training/adam.py), and on
CUDA the fast path (the whole step as one CUDA graph) starts at step 1: three warm-up steps, then
the capture.
"""
from __future__ import annotations

import os
import sys
import threading
import time


def _process_age() -> tuple[float, str]:
    """Seconds since this process started, and where that figure comes from."""
    try:
        with open("/proc/self/stat") as f:
            stat = f.read()
        start_ticks = int(stat[stat.rindex(")") + 2:].split()[19])   # field 22, after the command name
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / os.sysconf("SC_CLK_TCK")
        if 0 <= age < 600:
            return age, "process start (/proc/self/stat)"
    except (OSError, ValueError, IndexError, AttributeError):
        pass
    return 0.0, "import of explorer.cli.bench.quality_time (no /proc: Python start-up not counted)"


_AGE, CLOCK_ORIGIN = _process_age()
PROCESS_START = time.monotonic() - _AGE       # every time below is time.monotonic() - PROCESS_START

SHIPPED = {"model": {"latent_dim": 64, "width": 32, "d_width": 32},
           "train": {"batch_size": 64, "lr": 2e-4, "label_smoothing": 0.9, "seed": 0}, "epochs": 12}
GPU_RECIPE = {"batch_size": 64, "epochs": 16, "ema_half_life": 10_000.0}   # CUDA's defaults (README, "Time to quality")
LR_RULES = {"sqrt": 0.5, "linear": 1.0, "none": 0.0}   # lr = 2e-4 * (batch / 64) ** power
QUICK = {"steps": 16, "eval_every": 8, "samples": 256}
FULL = {"eval_every": 250, "samples": 10_000}  # every 250 steps of 64 pictures: 16 000 pictures
SHIPPED_FD = 8.0                               # the shipped model's quality (its card: FD 7.0)
TARGETS = ((10.0, 15.0), (SHIPPED_FD, 20.0))   # (FD, seconds from process start), on an H100 or H200
PHASES = ("start_up", "imports", "data_loading", "waiting_for_helpers", "model_build", "warm_up", "training",
          "evaluation", "other")


def recipe(batch_size: int, lr_rule: str = "sqrt", ema_half_life: float = 0.0) -> dict:
    """The shipped training settings at another batch size, the learning rate scaled by `lr_rule`
    from the shipped 2e-4 at 64 (Adam's betas, label smoothing and the seed stay), with an EMA of G
    of that half-life in pictures (0: none, as shipped)."""
    base = SHIPPED["train"]
    lr = base["lr"] * (batch_size / base["batch_size"]) ** LR_RULES[lr_rule]
    return {"batch_size": batch_size, "lr_g": lr, "lr_d": lr, "label_smoothing": base["label_smoothing"],
            "seed": base["seed"], "ema_half_life": ema_half_life}


def default_run(device_type: str, quick: bool) -> dict:
    """Batch, epochs and EMA half-life when none is asked for: CUDA's recipe, or the shipped one."""
    if device_type == "cuda" and not quick:
        return dict(GPU_RECIPE)
    return {"batch_size": SHIPPED["train"]["batch_size"], "epochs": SHIPPED["epochs"], "ema_half_life": 0.0}


class Timeline:
    """Disjoint phases of this process's wall clock: each `mark(phase)` closes the time since the
    previous mark and adds it to `phase`, so the phases can never sum to more than the total."""

    def __init__(self):
        self.phases: dict[str, float] = {}
        self.last = 0.0

    @staticmethod
    def now() -> float:
        return time.monotonic() - PROCESS_START

    def mark(self, phase: str) -> float:
        t = self.now()
        self.phases[phase] = self.phases.get(phase, 0.0) + (t - self.last)
        self.last = t
        return t


def quality_time(*args, **kwargs) -> dict:
    """Train, evaluate every `eval_every` steps, and return the timings and FD history (see the
    module docstring). None for steps / eval_every / samples: the shipped run, or QUICK's. On the
    CPU it trains on one thread, as the shipped model's command did (`--threads 1`)."""
    threads: list[int] = []                     # the caller's thread count, restored after
    try:
        return _quality_time(threads, *args, **kwargs)
    finally:
        if threads:
            import torch
            torch.set_num_threads(threads[0])


def _quality_time(threads: list, quick: bool = False, thresholds=(10.0, SHIPPED_FD), device: str | None = None,
                  steps: int | None = None, eval_every: int | None = None, samples: int | None = None,
                  fast_path: bool = True, data_dir=None, batch_size: int | None = None, lr_rule: str = "sqrt",
                  epochs: float | None = None, ema_half_life: float | None = None) -> dict:
    clock = Timeline()
    clock.mark("start_up")                      # Python, the bench's own modules, argument parsing
    from explorer.core.validation import check_choice, check_int, check_number
    steps, eval_every, samples, batch_size = (None if v is None else check_int(name, v, lo, hi) for name, v, lo, hi in (
        ("--steps", steps, 1, 10**7), ("--eval-every", eval_every, 1, 10**7), ("--samples", samples, 2, 10**7),
        ("--batch-size", batch_size, 2, 8192)))
    epochs = None if epochs is None else check_number("--epochs", epochs, 1e-3, 1000)
    ema_half_life = None if ema_half_life is None else check_number("--ema-half-life", ema_half_life, 0, 1e9)
    lr_rule = check_choice("--lr-rule", lr_rule, tuple(LR_RULES))
    thresholds = tuple(check_number("--threshold", th, 0.0, 1e6) for th in thresholds)
    import torch

    from explorer.core.data import DataNotFound, load_dataset, to_unit
    from explorer.core.device import choose_device, synchronize
    from explorer.core.latent import sample_z
    from explorer.eval.features import classifier_for, classify
    from explorer.eval.metrics import frechet_distance
    from explorer.training import GANTrainConfig, ImageSampler, make_trainer
    clock.mark("imports")

    dev = choose_device(device)                 # a UserError for an unknown or missing device
    if dev.type == "cpu":
        threads.append(torch.get_num_threads())
        torch.set_num_threads(1)
    background = {}

    def timed(name, fn):
        def run():
            t0 = time.monotonic()
            fn()
            background[name] = time.monotonic() - t0
        thread = threading.Thread(target=run, name=name)
        thread.start()
        return thread

    # While the files are read and inflated (zlib lets go of the GIL), another thread brings up the
    # device (on CUDA: the context, about a second).
    helpers = [timed("device_init", lambda: torch.zeros(1, device=dev))]
    try:
        train, data_note = load_dataset("fashion-mnist", "train", data_dir), "fashion-mnist train (60 000 images)"
    except DataNotFound:
        if not quick:
            raise
        train, data_note = load_dataset("fashion-mnist", "test", data_dir), (
            "fashion-mnist test (the 10 000 shipped images: the train split is not installed)")
    test = load_dataset("fashion-mnist", "test", data_dir)
    clock.mark("data_loading")
    for thread in helpers:
        thread.join(timeout=300)
        if thread.is_alive():
            raise RuntimeError(f"{thread.name} did not finish within 300 s")
    clock.mark("waiting_for_helpers")
    sampler = ImageSampler(train.images, dev)   # uint8 on the device, once
    synchronize(dev)
    clock.mark("data_loading")

    run = default_run(dev.type, quick)
    batch = batch_size or run["batch_size"]
    cfg = GANTrainConfig(**recipe(batch, lr_rule, run["ema_half_life"] if ema_half_life is None else ema_half_life))
    trainer = make_trainer("dcgan", SHIPPED["model"], cfg, sampler, dev)
    trainer.use_fast_path(fast_path)
    per_epoch = -(-len(train) // batch)
    total = steps or (QUICK["steps"] if quick else max(1, round((epochs or run["epochs"]) * per_epoch)))
    every = eval_every or (QUICK["eval_every"] if quick else
                           max(1, round(FULL["eval_every"] * SHIPPED["train"]["batch_size"] / batch)))
    n = samples or (QUICK if quick else FULL)["samples"]
    synchronize(dev)
    clock.mark("model_build")

    # evaluation set-up: the classifier, the real features, the fixed latents (timed as evaluation)
    net = classifier_for("fashion-mnist", dev)
    order = torch.from_numpy(__import__("numpy").random.default_rng(0).permutation(len(test)))[:n]
    real_feats, _ = classify(net, to_unit(test.images[order]))
    z = sample_z(n, trainer.latent_dim, seed=0).to(dev)
    history = []

    def evaluate(step: int) -> None:
        synchronize(dev)
        t = clock.mark(phase)                   # closes the training (or warm-up) since the last mark
        x = torch.cat([trainer.samples(z[i:i + 1000]) for i in range(0, n, 1000)])   # [-1, 1]
        feats, _ = classify(net, (x + 1) / 2)
        fd = frechet_distance(feats, real_feats)
        history.append({"step": step, "fd": fd, "seconds": t - clock.phases.get("evaluation", 0.0), "wall_s": t})
        clock.mark("evaluation")

    phase = "evaluation"
    evaluate(0)
    first_step_s = clock.now() - clock.phases["evaluation"]   # what a run without evaluation would have waited
    phase, warm_steps = "warm_up", None
    for rec in trainer.run(total):
        if warm_steps is None and not trainer.fast_path_status.endswith("(warming up)"):
            synchronize(dev)   # warm-up ends with the capture's first replay, or after step 1 when eager
            clock.mark("warm_up")
            phase, warm_steps = "training", rec.step
        if rec.step % every == 0 or rec.step == total:
            evaluate(rec.step)
    synchronize(dev)
    clock.mark(phase)
    clock.mark("other")                         # the closing bookkeeping; phases now sum to the total
    train_steps = total - (warm_steps or total)
    firsts = [first_below(history, th) for th in thresholds]
    return {
        "device": str(dev) + (f" ({torch.cuda.get_device_name(dev)})" if dev.type == "cuda" else ""),
        "torch": torch.__version__, "threads": torch.get_num_threads(), "fast_path": trainer.fast_path_status,
        "clock_origin": CLOCK_ORIGIN, "quick": quick,
        "settings": {"model": SHIPPED["model"], "train": cfg.to_dict(), "lr_rule": lr_rule, "steps": total,
                     "epochs": total / per_epoch, "eval_every": every, "samples": n, "data": data_note},
        "total_s": clock.last, "phases_s": {k: clock.phases[k] for k in PHASES if k in clock.phases},
        "first_step_s": first_step_s,           # process start -> first training step, evaluation left out
        "helper_threads_s": background,          # ran during data_loading; only their overrun is a phase
        "torch_dynamo_imported": "torch._dynamo" in sys.modules,   # seconds of import; nothing here needs it
        "warm_up_steps": warm_steps, "steps_per_s": train_steps / clock.phases["training"] if train_steps else None,
        "history": history, "first_below": firsts, "final_fd": history[-1]["fd"],
        "targets": _targets(firsts, n, dev),
    }


def first_below(history: list[dict], threshold: float) -> dict:
    """The first FD reading at or below `threshold` (step, fd and seconds None when none was)."""
    hit = next((h for h in history if h["fd"] <= threshold), None)
    return {"threshold": threshold, **({k: hit[k] for k in ("step", "fd", "seconds")} if hit else
                                       {"step": None, "fd": None, "seconds": None})}


def _targets(firsts: list[dict], samples: int, dev) -> list[dict]:
    """The GPU targets, judged only where the run can judge them: on CUDA, with the model card's
    10 000-sample FD (fewer samples read higher)."""
    out = []
    for fd, within in TARGETS:
        first = next((f for f in firsts if f["threshold"] == fd), None)
        row = {"target": f"FD <= {fd:g} within {within:g} s of process start", "met": None}
        if dev.type != "cuda" or samples != FULL["samples"] or first is None:
            row["why_not_judged"] = ("not on a CUDA GPU" if dev.type != "cuda" else
                                     f"FD on {samples} samples, not {FULL['samples']}" if samples != FULL["samples"]
                                     else f"--threshold {fd:g} not asked for")
        else:
            row["met"] = first["seconds"] is not None and first["seconds"] <= within
        out.append(row)
    return out


PHASE_WORDS = {
    "start_up": "Python start-up, the bench's modules, arguments",
    "imports": "PyTorch and the project's training and evaluation modules",
    "data_loading": "Fashion-MNIST read, inflated and copied to the device",
    "waiting_for_helpers": "waiting for the device to initialise (beyond the data loading)",
    "model_build": "DCGAN and its optimisers built on the device",
    "warm_up": "first steps: eager warm-up, cuDNN autotuning, CUDA graph capture",
    "training": "the remaining steps",
    "evaluation": "FD readings and their set-up (left out of the seconds to each FD)",
    "other": "closing bookkeeping",
}


def print_quality_time(res: dict) -> None:
    s, t = res["settings"], res["settings"]["train"]
    print(f"quality-time on {res['device']} ({res['threads']} threads), fast path: {res['fast_path']}")
    print(f"  {s['steps']} steps ({s['epochs']:.1f} epochs) of the shipped DCGAN at batch {t['batch_size']}, "
          f"lr {t['lr_g']:.3g} ({s['lr_rule']} rule) on {s['data']}"
          + (f"; FD of G's EMA (half-life {t['ema_half_life']:.0f} pictures)" if t["ema_half_life"] else ""))
    print(f"  FD every {s['eval_every']} steps on {s['samples']} samples; clock from {res['clock_origin']}")
    for f in res["first_below"]:
        if f["step"] is None:
            print(f"  FD <= {f['threshold']:g}: not reached in {s['steps']} steps")
        else:
            print(f"  FD <= {f['threshold']:g}: {f['seconds']:.1f} s from start (step {f['step']}, FD {f['fd']:.2f})")
    rate = res["steps_per_s"]
    print(f"  final FD {res['final_fd']:.2f} at step {res['history'][-1]['step']}"
          + (f"; {rate:.1f} steps/s ({rate * t['batch_size']:.0f} images/s) after warm-up "
             f"({res['warm_up_steps']} steps)" if rate else ""))
    for row in res["targets"]:
        print(f"  target {row['target']}: " + ("met" if row["met"] else "NOT met" if row["met"] is False
                                                else f"not judged ({row['why_not_judged']})"))
    print(f"  where the {res['total_s']:.1f} s went (first training step {res['first_step_s']:.1f} s after "
          "process start, evaluation left out):")
    for k, v in res["phases_s"].items():
        print(f"    {k:20s} {v:7.2f} s   {PHASE_WORDS.get(k, '')}")
    if res["torch_dynamo_imported"]:
        print("  torch._dynamo was imported during the run (seconds of set-up): something on the path needs it")
