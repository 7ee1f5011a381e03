"""Issue 19's Explore fixes, on the shipped models through the tab's own handlers (no browser):
honest temperature words (#4), a strip that says what moved the picture (#5), named directions judged
by an independent classifier (#10), Surprise me avoiding the worst seeds, and the smaller wording."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("gradio")

from explorer.core.checkpoints import CHECKPOINT_DIR  # noqa: E402
from explorer.explore.workspace import Workspace  # noqa: E402
from explorer.ui import texts  # noqa: E402
from explorer.ui.explore_tab import ExploreTab  # noqa: E402

needs_shipped = pytest.mark.skipif(not (CHECKPOINT_DIR / "fashion_dcgan.safetensors").exists(),
                                   reason="the shipped Fashion models are not here")


@pytest.fixture(scope="module")
def ws():
    w = Workspace()                     # the shipped models with their shipped caches (directions, maps)
    yield w
    w.close()


@needs_shipped
def test_the_temperature_words_say_what_its_low_end_draws(ws):
    """The shipped DCGAN draws black at temperature 0 (its latent's centre): no word may call that end typical."""
    at_zero, _ = ws.render(ws.recipe({"model": "fashion_dcgan", "seed": 0, "temperature": 0.0}))
    typical, _ = ws.render(ws.recipe({"model": "fashion_dcgan", "seed": 0, "temperature": 1.0}))
    assert at_zero.mean() < 5 < typical.mean()                      # the fact the words must match
    label, tip = texts.TEMPERATURE_LABEL, texts.TIPS["temperature"]
    assert "0 centre" in label and "1 typical" in label and "2 unusual" in label
    assert "typical, safe" not in tip and "1: a typical random picture" in tip and "black" in tip


@needs_shipped
def test_after_a_named_direction_the_strip_says_what_moved_the_picture(ws):
    tab = ExploreTab(ws)
    d = ws.directions("fashion_dcgan")
    name = next(iter(d.named()))
    r = ws.recipe({"model": "fashion_dcgan", "seed": 0, "direction": name, "amount": 1.0})
    sliders = ws.slider_values(ws.recipe({"model": "fashion_dcgan", "seed": 0}))[:10]
    r = ws.recipe({"model": "fashion_dcgan", "seed": 0, "direction": name, "amount": 1.0, "sliders": sliders})
    out = tab.view(r)
    z = np.array(out["z"], dtype=np.float32)
    here = float(d.coordinates(__import__("torch").tensor(z))[0])
    assert abs(here - sliders[0]) > 0.05                            # the named direction did move Direction 1
    assert "explore-strip-note" in out["strip"] and f"{sliders[0]:+.1f}σ" in out["strip"]
    assert f"{here:+.1f}σ along it" in out["strip"] and "Amount 1.00" in out["strip"]
    plain = tab.view(ws.recipe({"model": "fashion_dcgan", "seed": 0, "sliders": sliders}))
    assert "explore-strip-note" not in plain["strip"]                # no named direction: nothing to explain
