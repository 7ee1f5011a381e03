"""`python -m explorer.prepare [--checkpoints-dir DIR]`: compute the caches the app opens with
(slider directions and maps) for every explorable model, so its first start needs no waiting."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from explorer.core.checkpoints import CHECKPOINT_DIR
from explorer.explore.workspace import Workspace


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m explorer.prepare", description=__doc__.split("\n")[0])
    p.add_argument("--checkpoints-dir", default=str(CHECKPOINT_DIR))
    args = p.parse_args(argv)
    folder = Path(args.checkpoints_dir)
    ws = Workspace(folder, "cpu", cache_dir=folder / "cache")
    failed = 0
    for name in ws.model_names():
        t0 = time.perf_counter()
        ws.directions(name)
        ws.maps.get(ws.model(name))
        ws.maps.wait(name)
        status = ws.maps.status(name)
        failed += not status.startswith("ready")
        print(f"{name}: directions and map {status} ({time.perf_counter() - t0:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
