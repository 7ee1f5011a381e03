"""The guided tour: 10 short steps for an audience (11 with a colour model), each opening the right tab with
the right model.

A short panel over the header (Next / Back, or the ← → keys) that never covers the step's subject
or blocks a control: the presenter talks, the audience watches the real app underneath.
"""
from __future__ import annotations

import gradio as gr

from explorer.explore.registry import colour_model
from explorer.ui import texts
from explorer.ui.wiring import Parts, event

# step -> the shipped model that shows it best (used when it is installed; otherwise the current model stays)
STEP_MODELS = {2: "fashion_dcgan", 3: "fashion_dcgan", 4: "fashion_dcgan", 5: "fashion_dcgan", 6: "fashion_vae16",
               7: "fashion_cdcgan"}


COLOUR_STEP = 8           # where the colour step goes when a colour model is installed (before mode collapse)
# steps whose subject is in the header (the Present button): their panel sits at the bottom instead (page.py)
LOW_STEPS = {"Presenting"}


def tour_steps(listing: dict[str, dict]) -> tuple[list[tuple], dict[int, str]]:
    """(steps, step -> model): the tour for the models installed now; a colour model, when there is one
    (found by its metadata: 3 channels), gets a step of its own, otherwise the ten steps stay as they are."""
    colour = colour_model(listing)
    if colour is None:
        return list(texts.TOUR), dict(STEP_MODELS)
    after = {(s + 1 if s >= COLOUR_STEP else s): m for s, m in STEP_MODELS.items()}
    return texts.TOUR[:COLOUR_STEP] + [texts.TOUR_COLOUR] + texts.TOUR[COLOUR_STEP:], {**after, COLOUR_STEP: colour}


class Tour:
    def __init__(self, listing):
        self.listing = listing                # callable: name -> metadata of the models installed now

    def steps(self) -> list[tuple]:
        return tour_steps(self.listing())[0]

    def show(self, step: int, model: str) -> dict:
        steps, models = tour_steps(self.listing())
        step = max(0, min(len(steps) - 1, int(step)))
        title, body, tab = steps[step]
        title = f"{step + 1} · {title.split(' · ', 1)[-1]}"      # numbered as walked (a colour step moves the rest on)
        wanted = models.get(step)
        low = title.split(" · ", 1)[-1] in LOW_STEPS
        return {"step": step, "panel": gr.Column(visible=True, elem_classes=["le-tour-low"] if low else []),
                "text": f"**{title}**\n\n{body}",
                "current_tab": tab, "back": gr.Button(interactive=step > 0),
                "next": gr.Button(value="Next →" if step < len(steps) - 1 else "Finish"),
                "model": wanted if wanted in self.listing() else model}

    def open(self, model):
        return self.show(0, model)

    def back(self, step, model):
        return self.show(step - 1, model)

    def forward(self, step, model):
        return self.close() if step >= len(self.steps()) - 1 else self.show(step + 1, model)

    def close(self) -> dict:
        return {"step": -1, "panel": gr.Column(visible=False)}

    def build(self, model: gr.Dropdown, current_tab: gr.HTML):
        p = self.parts = Parts(model=model, current_tab=current_tab, step=gr.State(-1))
        with gr.Column(visible=False, elem_id="tour-panel") as panel:
            p.add(panel=panel, text=gr.Markdown(elem_id="tour-text"))
            with gr.Row(elem_classes="le-tour-row"):
                p.add(back=gr.Button("← Back", size="sm", elem_id="tour-back", scale=0),
                      next=gr.Button("Next →", size="sm", variant="primary", elem_id="tour-next", scale=0),
                      close=gr.Button("Close", size="sm", elem_id="tour-close", scale=0))
                gr.Markdown(texts.TOUR_HELP, elem_classes="le-tour-help")

    def wire(self, open_button: gr.Button, after_step):
        """`after_step(dependency)` chains what a step needs after its tab opens (a model switch, a refresh)."""
        p = self.parts
        outputs = ["step", "panel", "text", "current_tab", "back", "next", "model"]
        for button, handler, inputs in ((open_button, self.open, ["model"]), (p["back"], self.back, ["step", "model"]),
                                        (p["next"], self.forward, ["step", "model"])):
            after_step(button.click(**event(p, handler, inputs, outputs)))
        p["close"].click(**event(p, self.close, [], ["step", "panel"]))
