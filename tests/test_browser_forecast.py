"""The Train tab's image mode says, before Start, what this machine can show and how long it takes, next
to the dataset choice (and there, how to get emoji until it is prepared); its quick run starts a run that
is recognisable soonest here. Headless Chromium against the shared app, as in tests/test_browser.py."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

FORECAST = "document.querySelector('#train-img-forecast').innerText"


@pytest.fixture(scope="module")
def page(browser, shared_app):
    pg = browser.new_page(viewport={"width": 1400, "height": 1000})
    pg.goto(shared_app.url)
    pg.wait_for_selector("#explore-image img", timeout=60_000)
    yield pg
    pg.close()


def test_the_images_tab_says_what_this_machine_can_show_before_start(page, shared_app):
    page.get_by_role("tab", name="Train").click()
    page.get_by_role("tab", name="Images").click()
    page.wait_for_function(f"() => /steps\\/s/.test({FORECAST})", timeout=60_000)
    text = page.evaluate(FORECAST)
    assert text.startswith("What this machine can show:") and "DCGAN on digits makes about" in text
    assert "Its grid shows digits" in text and " here." in text           # a time from this machine's speed
    data = page.inner_text("#train-img-data")
    if "emoji" in data.split():        # prepared on this machine: offered, and nothing to explain
        assert "explorer.prepare emoji" not in data
    else:                              # not prepared: the choice says how
        assert "python -m explorer.prepare emoji" in data
    page.locator("#train-img-data label", has_text="fashion-mnist").click()     # another choice, another forecast
    page.wait_for_function(f"() => {FORECAST}.includes('DCGAN on fashion-mnist')", timeout=60_000)
    assert page.inner_text("#train-img-quick").startswith("Quick run: ")
    page.click("#train-img-quick")                                          # the quick run: its settings, started
    page.wait_for_selector("#train-grid img", timeout=60_000)
    page.wait_for_function(f"() => {FORECAST}.includes(' on digits')", timeout=60_000)
    assert page.is_checked("#train-img-data input[value='digits']")
    page.click("#train-img-stop")                                           # the shared app as found
    page.wait_for_function("() => /stopped/i.test(document.querySelector('#train-img-readout').innerText)",
                           timeout=30_000)
