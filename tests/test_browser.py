"""Real-browser tests in headless Chromium (Playwright): drag a slider, click a map dot, make a GIF.

They skip only when Chromium is missing and this is not CI; .ci/run installs Chromium and sets
CI=true, so there they are mandatory.
"""
from __future__ import annotations

import os
import shutil

import pytest

from tests.apphelpers import launch, make_checkpoints

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]

if not CHROMIUM or not __import__("importlib").util.find_spec("playwright"):
    if os.environ.get("CI"):
        raise RuntimeError("Browser tests are mandatory in CI: install Debian's chromium and the playwright package.")
    pytest.skip("Chromium or Playwright missing: browser tests skipped (they are mandatory in CI).", allow_module_level=True)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from playwright.sync_api import sync_playwright
    folder = make_checkpoints(tmp_path_factory.mktemp("ck"))
    demo, ws, url = launch(folder, default="tiny_vae2")
    ws.maps.get(ws.model("tiny_vae2"))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1200})
        pg.goto(url)
        pg.wait_for_selector("#explore-image img", timeout=60_000)
        yield pg
        browser.close()
    demo.close()
    ws.maps.close()      # the map worker process ends with the tests


def image_src(pg) -> str:
    return pg.eval_on_selector("#explore-image img", "e => e.src")


def test_dragging_a_slider_changes_the_picture(page):
    before = image_src(page)
    track = page.locator("#explore-slider-0 input[type=range]")
    box = track.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.5, y)
    page.mouse.down()
    for f in (0.6, 0.7, 0.8, 0.9):                 # a drag, not a single click: input events while moving
        page.mouse.move(box["x"] + box["width"] * f, y, steps=3)
    page.mouse.up()
    page.wait_for_function("b => document.querySelector('#explore-image img').src !== b", arg=before, timeout=20_000)
    assert image_src(page) != before
    assert '"sliders": [' in page.input_value("#explore-recipe textarea")


def test_clicking_a_map_dot_selects_it(page):
    page.get_by_role("tab", name="Map").click()
    page.wait_for_function("() => { const d = document.querySelector('#map-plot .le-map');"
                           " return d && d._fullData && d._fullData.length > 0; }", timeout=30_000)
    x, y, idx = page.evaluate("""() => {
        const div = document.querySelector('#map-plot .le-map');
        const tr = div._fullData[0], fl = div._fullLayout, r = div.getBoundingClientRect();
        let best = 0;                                  // the right-most dot of the first class: nothing on top of it
        for (let i = 1; i < tr.x.length; i++) if (tr.x[i] > tr.x[best]) best = i;
        return [r.left + fl.xaxis._offset + fl.xaxis.l2p(tr.x[best]),
                r.top + fl.yaxis._offset + fl.yaxis.l2p(tr.y[best]), tr.customdata[best]];
    }""")
    page.mouse.move(x - 4, y)
    page.mouse.move(x, y, steps=3)
    page.wait_for_function("() => document.querySelector('#map-plot .le-hover').style.display === 'block'"
                           " && document.querySelector('#map-plot .le-hover').src.startsWith('data:image/png')",
                           timeout=20_000)                                   # hovering shows the picture
    page.mouse.click(x, y)
    page.wait_for_function("() => (document.querySelector('#map-selected-text textarea, #map-selected-text input') || {}).value"
                           "?.startsWith('Selected dot #')", timeout=20_000)
    assert "Dot #" in page.inner_text("#map-selected")
    assert page.locator("#map-selected img").count() == 2           # the test picture and its decoding


def test_interpolation_makes_a_gif(page):
    page.get_by_role("tab", name="Interpolate").click()
    page.click("#interp-run")
    page.wait_for_selector("#interp-gif img", timeout=30_000)
    src = page.eval_on_selector("#interp-gif img", "e => e.src")
    assert ".gif" in src
    assert page.locator("#interp-linear img").count() == 10 and page.locator("#interp-spherical img").count() == 10


def test_controls_have_tooltips(page):
    page.get_by_role("tab", name="Explore").click()
    assert "random starting point" in page.get_attribute("#explore-seed", "title")
    assert page.get_attribute("#explore-surprise", "title") == "Pick a random seed."


def test_train_tab_live_2d_then_save_an_image_model(page):
    page.get_by_role("tab", name="Train").click()
    page.click("#train-toy-start")
    page.wait_for_function("() => { const d = document.querySelector('#train-toy-plot .le-live');"
                           " return d && d._fullData && d._fullData.length >= 4; }", timeout=30_000)
    page.wait_for_timeout(800)
    first = page.locator("#train-toy-plot").screenshot()
    page.wait_for_timeout(1500)
    second = page.locator("#train-toy-plot").screenshot()
    assert first != second                                      # the game moved between two screenshots
    page.click("#train-pause")
    page.wait_for_function("() => document.querySelector('#train-toy-readout').innerText.includes('paused')", timeout=20_000)
    # image mode: a small DCGAN on digits, paused, saved, and then listed in the model picker
    page.get_by_role("tab", name="Images").click()
    page.click("#train-img-start")
    page.wait_for_selector("#train-grid img", timeout=60_000)
    page.click("#train-img-pause")
    page.fill("#train-save-title textarea, #train-save-title input", "Browser digits GAN")
    page.click("#train-save")
    page.wait_for_function("() => document.querySelector('#train-save-msg').innerText.includes('Saved as')", timeout=30_000)
    page.click("#model-picker input")
    page.wait_for_selector("text=Browser digits GAN", timeout=10_000)
