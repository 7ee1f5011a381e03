"""The style-based generator and its discriminator (explorer/core/models/stylegan.py), tiny configurations
on the CPU: shapes at 28/32/64 px, grey and colour, conditional; the W-space API the Explore tab builds
on (mapping, synthesis, truncation, layer groups, noise modes); modulated convolution; minibatch std."""
import math

import pytest
import torch

from explorer.core.models import build, decoder_of, make_config
from explorer.core.models.stylegan import StyleGANConfig
from explorer.core.models.stylegan_layers import minibatch_stddev, modulated_conv2d
from explorer.core.validation import UserError

TINY = {"latent_dim": 8, "w_dim": 16, "mapping_layers": 2, "channel_base": 128, "channel_max": 16}


def tiny(**kw):
    modules = build("stylegan", dict(TINY, **kw))
    with torch.no_grad():   # a trained model's w_avg is not zero, and its noise is not off: make them so
        modules["generator"].mapping.w_avg.normal_()
        for layer in modules["generator"].synthesis.layers:
            layer.noise_strength.fill_(0.5)
    return modules


@pytest.mark.parametrize("size,channels,classes,num_ws,resolutions", [
    (28, 1, 0, 6, (7, 14, 14, 28, 28, 28)),
    (32, 3, 0, 8, (4, 8, 8, 16, 16, 32, 32, 32)),
    (32, 1, 10, 8, (4, 8, 8, 16, 16, 32, 32, 32)),
    (64, 3, 5, 10, (4, 8, 8, 16, 16, 32, 32, 64, 64, 64)),
])
def test_shapes_grey_colour_conditional(size, channels, classes, num_ws, resolutions):
    m = tiny(image_size=size, channels=channels, num_classes=classes)
    G, D = m["generator"], m["discriminator"]
    assert decoder_of(m) is G and set(m) == {"generator", "generator_live", "discriminator"}
    z = torch.randn(4, 8)
    y = torch.tensor([0, 1, 2, 3]) % classes if classes else None
    x = G(z, y)
    assert x.shape == (4, channels, size, size)
    assert D(x, y).shape == (4,)
    assert G.num_ws == num_ws and G.ws_resolutions == resolutions
    assert G.mapping(z, y).shape == (4, 16)
    img = G.generate(z, y)
    assert img.shape == (4, channels, size, size) and img.min() >= 0 and img.max() <= 1


def test_layer_groups_name_coarse_middle_fine_by_resolution():
    G32 = tiny(image_size=32)["generator"]
    assert G32.layer_groups() == {"coarse": range(0, 3), "middle": range(3, 5), "fine": range(5, 8)}
    assert [G32.layer_resolution(i) for i in G32.layer_groups()["coarse"]] == [4, 8, 8]
    G28 = tiny(image_size=28)["generator"]            # 7, 14, 28 px: one group each
    assert G28.layer_groups() == {"coarse": range(0, 1), "middle": range(1, 3), "fine": range(3, 6)}
    G16 = tiny(image_size=16)["generator"]            # no 32-px layers: no fine group
    assert G16.layer_groups() == {"coarse": range(0, 3), "middle": range(3, 6)}


@pytest.mark.parametrize("classes", [0, 3])
def test_generate_is_synthesis_of_the_broadcast_mapping(classes):
    G = tiny(image_size=16, num_classes=classes)["generator"].eval()
    z = torch.randn(5, 8)
    y = torch.tensor([0, 1, 2, 0, 1]) if classes else None
    with torch.no_grad():
        ws = G.mapping(z, y).unsqueeze(1).repeat(1, G.num_ws, 1)                 # (B, num_ws, w_dim)
        expected = (G.synthesis(ws, noise_mode="const") + 1) / 2
    assert torch.allclose(G.generate(z, y), expected.clamp(0, 1), atol=1e-6)
    assert torch.equal(G.generate(z, y), G.generate(z, y))                       # const noise: the same picture
    assert not torch.equal(G.generate(z, y, noise_mode="random"), G.generate(z, y, noise_mode="random"))


def test_psi_zero_draws_the_average_w_for_every_z():
    G = tiny(image_size=16)["generator"].eval()
    pictures = G.generate(torch.randn(6, 8), psi=0.0)
    average = G.generate_from_ws(G.broadcast(G.mapping.w_avg[None]))
    assert torch.allclose(pictures, average.expand_as(pictures), atol=1e-6)
    assert pictures.std() > 0                                                    # a picture, not a flat square
    half = G.generate(torch.randn(6, 8), psi=0.5)
    assert not torch.allclose(half, average.expand_as(half), atol=1e-3)


def test_a_conditional_model_truncates_towards_its_class_average():
    G = tiny(image_size=16, num_classes=3)["generator"]
    G.train()
    for _ in range(3):                                                           # training passes track the averages
        G(torch.randn(30, 8), torch.arange(30) % 3)
    G.eval()
    centres = G.mapping.class_w_avg()
    assert centres.shape == (3, 16) and not torch.allclose(centres[0], centres[1])
    y = torch.tensor([0, 0, 2, 2])
    pictures = G.generate(torch.randn(4, 8), y, psi=0.0)
    assert torch.allclose(pictures[0], pictures[1], atol=1e-6) and torch.allclose(pictures[2], pictures[3], atol=1e-6)
    assert not torch.allclose(pictures[0], pictures[2], atol=1e-3)               # each class its own average picture
    assert torch.allclose(pictures[2:], G.generate_from_ws(G.broadcast(centres[[2, 2]])), atol=1e-6)


def test_w_avg_moves_in_training_mode_only():
    G = tiny(image_size=16)["generator"]
    before = G.mapping.w_avg.clone()
    G.eval()
    G(torch.randn(4, 8))
    assert torch.equal(G.mapping.w_avg, before)
    G.train()
    w = G.mapping(torch.randn(4, 8))
    assert torch.allclose(G.mapping.w_avg, 0.995 * before + 0.005 * w.detach().mean(0), atol=1e-6)


def test_truncation_cutoff_truncates_only_the_first_layers():
    G = tiny(image_size=32)["generator"]
    ws = G.broadcast(torch.randn(2, 16))
    out = G.truncate(ws, 0.0, cutoff=3)
    assert torch.allclose(out[:, :3], G.mapping.w_avg.expand(2, 3, 16))
    assert torch.equal(out[:, 3:], ws[:, 3:])
    full = G.generate(torch.randn(2, 8), psi=0.0, truncation_cutoff=G.num_ws)
    assert torch.allclose(full, G.generate(torch.randn(2, 8), psi=0.0), atol=1e-6)


def test_style_mixing_takes_the_second_styles_from_the_cutoff_on():
    G = tiny(image_size=32)["generator"]
    a, b = torch.zeros(3, G.num_ws, 16), torch.ones(3, G.num_ws, 16)
    mixed = G.mix(a, b, torch.tensor([1, 5, G.num_ws]))
    assert mixed[0, 0].sum() == 0 and mixed[0, 1:].min() == 1
    assert mixed[1, :5].max() == 0 and mixed[1, 5:].min() == 1
    assert mixed[2].max() == 0                                                   # cutoff num_ws: not mixed


def test_noise_mode_none_ignores_the_noise_strength():
    G = tiny(image_size=16)["generator"].eval()
    z = torch.randn(2, 8)
    quiet = G.generate(z, noise_mode="none")
    for layer in G.synthesis.layers:
        layer.noise_strength.data.fill_(3.0)
    assert torch.equal(G.generate(z, noise_mode="none"), quiet)
    assert not torch.allclose(G.generate(z, noise_mode="const"), quiet, atol=1e-3)


def test_demodulation_keeps_a_unit_input_at_unit_output():
    torch.manual_seed(0)
    x = torch.randn(8, 64, 16, 16)
    weight = torch.randn(32, 64, 3, 3) * 5.0                                     # any scale: demodulation removes it
    styles = torch.rand(8, 64) * 3 + 0.1
    out = modulated_conv2d(x, weight, styles)
    assert out.shape == (8, 32, 16, 16)
    assert abs(out[:, :, 1:-1, 1:-1].std().item() - 1.0) < 0.05                 # inside the zero padding's reach
    grouped = modulated_conv2d(x, weight, styles, grouped=True)
    assert torch.allclose(out, grouped, atol=1e-4)                               # the two ways agree
    undemod = modulated_conv2d(x, weight, styles, demodulate=False)
    assert undemod.std() > 10


def test_minibatch_stddev_appends_each_groups_spread():
    x = torch.randn(8, 3, 4, 4)
    x[4:] = x[4]                                                                 # the second group: four equal pictures
    out = minibatch_stddev(x, group_size=4)
    assert out.shape == (8, 4, 4, 4) and torch.equal(out[:, :3], x)
    expected = x[:4].std(dim=0, unbiased=False).mean()
    assert torch.allclose(out[:4, 3], expected.expand(4, 4, 4), atol=1e-4)
    assert out[4:, 3].max() < 1e-3                                               # no variety: no spread
    changed = x.clone()
    changed[0] += 5
    assert torch.equal(minibatch_stddev(changed, 4)[4:, 3], out[4:, 3])          # groups are independent
    assert minibatch_stddev(torch.randn(6, 3, 4, 4), 4).shape == (6, 4, 4, 4)    # 6 pictures: groups of 3


def test_the_discriminator_sees_a_batch_without_variety():
    D = tiny(image_size=16)["discriminator"]
    varied = torch.randn(4, 1, 16, 16)
    same = varied[:1].expand(4, -1, -1, -1)
    assert D(same)[0] != D(varied)[0]               # the same first picture, judged with another group around it


@pytest.mark.parametrize("values,match", [
    ({"image_size": 50}, "image_size must be a multiple of 4 between 8 and 256, got 50"),
    ({"image_size": 28, "layout": "grow"}, "image_size must be one of 8, 16, 32, 64, 128, 256"),
    ({"image_size": 64, "channel_base": 32}, "channel_base must be at least the image size"),
    ({"mapping_layers": 9}, "mapping_layers must be between 1 and 8, got 9"),
    ({"w_dim": 0}, "w_dim must be between 1 and 1024"),
    ({"num_classes": 1001}, "num_classes must be between 0 and 1000"),
])
def test_sizes_are_checked_before_building(values, match):
    with pytest.raises(UserError, match=match):
        make_config("stylegan", values)


def test_generate_refuses_what_the_model_cannot_do():
    G = tiny(image_size=16)["generator"]
    with pytest.raises(UserError, match="unconditional"):
        G.generate(torch.randn(2, 8), 1)
    with pytest.raises(UserError, match=r"psi \(truncation\) must be between -2 and 2, got 3"):
        G.generate(torch.randn(2, 8), psi=3)
    with pytest.raises(UserError, match="truncation_cutoff must be between 0 and 6"):
        G.generate(torch.randn(2, 8), psi=0.5, truncation_cutoff=7)
    with pytest.raises(UserError, match="noise_mode"):
        G.generate(torch.randn(2, 8), noise_mode="loud")
    C = tiny(image_size=16, num_classes=3)["generator"]
    with pytest.raises(UserError, match="between 0 and 2, got 3"):
        C.generate(torch.randn(2, 8), torch.tensor([0, 3]))


def test_config_defaults_and_widths():
    cfg = StyleGANConfig()
    assert cfg.image_size == 32 and cfg.layout == "grow" and cfg.resolutions() == [4, 8, 16, 32]
    assert [cfg.width(r) for r in cfg.resolutions()] == [256, 256, 256, 128]
    assert StyleGANConfig(image_size=28).resolutions() == [7, 14, 28]
    count = sum(p.numel() for p in build("stylegan", {"image_size": 64, "channels": 3})["generator"].parameters())
    assert 1e6 < count < 1e7 and math.isfinite(count)
