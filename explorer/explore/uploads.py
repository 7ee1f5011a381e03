"""Uploaded checkpoints: checked, copied to this process's runtime folder, listed; all or nothing;
and bounded: the server holds a few of them at a time.

An upload is copied to the runtime folder under a generated name (never the user's file name, so
no user string becomes a path), loaded and validated, and only then listed. Whatever goes wrong (an
expected refusal or a bug) the copy is deleted and the registry is as it was. An identical copy of
a listed model (same content digest) is not listed twice: that model is named instead. Refusals
name the user's own file name, never the internal one.

Bounds (every upload costs memory for its weights, its directions and, once someone opens the Map,
its map: six uploads took a server from 0.5 to 2.1 GB): at most MAX_HELD uploads and MAX_HELD_MB of
their files at once, and PER_VISITOR per visitor (a page session). To make room, uploads that
nobody used for IDLE_S are unloaded, least recently used first; a visitor at their own limit
replaces their own oldest upload that no one else loaded. A model someone used in the last IDLE_S
is never unloaded: when there is no room otherwise, the new upload is refused, saying why. Anyone
who asks for an unloaded model is told what happened.
"""
from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from explorer.core import runtime
from explorer.core.checkpoints import CheckpointError
from explorer.core.families import MODEL_SUFFIXES
from explorer.core.loaded_model import file_digest
from explorer.core.validation import UserError, os_error_words
from explorer.explore.registry import ModelRegistry

MAX_UPLOAD_MB = 200      # one file
MAX_HELD = 4             # uploaded models loaded at once
MAX_HELD_MB = 400        # their files together
PER_VISITOR = 2          # loaded at once for one visitor (a page session)
IDLE_S = 15 * 60         # unused this long, an upload may be unloaded to make room


@dataclass(frozen=True)
class Registered:
    name: str                          # the model's name in the list
    already_listed: bool               # an identical copy of a model that was listed before
    unloaded: tuple[str, ...] = ()     # uploads unloaded to make room for it


@dataclass
class _Held:
    name: str
    path: Path
    size: int
    holders: set[str] = field(default_factory=set)    # the visitors who uploaded it
    last_used: float = 0.0


class Uploads:
    """The uploaded models a server holds, and the rule that bounds them. `on_unload(name)` drops
    what others keep for an unloaded model (its directions, its map)."""

    def __init__(self, registry: ModelRegistry, on_unload: Callable[[str], None] = lambda name: None,
                 clock: Callable[[], float] = time.monotonic, max_held: int = MAX_HELD,
                 max_held_mb: float = MAX_HELD_MB, per_visitor: int = PER_VISITOR, idle_s: float = IDLE_S):
        self.registry, self.on_unload, self.clock = registry, on_unload, clock
        self.max_held, self.max_bytes, self.per_visitor, self.idle_s = max_held, max_held_mb * 2**20, per_visitor, idle_s
        self._held: dict[str, _Held] = {}
        self._gone: dict[str, None] = {}         # names unloaded (the last 1 000), to say so when asked for
        self._lock = threading.Lock()

    def held(self) -> list[str]:
        with self._lock:
            return list(self._held)

    def touch(self, name: str) -> None:
        """`name` is being used (a render, a map...); a model that was unloaded is a UserError saying so."""
        held = self._held.get(name)
        if held is not None:
            held.last_used = self.clock()
        elif name in self._gone:
            raise UserError(f"{name} was unloaded to make room for newer uploads after {self.idle_s / 60:.0f} minutes "
                            "unused. Load its file again to explore it.")

    def register(self, src: Path, shown: str, visitor: str = "") -> Registered:
        """Check and list the uploaded file `src` (`shown`: how to name it to the user) for `visitor`,
        or raise a UserError naming it; a bug is raised as it is, after the same clean-up."""
        dst = name = None
        try:
            suffix = src.suffix.lower()
            if suffix not in MODEL_SUFFIXES:
                raise CheckpointError(f"{src.name}: only .safetensors checkpoints and .onnx decoders can be loaded.")
            size = src.stat().st_size
            if size > MAX_UPLOAD_MB * 1024 * 1024:
                raise CheckpointError(f"{src.name} is larger than {MAX_UPLOAD_MB} MB.")
            digest = file_digest(src)
            same = self.registry.find_digest(digest)
            if same is not None:
                with self._lock:
                    if same in self._held:
                        self._held[same].holders.add(visitor)
                        self._held[same].last_used = self.clock()
                return Registered(same, True)
            with self._lock:
                self._make_room(size, visitor, shown)        # refused now, before loading, if there is no room
            name = f"upload-{digest[:12]}"
            # a unique file name per attempt: two people uploading the same file at once never share it
            dst = runtime.folder("uploads") / f"{name}-{uuid.uuid4().hex[:8]}{suffix}"
            shutil.copyfile(src, dst)
            model = self.registry.add_file(dst, name, cache_dir=runtime.folder("cache"))
            if model.path != dst:        # the same file was listed a moment ago by someone else
                dst.unlink()
                return Registered(name, True)
            with self._lock:
                unloaded = [self._unload(h) for h in self._make_room(size, visitor, shown)]
                self._held[name] = _Held(name, dst, size, {visitor}, self.clock())
                self._gone.pop(name, None)
            for gone in unloaded:
                self.on_unload(gone)
            return Registered(name, False, tuple(unloaded))
        except (UserError, OSError) as exc:
            if name is not None and name not in self._held and dst is not None:
                self.registry.remove(name, dst)
            _remove(dst)
            text = str(exc) if isinstance(exc, UserError) else f"{src.name} could not be stored ({os_error_words(exc)})."
            if dst is not None:
                text = text.replace(dst.name, src.name)       # the internal copy's name means nothing to them
            raise UserError(text.replace(src.name, shown)) from None
        except BaseException:
            if name is not None and name not in self._held and dst is not None:
                self.registry.remove(name, dst)
            _remove(dst)
            raise

    # ---------------------------------------------------------------- the bound (under self._lock)
    def _make_room(self, size: int, visitor: str, shown: str) -> list[_Held]:
        """The uploads to unload so that one more of `size` bytes fits, or a UserError saying why not."""
        now = self.clock()
        by_age = sorted(self._held.values(), key=lambda h: h.last_used)       # least recently used first
        out: list[_Held] = []
        mine = [h for h in by_age if visitor in h.holders]
        if len(mine) >= self.per_visitor:
            own = [h for h in mine if h.holders == {visitor}]
            if len(mine) - len(own) >= self.per_visitor:
                raise UserError(f"{shown} was not loaded: you have {_models(len(mine))} loaded, the most one "
                                "visitor may have, and others use them too.")
            out += own[:len(mine) - self.per_visitor + 1]

        def fits() -> bool:
            rest = [h for h in by_age if h not in out]
            return len(rest) < self.max_held and sum(h.size for h in rest) + size <= self.max_bytes
        for h in by_age:
            if fits():
                break
            if h not in out and now - h.last_used >= self.idle_s:
                out.append(h)
        if not fits():
            total = sum(h.size for h in by_age) / 2**20
            raise UserError(f"{shown} was not loaded: the server holds {_models(len(by_age))} ({total:.0f} MB; "
                            f"its limit is {self.max_held} models and {self.max_bytes / 2**20:.0f} MB), each used in "
                            f"the last {self.idle_s / 60:.0f} minutes. Try again later, or explore a listed model.")
        return out

    def _unload(self, held: _Held) -> str:
        self._held.pop(held.name, None)
        self._gone[held.name] = None
        while len(self._gone) > 1000:
            self._gone.pop(next(iter(self._gone)))
        self.registry.remove(held.name, held.path)
        _remove(held.path)
        for cached in runtime.folder("cache").glob(f"{held.name}-*"):
            _remove(cached)
        return held.name


def _models(n: int) -> str:
    return f"{n} uploaded model{'' if n == 1 else 's'}"


def _remove(path: Path | None) -> None:
    if path is not None:
        path.unlink(missing_ok=True)
