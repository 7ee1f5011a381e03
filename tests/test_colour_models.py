"""Models that grow with the picture (models/layout.py): colour at 32, 64 and 128 px, conditional
variants at every size, old files read in the classic layout, sizes checked before allocation."""
import pytest
import torch
from torch import nn

from explorer.core.checkpoints import load_checkpoint, read_metadata, save_checkpoint, update_metadata
from explorer.core.models import build, config_from_checkpoint, make_config
from explorer.core.models.layout import doublings, resolve_layout
from explorer.core.validation import UserError

def blocks_of(module: nn.Module, kind) -> int:
    return sum(isinstance(m, kind) for m in module.modules())


@pytest.mark.parametrize("size, upsample", [(32, "nearest"), (64, "nearest"), (64, "transposed"), (128, "transposed")])
def test_dcgan_grows_a_block_per_doubling(size, upsample):
    m = build("dcgan", {"width": 2, "d_width": 2, "latent_dim": 5, "image_size": size, "channels": 3,
                        "upsample": upsample})
    g, d = m["generator"], m["discriminator"]
    assert g.cfg.layout == "grow" and g.base == 4                     # the DCGAN paper's 4x4 start
    n = doublings(size)                                              # 32 -> 3, 64 -> 4, 128 -> 5
    up = nn.Upsample if upsample == "nearest" else nn.ConvTranspose2d
    assert blocks_of(g, up) == n
    assert g.project.out_features == 2 * 2 ** n * 16                 # width * 2^n channels at 4x4
    assert blocks_of(d, nn.Conv2d) == n                              # D mirrors G down to 4x4
    x = g(torch.randn(3, 5))
    assert x.shape == (3, 3, size, size) and d(x).shape == (3,)


@pytest.mark.parametrize("size, d_condition", [(32, "projection"), (64, "concat"), (128, "projection")])
def test_conditional_dcgan_at_every_size(size, d_condition):
    m = build("dcgan", {"width": 2, "d_width": 2, "latent_dim": 5, "image_size": size, "channels": 3,
                        "num_classes": 4, "d_condition": d_condition})
    y = torch.tensor([0, 3])
    x = m["generator"](torch.randn(2, 5), y)
    assert x.shape == (2, 3, size, size) and m["discriminator"](x, y).shape == (2,)
    img = m["generator"].eval().generate(torch.randn(2, 5), 1)
    assert img.shape == (2, 3, size, size) and 0 <= img.min() and img.max() <= 1


@pytest.mark.parametrize("size, num_classes", [(32, 3), (64, 0), (128, 3)])
def test_vae_grows_and_mirrors(size, num_classes):
    vae = build("vae", {"width": 2, "hidden": 8, "latent_dim": 3, "image_size": size, "channels": 3,
                        "num_classes": num_classes})["vae"]
    n = doublings(size)
    assert blocks_of(vae.encoder, nn.Conv2d) == n and blocks_of(vae.decoder_conv, nn.ConvTranspose2d) == n
    x = torch.rand(2, 3, size, size)
    y = torch.tensor([0, 2]) if num_classes else None
    out, mean, logvar = vae(x, y=y)
    assert out.shape == x.shape and mean.shape == (2, 3)
    assert vae.eval().generate(torch.randn(4, 3), y=1 if num_classes else None).shape == (4, 3, size, size)


@pytest.mark.parametrize("size", [16, 64])
def test_classifier_and_encoder_read_colour(size):
    c = build("classifier", {"width": 2, "feature_dim": 8, "num_classes": 9, "image_size": size, "channels": 3})
    e = build("encoder", {"width": 2, "hidden": 8, "latent_dim": 5, "image_size": size, "channels": 3})
    x = torch.rand(2, 3, size, size)
    net = c["classifier"].eval()
    assert net(x).shape == (2, 9) and net.features(x).shape == (2, 8)
    assert blocks_of(net, nn.MaxPool2d) == doublings(size)
    assert e["encoder"].eval()(x).shape == (2, 5)


def test_auto_layout_keeps_28_px_classic_and_refuses_what_a_layout_cannot_build():
    assert make_config("dcgan", {"image_size": 28}).layout == "classic"
    assert make_config("vae", {"image_size": 64}).layout == "grow"
    assert make_config("dcgan", {"image_size": 32, "layout": "classic"}).layout == "classic"
    assert resolve_layout("auto", 20) == "classic" and doublings(28) is None and doublings(4) is None
    with pytest.raises(UserError, match="8, 16, 32, 64, 128, 256 for the grow layout, got 28"):
        make_config("dcgan", {"image_size": 28, "layout": "grow"})
    with pytest.raises(UserError, match="layout must be one of"):
        make_config("vae", {"layout": "pyramid"})


def test_files_without_a_layout_are_read_classic_and_new_files_name_theirs(tmp_path):
    assert config_from_checkpoint("dcgan", {"image_size": 32}) == {"image_size": 32, "layout": "classic"}
    assert config_from_checkpoint("toy_gan", {"hidden": 8}) == {"hidden": 8}
    # a 32-px model built the old way (classic: an 8x8 start), saved before layouts existed
    m = build("dcgan", {"width": 2, "d_width": 2, "latent_dim": 5, "image_size": 32, "layout": "classic"})
    path = save_checkpoint(tmp_path / "old.safetensors", "dcgan", m, {"config": m["generator"].cfg.to_dict()})
    assert read_metadata(path)["config"]["layout"] == "classic"
    cfg = dict(read_metadata(path)["config"])
    del cfg["layout"]
    update_metadata(path, {"config": cfg})
    ck = load_checkpoint(path)
    assert ck.modules["generator"].base == 8
    z = torch.randn(2, 5)
    assert torch.equal(ck.modules["generator"].generate(z), m["generator"].eval().generate(z))


def test_sizes_are_checked_before_anything_is_allocated():
    with pytest.raises(UserError, match="image_size must be between 8 and 256, got 512"):
        build("dcgan", {"image_size": 512, "channels": 3})
    with pytest.raises(UserError, match="million parameters"):   # counted on the meta device: instant
        build("dcgan", {"image_size": 256, "channels": 3, "width": 512})


def test_bench_decode_reports_each_models_picture_size_and_draws_conditional_ones(tmp_path):
    from explorer.cli.bench import decode
    from tests.apphelpers import save_models
    save_models(tmp_path, {"colour_cgan": ("dcgan", {"width": 2, "d_width": 2, "latent_dim": 4, "image_size": 16,
                                                     "channels": 3, "num_classes": 10}),
                           "grey_vae": ("vae", {"width": 2, "hidden": 8, "latent_dim": 2})})
    res = decode(quick=True, checkpoints_dir=tmp_path)
    assert res["colour_cgan@cpu/batch64"]["picture"] == "16x16x3" and res["grey_vae@cpu/batch1"]["picture"] == "28x28x1"
    assert all(row["images_per_s"] > 0 for row in res.values())
