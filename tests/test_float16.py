"""Shipped weights in float16 where no checked picture changes by more than one grey level
(explorer/core/float16.py, `python -m explorer.export --float16`)."""
import numpy as np
import pytest
import torch
from safetensors import safe_open

from explorer.cli.export import main as export_main
from explorer.core.checkpoints import load_checkpoint, read_metadata, save_checkpoint
from explorer.core.float16 import choose_float16, rounded, write_float16
from explorer.core.latent import sample_z
from explorer.core.loaded_model import LoadedModel
from explorer.core.models import build
from tests.conftest import TINY_DCGAN

META = {"title": "tiny", "dataset": {"name": "digits", "class_names": list("0123456789")}, "command": "pytest"}


def _gan(tmp_path, name="tiny.safetensors"):
    torch.manual_seed(0)
    mods = build("dcgan", TINY_DCGAN)
    return save_checkpoint(tmp_path / name, "dcgan", mods, dict(META, config=TINY_DCGAN))


def _pictures(ck):
    m = LoadedModel.of("t", ck)
    return m.decode(sample_z(200, m.latent_dim, 0))


def _sensitive(ck):
    """Pictures that the first layer's rounding moves by many levels (as the emoji cDCGAN's did), the
    decoder's own pictures beside them."""
    w = ck.modules["generator"].project.weight[:16, :8].double()
    fine = ((w * 2e5).round() % 256).to(torch.uint8).numpy()[None, :, :, None]
    return np.concatenate([fine.reshape(1, -1), _pictures(ck).reshape(1, -1)], 1)


def test_a_stored_copy_draws_within_one_level_and_is_smaller(tmp_path):
    src = _gan(tmp_path)
    ck = load_checkpoint(src)
    assert np.abs(_sensitive(rounded(ck, set())).astype(int) - _sensitive(ck)).max() > 1   # all float16 would show
    keep, change = choose_float16(ck, _sensitive)
    assert change <= 1 and "generator.project.weight" in keep
    assert "discriminator.head.weight" not in keep                  # no effect on a picture: stored small
    out = write_float16(src, tmp_path / "half.safetensors", keep, {"checked_pictures": 200})
    assert out.stat().st_size < src.stat().st_size
    loaded = load_checkpoint(out)
    assert np.abs(_sensitive(loaded).astype(int) - _sensitive(ck)).max() <= 1
    meta = read_metadata(out)
    assert meta["storage"]["float32_tensors"] == sorted(keep) and meta["storage"]["float16_tensors"] > 0
    for name, module in loaded.modules.items():                    # loaded back as float32 modules
        assert all(p.dtype == torch.float32 for p in module.parameters()), name


def test_values_beyond_half_range_stay_float32(tmp_path):
    src = _gan(tmp_path)
    ck = load_checkpoint(src)
    with torch.no_grad():
        ck.modules["discriminator"].head.weight[0, 0] = 1e6
    keep, _ = choose_float16(ck, _pictures)
    assert "discriminator.head.weight" in keep


def test_the_command_line_writes_a_checked_copy(tmp_path, capsys):
    src = _gan(tmp_path)
    assert export_main([str(src), "--float16", str(tmp_path / "out.safetensors"), "--samples", "20", "--title", "Tiny <b>"]) == 0
    said = capsys.readouterr().out
    assert "pictures checked, largest change" in said
    meta = read_metadata(tmp_path / "out.safetensors")
    assert meta["storage"]["checked_pictures"] == 40 and meta["title"] == "Tiny <b>"   # two temperatures
    assert export_main([str(src)]) == 2
    assert "--float16" in capsys.readouterr().err


def test_optimiser_state_is_not_halved(tmp_path):
    torch.manual_seed(0)
    mods = build("dcgan", TINY_DCGAN)
    opt = torch.optim.Adam(mods["generator"].parameters())
    mods["generator"](torch.randn(2, 8)).mean().backward()
    opt.step()
    src = save_checkpoint(tmp_path / "with_opt.safetensors", "dcgan", mods, dict(META, config=TINY_DCGAN), {"generator": opt})
    with pytest.raises(Exception, match="optimiser state"):
        write_float16(src, tmp_path / "x.safetensors", set(), {})


def test_a_resumable_file_is_stored_for_exploring_only_when_asked(tmp_path, capsys):
    """A run's own file (EMA average, live G, Adam's state, random streams) is refused as it is; with
    --without-optimizer the copy keeps only what exploring reads, and draws the average's pictures."""
    from explorer.cli.train import main as train_main
    src, out = tmp_path / "run.safetensors", tmp_path / "ship.safetensors"
    assert train_main(["--model", "dcgan", "--dataset", "digits", "--width", "8", "--d-width", "8", "--latent-dim", "8",
                       "--batch-size", "8", "--steps", "3", "--ema-half-life", "64", "--sample-every", "0",
                       "--out", str(src)]) == 0
    capsys.readouterr()
    assert export_main([str(src), "--float16", str(out), "--samples", "20"]) == 2
    assert "optimiser state" in capsys.readouterr().err and not out.exists()
    assert export_main([str(src), "--float16", str(out), "--samples", "20", "--without-optimizer"]) == 0
    with safe_open(str(out), framework="pt") as f:
        keys = set(f.keys())
    assert keys and not any(k.startswith(("optim.", "random.", "generator_live.")) for k in keys)
    meta = read_metadata(out)
    assert "optimizers" not in meta and "module_copies" not in meta and set(meta["modules"]) == {"generator", "discriminator"}
    original, stored = load_checkpoint(src), load_checkpoint(out)
    assert np.abs(_pictures(stored).astype(int) - _pictures(original).astype(int)).max() <= 1
