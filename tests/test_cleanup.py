"""Nothing left behind: temporary files of interrupted saves are removed at start (only
`_write_atomic`'s exact pattern, only when stale), each process keeps its runtime files in one
folder that is removed at exit, and the folders of processes that no longer run are removed."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from explorer.core import runtime
from explorer.core.checkpoints import remove_stale_temp_files, save_checkpoint
from explorer.core.models import build

ROOT = Path(__file__).resolve().parents[1]


def test_only_stale_temporary_saves_are_removed(tmp_path):
    ck = save_checkpoint(tmp_path / "m.safetensors", "toy_gan", build("toy_gan", {"hidden": 4, "layers": 1}), {})
    old = tmp_path / ".m.safetensors.a1b2c3d4.tmp"          # a save killed long ago
    fresh_closed = tmp_path / ".m.safetensors.zz_9yy8x.tmp" # a save killed a moment ago: nobody writes it
    fresh_open = tmp_path / ".m.safetensors.q1w2e3r4.tmp"   # a save in progress
    keep = [tmp_path / ".notes.tmp", tmp_path / "m.safetensors.a1b2c3d4.tmp", tmp_path / ".m.safetensors.ABCDEFGH.tmp",
            tmp_path / ".m.safetensors.a1b2c3d4.tmp.bak"]    # other people's files: not our pattern
    for p in [old, fresh_closed, fresh_open, *keep]:
        p.write_bytes(b"partial")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    for p in keep:
        os.utime(p, (an_hour_ago, an_hour_ago))
    with open(fresh_open, "ab"):
        removed = remove_stale_temp_files(tmp_path)
    assert sorted(removed) == sorted([old, fresh_closed])
    assert ck.exists() and fresh_open.exists() and all(p.exists() for p in keep)


def test_runtime_folders_of_dead_processes_are_removed_live_ones_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(runtime, "_base", lambda: tmp_path)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    gone = tmp_path / f"latent-explorer-{int(dead.stdout)}-abc123"
    alive = tmp_path / f"latent-explorer-{os.getppid()}-def456"      # our parent runs
    legacy_old, legacy_new = tmp_path / "latent-explorer-uploads-x1", tmp_path / "latent-explorer-gifs-y2"
    other = tmp_path / "latent-explorer-notes"
    for d in (gone, alive, legacy_old, legacy_new, other):
        (d / "uploads").mkdir(parents=True)
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(legacy_old, (two_days_ago, two_days_ago))
    assert sorted(runtime.remove_stale()) == sorted([gone, legacy_old])
    assert alive.exists() and legacy_new.exists() and other.exists()


def test_the_runtime_folder_is_removed_at_exit():
    code = ("from explorer.core import runtime; f = runtime.folder('uploads'); (f / 'x.safetensors').write_bytes(b'1');"
            " print(f.parent)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    folder = Path(out.stdout.strip())
    assert folder.name.startswith("latent-explorer-") and not folder.exists()
