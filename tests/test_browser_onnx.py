"""A decoder this project did not write, exported to ONNX as its author would (pytorch/examples' DCGAN
generator, 64 px colour), opened in headless Chromium at a projector's 1280 x 720: Explore draws it and
its sliders move it, Interpolate walks between two seeds, and its Map lays out its samples."""
from __future__ import annotations

import pytest

from tests.onnxhelpers import examples_dcgan
from tests.test_browser import (
    drag,
    error_toasts,
    open_map,
    projector_page,
    wait_settled,
)

pytestmark = pytest.mark.slow
NAME = "foreign_netG"


@pytest.fixture(scope="module")
def foreign(browser, shared_app):
    """The ONNX file in the shared app's models folder for this module's tests, taken out afterwards."""
    path, _ = examples_dcgan(shared_app.folder / f"{NAME}.onnx")
    yield browser, shared_app
    path.unlink()


def test_an_onnx_decoder_works_in_explore_interpolate_and_map(foreign):
    browser, app = foreign
    with projector_page(browser, app.url, NAME) as (pg, errors):
        size = pg.evaluate("() => new Promise(r => { const i = new Image(); "
                           "i.onload = () => r([i.naturalWidth, i.naturalHeight]); "
                           "i.src = document.querySelector('#explore-image img').src; })")
        assert size == [64, 64]                                     # its own picture size, read from the graph
        before = pg.eval_on_selector("#explore-image img", "e => e.src")
        drag(pg, "#explore-slider-0")
        wait_settled(pg)
        assert pg.eval_on_selector("#explore-image img", "e => e.src") != before
        pg.get_by_role("tab", name="Interpolate").click()
        pg.click("#interp-run")
        pg.wait_for_function("document.querySelectorAll('#interp-linear img').length === 10", timeout=60_000)
        pg.wait_for_function("document.querySelectorAll('#interp-spherical img').length === 10", timeout=10_000)
        open_map(pg)
        pg.wait_for_function("() => { const d = document.querySelector('#map-plot .le-map');"
                             " return d && d._fullData && d._fullData[0].x.length > 100; }", timeout=180_000)
        assert error_toasts(pg) == [] and errors == []
