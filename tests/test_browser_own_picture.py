"""A drawn sneaker comes back as footwear from every shipped model (Playwright + Chromium, shipped models).

Draws a rough sneaker (toe to the left, like the dataset's) on the Explore tab's canvas, puts it in each
shipped model's latent space, and reads what the classifier calls the model's version of it."""
from __future__ import annotations

import re

import pytest


pytestmark = pytest.mark.slow
FOOTWEAR = {"Sneaker", "Sandal", "Ankle boot"}


def draw_sneaker(pg) -> None:
    """A wedge like the dataset's sneakers: low toe on the left rising to the collar on the right."""
    canvas = pg.locator("#own-draw canvas").last
    canvas.scroll_into_view_if_needed()           # the mouse draws only where the page shows the canvas
    box = canvas.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for k in range(12):
        y = cy - 10 + k * 6
        pg.mouse.move(max(cx - 85, cx + 60 - k * 16), y)
        pg.mouse.down()
        pg.mouse.move(cx + 85, y, steps=2)         # the brush joins the points: more steps draw the same
        pg.mouse.up()


def test_a_drawn_sneaker_comes_back_as_footwear_from_every_shipped_model(browser, shared_app):
    pg = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        pg.goto(shared_app.url + "?recipe=fashion_dcgan")
        pg.wait_for_selector("#explore-image img", timeout=90_000)
        pg.click("#own-picture")
        canvas = pg.locator("#own-draw canvas").last
        canvas.wait_for(state="visible", timeout=20_000)
        pg.wait_for_function("() => { const c = [...document.querySelectorAll('#own-draw canvas')].pop();"
                             " const r = c && c.getBoundingClientRect(); return r && r.width > 100 && r.height > 100; }",
                             timeout=20_000)
        draw_sneaker(pg)
        seen = {}
        for title, name in (("Fashion-MNIST DCGAN", "fashion_dcgan"), ("Fashion-MNIST VAE, 16-d", "fashion_vae16"),
                            ("Fashion-MNIST VAE, 2-d (decoded manifold)", "fashion_vae2")):
            if name != "fashion_dcgan":
                pg.click("#model-picker input")
                pg.get_by_role("option", name=title).click()
            pg.wait_for_function("n => (new URLSearchParams(location.search).get('recipe') || '')"
                                 ".includes('\"model\": \"' + n + '\"')", arg=name, timeout=60_000)   # the switch is through
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
    finally:
        pg.close()
    assert all(label in FOOTWEAR for label in seen.values()), seen
