"""Colour models in every tab, through the Workspace (the verbs every tab and the API call): tiny random
32-px RGB models of a tiny prepared colour dataset this file writes itself (no network, no emoji data):
Explore's picture, strip and class row, interpolation and its GIF, the map (a 2-d colour VAE's test
pictures; a colour GAN's samples laid out by the classifier), your own picture, the Train tab's
datasets, the tour's colour step, upscaling and the model card's attribution."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from explorer.core.imaging import gif_bytes
from explorer.core.validation import UserError
from tests.colourhelpers import CLASSES, SIDE, colour_data, is_colour, save_colour_models


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    with colour_data(tmp_path_factory.mktemp("colour-data")) as root:
        yield root


@pytest.fixture(scope="module")
def ws(data_dir, tmp_path_factory):
    from tests.apphelpers import small_workspace
    folder = tmp_path_factory.mktemp("colour-models")
    save_colour_models(folder)
    w = small_workspace(folder)
    yield w
    w.close()


@pytest.mark.parametrize("name", ["colour_cgan", "colour_gan", "colour_vae2"])
def test_explore_draws_colour_pictures_and_strip(ws, name):
    image, z = ws.render(ws.recipe({"model": name, "seed": 3}))
    assert image.shape == (SIDE, SIDE, 3) and is_colour(image)
    strip = ws.strip(name, z, 0, cls=0 if ws.model(name).num_classes else None)
    assert strip.shape == (7, SIDE, SIDE, 3) and is_colour(strip)


def test_class_row_and_named_directions_of_a_colour_model(ws):
    _, z = ws.render(ws.recipe({"model": "colour_cgan", "seed": 1}))
    row = ws.class_row("colour_cgan", z)
    assert row.shape == (3, SIDE, SIDE, 3) and is_colour(row)
    named = ws.directions("colour_gan").class_names        # judged by the dataset's own classifier
    assert set(named) <= set(CLASSES) and named


def test_interpolation_and_its_gif_are_in_colour_and_upscaled_smoothly(ws):
    a = ws.start_latent(ws.recipe({"model": "colour_vae2", "seed": 1}))
    b = ws.start_latent(ws.recipe({"model": "colour_vae2", "seed": 2}))
    res = ws.interpolate("colour_vae2", a, b, 5)
    assert res["linear"].shape == (5, SIDE, SIDE, 3) and is_colour(res["spherical"])
    gif = Image.open(io.BytesIO(gif_bytes(res["linear"])))
    assert gif.size == (4 * SIDE, 4 * SIDE) and gif.n_frames >= 5        # there and back (equal frames may merge)
    frame = np.asarray(gif.convert("RGB")).astype(int)
    crisp = res["linear"][0].repeat(4, 0).repeat(4, 1).astype(int)
    assert is_colour(frame.astype(np.uint8))
    # smooth: neighbours inside one source pixel differ (a crisp 4x upscale repeats each pixel 4 times)
    assert (frame[1::4] != frame[0::4]).any() and not (crisp[1::4] != crisp[0::4]).any()


@pytest.mark.slow
def test_map_of_a_colour_vae_shows_its_prepared_test_pictures(ws):
    m = ws.wait_for_map("colour_vae2", 120)
    assert m is not None, ws.map_status("colour_vae2")
    assert m.source == "test-images" and len(m.embedding) == 30 and m.class_names == CLASSES
    assert list(m.labels[:3]) == [0, 1, 2]                   # the test split's own labels (90 % 3 from 60)
    item = ws.map_item("colour_vae2", 4)
    assert item["original"].shape == (SIDE, SIDE, 3) and is_colour(item["original"])
    assert item["decoded"].shape == (SIDE, SIDE, 3)


@pytest.mark.slow
def test_a_shipped_map_without_its_prepared_pictures_shows_the_decoding_alone(ws, tmp_path, monkeypatch):
    """The emoji maps ship, their test pictures do not (they are prepared on the user's machine): a
    clicked dot still gives its latent, label and decoding, and no picture rather than an error."""
    from tests.apphelpers import small_workspace
    assert ws.wait_for_map("colour_vae2", 120) is not None
    monkeypatch.setenv("EXPLORER_DATA", str(tmp_path))                 # an empty data folder
    fresh = small_workspace(ws.folder)                                 # the same caches
    try:
        item = fresh.map_item("colour_vae2", 4)                         # the map comes from the cache
        assert item["original"] is None and item["label"] in CLASSES
        assert item["decoded"].shape == (SIDE, SIDE, 3) and is_colour(item["decoded"])
    finally:
        fresh.close()


def test_map_of_a_colour_gan_is_laid_out_by_the_classifier(ws):
    from explorer.maps.features import encode_items
    from explorer.maps.layout import MapParams
    model = ws.model("colour_cgan")
    latents, labels, source, keys, key_space, classes = encode_items(
        model, MapParams(points=12), ws.classifier("tinycolour"))
    assert source == "samples" and key_space == "classifier-features"
    assert latents.shape == (12, 6) and keys.shape[0] == 12 and list(classes[:4]) == [0, 1, 2, 0]


@pytest.mark.slow
def test_your_own_colour_picture_goes_into_the_colour_vae(ws):
    photo = np.full((120, 200, 4), 0, np.uint8)
    photo[30:90, 60:140] = (230, 40, 40, 255)                 # a red box on a transparent background
    buf = io.BytesIO()
    Image.fromarray(photo, "RGBA").save(buf, "PNG")
    enc = ws.encode_picture("colour_vae2", buf.getvalue())
    assert enc.input.shape == (SIDE, SIDE, 3) and enc.reconstruction.shape == (SIDE, SIDE, 3)
    assert tuple(enc.input[SIDE // 2, SIDE // 2]) == (230, 40, 40)      # colours kept, the box centred
    assert tuple(enc.input[0, 0]) == (255, 255, 255)                    # on white, as the emoji are
    assert any("white" in n for n in enc.notes) and len(enc.latent) == 2
    gan = ws.encode_picture("colour_gan", buf.getvalue(), refine=False)
    assert gan.input.shape == (SIDE, SIDE, 3) and any("no learned encoder" in n for n in gan.notes)
    cgan = ws.encode_picture("colour_cgan", buf.getvalue(), refine=False)      # drawn in the class it reads
    assert cgan.cls in range(3) and any("drawn in the class" in n for n in cgan.notes)
    assert np.array_equal(cgan.reconstruction, ws.model("colour_cgan").decode(cgan.latent[None], cgan.cls)[0])
    with pytest.raises(UserError, match="one flat colour"):
        ws.encode_picture("colour_vae2", np.full((40, 40, 3), 200, np.uint8))


def test_the_train_tab_offers_prepared_colour_data_at_its_own_size(data_dir):
    from explorer.live.settings import ImageSettings, image_datasets, image_trainer
    assert image_datasets(data_dir) == ("digits", "fashion-mnist", "tinycolour")
    trainer, ds, note = image_trainer(ImageSettings("tinycolour", "dcgan", batch_size=8, conditional=True), "cpu", data_dir)
    g = trainer.modules["generator"]
    assert (g.cfg.image_size, g.cfg.channels, g.cfg.num_classes) == (SIDE, 3, 3) and f"its 60 training pictures, {SIDE} px" in note
    assert next(trainer.run(max_steps=1)).step == 1
    with pytest.raises(UserError, match="Data must be one of"):
        ImageSettings("no-such-data").validated(data_dir)


def test_the_tour_has_a_colour_step_only_with_a_colour_model(ws):
    from explorer.ui import texts
    from explorer.ui.tour import COLOUR_STEP, Tour, tour_steps
    steps, models = tour_steps(ws.listing())
    assert len(steps) == len(texts.TOUR) + 1 and models[COLOUR_STEP] == "colour_cgan"   # a conditional GAN first
    grey = {n: m for n, m in ws.listing().items() if n != "colour_cgan" and n != "colour_gan"}
    assert tour_steps(grey)[1][COLOUR_STEP] == "colour_vae2"
    assert tour_steps({})[0] == list(texts.TOUR)
    shown = Tour(ws.listing).show(COLOUR_STEP, "colour_vae2")
    assert shown["model"] == "colour_cgan" and shown["text"].startswith(f"**{COLOUR_STEP + 1} · In colour**")
    assert shown["current_tab"] == texts.TOUR_COLOUR[2]                            # the page opens that tab
    last = Tour(ws.listing).show(99, "colour_vae2")["text"]
    assert last.startswith(f"**{len(texts.TOUR) + 1} · ")                           # the steps after it move on


def test_large_colour_pictures_are_smooth_and_small_grey_ones_crisp():
    from explorer.ui import page, widgets
    assert widgets.rendering(64) == widgets.rendering(32) == "le-smooth" and widgets.rendering(28) == "le-crisp"
    html = widgets.picture(np.zeros((64, 64, 3), np.uint8), 300)
    assert 'class="le-smooth"' in html and "pixelated" not in html
    grid = widgets.picture(np.zeros((122, 122, 1), np.uint8), 300, side=28)          # a grid of 28-px tiles
    assert 'class="le-crisp"' in grid
    assert "body.le-show-pixels img.le-smooth" in page.css()


def test_the_model_card_credits_the_pictures_escaped(ws):
    from explorer.ui.picker import safe_card
    card = safe_card(ws.model("colour_cgan").meta, "colour_cgan")
    assert "CC\\-BY 4\\.0" in card and "Pictures' licence" in card
    assert "<img" not in card and "&lt;img" in card
