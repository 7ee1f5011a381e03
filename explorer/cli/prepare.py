"""`python -m explorer.prepare [--checkpoints-dir DIR]`: compute the caches the app opens with
(slider directions and maps) for every explorable model, so its first start needs no waiting.

`python -m explorer.prepare emoji [PATH]` and `python -m explorer.prepare folder PATH --name NAME`
build a dataset instead (explorer/cli/prepare_data.py)."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from explorer.core.checkpoints import CHECKPOINT_DIR
from explorer.core.validation import UserError
from explorer.explore.workspace import Workspace


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in ("emoji", "folder"):
        from explorer.cli.prepare_data import main as prepare_data
        return prepare_data(argv)
    p = argparse.ArgumentParser(prog="python -m explorer.prepare", description=__doc__.split("\n")[0])
    p.add_argument("--checkpoints-dir", default=str(CHECKPOINT_DIR))
    args = p.parse_args(argv)
    try:
        return prepare(Path(args.checkpoints_dir))
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def prepare(folder: Path) -> int:
    if not folder.is_dir():
        raise UserError(f"--checkpoints-dir {folder} is not a folder.")
    ws = Workspace(folder, "cpu", cache_dir=folder / "cache")
    try:
        return _prepare_all(ws)
    finally:
        ws.close()


def _prepare_all(ws) -> int:
    failed = 0
    for name in ws.model_names():
        t0 = time.perf_counter()
        ws.directions(name)
        ws.wait_for_map(name)
        status = ws.map_status(name)
        failed += not status.startswith("ready")
        print(f"{name}: directions and map {status} ({time.perf_counter() - t0:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
