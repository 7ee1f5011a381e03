"""This process's runtime folder: uploads, GIFs and the caches of uploaded models.

One temporary folder per process (`/tmp/latent-explorer-<pid>-<random>/`), created on first use
and removed at exit; folders left behind by processes that no longer run (a `kill -9`, a power
cut) are removed by the next start (`remove_stale()`).
"""
from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path

PREFIX = "latent-explorer-"
_OURS = re.compile(rf"^{re.escape(PREFIX)}(\d+)-[A-Za-z0-9_]+$")
# folders of the versions before this one ("-uploads-xxxx", "-gifs-xxxx"): no owner recorded, so
# only removed once nobody has touched them for a day
_LEGACY = re.compile(rf"^{re.escape(PREFIX)}(uploads|gifs)-[A-Za-z0-9_]+$")
LEGACY_AGE_S = 24 * 3600

_lock = threading.Lock()
_root: Path | None = None


def _base() -> Path:
    return Path(tempfile.gettempdir())


def folder(name: str = "") -> Path:
    """The runtime folder (or its sub-folder `name`), created on first use."""
    global _root
    with _lock:
        if _root is None or not _root.is_dir():
            _root = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=_base()))
            atexit.register(remove, _root)
        root = _root
    out = root / name if name else root
    out.mkdir(parents=True, exist_ok=True)
    return out


def remove(path: Path | None = None) -> None:
    """Remove the runtime folder (at exit; `path` is the one created then)."""
    path = path or _root
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)


def process_running(pid: int) -> bool:
    """Whether process `pid` still runs (someone else's counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:      # someone else's process: alive
        return True
    return True


def remove_stale() -> list[Path]:
    """Remove the runtime folders of processes that no longer run; returns what was removed."""
    removed = []
    now = time.time()
    for p in _base().glob(f"{PREFIX}*"):
        if not p.is_dir() or p.is_symlink() or p == _root or p.stat().st_uid != os.getuid():
            continue
        m = _OURS.match(p.name)
        stale = (m is not None and not process_running(int(m.group(1)))) or \
                (_LEGACY.match(p.name) is not None and now - p.stat().st_mtime > LEGACY_AGE_S)
        if stale:
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed
