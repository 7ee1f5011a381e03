"""The style-based family in the app's workspace (explorer/core/families/stylegan.py, explore/w_directions.py,
explore/styles.py): W+ latents, truncation, sliders by layer range, style mixing, W beside Z, own picture."""
import numpy as np
import pytest
import torch

from explorer.core.checkpoints import save_checkpoint
from explorer.core.families import FAMILIES
from explorer.core.latent import sample_z
from explorer.core.models import build
from explorer.core.validation import UserError
from explorer.explore.styles import MIX_SEEDS, mixed_latents, w_and_z_paths
from tests.apphelpers import FASHION, link_shipped, small_workspace

CFG = {"latent_dim": 8, "w_dim": 16, "mapping_layers": 2, "image_size": 28, "channels": 1, "channel_base": 64,
       "channel_max": 16}


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    """A tiny unconditional and a tiny conditional style-based model (trained a few passes, so their averages of
    w are the mapping network's), beside the shipped Fashion-MNIST classifier."""
    folder = tmp_path_factory.mktemp("styles")
    for name, extra in (("sg", {}), ("csg", {"num_classes": 10})):
        torch.manual_seed(0)
        mods = build("stylegan", dict(CFG, **extra))
        g = mods["generator"].train()
        for _ in range(40):                                   # the running averages of w settle
            g.mapping(torch.randn(64, 8), torch.arange(64) % 10 if extra else None)
        g.eval()
        save_checkpoint(folder / f"{name}.safetensors", "stylegan", mods,
                        {"title": name, "config": dict(CFG, **extra), "dataset": FASHION})
    save_checkpoint(folder / "gan.safetensors", "dcgan", build("dcgan", {"width": 8, "d_width": 8, "latent_dim": 8}),
                    {"title": "gan", "config": {"width": 8, "d_width": 8, "latent_dim": 8}, "dataset": FASHION})
    link_shipped(folder, ["fashion_classifier"])
    w = small_workspace(folder)
    yield w
    w.close()


def test_a_seed_draws_what_the_generator_draws_from_its_z(ws):
    m = ws.model("sg")
    assert m.family.kind == "stylegan" and m.latent_dim == m.family.num_ws * 16
    img, x = ws.render(ws.recipe({"model": "sg", "seed": 4}))
    z = sample_z(1, 8, 4)
    own = m.family.net.generate(z)                            # psi 1, the fixed noise
    assert np.abs(img.astype(int) - (own[0].permute(1, 2, 0).numpy() * 255).round().astype(int)).max() <= 1
    blocks = x.reshape(m.family.num_ws, 16)
    assert torch.allclose(blocks, blocks[:1].expand_as(blocks))      # one w offset, in every layer


def test_truncation_zero_draws_the_average_picture_for_every_seed(ws):
    assert FAMILIES["stylegan"].temperature.name == "Truncation ψ" and FAMILIES["stylegan"].temperature.lowest == 0
    pictures = [ws.render(ws.recipe({"model": "sg", "seed": s, "temperature": 0.0}))[0] for s in (1, 2, 3)]
    assert np.array_equal(pictures[0], pictures[1]) and np.array_equal(pictures[1], pictures[2])
    assert pictures[0].std() > 1                              # a picture, not a flat square
    half = ws.render(ws.recipe({"model": "sg", "seed": 1, "temperature": 0.5}))[0]
    assert not np.array_equal(half, pictures[0])


def test_a_slider_limited_to_coarse_layers_moves_only_them_and_the_link_keeps_it(ws):
    m = ws.model("sg")
    groups = m.family.layer_groups()
    base = ws.latent(ws.recipe({"model": "sg", "seed": 6})).reshape(m.family.num_ws, 16)
    r = ws.recipe({"model": "sg", "seed": 6, "sliders": [3.0], "layers": ["coarse"]})
    moved = ws.latent(r).reshape(m.family.num_ws, 16)
    changed = (moved - base).abs().sum(1) > 1e-5
    assert changed.tolist() == [i in groups["coarse"] for i in range(m.family.num_ws)]
    assert ws.recipe(r.to_text()) == r and '"layers": ["coarse"]' in r.to_text()
    everything = ws.latent(ws.recipe({"model": "sg", "seed": 6, "sliders": [3.0]})).reshape(m.family.num_ws, 16)
    assert ((everything - base).abs().sum(1) > 1e-5).all()
    d = ws.directions("sg", ("fine", "middle"))
    assert torch.allclose(d.basis @ d.basis.T, torch.eye(len(d.basis)), atol=1e-4)     # still independent sliders


def test_layers_are_refused_in_words_where_they_do_not_apply(ws):
    with pytest.raises(UserError, match="must be one of all, coarse, middle, fine"):
        ws.recipe({"model": "sg", "sliders": [1.0], "layers": ["texture"]})
    with pytest.raises(UserError, match="has no layers to choose from"):
        ws.recipe({"model": "gan", "sliders": [1.0], "layers": ["coarse"]})


def test_a_conditional_models_class_keeps_the_style(ws):
    m = ws.model("csg")
    x = ws.latent(ws.recipe({"model": "csg", "seed": 2, "class": 3}))
    row = ws.class_row("csg", x)
    assert row.shape[0] == 10 and not np.array_equal(row[0], row[9])
    assert np.array_equal(row[3], ws.render(ws.recipe({"model": "csg", "seed": 2, "class": 3}))[0])
    assert m.family.blends_classes and m.family.class_vectors().shape == (10, 16)


def test_style_mixing_keeps_this_pictures_layers(ws):
    m = ws.model("sg")
    groups = m.family.layer_groups()
    x = m.family.seed_latents(1, 9)[0]
    for keep, kept in (("coarse", groups["coarse"]), ("fine", range(groups["coarse"].stop, m.family.num_ws))):
        mixed = mixed_latents(m, x, keep).reshape(len(MIX_SEEDS), m.family.num_ws, 16)
        mine, seeds = x.reshape(m.family.num_ws, 16), torch.cat([m.family.seed_latents(1, s) for s in MIX_SEEDS])
        for i in range(m.family.num_ws):
            source = mine[i].expand(len(MIX_SEEDS), -1) if i in kept else seeds.reshape(len(MIX_SEEDS), -1, 16)[:, i]
            assert torch.equal(mixed[:, i], source)


def test_w_and_z_paths_join_the_same_two_seeds(ws):
    res = w_and_z_paths(ws.model("sg"), 1, 2, 6)
    a = ws.render(ws.recipe({"model": "sg", "seed": 1}))[0]
    b = ws.render(ws.recipe({"model": "sg", "seed": 2}))[0]
    for path in ("w", "z"):
        assert np.abs(res[path][0].astype(int) - a).max() <= 1 and np.abs(res[path][-1].astype(int) - b).max() <= 1
    assert not np.array_equal(res["w"][3], res["z"][3]) and res["w_even"] >= 1 and res["z_even"] >= 1


def test_own_picture_is_projected_into_w_plus(ws):
    m = ws.model("sg")
    target = m.decode(m.family.seed_latents(1, 30))[0]
    enc = ws.encode_picture("sg", target[..., 0])
    assert enc.guessed_by == "random starts" and enc.refine_steps > 0 and len(enc.latent) == m.latent_dim
    assert enc.scores["pixel_mse"] <= enc.guess_scores["pixel_mse"]
    assert any("has no encoder;" in n for n in enc.notes)
