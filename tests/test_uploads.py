"""Uploads are all-or-nothing: a refused file (wrong shapes, NaN weights, absurd sizes, a bug while
checking) leaves the registry, the model list and the disk exactly as before; an identical copy of
a listed model selects that model; messages name the user's own file name."""
from __future__ import annotations

import re
import pickle
import uuid
from pathlib import Path

import pytest
import torch

from explorer.core import runtime
from explorer.core.checkpoints import CheckpointError, save_checkpoint
from explorer.core.models import build
from explorer.explore.workspace import Workspace
from tests.apphelpers import FASHION, make_checkpoints

VAE = {"width": 8, "hidden": 32, "latent_dim": 8}


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    folder = make_checkpoints(tmp_path_factory.mktemp("ck"))
    ws = Workspace(folder, "cpu", cache_dir=folder / "cache")
    yield ws
    ws.maps.close()


@pytest.fixture
def picker(ws):
    from explorer.ui.picker import Picker
    return Picker(ws, "tiny_gan")


def vae_file(path: Path, config=None, seed=0, nan=False, modules_config=None) -> Path:
    torch.manual_seed(seed)
    mods = build("vae", modules_config or VAE)
    if nan:
        with torch.no_grad():
            mods["vae"].to_mean.weight[0, 0] = float("nan")
    return save_checkpoint(path, "vae", mods, {"title": "uploaded", "config": config or VAE, "dataset": FASHION})


def uploads_on_disk() -> list[Path]:
    return sorted(runtime.folder("uploads").iterdir())


def bad_files(tmp_path) -> dict[str, tuple[Path, str]]:
    """name -> (file, words the refusal must contain)."""
    return {
        "wrong shapes": (vae_file(tmp_path / "shapes.safetensors", config={**VAE, "latent_dim": 4}),
                         "has shape (8, 32) but a vae with latent_dim=4 expects (4, 32)"),
        "NaN weights": (vae_file(tmp_path / "nan.safetensors", nan=True), "NaN or infinite"),
        "latent_dim 1e9": (vae_file(tmp_path / "huge.safetensors", config={**VAE, "latent_dim": 1e9}),
                           "latent_dim must be a whole number between 1 and 1024, got 1e+09 (float)"),
        "latent_dim 10**9": (vae_file(tmp_path / "huge2.safetensors", config={**VAE, "latent_dim": 10**9}),
                             "latent_dim must be between 1 and 1024, got 1000000000"),
        "width as text": (vae_file(tmp_path / "text.safetensors", config={**VAE, "width": "8"}),
                          "width must be a whole number between 1 and 512, got '8' (str)"),
        "a billion parameters": (vae_file(tmp_path / "params.safetensors", config={**VAE, "hidden": 8192, "width": 512,
                                                                                    "image_size": 256}),
                                 "million parameters; at most 100 million are allowed"),
    }


def test_a_refused_file_leaves_the_registry_as_it_was(ws, tmp_path):
    before = ws.model_names()
    for label, (path, words) in bad_files(tmp_path).items():
        with pytest.raises(CheckpointError, match=re.escape(words)):
            ws.registry.add_file(path, f"upload-{label.replace(' ', '-')}")
        path.unlink()                                     # the caller deletes a refused file...
        assert ws.model_names() == before, label          # ...and the list still works, unchanged
        assert set(ws.registry.available()) == set(before)
    good = vae_file(tmp_path / "good.safetensors", seed=1)
    assert ws.registry.add_file(good, "upload-good").latent_dim == 8
    assert "upload-good" in ws.model_names()


def test_refused_uploads_keep_the_picker_working_and_leave_nothing(picker, ws, tmp_path):
    from explorer.ui.picker import choices
    before, files_before = choices(ws), uploads_on_disk()
    for label, (path, words) in bad_files(tmp_path).items():
        update, card, box = picker.upload(str(path))
        assert card.startswith("**Upload refused:**") and box is None, label
        assert "upload-" not in card and path.stem in card.replace("\\", ""), card     # the user's own file name
        assert choices(ws) == before and uploads_on_disk() == files_before, label
    evil = tmp_path / "evil.safetensors"
    evil.write_bytes(pickle.dumps({"a": 1}))
    assert "pickle" in picker.upload(str(evil))[1]
    txt = tmp_path / "notes.txt"
    txt.write_text("hello")
    assert "only \\.safetensors" in picker.upload(str(txt))[1]
    assert "no image decoder" in picker.upload(str(ws.registry.folder / "fashion_classifier.safetensors"))[1]
    assert choices(ws) == before and uploads_on_disk() == files_before
    update, card, _ = picker.upload(str(vae_file(tmp_path / "fine.safetensors", seed=2)))   # a later upload works
    assert update["value"].startswith("upload-") and update["value"] in {v for _, v in update["choices"]}
    assert "uploaded" in card and "refused" not in card


def test_too_large_file_is_refused(picker, tmp_path, monkeypatch):
    import explorer.ui.picker as picker_mod
    big = tmp_path / "big.safetensors"
    big.write_bytes(b"\0" * 2048)
    monkeypatch.setattr(picker_mod, "MAX_UPLOAD_MB", 0.001)
    assert "larger than" in picker.upload(str(big))[1]


def test_a_bug_while_checking_also_deletes_the_file(picker, ws, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the checks")
    before, files_before = ws.model_names(), uploads_on_disk()
    monkeypatch.setattr(ws.registry, "_load", broken)
    _, card, box = picker.upload(str(vae_file(tmp_path / "buggy.safetensors", seed=3)))
    assert "internal error" in card and "buggy" in card and box is None
    assert ws.model_names() == before and uploads_on_disk() == files_before


def test_an_identical_copy_selects_the_listed_model(picker, ws, tmp_path):
    import shutil
    copy = tmp_path / "my copy.safetensors"
    shutil.copyfile(ws.registry.folder / "tiny_vae8.safetensors", copy)
    before = ws.model_names()
    update, card, _ = picker.upload(str(copy))
    assert update["value"] == "tiny_vae8" and ws.model_names() == before and "tiny vae8" in card
    fresh = vae_file(tmp_path / "fresh.safetensors", seed=4)
    first = picker.upload(str(fresh))[0]["value"]
    files = uploads_on_disk()
    again = tmp_path / "fresh again.safetensors"
    shutil.copyfile(fresh, again)
    assert picker.upload(str(again))[0]["value"] == first         # not listed twice
    assert ws.model_names().count(first) == 1 and uploads_on_disk() == files


def test_gradios_copy_is_deleted_but_nothing_outside_its_folder(picker, tmp_path):
    from gradio.utils import get_upload_folder
    cached = Path(get_upload_folder()) / uuid.uuid4().hex / "refused.safetensors"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"not a checkpoint at all")
    assert "refused" in picker.upload(str(cached))[1]
    assert not cached.exists() and not cached.parent.exists()
    outside = tmp_path / "mine.safetensors"
    outside.write_bytes(b"not a checkpoint at all")
    picker.upload(str(outside))
    assert outside.exists()                                       # a path a caller named is never deleted


def test_uploaded_models_cache_in_the_runtime_folder(picker, ws, tmp_path):
    name = picker.upload(str(vae_file(tmp_path / "cached.safetensors", seed=5)))[0]["value"]
    ws.directions(name)
    assert list(runtime.folder("cache").glob(f"{name}-*-directions.safetensors"))
    assert not list(ws.cache_dir.glob(f"{name}-*"))
