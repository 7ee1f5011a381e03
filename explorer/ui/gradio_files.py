"""The files Gradio writes for the app, kept in this process's runtime folder and kept few.

  - Where: Gradio's upload and output folder (GRADIO_TEMP_DIR) is set to the runtime folder's
    `gradio/` before any Blocks is built, so uploads, the copies of the interpolation GIFs and of
    uploaded pictures are removed at exit with the rest (by default they went to /tmp/gradio and
    outlived the app).
  - How many: `FileBox` is a gr.File(type="filepath") without the empty temporary file Gradio 6
    leaves behind on every upload it hands to a handler; `forget` deletes Gradio's copy of an upload
    once it was read; `tidy` (run every TIDY_EVERY_S by `keep_tidy`) deletes what nobody consumed:
    Gradio's files and the GIFs older than KEEP_S, then the oldest ones while they hold more than
    KEEP_MB (anything POSTed to /gradio_api/upload is kept no longer than that). The KEEP_MB limit
    also holds as uploads arrive, and uploads are never served back: upload_edge.py.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import gradio as gr
import gradio_client.utils as client_utils
from gradio.utils import NamedString, get_upload_folder

from explorer.core import runtime

log = logging.getLogger(__name__)
KEEP_S = 60 * 60          # an upload or a GIF nobody consumed is deleted after this long
KEEP_MB = 1024            # and the oldest ones while together they hold more than this
TIDY_EVERY_S = 60
TIDIED = ("gradio", "gifs")   # runtime sub-folders tidied (never "uploads" or "cache": uploads.py owns those)


def use_runtime_folder() -> Path:
    """Point Gradio's upload and output folder at the runtime folder (before any Blocks is built)."""
    folder = runtime.folder("gradio")
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    return folder


class FileBox(gr.File):
    """gr.File(type="filepath") that hands the handler Gradio's copy of the upload and nothing else
    (gr.File creates an empty temporary file in Gradio's folder per upload and never uses it)."""
    is_template = True            # drawn by the frontend as a plain gr.File

    def _process_single_file(self, f):
        if self.type != "filepath":
            return super()._process_single_file(f)
        if self.file_types and not client_utils.is_valid_file(f.path, self.file_types):
            raise gr.Error(f"Invalid file type. Please upload a file that is one of these formats: {self.file_types}")
        return NamedString(f.path)


def forget(src: Path) -> None:
    """Delete Gradio's copy of an upload once it was read (only inside Gradio's upload folder: never a
    file a caller merely named), with its folder when that is left empty."""
    try:
        cache = Path(get_upload_folder()).resolve()
        path = Path(src).resolve()
        if cache in path.parents and path.is_file():
            path.unlink()
            if path.parent != cache and not any(path.parent.iterdir()):
                path.parent.rmdir()
    except OSError as exc:
        log.warning("could not delete Gradio's copy of an upload: %s", exc)


def tidy(folder: Path, keep_s: float = KEEP_S, keep_mb: float = KEEP_MB, now: float | None = None) -> list[Path]:
    """Delete the files under `folder` older than `keep_s`, then the oldest while they hold more than
    `keep_mb`; empty sub-folders go too. Returns what was deleted."""
    now = time.time() if now is None else now
    files = []
    for path in folder.rglob("*"):
        try:
            st = path.lstat()
        except OSError:
            continue
        if path.is_file() and not path.is_symlink():
            files.append((st.st_mtime, st.st_size, path))
    files.sort()
    total, gone = sum(size for _, size, _ in files), []
    for mtime, size, path in files:
        if now - mtime <= keep_s and total <= keep_mb * 2**20:
            break
        path.unlink(missing_ok=True)
        total -= size
        gone.append(path)
    for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        try:
            sub.rmdir()                # only when empty
        except OSError:
            pass
    return gone


def keep_tidy(every_s: float = TIDY_EVERY_S) -> threading.Event:
    """Tidy the runtime folder's Gradio files and GIFs every `every_s` in a background thread; set
    the returned event to stop it."""
    stop = threading.Event()

    def loop():
        while not stop.wait(every_s):
            for name in TIDIED:
                try:
                    tidy(runtime.folder(name))
                except OSError as exc:
                    log.warning("could not tidy %s: %s", name, exc)
    threading.Thread(target=loop, name="tidy-runtime-folder", daemon=True).start()
    return stop
