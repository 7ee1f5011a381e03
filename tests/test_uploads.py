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
from explorer.core.validation import UserError
from tests.apphelpers import FASHION, make_checkpoints, small_workspace

VAE = {"width": 8, "hidden": 32, "latent_dim": 8}


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    ws = small_workspace(make_checkpoints(tmp_path_factory.mktemp("ck")))
    yield ws
    ws.close()


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
    before, files_before = ws.model_names(), uploads_on_disk()
    for label, (path, words) in bad_files(tmp_path).items():
        with pytest.raises(UserError, match=re.escape(words)):
            ws.register_upload(path, path.name)
        assert ws.model_names() == before, label          # the list still works, unchanged
        assert set(ws.listing()) == set(before) and uploads_on_disk() == files_before
    with pytest.raises(CheckpointError, match="NaN"):      # the registry's own refusal, before any listing
        ws.add_file(bad_files(tmp_path)["NaN weights"][0], "upload-nan")
    good = ws.register_upload(vae_file(tmp_path / "good.safetensors", seed=1), "good.safetensors")
    assert not good.already_listed and ws.model(good.name).latent_dim == 8
    assert good.name in ws.model_names() and good.name.startswith("upload-")


def test_refused_uploads_keep_the_picker_working_and_leave_nothing(picker, ws, tmp_path):
    from explorer.ui.picker import choices
    before, files_before = choices(ws), uploads_on_disk()
    for label, (path, words) in bad_files(tmp_path).items():
        out = picker.upload(None, str(path))
        card = out["card"]
        assert card.startswith("**Upload refused:**") and out["upload"] is None and "model" not in out, label
        assert "upload-" not in card and path.stem in card.replace("\\", ""), card     # the user's own file name
        assert choices(ws) == before and uploads_on_disk() == files_before, label
    evil = tmp_path / "evil.safetensors"
    evil.write_bytes(pickle.dumps({"a": 1}))
    assert "pickle" in picker.upload(None, str(evil))["card"]
    txt = tmp_path / "notes.txt"
    txt.write_text("hello")
    assert "only \\.safetensors" in picker.upload(None, str(txt))["card"]
    assert "no image decoder" in picker.upload(None, str(ws.folder / "fashion_classifier.safetensors"))["card"]
    assert choices(ws) == before and uploads_on_disk() == files_before
    out = picker.upload(None, str(vae_file(tmp_path / "fine.safetensors", seed=2)))   # a later upload works
    update, card = out["model"], out["card"]
    assert update["value"].startswith("upload-") and update["value"] in {v for _, v in update["choices"]}
    assert "uploaded" in card and "refused" not in card


def test_too_large_file_is_refused(picker, tmp_path, monkeypatch):
    import explorer.explore.uploads as uploads
    big = tmp_path / "big.safetensors"
    big.write_bytes(b"\0" * 2048)
    monkeypatch.setattr(uploads, "MAX_UPLOAD_MB", 0.001)
    assert "larger than" in picker.upload(None, str(big))["card"]


def test_a_bug_while_checking_also_deletes_the_file(picker, ws, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the checks")
    before, files_before = ws.model_names(), uploads_on_disk()
    monkeypatch.setattr("explorer.explore.registry.load_checkpoint", broken)
    out = picker.upload(None, str(vae_file(tmp_path / "buggy.safetensors", seed=3)))
    card = out["card"]
    assert "internal error" in card and "buggy" in card and out["upload"] is None and "a bug in the checks" not in card
    assert ws.model_names() == before and uploads_on_disk() == files_before


def test_an_identical_copy_selects_the_listed_model(picker, ws, tmp_path):
    import shutil
    copy = tmp_path / "my copy.safetensors"
    shutil.copyfile(ws.folder / "tiny_vae8.safetensors", copy)
    before = ws.model_names()
    out = picker.upload(None, str(copy))
    assert out["model"]["value"] == "tiny_vae8" and ws.model_names() == before and "tiny vae8" in out["card"]
    fresh = vae_file(tmp_path / "fresh.safetensors", seed=4)
    first = picker.upload(None, str(fresh))["model"]["value"]
    files = uploads_on_disk()
    again = tmp_path / "fresh again.safetensors"
    shutil.copyfile(fresh, again)
    assert picker.upload(None, str(again))["model"]["value"] == first         # not listed twice
    assert ws.model_names().count(first) == 1 and uploads_on_disk() == files


def test_gradios_copy_is_deleted_but_nothing_outside_its_folder(picker, tmp_path):
    from gradio.utils import get_upload_folder
    cached = Path(get_upload_folder()) / uuid.uuid4().hex / "refused.safetensors"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"not a checkpoint at all")
    assert "refused" in picker.upload(None, str(cached))["card"]
    assert not cached.exists() and not cached.parent.exists()
    outside = tmp_path / "mine.safetensors"
    outside.write_bytes(b"not a checkpoint at all")
    picker.upload(None, str(outside))
    assert outside.exists()                                       # a path a caller named is never deleted


def test_uploaded_models_cache_in_the_runtime_folder(picker, ws, tmp_path):
    name = picker.upload(None, str(vae_file(tmp_path / "cached.safetensors", seed=5)))["model"]["value"]
    ws.directions(name)
    assert ws.directions_path(name).parent == runtime.folder("cache") and ws.directions_path(name).is_file()
    assert not list(ws.cache_dir.glob(f"{name}-*"))


def test_a_format_version_in_words_is_refused_by_name(picker, ws, tmp_path):
    import json

    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    from explorer.core.checkpoints import META_KEY
    path = vae_file(tmp_path / "worded.safetensors", seed=6)
    with safe_open(str(path), "pt") as f:
        meta = json.loads(f.metadata()[META_KEY])
    save_file(load_file(str(path)), str(path), metadata={META_KEY: json.dumps({**meta, "format_version": "1"})})
    before = ws.model_names()
    card = picker.upload(None, str(path))["card"]
    assert "format version that is not a whole number" in card and "internal error" not in card, card
    assert ws.model_names() == before


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def bounded(ws, monkeypatch):
    """The module's workspace holding at most 3 uploads, 2 per visitor, unloadable after 600 s unused."""
    from explorer.explore.uploads import Uploads
    clock = Clock()
    monkeypatch.setattr(ws, "uploads", Uploads(ws.registry, on_unload=ws._forget, clock=clock, max_held=3,
                                               per_visitor=2, idle_s=600))
    return ws, clock


def test_uploads_are_bounded_and_one_in_use_never_unloaded(bounded, tmp_path):
    ws, clock = bounded
    files = {k: vae_file(tmp_path / f"{k}.safetensors", seed=10 + i) for i, k in enumerate("abcde")}
    a, b = (ws.register_upload(files[k], k, visitor="alice").name for k in "ab")
    ws.directions(a)                                     # something kept for it, dropped when it goes
    c = ws.register_upload(files["c"], "c", visitor="alice")
    assert c.unloaded == (a,)                            # alice's third replaced her own oldest
    assert a not in ws.model_names() and a not in ws._directions and not list(runtime.folder("cache").glob(f"{a}-*"))
    with pytest.raises(UserError, match=re.escape(f"{a} was unloaded to make room for newer uploads after 10 minutes "
                                                  "unused. Load its file again to explore it.")):
        ws.model(a)
    d = ws.register_upload(files["d"], "d", visitor="bob").name
    files_before, names_before = uploads_on_disk(), ws.model_names()
    with pytest.raises(UserError, match=r"e was not loaded: the server holds 3 uploaded models \(\d+ MB; its limit is 3 "
                                        r"models and 400 MB\), each used in the last 10 minutes"):
        ws.register_upload(files["e"], "e", visitor="carol")
    assert uploads_on_disk() == files_before and ws.model_names() == names_before
    clock.now += 601
    ws.model(c.name)                                     # alice is still looking at hers
    e = ws.register_upload(files["e"], "e", visitor="carol")
    assert e.unloaded == (b,) and {c.name, d, e.name} == set(ws.uploads.held())
    again = ws.register_upload(files["a"], "a again", visitor="carol")     # an unloaded file may come back
    assert again.name == a and again.unloaded == (d,) and ws.model(a).latent_dim == 8


def test_a_page_still_showing_an_unloaded_upload_is_told_in_words(bounded, picker, tmp_path):
    import gradio as gr
    ws, clock = bounded
    with gr.Blocks():
        model, _ = picker.build()
    files = [vae_file(tmp_path / f"{k}.safetensors", seed=40 + i) for i, k in enumerate("abc")]
    gone, *_ = [ws.register_upload(f, f.stem, visitor="alice").name for f in files]
    assert gone not in ws.model_names()                  # alice's third upload replaced her first
    assert model.preprocess(gone) == gone                # not Gradio's "Value: upload-… is not in the list of choices"
    assert "was unloaded to make room for newer uploads" in picker.card_update(gone)["card"]


def test_the_bound_counts_bytes_and_what_others_loaded_too(ws, tmp_path, monkeypatch):
    from explorer.explore.uploads import Registered, Uploads
    first, second, third = (vae_file(tmp_path / f"{k}.safetensors", seed=20 + i) for i, k in enumerate("fst"))
    monkeypatch.setattr(ws, "uploads", Uploads(ws.registry, on_unload=ws._forget, max_held_mb=1.5 * first.stat().st_size / 2**20,
                                               per_visitor=1))
    name = ws.register_upload(first, "first", visitor="alice").name
    assert ws.register_upload(first, "same file", visitor="bob") == Registered(name, True)
    with pytest.raises(UserError, match=r"second was not loaded: the server holds 1 uploaded model \(\d+ MB; its limit is 4 "
                                        r"models and \d+ MB\)"):
        ws.register_upload(second, "second", visitor="carol")
    with pytest.raises(UserError, match="third was not loaded: you have 1 uploaded model loaded, the most one visitor "
                                        "may have, and others use them too"):
        ws.register_upload(third, "third", visitor="alice")     # bob loaded alice's file too: it stays


def test_an_uploads_map_is_computed_only_when_someone_opens_the_map(picker, ws, tmp_path, monkeypatch):
    from explorer.ui.map_tab import MapTab
    started = []
    monkeypatch.setattr(ws._maps, "start", lambda model: started.append(model.name))
    name = picker.upload(None, str(vae_file(tmp_path / "mapped.safetensors", seed=30)))["model"]["value"]
    tab = MapTab(ws)
    tab.on_model(name)
    for other in ("explore", "interpolate", "train"):
        tab.refresh(name, None, None, None, None, tab=other)
    assert started == [] and ws.map_status(name) == "not started"
    tab.refresh(name, None, None, None, None, tab="map")
    assert started == [name]


def test_an_identical_reupload_also_deletes_gradios_copy(picker, ws, tmp_path):
    from gradio.utils import get_upload_folder
    name = picker.upload(None, str(vae_file(tmp_path / "twice.safetensors", seed=31)))["model"]["value"]
    cached = Path(get_upload_folder()) / uuid.uuid4().hex / "twice again.safetensors"
    cached.parent.mkdir(parents=True)
    cached.write_bytes((tmp_path / "twice.safetensors").read_bytes())
    assert picker.upload(None, str(cached))["model"]["value"] == name
    assert not cached.exists() and not cached.parent.exists()
