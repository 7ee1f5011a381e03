"""A drawn sneaker comes back as footwear from every shipped model (Playwright + Chromium, shipped models).

Draws a rough sneaker (toe to the left, like the dataset's) on the Explore tab's canvas, puts it in each
shipped model's latent space, and reads what the classifier calls the model's version of it."""
from __future__ import annotations

import re

import pytest

from explorer.core.checkpoints import CHECKPOINT_DIR
from tests.apphelpers import launch
from tests.test_browser import CHROMIUM, FLAGS

pytestmark = pytest.mark.slow
FOOTWEAR = {"Sneaker", "Sandal", "Ankle boot"}


def draw_sneaker(pg) -> None:
    """A wedge like the dataset's sneakers: low toe on the left rising to the collar on the right."""
    box = pg.locator("#own-draw canvas").last.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for k in range(12):
        y = cy - 10 + k * 6
        pg.mouse.move(max(cx - 85, cx + 60 - k * 16), y)
        pg.mouse.down()
        pg.mouse.move(cx + 85, y, steps=10)
        pg.mouse.up()


def test_a_drawn_sneaker_comes_back_as_footwear_from_every_shipped_model(tmp_path):
    from playwright.sync_api import sync_playwright
    demo, ws, url = launch(CHECKPOINT_DIR, default="fashion_dcgan")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            pg = browser.new_page(viewport={"width": 1400, "height": 1000})
            pg.goto(url)
            pg.wait_for_selector("#explore-image img", timeout=90_000)
            pg.click("#own-picture")
            pg.wait_for_selector("#own-draw canvas", timeout=20_000)
            pg.wait_for_timeout(800)
            draw_sneaker(pg)
            seen = {}
            for title, name in (("Fashion-MNIST DCGAN", "fashion_dcgan"), ("Fashion-MNIST VAE, 16-d", "fashion_vae16"),
                                ("Fashion-MNIST VAE, 2-d (decoded manifold)", "fashion_vae2")):
                if name != "fashion_dcgan":
                    pg.click("#model-picker input")
                    pg.get_by_role("option", name=title).click()
                    pg.wait_for_timeout(2500)
                before = pg.inner_text("#own-result")
                pg.click("#own-go")
                try:
                    pg.wait_for_function("b => { const t = document.querySelector('#own-result').innerText;"
                                         " return t !== b && /Result|empty|error|refused/i.test(t); }", arg=before,
                                         timeout=90_000)
                except Exception:
                    pg.screenshot(path="/tmp/own-fail.png", full_page=True)
                    raise
                text = pg.inner_text("#own-result")
                assert "Result" in text, text
                seen[name] = re.search(r"in your picture and (.+?) in the model's", text).group(1)
            browser.close()
    finally:
        demo.close()
        ws.maps.close()      # the map worker process ends with the test
    assert all(label in FOOTWEAR for label in seen.values()), seen
