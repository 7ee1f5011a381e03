"""Latent Explorer: `python app.py` serves the explorer on http://127.0.0.1:7860.

Flags: --checkpoint (a model name from checkpoints/ or a .safetensors path), --device,
--host (default 127.0.0.1: only this computer), --port, --share (a public Gradio link; off).

On SIGTERM, SIGINT (Ctrl-C) and a normal exit the server stops and its children end with it
(the map worker process); temporary files of interrupted saves and the runtime folders of
processes that no longer run are removed at start. After that orderly shutdown the process ends
at once (`os._exit`): a thread still inside a PyTorch call (a render, a training step, the
background preparation of other models) would otherwise make the interpreter's own finalisation
abort ("terminate called without an active exception").
"""
from __future__ import annotations

import argparse
import faulthandler
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from explorer.cli.args import whole
from explorer.core.checkpoints import CHECKPOINT_DIR, remove_stale_temp_files
from explorer.core.device import choose_device
from explorer.core.validation import UserError

log = logging.getLogger("app")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Latent Explorer: look inside GAN and VAE decoders.")
    p.add_argument("--checkpoint", help="model to open first: a name from checkpoints/ or a path to a .safetensors file")
    p.add_argument("--checkpoints-dir", default=str(CHECKPOINT_DIR), help="folder of models to offer")
    p.add_argument("--device", help="cpu, cuda, cuda:N or mps (default: CUDA when present, else CPU)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: this computer only)")
    p.add_argument("--port", type=whole("--port", 1, 65535), default=7860, help="port to listen on")
    p.add_argument("--share", action="store_true", help="also create a public gradio.live link (off by default)")
    return p.parse_args(argv)


def _stop_on_sigterm() -> None:
    """SIGTERM ends the server like Ctrl-C does (Gradio closes on KeyboardInterrupt), so the normal
    exit path runs: the map worker is ended and the runtime folder removed."""
    def handler(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, handler)


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return _run(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


def _run(args) -> int:
    from explorer.core import runtime
    from explorer.explore.workspace import Workspace

    from explorer.ui.server import check_address
    check_address(args.host, args.port)           # a bad --host or a busy --port: said at once, in one line
    device = choose_device(args.device)
    folder = Path(args.checkpoints_dir)
    for stale in runtime.remove_stale() + remove_stale_temp_files(folder) + remove_stale_temp_files(folder / "cache"):
        log.info("removed %s, left by an interrupted run", stale)
    _stop_on_sigterm()
    ws = Workspace(folder, device, cache_dir=folder / "cache")
    stop = threading.Event()
    preparing = session = None
    try:
        default = _first_model(ws, args)
        # the first model's directions and map are ready before the first page (from the disk cache when shipped)
        ws.directions(default)
        ws.map(default)
        preparing = threading.Thread(target=_prepare_others, args=(ws, ws.model_names(), default, stop),
                                     daemon=True, name="prepare-models")
        preparing.start()
        ws.warm_up_maps()   # the map worker process starts and compiles UMAP now, not when a new model needs a map
        from explorer.ui.app import build_app, training_session
        from explorer.ui.server import serve
        session = training_session(ws)
        serve(build_app(ws, default, session), args.host, args.port, share=args.share)
    finally:
        stop.set()
        if session is not None:
            session.close()         # a live training run stops at its next step
        ws.close()
        if preparing is not None:
            preparing.join(timeout=10)
        runtime.remove()
    return 0


def _first_model(ws, args) -> str:
    names = ws.model_names()
    default = "fashion_dcgan" if "fashion_dcgan" in names else (names[0] if names else None)
    if args.checkpoint:
        if args.checkpoint.endswith(".safetensors") and Path(args.checkpoint).is_file():
            default = Path(args.checkpoint).stem
            ws.add_file(Path(args.checkpoint), default)
        else:
            ws.model(args.checkpoint)
            default = args.checkpoint
    if default is None:
        raise UserError(f"no explorable model in {args.checkpoints_dir}")
    return default


def _prepare_others(ws, names, default, stop: threading.Event) -> None:
    """Background: load every other model's directions and map (cached ones are instant), until `stop`."""
    for name in names:
        if name != default and not stop.is_set():
            try:
                ws.directions(name)
                if not stop.is_set():
                    ws.map(name)
            except Exception as exc:  # noqa: BLE001 - one broken model must not stop the others
                log.warning("could not prepare %s: %s", name, exc)


def _end_process(code: int) -> None:
    """End now, after the orderly shutdown in `main` (see the module's docstring for why)."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    faulthandler.register(signal.SIGUSR1, all_threads=True)   # `kill -USR1 PID`: every thread's stack to stderr
    _end_process(main())
