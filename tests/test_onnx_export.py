"""ONNX out: every shipped model's decoder (and encoder where it has one) exported and opened again by
ONNX Runtime draws PyTorch's pictures within one grey level, with the model card's facts kept."""
import json

import pytest
import torch

from explorer.cli.export import main as export_main
from explorer.core.checkpoints import CHECKPOINT_DIR, list_checkpoints, load_checkpoint
from explorer.core.data import load_dataset, to_uint8, to_unit
from explorer.core.families import explorable, family_of
from explorer.core.families.onnx import OnnxEncoder, OnnxFamily
from explorer.core.latent import sample_z

SHIPPED = sorted(p.stem for p, m in list_checkpoints(CHECKPOINT_DIR) if explorable(m))


def _pictures(family, z, y):
    with torch.no_grad():
        return to_uint8(family.decode(z, y)).int()


def _round_trip(name, tmp_path, capsys):
    ck = load_checkpoint(CHECKPOINT_DIR / f"{name}.safetensors")
    out = tmp_path / f"{name}.onnx"
    assert export_main([name, "--onnx", str(out)]) == 0
    said = capsys.readouterr().out
    assert "within 1 grey level" in said or "within 0 grey level" in said
    ours, theirs = family_of(ck), OnnxFamily(out)
    module, size = ours.onnx_decoder()                  # z [+ class] -> picture, as the file was written
    z = sample_z(32, size, 5) * 1.5
    y = torch.arange(32) % ours.num_classes if ours.num_classes else None
    with torch.no_grad():
        assert int((to_uint8(module(z, y)).int() - _pictures(theirs, z, y)).abs().max()) <= 1
    assert theirs.meta["title"] == ck.meta["title"] and theirs.num_classes == ours.num_classes
    assert theirs.meta["dataset"]["class_names"] == (ours.class_names if ours.num_classes else [])
    assert theirs.range_source == "metadata"
    return ck, ours, out


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_model_round_trips_through_onnx_within_one_grey_level(name, tmp_path, capsys):
    ck, ours, out = _round_trip(name, tmp_path, capsys)
    enc = out.with_name(f"{name}-encoder.onnx")
    has_encoder = ours.inversion == "encode" or (CHECKPOINT_DIR / f"{name}-encoder.safetensors").is_file()
    assert enc.is_file() == has_encoder
    if ours.inversion == "encode":            # a VAE's own encoder: the same posterior means
        x = to_unit(load_dataset(ours.dataset, "test").images[:8])
        y = torch.arange(8) % ours.num_classes if ours.num_classes else None
        mean = ours.encode(x, y)[0]
        assert torch.allclose(OnnxEncoder(enc, OnnxFamily(out))(x, y), mean, atol=1e-3)


def test_a_tiny_models_export_keeps_its_card_and_a_bad_target_is_refused(tmp_path, capsys):
    from explorer.core.checkpoints import save_checkpoint
    from explorer.core.models import build
    from tests.apphelpers import FASHION
    torch.manual_seed(0)
    cfg = {"width": 8, "hidden": 32, "latent_dim": 4, "num_classes": 10}
    src = save_checkpoint(tmp_path / "tiny.safetensors", "vae", build("vae", cfg),
                          {"title": "Tiny <i>cVAE</i>", "config": cfg, "dataset": FASHION, "command": "pytest",
                           "evaluation": {"fd": 1.5}})
    out = tmp_path / "tiny.onnx"
    assert export_main([str(src), "--onnx", str(out)]) == 0
    opened = OnnxFamily(out)
    assert opened.meta["title"] == "Tiny <i>cVAE</i>" and opened.num_classes == 10 and opened.meta["command"] == "pytest"
    import onnx
    props = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert json.loads(props["evaluation"]) == {"fd": 1.5} and props["dataset"] == "fashion-mnist"
    assert (tmp_path / "tiny-encoder.onnx").is_file()
    assert export_main([str(src), "--onnx", str(tmp_path / "x.txt")]) == 2
    assert "must name a .onnx file" in capsys.readouterr().err


@pytest.mark.parametrize("extra", [{}, {"num_classes": 10}])
def test_a_style_based_models_export_opens_in_the_app(extra, tmp_path, capsys):
    """The style-based decoder exported by the command line passes the app's own checks on ONNX files (every
    size worked out before running: an expand with a free batch once made a Where the checks refused) and
    draws PyTorch's pictures."""
    from explorer.core.checkpoints import save_checkpoint
    from explorer.core.models import build
    from tests.apphelpers import FASHION
    torch.manual_seed(0)
    cfg = dict({"latent_dim": 8, "w_dim": 16, "mapping_layers": 2, "image_size": 28, "channels": 1, "channel_base": 64,
                "channel_max": 16}, **extra)
    src = save_checkpoint(tmp_path / "sg.safetensors", "stylegan", build("stylegan", cfg),
                          {"title": "tiny stylegan", "config": cfg, "dataset": FASHION})
    out = tmp_path / "sg.onnx"
    assert export_main([str(src), "--onnx", str(out)]) == 0, capsys.readouterr().err
    ours, theirs = family_of(load_checkpoint(src)), OnnxFamily(out)
    module, size = ours.onnx_decoder()
    z = sample_z(16, size, 3)
    y = torch.arange(16) % 10 if extra else None
    with torch.no_grad():
        assert int((to_uint8(module(z, y)).int() - _pictures(theirs, z, y)).abs().max()) <= 1
    assert theirs.num_classes == (10 if extra else 0)
