"""Issue 32 #1: temperature 0 drew a black square on the shipped Fashion DCGAN. Each model family says the
temperature range the Explore tab offers (explore/temperature.py); at its lowest value every shipped model
draws a picture a person can read, the label says what temperature does in plain words, and a temperature
below the range (typed, or from a link) moves to its end, said, naming the value."""
from __future__ import annotations

import numpy as np
import pytest

from explorer.core.checkpoints import CHECKPOINT_DIR
from explorer.core.families import FAMILIES
from explorer.explore.temperature import RECIPE_RANGE, temperature_scale
from explorer.explore.workspace import Workspace

SEEDS = range(8)


@pytest.fixture(scope="module")
def shipped():
    w = Workspace(CHECKPOINT_DIR, "cpu")       # the shipped models (directions from their shipped caches)
    if not w.model_names():
        pytest.skip("no shipped models here")
    yield w
    w.close()


def contrast(ws, name, temperature):
    """(brightest 1 % of pixels, standard deviation) of each seed's picture at `temperature`, 0-255 (a
    conditional model in a class per seed; a sandal is mostly black, so the bright end is judged, not the mean)."""
    m = ws.model(name)
    out = []
    for seed in SEEDS:
        raw = {"model": name, "seed": seed, "temperature": temperature}
        if m.num_classes:
            raw["class"] = seed % m.num_classes
        image, _ = ws.render(ws.recipe(raw))
        out.append((float(np.percentile(image, 99)), float(image.astype(np.float32).std())))
    return np.array(out)


def test_at_the_lowest_temperature_offered_every_shipped_model_draws_a_readable_picture(shipped):
    for name in shipped.model_names():
        scale = temperature_scale(shipped.model(name).family)
        stats = contrast(shipped, name, scale.lowest)
        assert stats[:, 0].min() > 60, f"{name} at {scale.lowest}: near-black {stats[:, 0].round()}"
        assert stats[:, 1].min() > 15, f"{name} at {scale.lowest}: flat {stats[:, 1].round()}"
        assert RECIPE_RANGE[0] <= scale.lowest < scale.typical < scale.highest <= RECIPE_RANGE[1]


def test_what_the_dcgan_draws_below_its_range_is_what_the_range_leaves_out(shipped):
    """The fact behind the DCGAN's range: at 0 it draws black, at 0.1 faint ghosts."""
    if "fashion_dcgan" not in shipped.model_names():
        pytest.skip("the shipped Fashion DCGAN is not here")
    assert contrast(shipped, "fashion_dcgan", 0.0)[:, 0].max() < 5
    faint = contrast(shipped, "fashion_dcgan", 0.1)
    assert faint[:, 0].min() < 60 and faint[:, 1].min() < 15
    assert temperature_scale(FAMILIES["dcgan"]).lowest > 0.1


def test_the_label_says_what_temperature_does_in_plain_words():
    from explorer.ui import texts
    label = temperature_scale(FAMILIES["dcgan"]).label
    assert label == "Temperature · typical ↔ unusual"
    tip = texts.TIPS["temperature"]
    assert "1: a typical random picture" in tip and "unusual" in tip and "centre" in tip
    assert "black" not in tip                                          # no end the slider offers draws black


def test_the_explore_tab_keeps_the_temperature_in_its_family_range_and_says_so(shipped, monkeypatch):
    pytest.importorskip("gradio")
    from explorer.ui import widgets
    from explorer.ui.explore_tab import ExploreTab
    said = []
    monkeypatch.setattr(widgets, "info", said.append)
    tab = ExploreTab(shipped)
    out = tab.show("fashion_dcgan", None, 0, 0.0, None, "", 0.0, [])               # typed 0
    assert out["temperature"] == 0.3 and said == ["Temperature goes from 0.3 to 2: 0 became 0.3."]
    assert '"temperature": 0.3' in out["recipe"]
    said.clear()
    view = tab.view(shipped.recipe({"model": "fashion_dcgan", "temperature": 0.0}))   # an old link, or the API's range
    assert view["temperature"]["value"] == 0.3 and view["temperature"]["minimum"] == 0.3
    assert view["temperature"]["label"] == "Temperature · typical ↔ unusual" and "0 became 0.3" in said[0]
    said.clear()
    assert tab.model_recipe("fashion_vae16", 7, 0.0).temperature == 0.0 and not said    # a VAE offers 0
    assert tab.model_recipe("fashion_dcgan", 7, 0.1).temperature == 0.3 and "0.1 became 0.3" in said[0]
