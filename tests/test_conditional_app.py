"""Class-conditional models in the explorer: the workspace (render with a class, the class row,
interpolation at a fixed class and between classes, the style map), the tabs' handlers and the API."""
from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.core.latent import sample_z
from explorer.core.validation import UserError
from tests.apphelpers import COND, FASHION

@pytest.fixture(scope="module")
def ws(shared_app):
    return shared_app.ws


def picture(data_url: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))))


def test_conditional_models_are_offered_next_to_the_others(ws):
    assert {"tiny_cgan", "tiny_cvae", "tiny_gan", "tiny_vae8"} <= set(ws.model_names())
    assert ws.model("tiny_cgan").num_classes == 10 and ws.model("tiny_gan").num_classes == 0


@pytest.mark.parametrize("name", list(COND))
def test_render_draws_the_requested_class_and_refuses_a_bad_one(ws, name):
    a, za = ws.render(ws.recipe({"model": name, "seed": 3, "class": 2}))
    b, zb = ws.render(ws.recipe({"model": name, "seed": 3, "class": 7}))
    assert torch.equal(za, zb) and (a != b).any()                 # same latent, another class: another picture
    default, _ = ws.render(ws.recipe({"model": name, "seed": 3}))
    first, _ = ws.render(ws.recipe({"model": name, "seed": 3, "class": 0}))
    assert np.array_equal(default, first)                         # no class given: class 0
    with pytest.raises(UserError, match="Class must be between 0 and 9, got 10"):
        ws.recipe({"model": name, "seed": 3, "class": 10})
    with pytest.raises(UserError, match="Class must be a whole number"):
        ws.recipe({"model": name, "seed": 3, "class": 1.5})
    r = ws.recipe(ws.recipe({"model": name, "seed": 3, "class": 7}).to_text())
    assert r.cls == 7 and np.array_equal(ws.render(r)[0], b)       # the recipe (and a shared link) keeps the class


@pytest.mark.slow
def test_an_unconditional_model_refuses_a_class(ws):
    with pytest.raises(UserError, match="unconditional"):
        ws.recipe({"model": "tiny_gan", "seed": 1, "class": 3})


@pytest.mark.parametrize("name", list(COND))
def test_class_row_is_the_latent_in_every_class(ws, name):
    image, z = ws.render(ws.recipe({"model": name, "seed": 5, "sliders": [0.5], "class": 4}))
    row = ws.class_row(name, z)
    assert row.shape[0] == 10
    flat = row.reshape(10, -1).astype(int)
    assert all((flat[i] != flat[j]).any() for i in range(10) for j in range(i))    # ten distinct pictures
    assert np.array_equal(row[4], image)                          # the current picture is in the row, in its place


@pytest.mark.parametrize("name", list(COND))
def test_interpolations_at_a_fixed_class_and_between_classes(ws, name):
    m = ws.model(name)
    a, b = sample_z(2, m.latent_dim, 9)
    res = ws.interpolate(name, a, b, 5, 3)
    assert np.array_equal(res["linear"][0], m.decode(a[None], 3)[0])
    assert np.array_equal(res["spherical"][-1], m.decode(b[None], 3)[0])
    blend = ws.class_interpolate(name, a, 1, 8, 6)
    row = ws.class_row(name, a)
    for path in ("linear", "spherical"):
        assert blend[path].shape[0] == 6
        assert np.abs(blend[path][0].astype(int) - row[1]).max() <= 1 and np.abs(blend[path][-1].astype(int) - row[8]).max() <= 1
    assert (blend["linear"][3] != blend["linear"][0]).any()
    assert blend["spherical_norm"].min() >= blend["linear_norm"].min() - 1e-5      # slerp keeps the length
    from explorer.ui.interpolate_tab import CLASS, InterpolateTab
    if m.num_classes:                        # refused where it enters: the Interpolate tab's handler
        with pytest.raises(UserError, match="To class must be between 0 and 9, got 11"):
            InterpolateTab(ws).run(name, CLASS, 1, 11, "Seed", 4, "Seed", 5, 6, None, {})
        clamped = InterpolateTab(ws).run(name, CLASS, 1, 8, "Seed", 4, "Seed", 5, 1, None, {})
        assert clamped["frames"] == 2                # a typed 1 is made the fewest frames (and said), not refused
        with pytest.raises(UserError, match="Frames must be a whole number between 2 and 64, got 2.5"):
            InterpolateTab(ws).run(name, CLASS, 1, 8, "Seed", 4, "Seed", 5, 2.5, None, {})


@pytest.mark.slow
def test_the_cvae_map_is_its_style_space_coloured_by_the_true_class(ws):
    m = ws.model("tiny_cvae")
    lm = ws.wait_for_map("tiny_cvae", 240)
    assert lm is not None, ws.map_status("tiny_cvae")
    test = ws.test_set("tiny_cvae")
    n = len(lm.latents)
    assert np.array_equal(lm.classes, test.labels[:n].numpy()) and np.array_equal(lm.labels, lm.classes)
    item = ws.map_item("tiny_cvae", 17)
    assert item["class"] == int(test.labels[17])
    assert np.array_equal(item["decoded"], m.decode(item["latent"][None], item["class"])[0])   # drawn in its own class
    placed = ws.place_on_map("tiny_cvae", torch.from_numpy(item["latent"][None]), item["class"])
    assert np.allclose(placed[0], lm.embedding[17], atol=1e-4)
    from explorer.ui.map_tab import MapTab
    plot = MapTab(ws).refresh("tiny_cvae", None, None, None, None, tab="map")["plot"]
    assert isinstance(plot, str)          # one string: the page copies it whole at each event, not dot by dot
    assert sum(len(t["x"]) for t in json.loads(plot)["data"]) == n


@pytest.mark.slow
def test_the_tabs_show_the_class_picker_and_row_only_for_conditional_models(ws):
    """The tabs' handlers are plain functions of values: no Blocks needed to call them."""
    from explorer.ui.explore_tab import ExploreTab
    from explorer.ui.interpolate_tab import CLASS, STYLE, InterpolateTab
    explore, interp = ExploreTab(ws), InterpolateTab(ws)
    state = explore.state_for(ws.recipe({"model": "tiny_cgan", "seed": 2, "class": 6}))
    assert state["cls"]["visible"] is True and state["cls"]["value"] == 6
    assert [c[0] for c in state["cls"]["choices"]][:2] == FASHION["class_names"][:2]
    sliders = [0.0] * 10
    out = explore.show("tiny_cgan", 6, 2, 1.0, None, "", 0.0, sliders)
    row = out["class_row"]
    assert row["visible"] is True and len(row["value"]["cells"]) == 10 and row["value"]["current"] == 6
    assert out["cls_state"] == 6 and '"class": 6' in out["recipe"]
    plain = explore.show("tiny_gan", None, 2, 1.0, None, "", 0.0, sliders)
    assert plain["class_row"]["visible"] is False and plain["cls_state"] is None
    assert explore.state_for(ws.recipe({"model": "tiny_gan"}))["cls"]["visible"] is False
    kept = explore.surprise("tiny_cgan", 1.0)
    assert "cls" not in kept                                   # "Surprise me" keeps the class

    controls = interp.on_model("tiny_cgan")
    assert controls["mode"]["visible"] is True and controls["class_a"]["visible"] is True
    assert interp.on_model("tiny_gan")["mode"]["visible"] is False
    by_class = interp.run("tiny_cgan", CLASS, 1, 8, "Seed", 4, "Seed", 5, 6, None, {})
    assert by_class["path"] is None and "class vector" in by_class["sentence"]
    by_style = interp.run("tiny_cgan", STYLE, 3, None, "Seed", 4, "Seed", 5, 6, None, {})
    assert by_style["path"]["class"] == 3 and "drawn as" in by_style["sentence"]


@pytest.mark.slow
def test_the_api_renders_a_class_and_the_class_row(shared_app):
    from gradio_client import Client
    c = Client(shared_app.url, verbose=False)
    a = c.predict("tiny_cgan", 4, 1.0, [], "", 0.0, None, 2, api_name="/render")
    assert a["class_index"] == 2 and a["class_name"] == FASHION["class_names"][2]
    row = c.predict("tiny_cgan", a["latent"], api_name="/class_row")
    assert row["classes"] == FASHION["class_names"] and len(row["images"]) == 10
    assert np.array_equal(picture(row["images"][2]), picture(a["image"]))
    with pytest.raises(Exception, match="Class must be between 0 and 9, got 12"):
        c.predict("tiny_cgan", 4, 1.0, [], "", 0.0, None, 12, api_name="/render")
    with pytest.raises(Exception, match="unconditional"):
        c.predict("tiny_gan", 4, 1.0, [], "", 0.0, None, 1, api_name="/render")
    plain = c.predict("tiny_gan", 4, 1.0, [], "", 0.0, None, api_name="/render")
    assert plain["class_index"] is None


def test_the_words_beside_every_model_fit_any_dataset(ws):
    """Digits (and emoji, and people's own folders) are trained and listed too: the texts shown beside any
    model name no dataset's classes, and the map says how many pictures it really has."""
    from explorer.ui import texts
    from explorer.ui.map_tab import note_for
    shown_for_any_model = [texts.EXPLORE, texts.MAP, texts.MAP_GAN_NOTE, texts.MAP_VAE_NOTE, texts.MAP_CVAE_NOTE,
                           texts.MAP_CGAN_NOTE, texts.CLASS_ROW, texts.CONDITIONAL_EXPLORE,
                           texts.INTERPOLATE_CONDITIONAL, texts.TRAIN_IMAGES, *texts.TIPS.values()]
    for text in shown_for_any_model:
        assert not any(word in text.lower() for word in ("cloth", "sleeve", "sneaker", "garment", "ten classes")), text
    assert "300 test pictures" in note_for(ws.model("tiny_vae8"), 300)
    assert "10,000 test pictures" in note_for(ws.model("tiny_vae8"), 10_000)
