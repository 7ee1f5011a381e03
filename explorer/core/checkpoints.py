"""Checkpoints: safetensors files with JSON metadata in the header. Never pickle.

A checkpoint holds the weights of a model kind's modules (and optionally optimiser state for
resuming), plus metadata: kind, architecture config, dataset and class names, steps trained,
the exact command, evaluation results, creation time and format version.

Loading validates the metadata and every tensor's name and shape against a freshly built model
and explains any mismatch in one sentence. Anything that is not a safetensors file (a pickle, a
truncated download, random bytes) is refused before any of it is interpreted: safetensors reads
only a JSON header and raw numbers, so nothing in a file can execute.
Saving is atomic: temporary file, flush, fsync, rename.
"""
from __future__ import annotations

import copy
import errno
import json
import os
import re
import struct
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as st_save
from torch import nn

from explorer.core.metadata import DatasetInfo
from explorer.core.models import KINDS, LAYOUT_KINDS, build, config_from_checkpoint
from explorer.core.validation import UserError, os_error_words

FORMAT = "latent-explorer"
FORMAT_VERSION = 1
META_KEY = "explorer"
MAX_HEADER = 10 * 1024 * 1024
CHECKPOINT_DIR = Path(__file__).resolve().parents[2] / "checkpoints"


class CheckpointError(UserError):
    """A file that cannot be used as a checkpoint; the message says why in one sentence."""


@dataclass
class Checkpoint:
    meta: dict
    modules: dict[str, nn.Module]
    optim_state: dict[str, dict] = field(default_factory=dict)
    path: Path | None = None
    random_state: dict[str, torch.Tensor] = field(default_factory=dict)   # a run's random streams (resuming only)

    @property
    def kind(self) -> str:
        return self.meta["kind"]

    @property
    def class_names(self) -> list[str]:
        return list(DatasetInfo.from_meta(self.meta).class_names)


# ---------------------------------------------------------------- saving

def _flatten_optim(name: str, state: dict, tensors: dict) -> dict:
    """Optimizer state_dict -> tensors under 'optim.<name>.<param>.<key>' + JSON-able rest."""
    rest = {"param_groups": state["param_groups"], "scalars": {}}
    for pid, pstate in state["state"].items():
        for key, val in pstate.items():
            if torch.is_tensor(val):
                tensors[f"optim.{name}.{pid}.{key}"] = val.detach().cpu().contiguous()
            else:
                rest["scalars"][f"{pid}.{key}"] = val
    return rest


def _write_atomic(path: Path, blob: bytes) -> None:
    """Write to a temporary file in the same folder, flush, fsync, then rename over `path`:
    a crash mid-save leaves the old file intact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)   # mkstemp makes 0600; a checkpoint is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def check_writable(path: str | Path, what: str) -> None:
    """UserError now, before any work is done, when no file can be written at `path` (a read-only or
    missing folder, /proc, a folder where a file should go). A missing folder is not created."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{what} {path} is a folder: give a file name in it (…/name.safetensors).")
    missing = next((p for p in reversed([path.parent, *path.parent.parents]) if not p.exists()), None)
    if missing is not None:       # never created on the user's behalf: a typo would put the file out of sight
        raise UserError(f"{what} {path}: the folder {missing} does not exist. Create it first, or give a file "
                        "in a folder that exists.")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        # /proc and its kind exist but take no new files: "does not exist" would be wrong there
        words = "that folder takes no new files" if exc.errno == errno.ENOENT and path.parent.is_dir() \
            else os_error_words(exc)
        raise UserError(f"{what} {path} cannot be written: {words}.") from None


# the temporary file `_write_atomic` writes beside its target: "." + target name + "." + mkstemp's
# 8 random characters + ".tmp"
_TEMP_NAME = re.compile(r"^\.(?P<target>.+)\.[a-z0-9_]{8}\.tmp$")
STALE_TEMP_AGE_S = 60


def _open_by_any_process(path: Path) -> bool:
    """Whether any process we can see holds `path` open (Linux /proc; elsewhere: assume it does)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    target = str(path.resolve())
    for fd_dir in proc.glob("[0-9]*/fd"):
        try:
            fds = list(fd_dir.iterdir())
        except OSError:          # the process ended, or is not ours to inspect
            continue
        for fd in fds:
            try:
                if os.readlink(fd) == target:
                    return True
            except OSError:      # this descriptor was closed meanwhile: the others still count
                continue
    return False


def remove_stale_temp_files(folder: str | Path) -> list[Path]:
    """Delete the temporary files of saves that never finished (a kill mid-save) in `folder`:
    only names of `_write_atomic`'s exact pattern, and only when older than a minute or open by
    no process (a save in progress elsewhere is left alone). Returns what was removed."""
    removed = []
    folder = Path(folder)
    if not folder.is_dir():
        return removed
    now = time.time()
    for p in folder.iterdir():
        if not _TEMP_NAME.match(p.name) or not p.is_file() or p.is_symlink():
            continue
        try:
            if now - p.stat().st_mtime > STALE_TEMP_AGE_S or not _open_by_any_process(p):
                p.unlink()
                removed.append(p)
        except OSError:
            continue
    return removed


def save_checkpoint(path: str | Path, kind: str, modules: dict[str, nn.Module], meta: dict,
                    optimizers: dict[str, torch.optim.Optimizer] | None = None,
                    random_state: dict[str, torch.Tensor] | None = None) -> Path:
    """Write modules (+ optimiser state and random streams, for resuming) and metadata to `path`
    atomically; `meta["module_copies"]` names extra modules shaped as a built one (a GAN's live G)."""
    path = Path(path)
    if kind not in KINDS:
        raise ValueError(f"Unknown model kind {kind!r}.")
    tensors: dict[str, torch.Tensor] = {}
    for name, module in modules.items():
        for key, val in module.state_dict().items():
            tensors[f"{name}.{key}"] = val.detach().cpu().contiguous().clone()
    full = dict(meta)
    cfg = full.get("config")
    if kind in LAYOUT_KINDS and isinstance(cfg, dict) and "layout" not in cfg:
        # a config without a layout reads as classic (old files): name the layout the modules were built in
        layout = next((m.cfg.layout for m in modules.values() if hasattr(getattr(m, "cfg", None), "layout")), None)
        full["config"] = {**cfg, "layout": layout} if layout else cfg
    full.update(format=FORMAT, format_version=FORMAT_VERSION, kind=kind, modules=sorted(modules))
    full.setdefault("created", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    if optimizers:
        full["optimizers"] = {n: _flatten_optim(n, o.state_dict(), tensors) for n, o in optimizers.items()}
    else:
        full.pop("optimizers", None)
    for name, state in (random_state or {}).items():
        tensors[f"random.{name}"] = state.detach().cpu().contiguous().clone()
    _write_atomic(path, st_save(tensors, metadata={META_KEY: json.dumps(full, sort_keys=True)}))
    return path


# ---------------------------------------------------------------- loading

def _sniff(path: Path) -> None:
    """Refuse non-safetensors files with a specific reason, before safetensors parses them.
    A safetensors file starts with an 8-byte little-endian header length, then a JSON object."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(9)
    except FileNotFoundError:
        raise CheckpointError(f"{path.name}: no such checkpoint file.") from None
    if len(head) == 9:
        (n,) = struct.unpack("<Q", head[:8])
        if n <= MAX_HEADER and 8 + n <= size and head[8:9] == b"{":
            return
    if head[:4] == b"PK\x03\x04" or (head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")):
        raise CheckpointError(f"{path.name} is a pickle/zip (torch.save) file, not safetensors; it was refused and nothing in it was run.")
    if size < 9:
        raise CheckpointError(f"{path.name} is too short ({size} bytes) to be a safetensors file.")
    raise CheckpointError(f"{path.name} is not a valid safetensors file (truncated or not safetensors).")


def read_metadata(path: str | Path) -> dict:
    """The checkpoint's metadata, read from the header alone (cheap: no tensors are loaded)."""
    path = Path(path)
    _sniff(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            raw = (f.metadata() or {}).get(META_KEY)
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path.name} is not a valid safetensors file ({exc}).") from None
    if raw is None:
        raise CheckpointError(f"{path.name} is a safetensors file but has no Latent Explorer metadata.")
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError:
        raise CheckpointError(f"{path.name} has unreadable (non-JSON) metadata.") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path.name} was not written by Latent Explorer.")
    version = meta.get("format_version", 0)
    if isinstance(version, bool) or not isinstance(version, int):
        raise CheckpointError(f"{path.name} has a format version that is not a whole number ({str(version)[:40]!r}).")
    if version > FORMAT_VERSION:
        raise CheckpointError(f"{path.name} uses format version {meta.get('format_version')}; this program reads up to {FORMAT_VERSION}.")
    if meta.get("kind") not in KINDS:
        raise CheckpointError(f"{path.name} holds an unknown model kind {meta.get('kind')!r}.")
    return meta


def _fmt(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"


def load_checkpoint(path: str | Path, device="cpu", with_optimizers: bool = False) -> Checkpoint:
    """Load and validate a checkpoint; modules come back in eval mode on `device`. `with_optimizers`
    (resuming): the optimiser state, random streams and `module_copies` as well."""
    path = Path(path)
    meta = read_metadata(path)
    kind = meta["kind"]
    try:
        modules = build(kind, config_from_checkpoint(kind, meta.get("config", {})))
    except (TypeError, ValueError, UserError) as exc:
        raise CheckpointError(f"{path.name} has an invalid {kind} configuration: {exc}") from None
    copies = meta.get("module_copies") or {}
    if not isinstance(copies, dict) or not all(isinstance(n, str) and of in modules for n, of in copies.items()):
        raise CheckpointError(f"{path.name} has unreadable module_copies metadata (names of a {kind}'s modules expected).")
    modules.update({n: copy.deepcopy(modules[of]) for n, of in copies.items() if with_optimizers and n not in modules})
    names = [n for n in meta.get("modules", []) if n in modules] or list(modules)
    modules = {n: modules[n] for n in names}
    cfg_txt = ", ".join(f"{k}={v}" for k, v in meta.get("config", {}).items() if "dim" in k or "size" in k)
    optim_state: dict[str, dict] = {}
    random_state: dict[str, torch.Tensor] = {}
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            keys = set(f.keys())
            for name, module in modules.items():
                expected = module.state_dict()
                for key, ref in expected.items():
                    full = f"{name}.{key}"
                    if full not in keys:
                        raise CheckpointError(f"{path.name} lacks tensor {full} that a {kind} with {cfg_txt} needs.")
                    t = f.get_tensor(full)
                    if t.shape != ref.shape:
                        raise CheckpointError(f"{path.name}: tensor {full} has shape {_fmt(t.shape)} but a {kind} with {cfg_txt} expects {_fmt(ref.shape)}.")
                    if not torch.isfinite(t.float()).all():
                        raise CheckpointError(f"{path.name}: tensor {full} contains NaN or infinite values.")
                    expected[key] = t
                module.load_state_dict(expected)
                module.to(device).eval()
            if with_optimizers:
                for oname, rest in meta.get("optimizers", {}).items():
                    state: dict = {}
                    for key in keys:
                        if key.startswith(f"optim.{oname}."):
                            _, _, pid, k = key.split(".", 3)
                            state.setdefault(int(pid), {})[k] = f.get_tensor(key)
                    for pk, val in rest.get("scalars", {}).items():
                        pid, k = pk.split(".", 1)
                        state.setdefault(int(pid), {})[k] = val
                    optim_state[oname] = {"state": state, "param_groups": rest["param_groups"]}
                random_state = {k.removeprefix("random."): f.get_tensor(k) for k in keys if k.startswith("random.")}
    except SafetensorError as exc:
        raise CheckpointError(f"{path.name} is damaged ({exc}).") from None
    return Checkpoint(meta, modules, optim_state, path, random_state)


# ---------------------------------------------------------------- listing and model cards

def list_checkpoints(folder: str | Path = CHECKPOINT_DIR) -> list[tuple[Path, dict | str]]:
    """(path, metadata) for each *.safetensors in `folder`, or (path, error text) for bad ones."""
    out = []
    for p in sorted(Path(folder).glob("*.safetensors")):
        try:
            out.append((p, read_metadata(p)))
        except CheckpointError as exc:
            out.append((p, str(exc)))
    return out


def _fmt_value(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def model_card(meta: dict, name: str = "") -> str:
    """A short Markdown card: what the model is, what it was trained on, how well it does."""
    ds = meta.get("dataset", {})
    cfg = meta.get("config", {})
    lines = [f"# {name or meta.get('title', meta.get('kind'))}", ""]
    if meta.get("description"):
        lines += [meta["description"], ""]
    lines += [
        f"- **Kind:** {meta.get('kind')}" + (f" (latent size {cfg['latent_dim']})" if "latent_dim" in cfg else ""),
        f"- **Trained on:** {ds.get('name', '?')} {ds.get('split', '')} ({ds.get('size', '?')} images)",
        f"- **Classes:** {', '.join(ds.get('class_names', [])) or 'none'}",
        *([f"- **Pictures' licence:** {ds['attribution']}"] if isinstance(ds.get("attribution"), str) else []),
        f"- **Steps trained:** {meta.get('steps', '?')}" + (f" ({meta['train_seconds']:.0f} s on {meta.get('device', '?')})" if meta.get("train_seconds") else ""),
        f"- **Created:** {meta.get('created', '?')}",
    ]
    if meta.get("training"):
        lines.append("- **Training settings:** " + ", ".join(f"{k}={_fmt_value(v)}" for k, v in sorted(meta["training"].items())))
    if cfg:
        lines.append("- **Architecture:** " + ", ".join(f"{k}={v}" for k, v in sorted(cfg.items())))
    if isinstance(meta.get("onnx"), dict):
        lines.append("- **ONNX file:** " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in meta["onnx"].items()))
    if meta.get("command"):
        lines += ["", "Trained with:", "", f"    {meta['command']}"]
    ev = meta.get("evaluation")
    if ev:
        lines += ["", "## Evaluation (`python -m explorer.evaluate`)", "", "| metric | value |", "| --- | --- |"]
        lines += [f"| {k} | {_fmt_value(v)} |" for k, v in sorted(ev.items())]
    return "\n".join(lines) + "\n"


def update_metadata(path: str | Path, updates: dict) -> dict:
    """Rewrite a checkpoint with `updates` merged into its metadata; tensors untouched. Atomic."""
    path = Path(path)
    meta = read_metadata(path)
    meta.update(updates)
    with safe_open(str(path), framework="pt", device="cpu") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    _write_atomic(path, st_save(tensors, metadata={META_KEY: json.dumps(meta, sort_keys=True)}))
    return meta
