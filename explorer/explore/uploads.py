"""Uploaded checkpoints: checked, copied to this process's runtime folder, listed; all or nothing.

An upload is copied to the runtime folder under a generated name (never the user's file name, so
no user string becomes a path), loaded and validated, and only then listed. Whatever goes wrong (an
expected refusal or a bug) the copy is deleted and the registry is as it was. An identical copy of
a listed model (same content digest) is not listed twice: that model is named instead. Refusals
name the user's own file name, never the internal one.
"""
from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from explorer.core import runtime
from explorer.core.checkpoints import CheckpointError
from explorer.core.loaded_model import file_digest
from explorer.core.validation import UserError
from explorer.explore.registry import ModelRegistry

MAX_UPLOAD_MB = 200


@dataclass(frozen=True)
class Registered:
    name: str                # the model's name in the list
    already_listed: bool     # an identical copy of a model that was listed before


def register_upload(registry: ModelRegistry, src: Path, shown: str) -> Registered:
    """Check and list the uploaded file `src` (`shown`: how to name it to the user), or raise a
    UserError naming it; a bug is raised as it is, after the same clean-up."""
    dst = None
    try:
        if src.suffix.lower() != ".safetensors":
            raise CheckpointError(f"{src.name}: only .safetensors checkpoints can be loaded.")
        if src.stat().st_size > MAX_UPLOAD_MB * 1024 * 1024:
            raise CheckpointError(f"{src.name} is larger than {MAX_UPLOAD_MB} MB.")
        digest = file_digest(src)
        same = registry.find_digest(digest)
        if same is not None:
            return Registered(same, True)
        name = f"upload-{digest[:12]}"
        # a unique file name per attempt: two people uploading the same file at once never share it
        dst = runtime.folder("uploads") / f"{name}-{uuid.uuid4().hex[:8]}.safetensors"
        shutil.copyfile(src, dst)
        model = registry.add_file(dst, name, cache_dir=runtime.folder("cache"))
        if model.checkpoint.path != dst:        # the same file was listed a moment ago by someone else
            dst.unlink()
        return Registered(name, False)
    except (UserError, OSError) as exc:
        _remove(dst)
        text = str(exc) if isinstance(exc, UserError) else f"{src.name} could not be stored ({exc.strerror or exc})."
        if dst is not None:
            text = text.replace(dst.name, src.name)       # the internal copy's name means nothing to them
        raise UserError(text.replace(src.name, shown)) from None
    except BaseException:
        _remove(dst)
        raise


def _remove(path: Path | None) -> None:
    if path is not None:
        path.unlink(missing_ok=True)
