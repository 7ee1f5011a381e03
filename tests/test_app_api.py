"""API tests: the named endpoints of a launched app, through gradio_client, including bad input."""
from __future__ import annotations

import base64
import math

import pytest

pytest.importorskip("gradio")
from gradio_client import Client  # noqa: E402

from tests.apphelpers import SMALL_MAPS, TINY  # noqa: E402


@pytest.fixture(scope="module")
def app(shared_app):
    shared_app.ws.wait_for_map("tiny_vae2", 120)   # the 2-d map needs no UMAP: ready in seconds, in the map worker
    return shared_app.ws, Client(shared_app.url, verbose=False)


def decode_png(data_url: str) -> bytes:
    assert data_url.startswith("data:image/png;base64,")
    raw = base64.b64decode(data_url.split(",", 1)[1])
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    return raw


def test_models_and_ping(app):
    _, c = app
    assert c.predict(api_name="/ping") == "ok"
    names = set(c.predict(api_name="/models"))
    assert set(TINY) <= names and "fashion_dcgan" in names and not any("classifier" in n for n in names)


@pytest.mark.slow
def test_render_is_reproducible(app):
    _, c = app
    a = c.predict("tiny_gan", 7, 1.0, [0.5, -1.0], "", 0.0, None, api_name="/render")
    b = c.predict("tiny_gan", 7, 1.0, [0.5, -1.0], "", 0.0, None, api_name="/render")
    other = c.predict("tiny_gan", 8, 1.0, [0.5, -1.0], "", 0.0, None, api_name="/render")
    assert decode_png(a["image"]) == decode_png(b["image"]) and a["latent"] == b["latent"]
    assert other["latent"] != a["latent"] and len(a["latent"]) == 12
    assert '"seed": 7' in a["recipe"]


@pytest.mark.slow
def test_render_refuses_a_direction_that_does_not_work(app):
    _, c = app      # random-weight models: no named direction turns their pictures into its class, so none is offered
    with pytest.raises(Exception, match="Unknown direction"):
        c.predict("tiny_vae8", 1, 1.0, [], "Sneaker ↔ Ankle boot", 1.0, None, api_name="/render")


@pytest.mark.parametrize("args, message", [
    (("tiny_gan", 1, 1.0, ["nan"], "", 0.0, None), "Slider 1 must be a number between -10 and 10, got NaN"),
    (("tiny_gan", 1, 1.0, [99.0], "", 0.0, None), "between"),
    (("tiny_gan", 1, "inf", [], "", 0.0, None), "Temperature must be between 0 and 3, got inf"),
    (("../../etc/passwd", 1, 1.0, [], "", 0.0, None), "Unknown model"),
    (("fashion_classifier", 1, 1.0, [], "", 0.0, None), "Unknown model"),
    (("tiny_gan", 1, 1.0, [], "no such direction", 1.0, None), "Unknown direction"),
    (("tiny_gan", 1, 1.0, [], "", 0.0, [1.0, 2.0]), "needs latent vectors of 12"),
])
def test_render_bad_input_is_a_clear_error(app, args, message):
    _, c = app
    with pytest.raises(Exception, match=message):
        c.predict(*args, api_name="/render")
    assert c.predict(api_name="/ping") == "ok"   # the server keeps serving


def test_interpolate(app):
    _, c = app
    a = [1.0] * 12
    out = c.predict("tiny_gan", a, [-1.0] * 12, 9, api_name="/interpolate")
    assert len(out["linear"]) == len(out["spherical"]) == 9
    assert base64.b64decode(out["gif"].split(",", 1)[1])[:6] in (b"GIF89a", b"GIF87a")
    # opposite endpoints: the straight line passes through 0, the great circle keeps the length
    assert out["linear_norm"][4] == pytest.approx(0.0, abs=1e-5)
    assert out["spherical_norm"][4] == pytest.approx(math.sqrt(12), rel=1e-4)
    with pytest.raises(Exception, match="between 2 and 64"):
        c.predict("tiny_gan", a, a, 500, api_name="/interpolate")
    with pytest.raises(Exception, match="needs latent vectors"):
        c.predict("tiny_gan", [1.0], a, 5, api_name="/interpolate")


def test_map_select(app):
    _, c = app
    out = c.predict("tiny_vae2", 17, api_name="/map_select")
    assert out["index"] == 17 and len(out["latent"]) == 2 and out["label"]
    decode_png(out["original"])
    decode_png(out["decoded"])
    for bad, message in ((SMALL_MAPS.points, "does not exist"), (-1, "does not exist")):
        with pytest.raises(Exception, match=message):
            c.predict("tiny_vae2", bad, api_name="/map_select")


@pytest.mark.slow
def test_sessions_are_isolated(app):
    """20 clients render different seeds at once: each gets its own picture, no errors."""
    from concurrent.futures import ThreadPoolExecutor
    _, c = app
    url = c.src

    def one(seed):
        cl = Client(url, verbose=False)
        return seed, [cl.predict("tiny_gan", seed, 1.0, [], "", 0.0, None, api_name="/render")["latent"] for _ in range(3)]

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(one, range(20)))
    singles = {seed: lat[0] for seed, lat in results}
    assert len({tuple(v) for v in singles.values()}) == 20
    assert all(lat[0] == lat[1] == lat[2] for _, lat in results)


def test_nan_literal_over_plain_http(app):
    """JSON has no NaN, but Python's parser accepts the literal: the server must still refuse it."""
    import json
    import urllib.request
    _, c = app
    body = '{"data": ["tiny_gan", 1, 1.0, [NaN], "", 0.0, null, null]}'.encode()   # plain HTTP sends every value
    req = urllib.request.Request(c.src.rstrip("/") + "/gradio_api/call/render", data=body,
                                 headers={"Content-Type": "application/json"})
    event_id = json.load(urllib.request.urlopen(req, timeout=30))["event_id"]
    stream = urllib.request.urlopen(f"{c.src.rstrip('/')}/gradio_api/call/render/{event_id}", timeout=30).read().decode()
    assert "event: error" in stream and "got NaN" in stream


@pytest.mark.slow
def test_train_2d_run_over_the_api_is_owned_by_its_token(app):
    import time
    _, c = app
    started = c.predict("ring", "non-saturating", 1e-3, 1e-3, 1, 64, 2, api_name="/train_2d_start")
    owner = started["owner"]
    assert started["state"] == "running" and "ring" in started["description"] and started["mine"]
    assert started["where"].startswith("on the CPU")
    steps = []
    for _ in range(3):
        time.sleep(0.5)
        status = c.predict(owner, api_name="/train_status")
        steps.append(status["step"])
        assert 0 < status["latest"].get("d_real", 0.5) < 1
    assert steps[0] < steps[1] < steps[2]
    # another client can neither replace nor stop it (before: every API caller was "api")
    with pytest.raises(Exception, match="busy"):
        c.predict("grid", "non-saturating", 1e-3, 1e-3, 1, 64, 2, api_name="/train_2d_start")
    with pytest.raises(Exception, match="Only the visitor who started"):
        c.predict("not-the-owner-token-123", api_name="/train_stop")
    assert c.predict(api_name="/train_status")["state"] == "running"
    paused = c.predict(owner, "pause", api_name="/train_control")
    assert paused["state"] == "paused"
    stopped = c.predict(owner, api_name="/train_stop")
    assert stopped["state"] == "stopped"
    with pytest.raises(Exception, match="Forger learning rate must be between"):
        c.predict("ring", "non-saturating", -1.0, 1e-3, 1, 64, 2, api_name="/train_2d_start")


def _png_b64(draw) -> str:
    import io

    from PIL import Image, ImageDraw
    im = Image.new("L", (90, 60), 0)
    draw(ImageDraw.Draw(im))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


@pytest.mark.slow
def test_encode_a_picture_over_the_api(app):
    _, c = app
    shoe = _png_b64(lambda d: d.polygon([(5, 40), (60, 38), (85, 50), (85, 55), (5, 55)], fill=255))
    vae = c.predict("tiny_vae8", shoe, True, api_name="/encode")
    assert vae["kind"] == "vae" and len(vae["latent"]) == 8 and len(vae["posterior_std"]) == 8
    assert vae["scores"]["verdict"] in ("very close", "close", "rough") and decode_png(vae["reconstruction"])
    gan = c.predict("tiny_gan", shoe, True, api_name="/encode")
    assert len(gan["latent"]) == 12 and len(gan["guess_latent"]) == 12 and decode_png(gan["guess"])
    assert gan["refine_steps"] > 0 and any("no learned encoder" in n for n in gan["notes"])   # tiny_gan has none
    with pytest.raises(Exception, match="not valid base64"):
        c.predict("tiny_vae8", "data:image/png;base64,@@@", True, api_name="/encode")
    with pytest.raises(Exception, match="all black: there is nothing in it to encode"):
        c.predict("tiny_vae8", _png_b64(lambda d: None), True, api_name="/encode")
    assert c.predict(api_name="/ping") == "ok"


@pytest.mark.slow
def test_a_conditional_image_run_over_the_api(app):
    _, c = app
    with pytest.raises(Exception, match="class-conditional GAN trains with the non-saturating or minimax loss"):
        c.predict("digits", "dcgan", "wgan-gp", 2e-4, 1, 16, 1.0, True, api_name="/train_images_start")
    with pytest.raises(Exception, match="Class-conditional must be true or false"):
        c.predict("digits", "vae", "non-saturating", 1e-3, 1, 16, 1.0, "yes", api_name="/train_images_start")
    started = c.predict("digits", "vae", "non-saturating", 1e-3, 1, 16, 1.0, True, api_name="/train_images_start")
    owner = started["owner"]
    try:
        assert started["description"].startswith("class-conditional VAE on digits")
        assert started["settings"]["conditional"] is True and len(started["classes"]) == 10
    finally:
        assert c.predict(owner, api_name="/train_stop")["state"] == "stopped"


def test_train_forecast_says_what_this_machine_shows_before_start(app):
    """Before Start: the speed here (timed once, then kept), the steps to a recognisable grid, their time
    here, and what the dataset choice says about emoji."""
    _, c = app
    out = c.predict("digits", "dcgan", False, 64, api_name="/train_forecast")
    assert out["steps_per_s"] > 0 and out["speed_from"] in ("timed", "run")
    assert out["steps_to_recognisable"] > 0 and math.isclose(out["seconds"], out["steps_to_recognisable"] / out["steps_per_s"])
    assert out["lines"][0].startswith("DCGAN on digits makes about") and "steps/s" in out["lines"][0]
    assert out["within_a_few_minutes"] == (out["seconds"] <= 300) and isinstance(out["not_offered"], str)
    again = c.predict("digits", "dcgan", False, 64, api_name="/train_forecast")
    assert again["steps_per_s"] == out["steps_per_s"]                 # kept, not timed again
    with pytest.raises(Exception, match="Data must be one of"):
        c.predict("no-such-data", "dcgan", False, 64, api_name="/train_forecast")
