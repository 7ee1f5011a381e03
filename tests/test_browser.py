"""Real-browser tests in headless Chromium (Playwright), as a presenter uses the app: drag a slider, click
map dots, interpolate, switch models, reload during a training run, share a link, walk the tour.

They run against the session's shared app in the session's one Chromium (tests/conftest.py), and
wait on conditions, never for a fixed time. They skip only when Chromium is missing and this is not
CI; .ci/run installs Chromium and sets CI=true, so there they are mandatory.
"""
from __future__ import annotations

from contextlib import contextmanager

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app(browser, shared_app):
    shared_app.ws.wait_for_map("tiny_vae2", 120)
    return browser, shared_app.url, shared_app.ws


def open_page(app, width=1400, height=1000, query=""):
    browser, url, _ = app
    pg = browser.new_page(viewport={"width": width, "height": height})
    pg.errors = []
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    pg.goto(url + query)
    pg.wait_for_selector("#explore-image img", timeout=60_000)
    return pg


@contextmanager
def projector_page(browser, url: str, model: str):
    """A page at a projector's 1280 x 720 showing `model`, settled; yields (page, the page's script errors) and
    closes it afterwards."""
    pg = browser.new_page(viewport={"width": 1280, "height": 720})
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        pg.goto(url + f"?recipe={model}")
        pg.wait_for_selector("#explore-image img", timeout=90_000)
        wait_settled(pg)
        yield pg, errors
    finally:
        pg.close()


@pytest.fixture(scope="module")
def page(app):
    pg = open_page(app)
    yield pg
    pg.close()


def wait_settled(pg, quiet_ms: int = 600, timeout: int = 30_000) -> None:
    """Wait until the Explore picture and the address have not changed for `quiet_ms` (the last of a
    drag's events is drawn and the link follows it). A picture the page fetched itself while a slider
    moved (a blob: address) is never the settled one: the release's own picture replaces it, and
    under load that answer can come more than `quiet_ms` later."""
    pg.wait_for_function("""(quiet) => {
        const el = document.querySelector('#explore-image img'), now = Date.now();
        if (el && el.src.startsWith('blob:')) { window.__settled = null; return false; }
        const seen = (el ? el.src : '') + location.search;
        if (window.__settled !== seen) { window.__settled = seen; window.__settledSince = now; return false; }
        return now - window.__settledSince >= quiet;
    }""", arg=quiet_ms, polling=100, timeout=timeout)


def image_src(pg) -> str:
    return pg.eval_on_selector("#explore-image img", "e => e.src")


def error_toasts(pg) -> list[str]:
    return pg.eval_on_selector_all(".toast-body.error, [data-testid='toast-body'].error", "els => els.map(e => e.innerText)")


def drag(pg, selector, fractions=(0.6, 0.7, 0.8, 0.9)):
    box = pg.locator(f"{selector} input[type=range]").bounding_box()
    y = box["y"] + box["height"] / 2
    pg.mouse.move(box["x"] + box["width"] * 0.5, y)
    pg.mouse.down()
    for f in fractions:                          # a drag, not a single click: input events while moving
        pg.mouse.move(box["x"] + box["width"] * f, y, steps=3)
    pg.mouse.up()


def test_dragging_a_slider_changes_the_picture_and_the_link(page):
    before = image_src(page)
    drag(page, "#explore-slider-0")
    page.wait_for_function("b => document.querySelector('#explore-image img').src !== b", arg=before, timeout=20_000)
    page.wait_for_function("() => location.search.includes('sliders')", timeout=20_000)   # the address follows


def test_a_focused_slider_moves_with_the_arrow_keys(page):
    before = image_src(page)
    page.locator("#explore-slider-1 input[type=range]").focus()
    for _ in range(20):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("b => document.querySelector('#explore-image img').src !== b", arg=before, timeout=20_000)


def test_at_1280x720_the_picture_and_the_amount_slider_are_on_screen_together(app):
    pg = open_page(app, 1280, 720)
    try:
        for sel in ("#explore-image img", "#explore-amount input[type=range]", "#explore-direction", "#explore-slider-0"):
            box = pg.locator(sel).first.bounding_box()
            assert box and box["y"] >= 0 and box["y"] + box["height"] <= 720, sel
    finally:
        pg.close()


def test_a_shared_link_restores_the_same_picture(app):
    pg = open_page(app)
    try:
        drag(pg, "#explore-slider-0", (0.7, 0.8))
        pg.wait_for_function("() => location.search.includes('sliders')", timeout=20_000)
        wait_settled(pg)
        link, picture = pg.url, image_src(pg)
    finally:
        pg.close()
    browser, _, _ = app
    context = browser.new_context(viewport={"width": 1400, "height": 1000})   # another browser profile
    try:
        other = context.new_page()
        other.goto(link)
        other.wait_for_function("p => { const i = document.querySelector('#explore-image img'); return i && i.src === p; }",
                                arg=picture, timeout=30_000)
    finally:
        context.close()


def map_dot(pg, rank: int):
    """Screen position and index of the rank-th right-most dot of the first class (nothing on top of them)."""
    return pg.evaluate("""(rank) => {
        const div = document.querySelector('#map-plot .le-map');
        const tr = div._fullData[0], fl = div._fullLayout, r = div.getBoundingClientRect();
        const order = [...tr.x.keys()].sort((a, b) => tr.x[b] - tr.x[a]);
        const i = order[rank * 7];
        return [r.left + fl.xaxis._offset + fl.xaxis.l2p(tr.x[i]), r.top + fl.yaxis._offset + fl.yaxis.l2p(tr.y[i]),
                tr.customdata[i]];
    }""", rank)


def open_map(pg):
    pg.get_by_role("tab", name="Map").click()
    pg.wait_for_function("() => { const d = document.querySelector('#map-plot .le-map');"
                         " return d && d._fullData && d._fullData.length > 0; }", timeout=30_000)


def selection_text(pg) -> str:
    return pg.evaluate("() => (document.querySelector('#map-selected-text textarea, #map-selected-text input') || {}).value || ''")


def click_dot(pg, rank: int) -> int:
    """Click a dot; returns the index the app selected (the dot under the mouse may be a neighbour)."""
    before = selection_text(pg)
    x, y, _ = map_dot(pg, rank)
    pg.mouse.move(x - 4, y)
    pg.mouse.move(x, y, steps=3)
    pg.mouse.click(x, y)
    pg.wait_for_function("b => { const e = document.querySelector('#map-selected-text textarea, #map-selected-text input');"
                         " return e && e.value.startsWith('Selected dot #') && e.value !== b; }", arg=before, timeout=20_000)
    return int(selection_text(pg).split("#")[1])


def test_clicking_a_map_dot_selects_and_highlights_it(page):
    open_map(page)
    hover_shown = ("() => document.querySelector('#map-plot .le-hover').style.display === 'block'"
                   " && document.querySelector('#map-plot .le-hover').src.startsWith('data:image/png')")
    for attempt in range(5):            # the map may be redrawn under the mouse once: hover the dot where it is now
        x, y, _ = map_dot(page, 0)
        page.mouse.move(x - 4, y)
        page.mouse.move(x, y, steps=3)
        try:
            page.wait_for_function(hover_shown, timeout=8_000)            # hovering shows the picture
            break
        except Exception:
            if attempt == 4:
                raise
            page.mouse.move(5, 5)
    click_dot(page, 0)
    assert "Dot #" in page.inner_text("#map-selected")
    assert page.locator("#map-selected figure.le-picture img").count() == 2    # the test picture and its decoding
    assert page.locator("#map-selected .le-neighbours img").count() == 6      # and its nearest dots
    page.wait_for_function("() => document.querySelector('#map-plot .le-map')._fullData.some(t => t.name === 'selected dot')",
                           timeout=20_000)


def test_two_map_dots_give_an_interpolation_whose_ends_differ(page):
    open_map(page)
    a = click_dot(page, 1)
    page.click("#map-as-start")
    page.wait_for_function("() => document.querySelector('#interp-run') && document.querySelector('#interp-run').offsetParent")
    open_map(page)
    b = click_dot(page, 3)
    assert a != b, (a, b)
    page.click("#map-as-end")
    page.wait_for_function("() => document.querySelector('#interp-run').offsetParent")
    page.click("#interp-run")
    page.wait_for_function(f"() => document.querySelector('#interp-sentence').innerText.includes('map dot #{b}')",
                           timeout=30_000)
    sentence = page.inner_text("#interp-sentence")
    assert f"map dot #{a}" in sentence, (a, b, sentence)
    srcs = page.eval_on_selector_all("#interp-linear img", "els => els.map(e => e.src)")
    assert len(srcs) == 10 and srcs[0] != srcs[-1], (a, b, len(srcs), sentence)     # says which dots, if it ever fails
    assert page.locator("#interp-gif img").count() == 1


def test_switching_models_after_an_interpolation_raises_no_error(page):
    page.get_by_role("tab", name="Interpolate").click()
    page.click("#interp-run")
    page.wait_for_function("() => document.querySelectorAll('#interp-spherical img').length === 10", timeout=30_000)
    page.click("#model-picker input")
    page.get_by_role("option", name="tiny vae8").click()
    page.wait_for_function("() => document.querySelectorAll('#interp-spherical img').length === 0", timeout=30_000)
    page.get_by_role("tab", name="Map").click()
    page.wait_for_function("() => /Drawing the map|Each dot|For a VAE|For a GAN|two latent/.test("
                           "document.querySelector('#map-status').innerText)", timeout=30_000)   # the map tab answered
    assert error_toasts(page) == []
    page.get_by_role("tab", name="Explore").click()
    page.wait_for_function("() => document.querySelector('#explore-slider-7') && "
                           "document.querySelector('#explore-slider-7').offsetParent", timeout=20_000)   # 8 sliders now


def test_controls_have_tooltips(page):
    page.get_by_role("tab", name="Explore").click()
    assert "random starting point" in page.get_attribute("#explore-seed", "title")
    assert page.get_attribute("#explore-surprise", "title") == "Pick a random seed."


def test_a_reload_during_a_run_keeps_control_then_an_image_model_is_saved(app):
    pg = open_page(app)
    try:
        pg.get_by_role("tab", name="Train").click()
        pg.click("#train-toy-start")
        pg.wait_for_function("() => { const d = document.querySelector('#train-toy-plot .le-live');"
                             " return d && d._fullData && d._fullData.length >= 4; }", timeout=30_000)
        fakes = "() => JSON.stringify(document.querySelector('#train-toy-plot .le-live')._fullData.map(t => t.x))"
        first = pg.evaluate(fakes)
        pg.wait_for_function(f"f => ({fakes})() !== f", arg=first, timeout=20_000)   # the game moves on screen
        pg.reload()                                   # the address remembers the Train tab: the picture loads hidden
        pg.wait_for_selector("#explore-image img", state="attached", timeout=60_000)
        pg.get_by_role("tab", name="Train").click()
        pg.wait_for_function("() => document.querySelector('#train-toy-readout').innerText.includes('(yours)')",
                             timeout=20_000)
        pg.locator("body").click(position={"x": 5, "y": 5})
        pg.keyboard.press(" ")                                           # space pauses
        pg.wait_for_function("() => document.querySelector('#train-toy-readout').innerText.includes('paused')", timeout=20_000)
        pg.click("#train-toy-stop")
        pg.wait_for_function("() => document.querySelector('#train-toy-readout').innerText.includes('stopped')", timeout=20_000)
        # image mode: a small DCGAN on digits, paused, reloaded, saved, then listed in the model picker after a reload
        pg.get_by_role("tab", name="Images").click()
        pg.click("#train-img-start")
        pg.wait_for_selector("#train-grid img", timeout=60_000)
        pg.click("#train-img-pause")
        pg.reload()                                   # the address remembers the Train tab: the picture loads hidden
        pg.wait_for_selector("#explore-image img", state="attached", timeout=60_000)
        pg.get_by_role("tab", name="Train").click()
        pg.get_by_role("tab", name="Images").click()
        pg.fill("#train-save-title textarea, #train-save-title input", "Browser digits GAN")
        pg.click("#train-save")
        pg.wait_for_function("() => document.querySelector('#train-save-msg').innerText.includes('Saved.')", timeout=30_000)
        pg.reload()                                   # the address remembers the Train tab: the picture loads hidden
        pg.wait_for_selector("#explore-image img", state="attached", timeout=60_000)
        pg.click("#model-picker input")
        pg.wait_for_selector("text=Browser digits GAN", timeout=10_000)
        # the shared app as found: the run stopped (a paused run left here was "another visitor's" to the
        # next test in this process that trains, whose Stop then stopped nothing)
        pg.keyboard.press("Escape")
        pg.get_by_role("tab", name="Train").click()
        pg.get_by_role("tab", name="Images").click()
        pg.click("#train-img-stop")
        pg.wait_for_function("() => /stopped/i.test(document.querySelector('#train-img-readout').innerText)",
                             timeout=30_000)
    finally:
        pg.close()
