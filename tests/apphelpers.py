"""A tiny checkpoint folder and a launched app for API and browser tests (random-weight models:
the tests check the plumbing, not picture quality)."""
from __future__ import annotations

import socket
from pathlib import Path

import torch

from explorer.core.checkpoints import save_checkpoint
from explorer.core.data import CLASS_NAMES
from explorer.core.models import build

FASHION = {"name": "fashion-mnist", "split": "train", "size": 0, "class_names": CLASS_NAMES["fashion-mnist"]}


def make_checkpoints(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    specs = {
        "tiny_gan": ("dcgan", {"width": 8, "d_width": 8, "latent_dim": 12}),
        "tiny_vae2": ("vae", {"width": 8, "hidden": 32, "latent_dim": 2}),
        "tiny_vae8": ("vae", {"width": 8, "hidden": 32, "latent_dim": 8}),
        "fashion_classifier": ("classifier", {"width": 8}),
    }
    return save_models(folder, specs)


def save_models(folder: Path, specs: dict) -> Path:
    """Random-weight checkpoints of Fashion-MNIST models, {name: (kind, config)}, saved into `folder`."""
    for name, (kind, cfg) in specs.items():
        mods = build(kind, cfg)
        for m in mods.values():
            m.eval()
        save_checkpoint(folder / f"{name}.safetensors", kind, mods,
                        {"title": name.replace("_", " "), "config": cfg, "dataset": FASHION, "steps": 0})
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(folder: Path, default: str = "tiny_vae2", device: str = "cpu"):
    """The app on a free port with the same settings as `python app.py` (explorer.ui.server)."""
    from explorer.explore.workspace import Workspace
    from explorer.ui.app import build_app
    from explorer.ui.server import serve

    ws = Workspace(folder, device, cache_dir=folder / "cache")
    demo = build_app(ws, default)
    port = free_port()
    serve(demo, "127.0.0.1", port, block=False, quiet=True)
    return demo, ws, f"http://127.0.0.1:{port}/"
