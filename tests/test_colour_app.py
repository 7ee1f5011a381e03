"""Colour models through the running app: the API at /gradio_api (render, class row, interpolate with
its GIF, encode) and one browser check (a colour picture is smoothed, "Show the pixels" makes it crisp,
the model card credits the pictures as text). An app of its own: tiny 32-px RGB models (colourhelpers.py)."""
from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from tests.colourhelpers import CLASSES, SIDE, colour_data, is_colour, save_colour_models

pytest.importorskip("gradio_client")
from gradio_client import Client  # noqa: E402


@pytest.fixture(scope="module")
def colour_app(tmp_path_factory):
    from tests.apphelpers import launch, small_workspace
    with colour_data(tmp_path_factory.mktemp("colour-data")):
        folder = tmp_path_factory.mktemp("colour-app")
        save_colour_models(folder)
        ws = small_workspace(folder)
        demo, url = launch(ws, default="colour_vae2")
        try:
            yield url, Client(url, verbose=False)
        finally:
            demo.close()
            ws.close()


def picture(data_url: str) -> np.ndarray:
    assert data_url.startswith("data:image/")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))).convert("RGB"))


def test_render_and_class_row_over_the_api_are_in_colour(colour_app):
    _, c = colour_app
    out = c.predict("colour_cgan", 4, 1.0, [0.5], "", 0.0, None, 2, api_name="/render")
    image = picture(out["image"])
    assert image.shape == (SIDE, SIDE, 3) and is_colour(image) and out["class_name"] == CLASSES[2]
    row = c.predict("colour_cgan", out["latent"], api_name="/class_row")
    assert row["classes"] == CLASSES and all(picture(p).shape == (SIDE, SIDE, 3) for p in row["images"])
    assert np.array_equal(picture(row["images"][2]), image)          # the picture is its class's cell


def test_interpolate_over_the_api_gives_colour_strips_and_a_colour_gif(colour_app):
    _, c = colour_app
    a = c.predict("colour_vae2", 1, 1.0, [], "", 0.0, None, api_name="/render")["latent"]
    b = c.predict("colour_vae2", 2, 1.0, [], "", 0.0, None, api_name="/render")["latent"]
    out = c.predict("colour_vae2", a, b, 4, api_name="/interpolate")
    assert len(out["linear"]) == 4 and is_colour(np.stack([picture(p) for p in out["spherical"]]))
    gif = picture(out["gif"])
    assert gif.shape == (4 * SIDE, 2 * 4 * SIDE, 3) and is_colour(gif)     # both paths side by side, 4x


def test_encode_a_colour_picture_over_the_api(colour_app):
    _, c = colour_app
    im = Image.new("RGB", (90, 60), (255, 255, 255))
    im.paste((20, 160, 40), (20, 10, 70, 50))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    out = c.predict("colour_vae2", "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode(), True,
                    api_name="/encode")
    assert out["kind"] == "vae" and len(out["latent"]) == 2
    shown = picture(out["input"])
    assert shown.shape == (SIDE, SIDE, 3) and tuple(shown[SIDE // 2, SIDE // 2]) == (20, 160, 40)


@pytest.mark.slow
def test_a_colour_picture_is_smooth_until_the_pixels_are_asked_for(colour_app, browser):
    url, _ = colour_app
    pg = browser.new_page(viewport={"width": 1280, "height": 720})
    try:
        pg.goto(url + "?recipe=colour_cgan")
        pg.wait_for_selector("#explore-image img.le-smooth", state="attached", timeout=60_000)
        rendering = "() => getComputedStyle(document.querySelector('#explore-image img')).imageRendering"
        assert pg.evaluate(rendering) == "auto"
        pg.wait_for_function("() => document.querySelectorAll('.le-class-row img.le-smooth').length === 3")
        pg.click("#show-pixels input")
        pg.wait_for_function(rendering + " === 'pixelated'")
        pg.click("#show-pixels input")
        pg.wait_for_function(rendering + " === 'auto'")
        pg.click("#model-card-panel")
        card = pg.locator("#model-card")
        card.get_by_text("CC-BY 4.0", exact=False).wait_for()
        assert '<img src=x onerror="window.__pwned=1">' in card.inner_text()     # shown as text
        assert pg.evaluate("() => window.__pwned") is None
    finally:
        pg.close()
