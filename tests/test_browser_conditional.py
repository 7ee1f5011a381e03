"""A class-conditional model in headless Chromium, as a presenter shows it: the class row follows the
picture, a click on a class draws it (same style), a shared link keeps the class, and the Interpolate
tab walks from one class to another."""
from __future__ import annotations

import pytest

from tests.apphelpers import FASHION

pytestmark = pytest.mark.slow


def test_class_row_picks_the_class_and_a_link_keeps_it(browser, shared_app):
    url = shared_app.url + "?recipe=tiny_cgan"
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        pg = context.new_page()
        errors = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(url)
        pg.wait_for_selector("#explore-image img", timeout=90_000)
        pg.wait_for_function("document.querySelectorAll('#explore-class-row figure').length === 10", timeout=30_000)
        names = pg.locator("#explore-class-row figcaption").all_inner_texts()
        assert names == FASHION["class_names"]
        assert pg.locator("#explore-class-row figure.le-current").inner_text() == names[0]
        before = pg.get_attribute("#explore-image img", "src")
        row_pic = pg.get_attribute("#explore-class-row figure:nth-child(9) img", "src")
        pg.click("#explore-class-row figure:nth-child(9)")               # Bag
        pg.wait_for_function("document.querySelector('#explore-class input').value === 'Bag'", timeout=20_000)
        pg.wait_for_function("b => document.querySelector('#explore-image img').src !== b", arg=before, timeout=20_000)
        assert pg.locator("#explore-class-row figure.le-current").inner_text() == "Bag"
        # the picture is the row's Bag (same style, another class) and the picture and the row fit on a projector
        assert pg.get_attribute("#explore-image img", "src") == row_pic
        box = pg.locator("#explore-class-row").bounding_box()
        assert box["y"] + box["height"] <= 720, box
        # "Surprise me" keeps the class: a new picture, still a Bag
        seed = pg.input_value("#explore-seed input")
        pg.click("#explore-surprise")
        pg.wait_for_function("s => document.querySelector('#explore-seed input').value !== s", arg=seed, timeout=20_000)
        recipe = "new URLSearchParams(location.search).get('recipe') || ''"
        pg.wait_for_function(f"() => ({recipe}).includes('\"seed\": ' + document.querySelector('#explore-seed input').value)",
                             timeout=20_000)                          # the new picture is drawn and linked
        assert pg.input_value("#explore-class input") == "Bag" and '"class": 8' in pg.evaluate(f"() => {recipe}")
        # a shared link opens the same class
        link = pg.url                                                       # the address bar follows the picture
        from urllib.parse import parse_qs, urlparse
        assert '"class": 8' in parse_qs(urlparse(link).query)["recipe"][0]
        other = context.new_page()
        other.goto(link)
        other.wait_for_function("document.querySelector('#explore-class input') && "
                                "document.querySelector('#explore-class input').value === 'Bag'", timeout=60_000)
        # Interpolate: from one class to another at a fixed latent
        pg.get_by_role("tab", name="Interpolate").click()
        pg.get_by_label("Class: one latent point, two classes").check()
        pg.wait_for_selector("#interp-class-b", state="visible", timeout=10_000)
        pg.click("#interp-run")
        pg.wait_for_function("document.querySelectorAll('#interp-linear img').length === 10", timeout=30_000)
        assert "class vector" in pg.inner_text("#interp-sentence")
        assert errors == []
    finally:
        context.close()
