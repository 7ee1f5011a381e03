"""A presenter in headless Chromium: presentation mode (P, the keys, Esc, a reload keeps it), a click on
the ±3σ strip moves there, and Undo (the button and Ctrl+Z) brings the last picture back.

Against the session's shared app and Chromium (tests/conftest.py); waits on conditions, never for a
fixed time."""
from __future__ import annotations

import pytest

from tests.test_browser import error_toasts, image_src, open_page, wait_settled

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app(browser, shared_app):
    return browser, shared_app.url, shared_app.ws


def presenting(pg) -> bool:
    return pg.evaluate("() => document.body.classList.contains('le-present')")


def press_on_page(pg, key: str) -> None:
    pg.locator("body").click(position={"x": 3, "y": 700})      # the page has the focus, not a control
    pg.keyboard.press(key)


def seed(pg) -> float:
    return float(pg.input_value("#explore-seed input"))


def test_presentation_mode_makes_the_picture_large_and_the_keys_work(app):
    pg = open_page(app, 1280, 720, query="?recipe=fashion_dcgan")
    try:
        pg.wait_for_function("() => location.search.includes('fashion_dcgan')", timeout=30_000)
        wait_settled(pg)
        small = pg.locator("#explore-image img").bounding_box()
        press_on_page(pg, "p")
        pg.wait_for_function("() => document.body.classList.contains('le-present')", timeout=5_000)
        pg.wait_for_function("() => document.querySelector('#explore-image img').getBoundingClientRect().height > 450",
                             timeout=5_000)
        big = pg.locator("#explore-image img").bounding_box()
        assert big["height"] > 1.5 * small["height"]
        assert big["y"] >= 0 and big["y"] + big["height"] <= 720          # the whole picture on the screen
        # a 28-px picture keeps its pixels, as outside the mode (issue 32 #4: it was smoothed); Pixels makes every
        # picture crisp (a 64-px one is smoothed: the shared app has none, test_colour_tabs.py checks the classes)
        assert pg.eval_on_selector("#explore-image img", "e => getComputedStyle(e).imageRendering") == "pixelated"
        assert not pg.locator("#explore-share").is_visible()               # the few controls that matter
        assert pg.locator("#explore-seed").is_visible() and pg.locator("#le-present-exit").is_visible()
        pg.click("#le-present-pixels")                                     # the model's own pixels, on request
        assert pg.get_attribute("#le-present-pixels", "aria-pressed") == "true"
        assert pg.eval_on_selector("#explore-image img", "e => getComputedStyle(e).imageRendering") == "pixelated"

        before, s0 = image_src(pg), seed(pg)                               # → the next seed, and its picture
        press_on_page(pg, "ArrowRight")
        pg.wait_for_function("s => Number(document.querySelector('#explore-seed input').value) === s", arg=s0 + 1,
                             timeout=5_000)
        pg.wait_for_function("b => document.querySelector('#explore-image img').src !== b", arg=before, timeout=30_000)
        press_on_page(pg, "ArrowLeft")
        pg.wait_for_function("s => Number(document.querySelector('#explore-seed input').value) === s", arg=s0,
                             timeout=5_000)

        pg.locator("#explore-seed input").click()                           # typing: no key is a shortcut
        pg.keyboard.press("End")
        pg.keyboard.type("1")
        pg.keyboard.press("p")
        pg.keyboard.press("3")
        assert presenting(pg) and pg.locator("#explore-image").is_visible()

        press_on_page(pg, "3")                                             # 1–9: the tabs
        # (30 s: on a loaded 2-core machine the page's thread, drawing the map, answered after 10 s once)
        pg.wait_for_selector("#map-to-explore", state="visible", timeout=30_000)
        press_on_page(pg, "1")
        pg.wait_for_selector("#explore-image", state="visible", timeout=30_000)

        pg.reload()                                                        # a reload keeps the mode
        pg.wait_for_selector("#explore-image img", timeout=60_000)
        assert presenting(pg)
        press_on_page(pg, "Escape")                                        # and Esc leaves it
        pg.wait_for_function("() => !document.body.classList.contains('le-present')", timeout=5_000)
        assert pg.locator("#explore-share").is_visible()
        pg.evaluate("() => { localStorage.removeItem('latent-explorer-pixels'); }")
        assert error_toasts(pg) == []
    finally:
        pg.evaluate("() => { localStorage.removeItem('latent-explorer-present'); localStorage.removeItem('latent-explorer-pixels'); }")
        pg.close()


def slider(pg, i: int) -> float:
    return float(pg.input_value(f"#explore-slider-{i} input[type=number]"))


def test_a_click_on_the_strip_goes_there_and_undo_comes_back(app):
    pg = open_page(app, query="?recipe=fashion_dcgan")
    try:
        pg.wait_for_function("() => location.search.includes('fashion_dcgan')", timeout=30_000)
        wait_settled(pg)
        start_picture, start_value = image_src(pg), slider(pg, 0)
        target = pg.locator("#explore-strip figure.le-cell:not(.le-current)").last      # the +3σ end
        pg.wait_for_function("() => document.querySelectorAll('#explore-strip figure.le-cell').length >= 7", timeout=30_000)
        sigma = float(target.get_attribute("data-sigma"))
        assert abs(sigma - start_value) > 0.25
        target.click()
        pg.wait_for_function("s => Math.abs(Number(document.querySelector('#explore-slider-0 input[type=number]').value) - s) < 1e-6",
                             arg=sigma, timeout=30_000)
        pg.wait_for_function("b => document.querySelector('#explore-image img').src !== b", arg=start_picture, timeout=30_000)
        # the strip now frames the new place as "you"
        pg.wait_for_function("s => { const c = document.querySelector('#explore-strip figure.le-current');"
                             " return c && Math.abs(Number(c.dataset.sigma) - s) < 0.01; }", arg=sigma, timeout=30_000)
        wait_settled(pg)

        pg.click("#explore-undo")                                          # the button: back where we were
        pg.wait_for_function("p => document.querySelector('#explore-image img').src === p", arg=start_picture, timeout=30_000)
        assert abs(slider(pg, 0) - start_value) < 1e-3
        wait_settled(pg)

        seed_before = seed(pg)                                             # Ctrl+Z, outside a text box
        pg.click("#explore-surprise")
        pg.wait_for_function("s => Number(document.querySelector('#explore-seed input').value) !== s", arg=seed_before,
                             timeout=30_000)
        pg.wait_for_function("p => document.querySelector('#explore-image img').src !== p", arg=start_picture, timeout=30_000)
        wait_settled(pg)
        press_on_page(pg, "Control+z")
        pg.wait_for_function("p => document.querySelector('#explore-image img').src === p", arg=start_picture, timeout=30_000)
        assert seed(pg) == seed_before
        assert error_toasts(pg) == []
    finally:
        pg.close()


def slider_label(pg, i: int) -> str:
    return pg.eval_on_selector(f"#explore-slider-{i}", "e => e.innerText.split('\\n')[0]")


def test_a_slider_renamed_by_the_presenter_keeps_its_name_in_the_link_and_markup_stays_text(app):
    import json
    import urllib.parse
    hostile = '<img src=x onerror="window.__pwned=9">'
    recipe = json.dumps({"model": "evil_gan", "names": [hostile]})
    pg = open_page(app, query="?recipe=" + urllib.parse.quote(recipe))
    try:
        pg.wait_for_function("h => { const e = document.querySelector('#explore-slider-0');"
                             " return e && e.innerText.includes(h); }", arg=hostile, timeout=30_000)
        # the hostile model's own class names may name the other sliders: shown as text, never run
        assert pg.evaluate("() => window.__pwned") is None
        assert pg.locator("#explore-slider-0 img").count() == 0
        pg.click("#explore-names-panel")                                  # the presenter names slider 2
        pg.locator("#explore-slider-names textarea").click()
        pg.keyboard.press("Enter")                                         # line 1 empty: Direction 1 keeps its name
        pg.keyboard.type("Sleeve length")
        pg.wait_for_function("() => document.querySelector('#explore-slider-1').innerText.startsWith('Sleeve length')",
                             timeout=30_000)
        pg.wait_for_function("() => (new URLSearchParams(location.search).get('recipe') || '').includes('Sleeve length')", timeout=30_000)
        link = pg.url
    finally:
        pg.close()
    browser, _, _ = app
    other = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        other.goto(link)                                                  # the link keeps the name
        other.wait_for_function("() => { const e = document.querySelector('#explore-slider-1');"
                                " return e && e.innerText.startsWith('Sleeve length'); }", timeout=30_000)
        assert other.evaluate("() => window.__pwned") is None
    finally:
        other.close()


def test_the_2d_game_layers_switch_off_and_on(app):
    pg = open_page(app)
    try:
        press_on_page(pg, "4")                                            # the Train tab, by its key
        pg.wait_for_selector("#train-toy-start", state="visible", timeout=90_000)
        pg.click("#train-toy-start")
        traces = "() => { const d = document.querySelector('#train-toy-plot .le-live'); return d && d.data ? d.data.map(t => t.name || t.type) : []; }"
        pg.wait_for_function(f"() => ({traces})().includes('heatmap') && ({traces})().includes('noise mesh')", timeout=60_000)
        pg.get_by_label("Inspector's verdict (background)").uncheck()                  # while it runs
        pg.wait_for_function(f"() => !({traces})().includes('heatmap') && ({traces})().includes('noise mesh')",
                             timeout=90_000)
        pg.click("#train-pause")             # and while paused: the switches redraw the paused game's view
        pg.wait_for_function("() => /paused/i.test(document.querySelector('#train-toy-readout').innerText)",
                             timeout=30_000)
        pg.get_by_label("Noise mesh").uncheck()
        pg.wait_for_function(f"() => {{ const t = ({traces})(); return !t.includes('heatmap') && !t.includes('noise mesh')"
                             " && t.includes('fakes G(z)'); }", timeout=90_000)
        pg.get_by_label("Noise mesh").check()
        pg.wait_for_function(f"() => ({traces})().includes('noise mesh')", timeout=90_000)
        assert "heatmap" not in pg.evaluate(traces)
    finally:
        stop_the_game(pg)
        pg.close()


def stop_the_game(pg) -> None:
    """Leave the shared app as found: the run stopped. A click that lands while a switch's redraw
    replaces the button is lost (seen twice in the full suite under load, never alone): said, then
    clicked once more."""
    stopped = "() => /stopped|Nothing/i.test(document.querySelector('#train-toy-readout').innerText)"
    for attempt in range(2):
        if not pg.locator("#train-toy-stop").is_visible():
            return
        pg.click("#train-toy-stop")
        try:
            pg.wait_for_function(stopped, timeout=30_000 if attempt == 0 else 90_000)
            return
        except Exception:  # noqa: BLE001 - the second attempt raises
            if attempt:
                raise
            print("the Stop click was not answered in 30 s; the readout says:",
                  pg.inner_text("#train-toy-readout")[:300])


def test_map_search_selects_the_dot_and_lists_its_neighbours(app):
    app[2].wait_for_map("tiny_vae2", 120)
    pg = open_page(app, query="?recipe=tiny_vae2")
    try:
        pg.get_by_role("tab", name="Map").click()
        pg.wait_for_selector("#map-find textarea, #map-find input", state="visible", timeout=30_000)
        box = pg.locator("#map-find textarea, #map-find input").first
        box.click()
        pg.keyboard.type("12")
        pg.keyboard.press("p")                  # typing: no shortcut fires (the box gets the letter)
        pg.keyboard.press("Backspace")
        assert not presenting(pg)
        pg.click("#map-find-go")
        pg.wait_for_function("() => document.querySelector('#map-selected').innerText.includes('Dot #12')", timeout=30_000)
        pg.wait_for_function("() => document.querySelectorAll('#map-selected .le-neighbours img').length === 6",
                             timeout=30_000)
        assert error_toasts(pg) == []
    finally:
        pg.close()
