"""Latent Explorer: `python app.py` serves the explorer on http://127.0.0.1:7860.

Flags: --checkpoint (a model name from checkpoints/ or a .safetensors path), --device,
--host (default 127.0.0.1: only this computer), --port, --share (a public Gradio link; off).
"""
from __future__ import annotations

import argparse
import logging
import sys
import threading
from pathlib import Path

from explorer.core.checkpoints import CHECKPOINT_DIR, CheckpointError
from explorer.core.device import choose_device


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Latent Explorer: look inside GAN and VAE decoders.")
    p.add_argument("--checkpoint", help="model to open first: a name from checkpoints/ or a path to a .safetensors file")
    p.add_argument("--checkpoints-dir", default=str(CHECKPOINT_DIR), help="folder of models to offer")
    p.add_argument("--device", help="cpu, cuda, cuda:N or mps (default: CUDA when present, else CPU)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: this computer only)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--share", action="store_true", help="also create a public gradio.live link (off by default)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from explorer.explore.workspace import Workspace
    from explorer.ui.app import build_app, tooltip_js
    from explorer.ui.page import CSS, theme
    from explorer.ui.plotly_html import PLOTLY_JS
    from explorer.ui.picker import MAX_UPLOAD_MB

    try:
        device = choose_device(args.device)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    ws = Workspace(Path(args.checkpoints_dir), device, cache_dir=Path(args.checkpoints_dir) / "cache")
    names = ws.model_names()
    default = "fashion_dcgan" if "fashion_dcgan" in names else (names[0] if names else None)
    if args.checkpoint:
        try:
            if args.checkpoint.endswith(".safetensors") and Path(args.checkpoint).is_file():
                default = Path(args.checkpoint).stem
                ws.registry.add_file(Path(args.checkpoint), default)
            else:
                ws.registry.path_of(args.checkpoint)
                default = args.checkpoint
        except (CheckpointError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    if default is None:
        print(f"error: no explorable model in {args.checkpoints_dir}", file=sys.stderr)
        return 2
    # the first model's directions and map are ready before the first page (from the disk cache when shipped)
    first = ws.model(default)
    ws.directions(default)
    ws.maps.get(first)
    threading.Thread(target=_prepare_others, args=(ws, names, default), daemon=True).start()
    ws.maps.warm_up()   # the map worker process starts and compiles UMAP now, not when a new model needs a map
    demo = build_app(ws, default)
    demo.queue(default_concurrency_limit=8)
    demo.launch(server_name=args.host, server_port=args.port, share=args.share, allowed_paths=[str(PLOTLY_JS)],
                js=tooltip_js(), theme=theme(), css=CSS, max_file_size=f"{MAX_UPLOAD_MB}mb", show_error=True)
    return 0


def _prepare_others(ws, names, default) -> None:
    """Background: load every other model's directions and map (cached ones are instant)."""
    for name in names:
        if name != default:
            try:
                ws.directions(name)
                ws.maps.get(ws.model(name))
            except Exception as exc:  # one broken model must not stop the others
                logging.getLogger("app").warning("could not prepare %s: %s", name, exc)


if __name__ == "__main__":
    sys.exit(main())
