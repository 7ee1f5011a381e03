"""A presenter's helpers, below the browser: undo's history, the clickable ±3σ strip, and the
presentation mode's script (keys never fire while typing). Browser tests: test_browser_presenter.py."""
from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from explorer.core.validation import UserError
from explorer.explore.recipe import Recipe, recipe_values
from explorer.ui import assets, page, undo
from explorer.ui.strip_view import slider_move, strip_value


def recipe(seed, sliders=()):
    return Recipe("m", seed, sliders=tuple(sliders)).to_text()


def check(text):
    """A stand-in for Workspace.recipe: model "m" only, the values as typed."""
    d = recipe_values(text)
    if d["model"] != "m":
        raise UserError(f"There is no model called {d['model']}.")
    return Recipe("m", int(d.get("seed", 0)), sliders=tuple(float(v) for v in d.get("sliders", ())),
                  base=tuple(float(v) for v in d.get("base", ())))


def test_undo_steps_back_one_change_at_a_time():
    h = undo.remember([], recipe(0), check, now=0)
    h = undo.remember(h, recipe(1), check, now=10)
    h = undo.remember(h, recipe(2), check, now=20)
    back, h = undo.step_back(h)
    assert json.loads(back)["seed"] == 1
    back, h = undo.step_back(h)
    assert json.loads(back)["seed"] == 0
    with pytest.raises(UserError, match="Nothing to undo"):
        undo.step_back(h)


def test_a_drag_is_one_step_and_the_same_recipe_is_not_a_step():
    h = undo.remember([], recipe(0), check, now=0)
    h = undo.remember(h, recipe(3), check, now=10)
    for i, t in enumerate((20, 20.2, 20.4, 20.6)):       # one drag of slider 1: four pictures in quick succession
        h = undo.remember(h, recipe(3, [0.1 * (i + 1)]), check, now=t)
    h = undo.remember(h, recipe(3, [0.4]), check, now=30)       # the same picture again (a redraw)
    assert len(h) == 3
    back, h = undo.step_back(h)
    assert json.loads(back) == json.loads(recipe(3))     # where the drag started, not its last pixel but one


def test_the_step_undone_to_is_not_replaced_by_the_next_change():
    h = [["a", 0], ["b", 10], ["c", 20]]
    back, h = undo.step_back(h)
    assert back == "b"
    h = undo.remember(h, recipe(9), check, now=10.05)        # a change right after the undo
    assert [e[0] for e in h] == ["a", "b", recipe(9)]


def test_the_history_is_bounded():
    h = []
    for i in range(undo.LIMIT + 20):
        h = undo.remember(h, recipe(i), check, now=10.0 * i)
    assert len(h) == undo.LIMIT and json.loads(h[-1][0])["seed"] == undo.LIMIT + 19


def test_undo_keeps_checked_recipes_in_their_short_form():
    h = undo.remember([], recipe(0), check, now=0)
    padded = json.dumps({"model": "m", "seed": 4, "padding": "x" * 20_000}, indent=4)      # unknown values dropped
    h = undo.remember(h, padded, check, now=10)
    assert h[-1][0] == recipe(4)
    for bad in ("{not json", '{"model": "elsewhere"}', ["m"], {"model": "m"}):
        with pytest.raises(UserError):
            undo.remember(h, bad, check, now=20)


def test_an_over_size_recipe_is_refused_before_it_is_read():
    h = undo.remember([], recipe(0), check, now=0)
    huge = json.dumps({"model": "m", "seed": 1, "names": ["x" * 900_000]})          # the attack: ~0.9 MB a step

    def never(text):
        raise AssertionError("an over-size text must not be parsed")
    with pytest.raises(UserError, match=r"The recipe is 879 kB; Undo keeps recipes of at most 32 kB"):
        undo.remember(h, huge, never, now=10)
    with pytest.raises(UserError, match="at most 32 kB"):           # multi-byte characters count as bytes
        undo.remember(h, "é" * (undo.MAX_RECIPE_BYTES // 2 + 1), never, now=10)


def test_a_visitors_history_holds_a_bounded_number_of_bytes():
    h = []
    for i in range(undo.LIMIT):          # the largest recipes there are: a 1024-number base latent each
        h = undo.remember(h, json.dumps({"model": "m", "seed": i, "base": [-9999.12345] * 1024}), check, now=10.0 * i)
    assert undo.history_bytes(h) <= undo.HISTORY_BYTES and len(h) >= undo.HISTORY_BYTES // 16_000
    assert json.loads(h[-1][0])["seed"] == undo.LIMIT - 1       # the oldest went first


def test_the_strip_knows_where_each_picture_is():
    imgs = np.zeros((3, 4, 4, 1), np.uint8)
    v = strip_value(imgs, [-3.0, 0.37, 3.0], 1)
    assert [c["sigma"] for c in v["cells"]] == [-3.0, 0.37, 3.0] and v["current"] == 1
    assert v["cells"][1]["caption"] == "+0.4σ · you" and v["cells"][2]["caption"] == "+3σ"


def test_a_strip_click_moves_only_its_slider_and_refuses_nonsense():
    assert slider_move(2, 2.0, 5, 4.0) == [None, None, 2.0, None, None]
    for bad in (None, "x", float("nan"), 9.0, float("inf")):
        with pytest.raises(UserError):
            slider_move(0, bad, 5, 4.0)
    with pytest.raises(UserError):
        slider_move(7, 1.0, 5, 4.0)


def test_the_explore_handler_sets_the_strips_slider(tmp_path):
    from explorer.ui.explore_tab import K_MAX, ExploreTab
    tab = ExploreTab(ws=None)
    out = tab.strip_click(SimpleNamespace(sigma=-2.0), "Direction 3")
    assert out["sliders"][2] == -2.0 and len(out["sliders"]) == K_MAX
    assert all(not isinstance(v, float) for i, v in enumerate(out["sliders"]) if i != 2)   # the others unchanged


def test_the_presentation_script_skips_typing_and_has_a_way_out():
    js = assets.js("presentation.js")
    assert "typing(e.target)" in js and "'input', 'textarea', 'select'" in js
    assert "Escape" in js and "le-present-exit" in js
    assert "body.le-present" in assets.css() and js in page.page_js()


def toy_view():
    rng = np.random.default_rng(0)
    ticks = np.linspace(-3, 3, 5)
    return {"ticks": ticks, "heat": rng.random((5, 5)), "wgan": False, "mesh": rng.normal(size=(4, 4, 2)),
            "real": rng.normal(size=(20, 2)), "fake": rng.normal(size=(20, 2)), "arrows": rng.normal(size=(20, 2))}


def test_the_2d_game_layers_switch_on_and_off():
    from explorer.ui.train_figures import LAYERS, toy_figure

    def drawn(layers):
        fig = toy_figure(toy_view(), layers)
        return {t.get("name") or t["type"] for t in fig["data"]}, fig
    everything, _ = drawn(None)
    assert {"heatmap", "noise mesh", "push on fakes", "real data", "fakes G(z)"} <= everything
    assert drawn(tuple(LAYERS))[0] == everything
    bare, _ = drawn(())
    assert bare == {"real data", "fakes G(z)"}                         # the data never switches off
    assert drawn(["mesh"])[0] == {"noise mesh", "real data", "fakes G(z)"}
    assert drawn(["field", "arrows"])[0] == everything - {"noise mesh"}


def test_the_train_tab_draws_the_layers_the_visitor_left_on(monkeypatch):
    from explorer.ui import train_tab
    monkeypatch.setattr(train_tab, "readout", lambda *a, **k: "")       # the cards are tested elsewhere

    class Session:
        view = toy_view()

        def status(self, token):
            return {"kind": "toy_gan", "state": "paused", "settings": {}, "history": [], "step": 3}
    out = train_tab.TrainTab(Session(), choices=list).refresh("t", ["mesh"])
    assert {t.get("name") or t["type"] for t in json.loads(out["toy_plot"])["data"]} == {"noise mesh", "real data", "fakes G(z)"}


def test_map_search_finds_dots_by_number_and_class():
    from explorer.maps.layout import LatentMap
    from explorer.maps.search import find_dots, nearest_dots
    lm = LatentMap(np.zeros((10, 2), np.float32), np.arange(20, dtype=np.float32).reshape(10, 2), np.arange(10) % 3,
                   ["T-shirt", "Trouser", "Bag"], "samples", "umap")
    assert find_dots(lm, " #3 ") == ([3], "number")
    assert find_dots(lm, "bag") == ([2, 5, 8], "Bag") and find_dots(lm, "Trou") == ([1, 4, 7], "Trouser")
    for bad, words in (("", "Type"), ("10", "does not exist"), ("Sock", "the classes are"), ("T", "could be")):
        with pytest.raises(UserError, match=words):
            find_dots(lm, bad)
    assert nearest_dots(lm, 0, 3) == [1, 2, 3] and 4 not in nearest_dots(lm, 4)


@pytest.mark.slow
def test_the_map_tab_finds_a_dot_and_shows_its_neighbours(shared_app):
    from explorer.ui.map_tab import MapTab
    ws = shared_app.ws
    assert ws.wait_for_map("tiny_vae2", 120) is not None
    tab = MapTab(ws)
    out = tab.find("tiny_vae2", "7", None)
    assert out["selection"]["index"] == 7 and "Nearest dots" in out["selected"] and out["selected"].count("<img") >= 7
    lm = ws.map("tiny_vae2", start=False)
    name = lm.class_names[int(lm.labels[0])]
    first = tab.find("tiny_vae2", name.lower(), None)["selection"]
    again = tab.find("tiny_vae2", name, first)["selection"]              # Find again: the next dot of that class
    assert first["label"] == again["label"] == name and again["index"] > first["index"]
    with pytest.raises(UserError):
        tab.find("tiny_vae2", "100000", None)
