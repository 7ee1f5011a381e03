"""GET /le/picture (explorer/ui/fast_picture.py): the picture the Explore tab draws while a slider moves
is the picture of that recipe (the same as the API's /render), checked like a pasted recipe; refusals
say why, bugs do not leak; in Chromium a drag shows a picture for each value it reached."""
from __future__ import annotations

import base64
import json
from urllib.parse import quote

import httpx
import pytest

from explorer.core.validation import UserError
from explorer.ui.fast_picture import MAX_QUERY, FastPicture


def picture(url: str, recipe) -> httpx.Response:
    text = recipe if isinstance(recipe, str) else json.dumps(recipe)
    return httpx.get(url.rstrip("/") + "/le/picture?recipe=" + quote(text), timeout=60)


def test_the_route_draws_the_recipes_picture_as_the_api_does(shared_app):
    from gradio_client import Client
    recipe = {"model": "tiny_gan", "seed": 7, "temperature": 0.8, "sliders": [0.5, -1.25, 2.0]}
    got = picture(shared_app.url, recipe)
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    assert got.headers["cache-control"] == "no-store"
    api = Client(shared_app.url, verbose=False).predict("tiny_gan", 7, 0.8, [0.5, -1.25, 2.0], "", 0.0, None, None,
                                                        api_name="/render")
    assert base64.b64decode(api["image"].split(",", 1)[1]) == got.content
    other = picture(shared_app.url, {**recipe, "sliders": [0.5, -1.25, 2.5]})
    assert other.status_code == 200 and other.content != got.content          # the slider moved the picture


def test_a_refused_recipe_says_why_and_nothing_is_read_from_disk(shared_app):
    bad = picture(shared_app.url, {"model": "tiny_gan", "seed": -3})
    assert bad.status_code == 400 and "Seed must be between 0 and" in bad.text
    path = picture(shared_app.url, "../../../etc/passwd")                      # a bare name is a model's name
    assert path.status_code == 400 and "Unknown model" in path.text and "root:" not in path.text
    assert picture(shared_app.url, "{not json").status_code == 400
    long = httpx.get(shared_app.url.rstrip("/") + "/le/picture?recipe=" + "x" * (MAX_QUERY + 1), timeout=30)
    assert long.status_code == 414
    post = httpx.post(shared_app.url.rstrip("/") + "/le/picture", timeout=30)
    assert post.status_code == 405


def test_a_bug_is_logged_and_answered_without_its_details(caplog):
    def broken(text):
        raise RuntimeError("secret detail")

    def refused(text):
        raise UserError("that value is out of range")
    sent = {}

    async def call(render):
        async def inner(scope, receive, send):
            raise AssertionError("the route's requests never reach the app")

        async def receive():
            return {"type": "http.request", "body": b""}

        async def send(message):
            sent.setdefault(message["type"], message)
        sent.clear()
        scope = {"type": "http", "method": "GET", "path": "/le/picture", "query_string": b"recipe=x", "headers": []}
        await FastPicture(inner, render)(scope, receive, send)
        return sent["http.response.start"]["status"], sent["http.response.body"]["body"]
    from tests.apphelpers import (
        run_async,  # (an event loop may run in this thread already)
    )
    assert run_async(lambda: call(broken)) == (500, b"internal error (logged)")
    assert "secret detail" in caplog.text
    assert run_async(lambda: call(refused)) == (400, b"that value is out of range")


def _image_src(pg) -> str:
    return pg.eval_on_selector("#explore-image img", "e => e.src")


@pytest.mark.slow
def test_a_drag_in_chromium_shows_a_picture_for_each_value_and_the_release_redraws(browser, shared_app):
    pg = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        pg.goto(shared_app.url + "?recipe=tiny_gan")
        pg.wait_for_function("() => (new URLSearchParams(location.search).get('recipe') || '').includes('tiny_gan')",
                             timeout=60_000)
        pg.wait_for_selector("#explore-image img", timeout=60_000)
        res = pg.evaluate("""() => new Promise(done => {
          const srcs = [], root = document.querySelector('#explore-image');
          const obs = new MutationObserver(() => { const i = root.querySelector('img');
            if (i && i.src !== srcs[srcs.length - 1]) srcs.push(i.src); });
          obs.observe(root, {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
          const el = document.querySelector('#explore-slider-0 input[type=range]');
          const values = [-2, -1, 0, 1, 2];
          const step = (k) => {
            if (k === values.length) { el.dispatchEvent(new PointerEvent('pointerup', {bubbles: true})); return; }
            el.value = values[k]; el.dispatchEvent(new Event('input', {bubbles: true}));
            const n = srcs.length, t0 = performance.now();
            const wait = () => (srcs.length > n || performance.now() - t0 > 10000) ? step(k + 1) : setTimeout(wait, 10);
            wait(); };
          step(0);
          const end = () => { const last = srcs[srcs.length - 1] || '';
            if (last.startsWith('data:')) { obs.disconnect(); done(srcs.map(s => s.slice(0, 5))); } else setTimeout(end, 50); };
          setTimeout(end, 100); })""")
        assert res[:5] == ["blob:"] * 5, res        # each value's picture, from the route, in turn
        assert res[-1] == "data:"                      # the release: the usual event drew the last one again
        pg.wait_for_function("() => (new URLSearchParams(location.search).get('recipe') || '')"
                             ".includes('\"sliders\": [2.0')", timeout=30_000)   # and the link followed
        # a picture still on its way when the slider is let go never replaces the release's own picture
        held = []
        pg.route("**/le/picture?*", lambda route: held.append(route))    # answered when the test says so
        pg.evaluate("""() => { const el = document.querySelector('#explore-slider-0 input[type=range]');
          el.value = -1; el.dispatchEvent(new Event('input', {bubbles: true}));
          el.dispatchEvent(new PointerEvent('pointerup', {bubbles: true})); }""")
        pg.wait_for_function("() => (new URLSearchParams(location.search).get('recipe') || '')"
                             ".includes('\"sliders\": [-1.0')", timeout=30_000)  # the release was drawn
        assert len(held) == 1 and _image_src(pg).startswith("data:")
        with pg.expect_event("requestfinished"):
            held[0].continue_()                            # the late picture arrives
        pg.wait_for_timeout(300)
        assert _image_src(pg).startswith("data:"), "a picture asked for before the release replaced it"
        # away and back to the value the page last drew, the last move's picture late: the release draws
        # what the page already had, so the page itself must put the released value's picture back
        drawn = _image_src(pg)
        pg.unroute("**/le/picture?*")
        pg.evaluate("""() => new Promise(done => { const el = document.querySelector('#explore-slider-0 input[type=range]');
          el.value = 0.5; el.dispatchEvent(new Event('input', {bubbles: true}));
          const shown = () => document.querySelector('#explore-image img').src.startsWith('blob:') ? done() : setTimeout(shown, 20);
          shown(); })""")                                   # a picture of 0.5, fetched by the page, is shown
        held.clear()
        pg.route("**/le/picture?*", lambda route: held.append(route))
        pg.evaluate("""() => { const el = document.querySelector('#explore-slider-0 input[type=range]');
          el.value = -1; el.dispatchEvent(new Event('input', {bubbles: true}));
          el.dispatchEvent(new PointerEvent('pointerup', {bubbles: true})); }""")
        for _ in range(100):                                # answer every picture the page asks for, late
            while held:
                held.pop(0).continue_()
            pg.wait_for_timeout(50)
        same = pg.evaluate("""async (drawn) => { const src = document.querySelector('#explore-image img').src;
          if (src === drawn) return true;
          const bytes = new Uint8Array(await (await fetch(src)).arrayBuffer());
          return btoa(String.fromCharCode(...bytes)) === drawn.split(',')[1]; }""", drawn)
        assert same, "the picture of a value passed through stayed after the release"
    finally:
        pg.close()
