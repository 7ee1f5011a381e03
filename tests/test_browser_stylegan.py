"""A style-based model in headless Chromium at a projector's 1280 x 720, every tab: Explore draws it with
truncation ψ for temperature, a slider limited to the coarse layers goes into the link, the style-mixing row
continues from a click; Interpolate walks between two seeds in W beside Z; its Map lays out its samples and
names those two paths."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
import torch

from explorer.core.checkpoints import save_checkpoint
from explorer.core.models import build
from tests.apphelpers import FASHION
from tests.test_browser import (
    drag,
    error_toasts,
    open_map,
    projector_page,
    wait_settled,
)
from tests.test_conditional_app import picture

pytestmark = pytest.mark.slow
NAME = "tiny_stylegan"
CFG = {"latent_dim": 8, "w_dim": 16, "mapping_layers": 2, "image_size": 28, "channels": 1, "channel_base": 64,
       "channel_max": 16}


@pytest.fixture(scope="module")
def styled(browser, shared_app):
    """A tiny style-based model in the shared app's models folder for this module's tests, taken out afterwards."""
    torch.manual_seed(0)
    mods = build("stylegan", CFG)
    g = mods["generator"].train()
    for _ in range(40):                                   # the running average of w settles
        g.mapping(torch.randn(64, 8))
    g.eval()
    path = save_checkpoint(shared_app.folder / f"{NAME}.safetensors", "stylegan", mods,
                           {"title": "tiny stylegan", "config": CFG, "dataset": FASHION})
    yield browser, shared_app
    path.unlink()


def recipe(pg) -> str:
    return parse_qs(urlparse(pg.url).query).get("recipe", [""])[0]


def test_a_style_based_model_works_in_explore_interpolate_and_map(styled):
    browser, app = styled
    with projector_page(browser, app.url, NAME) as (pg, errors):
        assert "Truncation ψ" in pg.inner_text("#explore-temperature")
        assert "Style-based model" in pg.inner_text("#explore-conditional-note")     # what is different, in words
        # the first slider moves the coarse layers only, and the link says so
        pg.click("#explore-layers-0 input")
        pg.get_by_role("option", name="shape · coarse layers").click()
        before = pg.eval_on_selector("#explore-image img", "e => e.src")
        drag(pg, "#explore-slider-0")
        wait_settled(pg)
        assert pg.eval_on_selector("#explore-image img", "e => e.src") != before
        pg.wait_for_function("() => decodeURIComponent(location.search).includes('coarse')", timeout=20_000)
        assert '"layers"' in recipe(pg) and "coarse" in recipe(pg)
        # style mixing: eight seeds' details under this picture's shape; a click continues from that very mix
        # (its sliders read along their own layers: they read along all layers, and the picture moved)
        pg.wait_for_function("document.querySelectorAll('#explore-style-row figure').length === 8", timeout=30_000)
        row_pic = pg.get_attribute("#explore-style-row figure:nth-child(3) img", "src")
        pg.click("#explore-style-row figure:nth-child(3)")
        pg.wait_for_function("() => decodeURIComponent(location.search).includes('base')", timeout=20_000)
        wait_settled(pg)
        shown = picture(pg.eval_on_selector("#explore-image img", "e => e.src")).astype(int)
        assert np.abs(shown - picture(row_pic)).max() <= 3             # the sliders' values are rounded for show
        assert '"layers": ["coarse"]' in recipe(pg)                  # the slider still moves the shape only
        # Interpolate between two seeds: a straight line in W beside a great circle in Z
        pg.get_by_role("tab", name="Interpolate").click()
        pg.click("#interp-run")
        pg.wait_for_function("document.querySelectorAll('#interp-linear img').length === 10", timeout=60_000)
        pg.wait_for_function("document.querySelectorAll('#interp-spherical img').length === 10", timeout=10_000)
        assert "In W" in pg.inner_text("#interp-linear-label") and "Z" in pg.inner_text("#interp-spherical-label")
        open_map(pg)
        pg.wait_for_function("() => { const d = document.querySelector('#map-plot .le-map');"        # its samples' dots
                             " return d && d._fullData && d._fullData.filter(t => t.customdata)"
                             ".reduce((n, t) => n + t.x.length, 0) > 300; }", timeout=180_000)
        pg.wait_for_function("() => document.querySelector('#map-plot .le-map')._fullData.map(t => t.name)"   # the paths
                             ".join('|').includes('straight line in W|great circle in Z')", timeout=30_000)
        assert error_toasts(pg) == [] and errors == []
