"""In-process benchmarks: decoding, maps (UMAP), and the Train tab's live runs."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from explorer.cli.bench.http import ROOT
from explorer.core.device import synchronize


def _live_rates(trainer, view_fn, window_s: float, rounds: int, warm_s: float, warm_steps: int = 20,
                refresh_hz: float = 5.0, threads: int | None = None) -> dict:
    """Steps/s of one live run with the view off and on, in alternating windows after a warm-up.

    The run first trains until it is warm: at least `warm_s` seconds and `warm_steps` steps, and past the
    fast path's warm-up and capture. Then the same run is timed in `rounds` pairs of windows, the
    view off and on, the order swapped every round, and the medians are reported: each figure is
    steady-state speed, and drift (other load, clocks) falls on both alike. With the view on, the
    training thread computes the view every 1/refresh_hz s (as in the app) and this thread polls it
    on the UI timer's schedule."""
    from statistics import median

    from explorer.live.worker import TrainingWorker
    w = TrainingWorker(view_every=1 / refresh_hz)
    t0 = time.perf_counter()
    w.start(trainer, threads=threads)
    try:
        while time.perf_counter() - t0 < 120 and not (
                time.perf_counter() - t0 >= warm_s and trainer.step >= warm_steps
                and not trainer.fast_path_status.endswith("(warming up)")):
            time.sleep(0.02)
        warm = {"seconds": time.perf_counter() - t0, "steps": trainer.step, "fast_path": trainer.fast_path_status}
        windows = {"no_view": [], "with_view": []}
        for r in range(rounds):
            for mode in (("no_view", "with_view") if r % 2 == 0 else ("with_view", "no_view")):
                w.set_view(view_fn if mode == "with_view" else None)
                windows[mode].append(_window(w, window_s, refresh_hz, max(2, warm_steps // 4), mode == "with_view"))
    finally:
        w.stop()
    return {mode: {"steps_per_s": median(x["steps_per_s"] for x in runs),
                   "refreshes_per_s": median(x["refreshes_per_s"] for x in runs), "windows": len(runs)}
            for mode, runs in windows.items()} | {"warm_up": warm}


def _window(w, seconds: float, refresh_hz: float, min_steps: int, viewing: bool) -> dict:
    """One timing window: at least `seconds` and `min_steps` steps (a slow model's window is not
    shorter than one step) and, with the view on, at least one new frame (a loaded machine can
    publish the first frame late); at most a minute."""
    t0 = time.perf_counter()
    s0 = w.snapshot()["step"]
    frames, last, next_tick = 0, None, t0
    while (time.perf_counter() - t0 < seconds or w.snapshot()["step"] - s0 < min_steps
           or (viewing and frames == 0)) and time.perf_counter() - t0 < 60:
        if w.view is not None and w.view is not last:
            last, frames = w.view, frames + 1
        next_tick += 1 / refresh_hz
        time.sleep(max(0.0, next_tick - time.perf_counter()))
    steps, dt = w.snapshot()["step"] - s0, time.perf_counter() - t0
    return {"steps_per_s": steps / dt, "refreshes_per_s": frames / dt}


def train_ui(quick: bool = False, device: str | None = None, toy_threads: int | None = None) -> dict:
    """The Train tab's live runs (2-D GAN, DCGAN, VAE at the tab's settings): steps/s with and
    without the live view, each figure taken on a warm run (see `_live_rates`). The 2-D run uses
    the app's TOY_THREADS CPU threads unless `toy_threads` asks for another count."""
    import torch

    from explorer.core.device import choose_device
    from explorer.live.probe import live_grid
    from explorer.live.settings import TOY_THREADS, ImageSettings, ToySettings, image_trainer, toy_trainer
    from explorer.core.validation import check_int
    from explorer.live.toy_view import ToyView
    toy_threads = None if toy_threads is None else check_int("--toy-threads", toy_threads, 1, 1024)
    dev = choose_device(device)
    window, rounds, warm, warm_steps = (0.4, 1, 0.2, 2) if quick else (2.5, 3, 2.0, 20)
    out = {"device": str(dev), "threads": torch.get_num_threads(), "toy_threads": toy_threads or TOY_THREADS,
           "window_s": window, "rounds": rounds}
    t = toy_trainer(ToySettings())            # the 2-D game runs on the CPU, on TOY_THREADS (live/settings.py)
    rates = _live_rates(t, ToyView(t, "ring").frame, window, rounds, warm, warm_steps, threads=toy_threads or TOY_THREADS)
    for model in ("dcgan", "vae"):
        t, _, _ = image_trainer(ImageSettings(dataset="fashion-mnist", model=model), dev)
        out_model = _live_rates(t, lambda t=t: live_grid(t), window, rounds, warm, warm_steps)
        out |= _flatten(model, out_model)
    return _flatten("toy", rates) | out


def _flatten(name: str, rates: dict) -> dict:
    return {f"{name}_{k}": v for k, v in rates.items()}


def _print_train_ui(res: dict) -> None:
    print(f"Train tab live runs on {res['device']} ({res['threads']} threads; the 2-D toy on the CPU, "
          f"{res['toy_threads']} thread(s)): steps/s, warm runs, median of {res['rounds']} alternating "
          f"{res['window_s']} s windows")
    for name in ("toy", "dcgan", "vae"):
        a, b, w = res[f"{name}_no_view"], res[f"{name}_with_view"], res[f"{name}_warm_up"]
        print(f"  {name:6s} no view {a['steps_per_s']:8.1f}   with view {b['steps_per_s']:8.1f}"
              f"  ({b['refreshes_per_s']:.1f} refreshes/s, {100 * (1 - b['steps_per_s'] / max(a['steps_per_s'], 1e-9)):+.0f}% cost)"
              f"   warm-up {w['seconds']:.1f} s / {w['steps']} steps, {w['fast_path']}")


def _decode_rate(family, z, reps: int, variant: str) -> float:
    """Seconds per batch for one variant of a model family (bf16: under bf16 autocast; others: fp32 as
    given). A class-conditional model draws every class in turn (classes 0, 1, ... along the batch)."""
    import contextlib

    import torch
    dev = z.device
    classes = family.num_classes
    y = torch.arange(len(z), device=dev) % classes if classes else None
    ctx = (torch.autocast(dev.type, dtype=torch.bfloat16) if variant == "bf16" else contextlib.nullcontext())
    with torch.inference_mode(), ctx:
        family.decode(z, y)
        synchronize(dev)
        t0 = time.perf_counter()
        for _ in range(reps):
            family.decode(z, y)
        synchronize(dev)
    return (time.perf_counter() - t0) / reps


def _in_layout(family, memory_format):
    """A copy of a PyTorch family's model with its weights in `memory_format`."""
    import copy

    from explorer.core.families import family_of
    ck = copy.deepcopy(family.checkpoint)
    for module in ck.modules.values():
        module.to(memory_format=memory_format)
    return family_of(ck)


def decode(quick: bool = False, checkpoints_dir: Path | None = None, variants: bool = False) -> dict:
    """Images/s at batch 1, 64, 1024 for each shipped decoder on each device, as the app decodes;
    with `variants`, also the weights in contiguous and in channels_last layout and the app's model
    under bf16 autocast, to show whether each pays on this machine."""
    import torch
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    return dict(decode_rows(quick, checkpoints_dir, variants, devices))


def decode_rows(quick: bool, checkpoints_dir: Path | None, variants: bool, devices: list[str]):
    """`decode`'s rows one at a time, ("name@device/batchN", row), as each is measured."""
    import torch

    from explorer.explore.registry import ModelRegistry
    for dev in devices:
        reg = ModelRegistry(checkpoints_dir or ROOT / "checkpoints", dev)
        for name in sorted(reg.available()):
            fam = reg.get(name).family
            kinds = {"app": fam}       # as the app decodes (fp32; channels_last on CPU, see registry.py)
            if variants and fam.modules:
                kinds["contiguous"] = _in_layout(fam, torch.contiguous_format)
                kinds["channels_last"] = _in_layout(fam, torch.channels_last)
                kinds["bf16"] = fam
            for batch in (1, 64) if quick else (1, 64, 1024):
                z = torch.randn(batch, fam.latent_dim, device=dev)
                reps = 3 if quick else max(3, int((20_000 if dev == "cuda" else 2048) / batch))
                row = {}
                for variant, model in kinds.items():
                    dt = _decode_rate(model, z, reps, variant)
                    key = "" if variant == "app" else variant + "_"
                    row[key + "images_per_s"] = batch / dt
                    if variant == "app":
                        row["ms_per_batch"] = 1000 * dt
                row["picture"] = f"{fam.image_size}x{fam.image_size}x{fam.channels}"   # side x side x channels
                yield f"{name}@{dev}/batch{batch}", row


_UMAP_CHILD = """
import time, sys, numpy as np
t0 = time.perf_counter()
from explorer.maps.layout import MapParams
from explorer.maps.umap_fit import fit_umap
x = np.random.default_rng(0).normal(size=(int(sys.argv[1]), 16)).astype(np.float32)
fit_umap(x, MapParams(points=len(x)))
cold = time.perf_counter() - t0
t0 = time.perf_counter()
fit_umap(x, MapParams(points=len(x)))
print(cold, time.perf_counter() - t0)
"""


def umap_bench(quick: bool = False) -> dict:
    import numpy as np
    import torch

    from explorer.maps.cache import load_map, save_map
    from explorer.maps.layout import LatentMap, MapParams
    from explorer.maps.umap_fit import umap_backend
    n = 1000 if quick else 10_000
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", _UMAP_CHILD, str(n)], cwd=ROOT, capture_output=True, text=True, check=True)
    cold, warm = map(float, res.stdout.split()[-2:])
    rng = np.random.default_rng(0)
    lm = LatentMap(rng.normal(size=(n, 2)).astype(np.float32), rng.normal(size=(n, 16)).astype(np.float32),
                   np.zeros(n, np.int64), [], "test-images", "umap")
    import tempfile
    path = Path(tempfile.mkdtemp()) / "map.safetensors"
    save_map(lm, path, MapParams(points=n))
    t1 = time.perf_counter()
    load_map(path, lambda n, seed: torch.zeros(n, 16))     # a map of test pictures stores its latents
    load_s = time.perf_counter() - t1
    z = rng.normal(size=(1, 16)).astype(np.float32)
    lm.place(z)
    t1 = time.perf_counter()
    for _ in range(20):
        lm.place(z)
    place_ms = (time.perf_counter() - t1) / 20 * 1000
    return {"backend": umap_backend(), "points": n, "cold_fit_s_new_process": cold, "warm_fit_s": warm, "load_cached_s": load_s,
            "place_one_point_ms": place_ms, "wall_s": time.perf_counter() - t0}


SHIPPED_TRAINING = {   # the shipped models' settings (checkpoints/train-shipped.sh), every one of them
    "dcgan": ({"latent_dim": 64, "width": 32, "d_width": 32}, {"batch_size": 64, "label_smoothing": 0.9}),
    "vae": ({"latent_dim": 16}, {"batch_size": 128}),
    "cdcgan": ({"latent_dim": 64, "width": 32, "d_width": 32, "num_classes": 10, "d_condition": "projection"},
               {"batch_size": 64, "label_smoothing": 0.9}),
    "cvae": ({"latent_dim": 16, "num_classes": 10}, {"batch_size": 128}),
}
COLOUR_TRAINING = {    # the shipped emoji models' settings: 64x64 RGB, nine classes (checkpoints/train-shipped.sh)
    "dcgan_emoji64": ("dcgan", {"latent_dim": 64, "width": 16, "d_width": 32, "upsample": "transposed", "image_size": 64,
                                "channels": 3, "num_classes": 9},
                      {"batch_size": 32, "label_smoothing": 0.9, "diffaugment": "color,translation,cutout"}),
    "vae_emoji64": ("vae", {"latent_dim": 32, "width": 32, "image_size": 64, "channels": 3}, {"batch_size": 64}),
}


def _steps_per_s(trainer, warm: int, n: int) -> float:
    for _ in trainer.run(trainer.step + warm):
        pass
    synchronize(trainer.device)
    t0 = time.perf_counter()
    for _ in trainer.run(trainer.step + n):
        pass
    synchronize(trainer.device)
    return n / (time.perf_counter() - t0)


def train_speed(quick: bool = False, device: str | None = None) -> dict:
    """Steps/s and images/s at the shipped models' settings (DCGAN, VAE and their class-conditional
    forms): the plain eager loop and the fast path (the whole step captured as a CUDA graph) side by
    side, same model, same seed, same batch, in this run. Data is random uint8 images of the right shape kept on the device (the loop's data source
    does not change its speed). Off CUDA the fast path cannot run and the column says why."""
    import torch

    from explorer.core.device import choose_device
    dev = choose_device(device)
    out = {"device": str(dev) + (f" ({torch.cuda.get_device_name(dev)})" if dev.type == "cuda" else ""),
           "torch": torch.__version__}
    return out | dict(train_rows(quick, dev))


def train_rows(quick: bool, dev):
    """`train_speed`'s rows one at a time, (settings name, row), as each is measured on device `dev`."""
    import torch

    from explorer.training import (
        GANTrainConfig,
        ImageSampler,
        VAETrainConfig,
        make_trainer,
    )
    images = torch.randint(0, 256, (4096, 1, 28, 28), dtype=torch.uint8)
    labels = torch.randint(0, 10, (4096,))                 # the conditional models' classes
    colour = torch.randint(0, 256, (1024, 3, 64, 64), dtype=torch.uint8)
    colour_labels = torch.randint(0, 9, (1024,))
    settings = {k: (k.removeprefix("c"), *v) for k, v in SHIPPED_TRAINING.items()} | COLOUR_TRAINING

    def fresh(name):
        kind, model_cfg, train_cfg = settings[name]
        data, y = (colour, colour_labels) if model_cfg.get("channels", 1) == 3 else (images, labels)
        if kind == "dcgan":
            return make_trainer(kind, model_cfg, GANTrainConfig(**train_cfg), ImageSampler(data, dev, labels=y), dev)
        return make_trainer(kind, model_cfg, VAETrainConfig(**train_cfg), ImageSampler(data, dev, (0.0, 1.0), y), dev)

    warm, n = (2, 5) if quick else (10, 30 if dev.type == "cpu" else 500)
    for kind in settings:
        if quick and kind in COLOUR_TRAINING and dev.type == "cpu":
            continue              # seconds per step on a CPU: not for a quick run
        batch = settings[kind][2]["batch_size"]
        eager = _steps_per_s(fresh(kind), warm, n if kind not in COLOUR_TRAINING or dev.type != "cpu" else 5)
        cfg = settings[kind][1]
        row = {"batch": batch, "eager_steps_per_s": eager, "eager_images_per_s": eager * batch,
               "picture": f"{cfg.get('image_size', 28)}x{cfg.get('image_size', 28)}x{cfg.get('channels', 1)}"}
        t = fresh(kind)
        if t.use_fast_path().startswith("CUDA graph"):
            fast = _steps_per_s(t, warm, n)      # warm-up includes the side-stream steps and the capture
            row.update(fast_steps_per_s=fast, fast_images_per_s=fast * batch, speedup=fast / eager)
        row["fast_path"] = t.fast_path_status
        yield kind, row
