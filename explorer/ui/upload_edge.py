"""Gradio's upload route and its file route at the ASGI edge: room for uploads is reserved as they
arrive, and an uploaded file is never served back.

  - Room: Gradio writes what is POSTed to /gradio_api/upload into its folder (the runtime folder's
    `gradio/`, with its own outputs). The folder holds at most LIMIT_MB: before an upload is read,
    its size (its Content-Length, else each chunk as it comes) is reserved against what the folder
    holds and what the uploads still arriving will add. Without room, the oldest files of at least
    MIN_AGE_S are deleted (an upload is used within seconds of arriving); when that is not enough
    the upload is refused with 507 and nothing of it is written. (The minute-by-minute `tidy` of
    gradio_files.py let 25 uploads of 100 MB write 2.2 GB in 11.5 s.)
  - Privacy: Gradio serves every file of its folder to whoever asks `/gradio_api/file=<path>`, an
    upload included, for as long as it is kept. Nobody's page needs its own upload back (pictures and
    models are read by the server), so a file that came in through the upload route is answered 404;
    the app's own outputs (pictures, GIFs) are served as before.
"""
from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

from explorer.ui.gradio_files import KEEP_MB
from explorer.ui.request_limits import answer

LIMIT_MB = KEEP_MB        # Gradio's folder: uploads and the app's outputs together
MIN_AGE_S = 60            # a file younger than this is never deleted to make room
_FILE_ROUTE = re.compile(r"^/gradio_api/file[=/](.+)$")


def folder_files(folder: Path) -> list[tuple[float, int, Path]]:
    """(modified time, size, path) of every plain file under `folder`, oldest first."""
    out = []
    for root, _, names in os.walk(folder):
        for name in names:
            path = Path(root) / name
            try:
                st = path.lstat()
            except OSError:
                continue
            if not path.is_symlink():
                out.append((st.st_mtime, st.st_size, path))
    return sorted(out)


class UploadRoom:
    """Bytes promised to uploads still arriving, against a folder's limit."""

    def __init__(self, folder: Callable[[], Path], limit_mb: float | None = None, min_age_s: float = MIN_AGE_S):
        self.folder, self.limit_mb, self.min_age_s = folder, limit_mb, min_age_s
        self.promised = 0
        self._lock = threading.Lock()

    @property
    def limit(self) -> int:
        """In bytes: `limit_mb`, else the module's LIMIT_MB as it is now."""
        return int((self.limit_mb if self.limit_mb is not None else LIMIT_MB) * 2**20)

    def reserve(self, nbytes: int) -> str | None:
        """Promise `nbytes` more to an upload (None), deleting the oldest files old enough to make room;
        or the words of a refusal when there is none."""
        with self._lock:
            root = self.folder()
            files = folder_files(root)
            held = sum(size for _, size, _ in files)
            now = time.time()
            for mtime, size, path in files:
                if held + self.promised + nbytes <= self.limit or now - mtime < self.min_age_s:
                    break
                try:
                    path.unlink()
                    held -= size
                    if path.parent != root:
                        path.parent.rmdir()            # Gradio's folder per upload, when it is left empty
                except OSError:
                    pass
            if held + self.promised + nbytes > self.limit:
                return (f"The server's folder for uploads is full ({self.limit // 2**20} MB of files sent in the last "
                        f"minutes); try again in a minute.")
            self.promised += nbytes
            return None

    def arrived(self, nbytes: int) -> None:
        """`nbytes` of a promise are now on disk (counted there) or will never come."""
        with self._lock:
            self.promised = max(0, self.promised - nbytes)


class UploadEdge:
    """ASGI middleware: uploads reserve their room as they arrive; uploaded files are not served back.
    `uploaded`: the paths Gradio wrote for the upload route (Blocks.upload_file_set)."""

    def __init__(self, app, room: UploadRoom, uploaded: Callable[[], set]):
        self.app, self.room, self.uploaded = app, room, uploaded
        self._real: dict[str, str] = {}           # an uploaded path -> its real path (worked out once)

    def _was_uploaded(self, asked: str) -> bool:
        uploaded = set(self.uploaded())
        for p in uploaded - self._real.keys():
            self._real[p] = _resolved(p)
        for p in self._real.keys() - uploaded:
            del self._real[p]
        return _resolved(asked) in self._real.values()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        if scope["method"] in ("GET", "HEAD"):
            asked = _FILE_ROUTE.match(path)
            if asked and self._was_uploaded(asked.group(1)):
                return await answer(send, 404, "Uploaded files are not served back: the server only reads them.")
            return await self.app(scope, receive, send)
        if scope["method"] != "POST" or not path.rstrip("/").endswith("/upload"):
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        try:
            promised = int(length) if length is not None else 0
        except ValueError:
            promised = 0
        why = self.room.reserve(promised) if promised else None
        if why:
            return await answer(send, 507, why)
        left, refused = promised, False

        async def counted_receive():
            nonlocal left, refused
            message = await receive()
            if message["type"] != "http.request" or refused:
                return message
            n = len(message.get("body", b""))
            if n > left:                            # no length given, or more than it said: reserve as it comes
                reason = self.room.reserve(n - left)
                if reason:
                    refused = True
                    await answer(send, 507, reason)
                    return {"type": "http.disconnect"}
                left = n
            self.room.arrived(n)
            left -= n
            return message

        async def quiet_send(message):
            if not refused:
                await send(message)
        try:
            await self.app(scope, counted_receive, quiet_send)
        except Exception:
            if not refused:
                raise
        finally:
            self.room.arrived(left)


def _resolved(path: str) -> str:
    return os.path.realpath(os.path.abspath(str(path)))
