"""The UI's one error edge and its name-based wiring (explorer/ui/wiring.py): a person's mistake is
shown in their words, a bug is logged with its traceback and shown as "internal error (logged)",
never as the exception's own text; handlers take and return values by name."""
from __future__ import annotations

import logging

import pytest

pytest.importorskip("gradio")
import gradio as gr  # noqa: E402

from explorer.core.validation import UserError  # noqa: E402
from explorer.ui.wiring import INTERNAL_ERROR, Parts, event, guarded  # noqa: E402


def test_a_user_error_is_shown_in_its_own_words_and_a_bug_is_logged_not_shown(caplog):
    def refuses():
        raise UserError("Seed must be between 0 and 2147483647, got -5.")

    def breaks():
        raise KeyError("/home/someone/secret/path.safetensors")

    assert "got -5" in guarded(refuses, errors_to="image")()["image"]
    with caplog.at_level(logging.ERROR):
        shown = guarded(breaks, errors_to="image", on_error={"timer": "off"})()
    assert INTERNAL_ERROR.split(" (")[0] in shown["image"] and "secret" not in shown["image"] and shown["timer"] == "off"
    assert any("breaks" in r.getMessage() and r.exc_info for r in caplog.records)     # the traceback is in the log


def test_an_error_in_a_generator_handler_ends_it_with_the_message():
    def steps():
        yield {"result": "step 1"}
        raise UserError("The canvas is empty.")

    assert [list(out.values())[0] for out in guarded(steps, errors_to="result")()][0] == "step 1"
    assert "The canvas is empty" in list(guarded(steps, errors_to="result")())[-1]["result"]


def test_a_warning_toast_when_there_is_no_panel_for_the_message(monkeypatch):
    toasts = []
    monkeypatch.setattr("explorer.ui.widgets.warn", toasts.append)
    assert guarded(lambda: (_ for _ in ()).throw(UserError("Click a dot first.")))() == {}
    assert toasts == ["Click a dot first."]


def test_event_calls_the_handler_by_name_and_answers_by_name():
    with gr.Blocks():
        p = Parts(seed=gr.Number(), sliders=[gr.Slider(), gr.Slider()], image=gr.HTML(), note=gr.HTML())
    seen = {}

    def show(seed, sliders):
        seen.update(seed=seed, sliders=sliders)
        return {"image": f"seed {seed}", "sliders": [s + 1 for s in sliders]}

    spec = event(p, show, ["seed", "sliders"], ["image", "note", "sliders"])
    assert spec["inputs"] == [p["seed"], *p["sliders"]] and spec["api_visibility"] == "private"
    out = spec["fn"](3, 0.5, -1.0)
    assert seen == {"seed": 3, "sliders": [0.5, -1.0]}
    assert out == {p["image"]: "seed 3", p["sliders"][0]: 1.5, p["sliders"][1]: 0.0}    # "note" left as it was
    nothing = event(p, lambda seed: {}, ["seed"], ["image"])["fn"](1)
    assert list(nothing) == [p["image"]] and nothing[p["image"]] == gr.skip()          # Gradio needs one value


def test_a_handler_that_wants_the_event_data_gets_it_first():
    with gr.Blocks():
        p = Parts(model=gr.Textbox(), cls=gr.Number())

    def pick(evt, model):
        return {"cls": (model, evt.index)}

    run = event(p, pick, ["model"], ["cls"])["fn"]
    assert list(__import__("inspect").signature(run).parameters)[0] == "evt"

    class Click:
        index = 4
    assert run(Click(), "tiny_cgan") == {p["cls"]: ("tiny_cgan", 4)}
