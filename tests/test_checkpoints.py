import pickle

import pytest
import torch

from explorer.core.checkpoints import (
    CheckpointError,
    list_checkpoints,
    load_checkpoint,
    model_card,
    read_metadata,
    save_checkpoint,
    update_metadata,
)
from explorer.core.models import build
from tests.conftest import TINY_DCGAN

META = {"title": "tiny", "dataset": {"name": "digits", "class_names": list("0123456789")}, "command": "pytest"}


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    mods = build("dcgan", TINY_DCGAN)
    opt = torch.optim.Adam(mods["generator"].parameters())
    mods["generator"](torch.randn(4, 8)).mean().backward()
    opt.step()
    path = save_checkpoint(tmp_path / "tiny.safetensors", "dcgan", mods, dict(META, config=TINY_DCGAN),
                           {"generator": opt})
    return path, mods, opt


def test_round_trip(saved):
    path, mods, opt = saved
    ck = load_checkpoint(path, with_optimizers=True)
    assert ck.kind == "dcgan" and ck.class_names[3] == "3" and ck.meta["format_version"] == 1
    for name in mods:
        for (k, a), b in zip(mods[name].state_dict().items(), ck.modules[name].state_dict().values()):
            assert torch.equal(a, b), k
    restored = torch.optim.Adam(ck.modules["generator"].parameters())
    restored.load_state_dict(ck.optim_state["generator"])
    a, b = opt.state_dict()["state"][0], restored.state_dict()["state"][0]
    assert torch.equal(a["exp_avg"], b["exp_avg"]) and float(a["step"]) == float(b["step"])


def test_pickle_is_refused_and_not_executed(tmp_path):
    class Boom:
        def __reduce__(self):
            return (exec, ("open(%r, 'w').write('pwned')" % str(tmp_path / "pwned"),))
    p = tmp_path / "evil.safetensors"
    p.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(CheckpointError, match="pickle"):
        load_checkpoint(p)
    torch.save({"w": torch.zeros(2)}, tmp_path / "torch.safetensors")
    with pytest.raises(CheckpointError, match="pickle/zip"):
        load_checkpoint(tmp_path / "torch.safetensors")
    assert not (tmp_path / "pwned").exists()


def test_truncated_and_random_bytes(saved, tmp_path):
    path = saved[0]
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError):
        load_checkpoint(cut)
    noise = tmp_path / "noise.safetensors"
    noise.write_bytes(torch.randint(0, 256, (5000,), dtype=torch.uint8).numpy().tobytes())
    with pytest.raises(CheckpointError, match="not a valid safetensors"):
        load_checkpoint(noise)
    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError, match="too short"):
        load_checkpoint(empty)


def test_shape_mismatch_explained(saved, tmp_path):
    path = saved[0]
    update_metadata(path, {"config": dict(TINY_DCGAN, latent_dim=9)})
    with pytest.raises(CheckpointError, match=r"generator.project.weight has shape \(\d+, 8\).*expects \(\d+, 9\)"):
        load_checkpoint(path)


def test_foreign_safetensors_refused(tmp_path):
    from safetensors.torch import save_file
    save_file({"x": torch.zeros(3)}, tmp_path / "foreign.safetensors")
    with pytest.raises(CheckpointError, match="no Latent Explorer metadata"):
        read_metadata(tmp_path / "foreign.safetensors")


def test_nan_weights_refused(tmp_path):
    mods = build("vae", {"width": 8, "hidden": 16})
    with torch.no_grad():
        mods["vae"].to_mean.weight[0, 0] = float("nan")
    p = save_checkpoint(tmp_path / "nan.safetensors", "vae", mods, {"config": {"width": 8, "hidden": 16}})
    with pytest.raises(CheckpointError, match="NaN"):
        load_checkpoint(p)


def test_atomic_save_keeps_old_file_on_failure(saved, monkeypatch):
    path = saved[0]
    before = path.read_bytes()
    import explorer.core.checkpoints as ckmod

    def crash(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(ckmod.os, "replace", crash)
    with pytest.raises(OSError):
        save_checkpoint(path, "dcgan", build("dcgan", TINY_DCGAN), dict(META, config=TINY_DCGAN))
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]   # no temporary file left behind


def test_listing_and_card(saved, tmp_path):
    path = saved[0]
    (tmp_path / "junk.safetensors").write_bytes(b"junk")
    listing = dict(list_checkpoints(tmp_path))
    assert isinstance(listing[path], dict) and isinstance(listing[tmp_path / "junk.safetensors"], str)
    meta = update_metadata(path, {"evaluation": {"fd": 12.5}})
    card = model_card(meta, "Tiny")
    assert "# Tiny" in card and "| fd | 12.5 |" in card and "pytest" in card


@pytest.mark.parametrize("header_len", [0x4B50, 0x0280, 0x80])
def test_headers_that_look_like_magic_bytes_still_load(tmp_path, header_len):
    """A header length whose low bytes read 'PK' or 0x80 0x02 must not be mistaken for a zip or pickle."""
    import json
    import struct

    from explorer.core.checkpoints import FORMAT, META_KEY
    body = json.dumps({"__metadata__": {META_KEY: json.dumps({"format": FORMAT, "format_version": 1, "kind": "vae"})}})
    body = body + " " * (header_len - len(body))
    p = tmp_path / "x.safetensors"
    p.write_bytes(struct.pack("<Q", header_len) + body.encode())
    assert read_metadata(p)["kind"] == "vae"
