"""`python -m explorer.prepare [--checkpoints-dir DIR]`: compute the caches the app opens with
(slider directions and maps) for every explorable model, so its first start needs no waiting.

`python -m explorer.prepare emoji [PATH]` and `python -m explorer.prepare folder PATH --name NAME`
build a dataset instead (explorer/cli/prepare_data.py)."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from explorer.cli.exits import run_command
from explorer.core.checkpoints import CHECKPOINT_DIR
from explorer.core.validation import UserError
from explorer.explore.workspace import Workspace


USAGE = "python -m explorer.prepare [--checkpoints-dir DIR] | emoji [PATH] | folder PATH --name NAME"
DATASETS = """datasets (each with its own --help):
  emoji [PATH]              the emoji dataset from npm's emoji-datasource-twitter 16.0.0 (PATH: its .tgz
                            or unpacked folder; without one it is fetched with npm pack)
  folder PATH --name NAME   a named dataset from your own image folder (sub-folders become classes)"""


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in ("emoji", "folder"):
        from explorer.cli.prepare_data import main as prepare_data
        return prepare_data(argv)
    p = argparse.ArgumentParser(prog="python -m explorer.prepare", usage=USAGE, description="Compute the caches the app opens with "
                                "(slider directions and maps) for every model, or build a dataset.",
                                epilog=DATASETS, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoints-dir", default=str(CHECKPOINT_DIR), help="the models whose caches to compute")
    args = p.parse_args(argv)
    return run_command(lambda: prepare(Path(args.checkpoints_dir)),
                       interrupted="the caches computed so far are kept; run it again for the rest")


def prepare(folder: Path) -> int:
    if not folder.is_dir():
        raise UserError(f"--checkpoints-dir {folder} is not a folder.")
    ws = Workspace(folder, "cpu", cache_dir=folder / "cache")
    try:
        return _prepare_all(ws)
    finally:
        ws.close()


def _prepare_all(ws) -> int:
    names = ws.model_names()
    if not names:
        raise UserError(f"--checkpoints-dir {ws.folder} holds no model to explore (a GAN or VAE .safetensors file): "
                        "nothing to prepare.")
    failed = 0
    for name in names:
        t0 = time.perf_counter()
        ws.directions(name)
        ws.wait_for_map(name)
        status = ws.map_status(name)
        failed += not status.startswith("ready")
        print(f"{name}: directions and map {status} ({time.perf_counter() - t0:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
