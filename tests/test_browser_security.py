"""No script injection: markup planted in every string a checkpoint carries (title, description,
command, dataset, class names, training and evaluation keys and values, …) and in an uploaded file's
name is shown as literal text in headless Chromium, and none of it runs.

The hostile model is `evil_gan` in the session's shared app (tests/apphelpers.py:plant_hostile_gan).
Same rule as test_browser.py: skipped only when Chromium is missing and this is not CI.
"""
from __future__ import annotations

import pytest

from tests.apphelpers import IMG, LINK, SCRIPT, SVG, TINY

pytestmark = pytest.mark.slow
TINY_GAN = TINY["tiny_gan"][1]


@pytest.fixture(scope="module")
def page(browser, shared_app, tmp_path_factory):
    pg = browser.new_page(viewport={"width": 1400, "height": 1200})
    pg.goto(shared_app.url + "?recipe=evil_gan")          # a link that opens the hostile model
    pg.wait_for_selector("#explore-image img", timeout=60_000)
    pg.wait_for_function("() => document.querySelector('#model-picker input').value.includes('onerror')", timeout=30_000)
    pg.tmp = tmp_path_factory.mktemp("upload")
    yield pg
    pg.close()


def not_pwned(page):
    assert page.evaluate("() => window.__pwned") is None


def test_model_card_and_picker_show_the_markup_as_text(page):
    page.get_by_text("Model card").click()
    page.wait_for_selector("#model-card h1")
    card = page.inner_text("#model-card")
    for text in (IMG, SVG, LINK, SCRIPT, "fd | " + SVG):
        assert text in card, text
    assert page.locator("#model-card [onerror], #model-card [onload], #model-card script, #model-card a[href^=javascript]").count() == 0
    assert page.input_value("#model-picker input") == IMG        # the picker's label: literal text
    page.click("#model-picker input")
    page.wait_for_selector(f"text={IMG}", timeout=10_000)
    page.keyboard.press("Escape")
    not_pwned(page)


def test_map_legend_hover_and_selection_show_class_names_as_text(page):
    page.get_by_role("tab", name="Map").click()
    page.wait_for_function("() => { const d = document.querySelector('#map-plot .le-map');"
                           " return d && d._fullData && d._fullData.length > 0; }", timeout=30_000)
    legend = page.text_content("#map-plot .legend")                # SVG text: plotly's labels
    page.locator("#map-plot .le-map").scroll_into_view_if_needed()   # below the open model card
    assert IMG in legend and SVG in legend
    x, y = page.evaluate("""() => {
        const div = document.querySelector('#map-plot .le-map');
        const tr = div._fullData[0], fl = div._fullLayout, r = div.getBoundingClientRect();
        let best = 0;
        for (let i = 1; i < tr.x.length; i++) if (tr.x[i] > tr.x[best]) best = i;
        return [r.left + fl.xaxis._offset + fl.xaxis.l2p(tr.x[best]), r.top + fl.yaxis._offset + fl.yaxis.l2p(tr.y[best])];
    }""")
    page.mouse.move(x - 4, y)
    page.mouse.move(x, y, steps=3)
    page.wait_for_function("() => document.querySelector('#map-plot .le-hover').style.display === 'block'", timeout=20_000)
    page.wait_for_selector("#map-plot .hoverlayer .hovertext", state="attached", timeout=10_000)
    assert IMG in page.text_content("#map-plot .hoverlayer")
    page.mouse.click(x, y)
    page.wait_for_function("() => document.querySelector('#map-selected').innerText.includes('Dot #')", timeout=20_000)
    assert IMG in page.inner_text("#map-selected")
    assert page.locator("#map-selected [onerror], #map-selected [onload]").count() == 0
    not_pwned(page)


def test_refused_upload_with_a_hostile_name_and_config(page):
    from explorer.core.checkpoints import save_checkpoint
    from explorer.core.models import build
    from tests.apphelpers import FASHION
    tag = __import__("uuid").uuid4().hex[:8]          # this run's file, told apart from any other
    name = f'<img src=x onerror="window.__pwned=5"> {tag}.safetensors'
    path = save_checkpoint(page.tmp / name, "dcgan", build("dcgan", TINY_GAN),
                           {"title": IMG, "config": {**TINY_GAN, "upsample": SVG}, "dataset": FASHION})
    if not page.locator("#model-upload input[type=file]").count():
        page.click("#model-upload-panel")                 # the upload box sits in the header's "Load a model file…"
    page.set_input_files("#model-upload input[type=file]", str(path))
    page.wait_for_function("() => document.querySelector('#model-card').innerText.includes('Upload refused')",
                           timeout=30_000)
    card = page.inner_text("#model-card")
    # the user's file name as Gradio keeps it (no < >), shortened in the middle to 60 characters
    shown = ("img src=x onerror=%22window.__pwned=5%22", f"{tag[-5:]}.safetensors has an invalid dcgan configuration")
    assert all(part in card for part in shown) and SVG in card and "upload-" not in card
    toast = page.locator("[data-testid=toast-body]").first
    toast.wait_for(timeout=10_000)
    assert all(part in toast.inner_text() for part in shown) and SVG in toast.inner_text()
    assert page.input_value("#model-picker input") == IMG      # still the model it was
    from gradio.utils import get_upload_folder
    assert not list(__import__("pathlib").Path(get_upload_folder()).glob(f"*/*{tag}*"))   # Gradio's copy deleted
    not_pwned(page)
