"""Checkpoint folders and launched apps for the tests (random-weight models: the tests check the
plumbing, not picture quality), sized small: 500-point maps and 500-sample directions.

`app_folder` is the one folder the session's shared app serves (conftest.py): tiny models of every
kind, a hostile model whose every metadata string is markup, and links to the shipped Fashion-MNIST
models (for the tests that need real pictures). `make_checkpoints` is a private folder of tiny
models for the tests that change what they find there.
"""
from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import numpy as np
import torch

from explorer.core.checkpoints import CHECKPOINT_DIR, save_checkpoint
from explorer.core.data import CLASS_NAMES
from explorer.core.models import build
from explorer.maps.layout import MapParams

FASHION = {"name": "fashion-mnist", "split": "train", "size": 0, "class_names": CLASS_NAMES["fashion-mnist"]}
SMALL_MAPS = MapParams(points=500)
DIRECTION_SAMPLES = 500
TINY = {
    "tiny_gan": ("dcgan", {"width": 8, "d_width": 8, "latent_dim": 12}),
    "tiny_vae2": ("vae", {"width": 8, "hidden": 32, "latent_dim": 2}),
    "tiny_vae8": ("vae", {"width": 8, "hidden": 32, "latent_dim": 8}),
}
COND = {"tiny_cgan": ("dcgan", {"width": 8, "d_width": 8, "latent_dim": 12, "num_classes": 10}),
        "tiny_cvae": ("vae", {"width": 8, "hidden": 32, "latent_dim": 6, "num_classes": 10})}
SHIPPED = ("fashion_classifier", "fashion_dcgan", "fashion_dcgan-encoder", "fashion_vae16", "fashion_vae2")

# markup planted in a checkpoint's strings (test_browser_security.py checks none of it runs)
IMG = '<img src=x onerror="window.__pwned=1">'
SVG = '<svg onload="window.__pwned=2">'
SCRIPT = "</textarea><script>window.__pwned=3</script>"
LINK = "[click](javascript:window.__pwned=4)"
HOSTILE_CLASSES = [IMG, SVG, SCRIPT, LINK, f"{IMG} & more"] + [f"{IMG}{i}" for i in range(5)]


def make_checkpoints(folder: Path) -> Path:
    """Tiny random-weight models plus a tiny random Fashion-MNIST classifier, in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    return save_models(folder, {**TINY, "fashion_classifier": ("classifier", {"width": 8})})


def save_models(folder: Path, specs: dict, dataset: dict = FASHION) -> Path:
    """Random-weight checkpoints, {name: (kind, config)}, of models of `dataset` (Fashion-MNIST unless
    told), saved into `folder`."""
    for name, (kind, cfg) in specs.items():
        mods = build(kind, cfg)
        for m in mods.values():
            m.eval()
        save_checkpoint(folder / f"{name}.safetensors", kind, mods,
                        {"title": name.replace("_", " "), "config": cfg, "dataset": dataset, "steps": 0})
    return folder


def link_shipped(folder: Path, names=SHIPPED) -> Path:
    """The shipped models `names` in `folder` (symbolic links), with copies of their shipped caches."""
    (folder / "cache").mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / f"{name}.safetensors").symlink_to(CHECKPOINT_DIR / f"{name}.safetensors")
        for cached in (CHECKPOINT_DIR / "cache").glob(f"{name}-*"):
            shutil.copyfile(cached, folder / "cache" / cached.name)
    return folder


def app_folder(folder: Path) -> Path:
    """The shared app's folder: tiny unconditional and conditional models, the hostile `evil_gan`
    and the shipped Fashion-MNIST models (whose classifier every Fashion model here is judged by)."""
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    save_models(folder, TINY)
    torch.manual_seed(1)
    save_models(folder, COND)
    link_shipped(folder)
    return folder


def small_workspace(folder: Path, device="cpu"):
    from explorer.explore.workspace import Workspace
    return Workspace(folder, device, cache_dir=folder / "cache", map_params=SMALL_MAPS,
                     direction_samples=DIRECTION_SAMPLES)


def plant_hostile_gan(ws) -> str:
    """A tiny Fashion GAN whose every metadata string is markup, with its directions and map cached
    (so its hostile class names reach the named directions, the legend, the hover text and the
    selection panel without a UMAP run). Returns its name."""
    from safetensors.torch import save

    from explorer.core.checkpoints import _write_atomic
    from explorer.core.latent import sample_z
    from explorer.explore.directions import ganspace_directions
    from explorer.maps.cache import save_map
    from explorer.maps.layout import LatentMap

    cfg = TINY["tiny_gan"][1]
    torch.manual_seed(1)
    meta = {"title": IMG, "description": f"{SVG} {LINK} **bold** {SCRIPT}", "command": f"python {IMG}\n\n{SVG}",
            "config": cfg, "steps": IMG, "created": SVG, "device": IMG, "train_seconds": 3.0,
            "dataset": {"name": "fashion-mnist", "split": SVG, "size": IMG, "source": SCRIPT, "class_names": HOSTILE_CLASSES},
            "training": {IMG: SVG, "lr": 0.001}, "evaluation": {IMG: 0.5, "fd | " + SVG: SCRIPT}}
    save_checkpoint(ws.folder / "evil_gan.safetensors", "dcgan", build("dcgan", cfg), meta)
    m = ws.model("evil_gan")
    d = ganspace_directions(m.family, samples=200, classifier=ws.classifier("fashion-mnist"), check=20, class_samples=200)
    d.class_names = HOSTILE_CLASSES
    _write_atomic(ws.directions_path("evil_gan"), save(d.to_tensors(), metadata={"class_names": json.dumps(HOSTILE_CLASSES)}))
    p = ws.map_params
    z = sample_z(p.points, cfg["latent_dim"], p.seed).numpy()
    emb = np.random.default_rng(0).normal(size=(p.points, 2)).astype(np.float32)
    save_map(LatentMap(emb, z, np.arange(p.points) % 10, HOSTILE_CLASSES, "samples", "umap"), ws.map_path("evil_gan"), p)
    return "evil_gan"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


TEST_SESSION_CAPACITY = 64     # the shared app's session store: the bounded-memory test fills it with fewer calls


def launch(ws, default: str = "tiny_vae2", session_capacity: int | None = None):
    """The app for workspace `ws` on a free port, with the same settings as `python app.py`
    (explorer.ui.server; `session_capacity` if given). Returns (demo, url); close with `demo.close()`
    and `ws.close()`."""
    from explorer.ui.app import build_app
    from explorer.ui.server import serve

    demo = build_app(ws, default)
    port = free_port()
    serve(demo, "127.0.0.1", port, block=False, quiet=True,
          **({} if session_capacity is None else {"session_capacity": session_capacity}))
    return demo, f"http://127.0.0.1:{port}/"


def in_own_thread(fn, *args, **kwargs):
    """fn(*args, **kwargs) in a thread of its own, for code that runs an event loop (asyncio.run): the
    session's Playwright may keep one running in the test's thread."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args, **kwargs).result()


def run_async(make_coro):
    """asyncio.run(make_coro()) in a thread of its own (see in_own_thread)."""
    import asyncio
    return in_own_thread(lambda: asyncio.run(make_coro()))
