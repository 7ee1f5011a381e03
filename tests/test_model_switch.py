"""Issue 32 #7: a model just saved from the Train tab, picked in the same page, showed the previous model's
picture, strip and slider names for seconds while its directions were found. Now the switch shows the new
model's own picture at once (its strip and sliders say they are coming), and a save starts finding them."""
from __future__ import annotations

import threading

import pytest

pytest.importorskip("gradio")

from explorer.ui.app import App  # noqa: E402
from explorer.ui.explore_tab import ExploreTab  # noqa: E402
from explorer.ui.interpolate_tab import InterpolateTab  # noqa: E402
from explorer.ui.map_tab import MapTab  # noqa: E402
from tests.apphelpers import make_checkpoints, small_workspace  # noqa: E402


@pytest.fixture
def ws(tmp_path):
    w = small_workspace(make_checkpoints(tmp_path / "models"))
    yield w
    w.close()


def test_a_model_without_its_directions_shows_its_own_picture_before_they_are_found(ws, monkeypatch):
    store = ws._directions
    compute, release, started = store._compute, threading.Event(), threading.Event()

    def slow(m):                     # finding directions takes as long as the test says
        started.set()
        assert release.wait(30)
        return compute(m)
    monkeypatch.setattr(store, "_compute", slow)
    explore = ExploreTab(ws)
    app = App(ws, "tiny_vae2", explore, InterpolateTab(ws), MapTab(ws))
    steps = app.switch_model("tiny_gan", 3, 1.0)
    first = next(steps)                                  # before any direction is found
    assert not started.is_set() and not ws.directions_ready("tiny_gan")
    assert first["image"].startswith("<figure") and '"seed": 3' in first["recipe"]
    assert all(s["visible"] is False for s in first["sliders"])          # no other model's slider names
    assert "Finding this model" in first["strip"] and first["map.plot"] == "{}"
    found = []
    worker = threading.Thread(target=lambda: found.append(next(steps)))
    worker.start()
    assert started.wait(30)
    release.set()
    worker.join(60)
    full = found[0]
    assert ws.directions_ready("tiny_gan") and full["recipe"] == first["recipe"]
    assert any(s.get("visible") for s in full["sliders"]) and isinstance(full["strip"], dict)
    assert list(app.switch_model("tiny_gan", 3, 1.0))[0]["recipe"] == first["recipe"]   # known now: one step


def test_saving_starts_finding_the_saved_models_directions(ws):
    assert not ws.directions_ready("tiny_vae8")
    ws.prepare("tiny_vae8").join(60)
    assert ws.directions_ready("tiny_vae8")
