"""In-process benchmarks: decoding, maps (UMAP), and the Train tab's live runs."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from .http import ROOT


def _run_worker(trainer, seconds: float, view_fn=None, refresh_hz: float = 5.0) -> dict:
    """Steps/s of a live run; with `view_fn`, the training thread also computes the view every
    1/refresh_hz s (as in the app) and this thread polls it on the UI timer's schedule."""
    from ..training.worker import RunInfo, TrainingWorker
    w = TrainingWorker()
    w.view_fn, w.view_every = view_fn, 1 / refresh_hz
    w.start(trainer, RunInfo("bench", "bench", "bench"))
    t0 = time.perf_counter()
    s0 = w.snapshot()["step"]
    frames, last, next_tick = 0, None, t0
    while time.perf_counter() - t0 < seconds:
        if w.view is not None and w.view is not last:
            last, frames = w.view, frames + 1
        next_tick += 1 / refresh_hz
        time.sleep(max(0.0, next_tick - time.perf_counter()))
    steps = w.snapshot()["step"] - s0
    dt = time.perf_counter() - t0
    w.stop()
    return {"steps_per_s": steps / dt, "refreshes_per_s": frames / dt}


def train_ui(quick: bool = False, device: str | None = None) -> dict:
    import torch

    from ..device import choose_device
    from ..livetrain import ImageSettings, ToySettings, image_trainer, sample_grid, toy_trainer
    from ..toyview import ToyView
    dev = choose_device(device)
    secs = 1.5 if quick else 10.0
    out = {"device": str(dev), "threads": torch.get_num_threads()}
    _run_worker(toy_trainer(ToySettings(), dev), 0.5 if quick else 2.0)      # warm-up: thread pools, allocator
    t = toy_trainer(ToySettings(), dev)
    out["toy_no_view"] = _run_worker(t, secs)
    t = toy_trainer(ToySettings(), dev)
    view = ToyView(t, "ring")
    out["toy_with_view"] = _run_worker(t, secs, view.frame)
    for model in ("dcgan", "vae"):
        t, _, _ = image_trainer(ImageSettings(dataset="fashion-mnist", model=model), dev)
        out[f"{model}_no_view"] = _run_worker(t, secs)
        t, _, _ = image_trainer(ImageSettings(dataset="fashion-mnist", model=model), dev)
        out[f"{model}_with_view"] = _run_worker(t, secs, lambda t=t: sample_grid(t), refresh_hz=5.0)
    return out


def _print_train_ui(res: dict) -> None:
    print(f"Train tab live runs on {res['device']} ({res['threads']} threads): steps/s")
    for name in ("toy", "dcgan", "vae"):
        a, b = res[f"{name}_no_view"], res[f"{name}_with_view"]
        print(f"  {name:6s} no view {a['steps_per_s']:8.1f}   with view {b['steps_per_s']:8.1f}"
              f"  ({b['refreshes_per_s']:.1f} refreshes/s, {100 * (1 - b['steps_per_s'] / max(a['steps_per_s'], 1e-9)):+.0f}% cost)")


def decode(quick: bool = False, checkpoints_dir: Path | None = None) -> dict:
    import torch

    from ..render import ModelRegistry
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    out = {}
    for dev in devices:
        reg = ModelRegistry(checkpoints_dir or ROOT / "checkpoints", dev)
        for name in sorted(reg.available()):
            dec = reg.get(name).decoder
            for batch in (1, 64) if quick else (1, 64, 1024):
                z = torch.randn(batch, dec.cfg.latent_dim, device=dev)
                reps = 3 if quick else max(3, int(2048 / batch))
                with torch.inference_mode():
                    dec.generate(z)
                    if dev == "cuda":
                        torch.cuda.synchronize()
                    t0 = time.perf_counter()
                    for _ in range(reps):
                        dec.generate(z)
                    if dev == "cuda":
                        torch.cuda.synchronize()
                    dt = (time.perf_counter() - t0) / reps
                out[f"{name}@{dev}/batch{batch}"] = {"images_per_s": batch / dt, "ms_per_batch": 1000 * dt}
    return out


_UMAP_CHILD = """
import time, sys, numpy as np
t0 = time.perf_counter()
from explorer.projection import MapParams, fit_umap
x = np.random.default_rng(0).normal(size=(int(sys.argv[1]), 16)).astype(np.float32)
fit_umap(x, MapParams(points=len(x)))
cold = time.perf_counter() - t0
t0 = time.perf_counter()
fit_umap(x, MapParams(points=len(x)))
print(cold, time.perf_counter() - t0)
"""


def umap_bench(quick: bool = False) -> dict:
    import numpy as np

    from ..projection import LatentMap, MapParams, load_map, save_map
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
    load_map(path, 16)
    load_s = time.perf_counter() - t1
    z = rng.normal(size=(1, 16)).astype(np.float32)
    lm.place(z)
    t1 = time.perf_counter()
    for _ in range(20):
        lm.place(z)
    place_ms = (time.perf_counter() - t1) / 20 * 1000
    return {"points": n, "cold_fit_s_new_process": cold, "warm_fit_s": warm, "load_cached_s": load_s,
            "place_one_point_ms": place_ms, "wall_s": time.perf_counter() - t0}


SHIPPED_TRAINING = {   # the shipped models' settings (checkpoints/train-shipped.sh)
    "dcgan": ({"latent_dim": 64, "width": 32, "d_width": 32}, {"batch_size": 64, "label_smoothing": 0.9}),
    "vae": ({"latent_dim": 16}, {"batch_size": 128}),
}


def train_speed(quick: bool = False, device: str | None = None) -> dict:
    """Steps/s and images/s of the plain eager training loop at the shipped settings, on random
    uint8 images of the right shape (the loop keeps data on the device, so its source does not matter).
    The fast path (a whole training step captured as a CUDA graph) needs CUDA and is not built yet."""
    import torch

    from ..device import choose_device
    from ..training import GANTrainConfig, ImageSampler, VAETrainConfig, make_trainer
    dev = choose_device(device)
    images = torch.randint(0, 256, (2048, 1, 28, 28), dtype=torch.uint8)
    out = {"device": str(dev)}
    for kind, (model_cfg, train_cfg) in SHIPPED_TRAINING.items():
        if kind == "dcgan":
            t = make_trainer(kind, model_cfg, GANTrainConfig(**train_cfg), ImageSampler(images, dev), dev)
        else:
            t = make_trainer(kind, model_cfg, VAETrainConfig(**train_cfg), ImageSampler(images, dev, (0.0, 1.0)), dev)
        warm, n = (2, 5) if quick else (5, 30 if dev.type == "cpu" else 300)
        for _ in t.run(warm):
            pass
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in t.run(warm + n):
            pass
        if dev.type == "cuda":
            torch.cuda.synchronize()
        dt = time.perf_counter() - t0
        batch = train_cfg["batch_size"]
        out[kind] = {"eager_steps_per_s": n / dt, "eager_images_per_s": n * batch / dt,
                     "fast_path": "not built (needs a CUDA machine to build and verify)"}
    return out
