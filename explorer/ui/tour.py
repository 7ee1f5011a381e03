"""The guided tour: 9 short steps for an audience, each opening the right tab with the right model.

A small panel in the corner (Next / Back, or the ← → keys) that never covers or blocks a control:
the presenter talks, the audience watches the real app underneath.
"""
from __future__ import annotations

import gradio as gr

from explorer.ui import texts

# step -> the shipped model that shows it best (used when it is installed; otherwise the current model stays)
STEP_MODELS = {2: "fashion_dcgan", 3: "fashion_dcgan", 4: "fashion_dcgan", 5: "fashion_dcgan", 6: "fashion_vae16",
               7: "fashion_cdcgan"}


class Tour:
    def __init__(self, model_names):
        self.model_names = model_names        # callable: the models installed now

    def show(self, step: int, current_model: str) -> dict:
        step = max(0, min(len(texts.TOUR) - 1, int(step)))
        title, body, tab = texts.TOUR[step]
        wanted = STEP_MODELS.get(step)
        model = wanted if wanted in self.model_names() else current_model
        return {self.step: step, self.panel: gr.Column(visible=True),
                self.text: f"**{title}**\n\n{body}", self.tabs: gr.Tabs(selected=tab),
                self.back: gr.Button(interactive=step > 0),
                self.next: gr.Button(value="Next →" if step < len(texts.TOUR) - 1 else "Finish"),
                self.model_out: model}

    def close(self) -> dict:
        return {self.step: -1, self.panel: gr.Column(visible=False)}

    def build(self, tabs: gr.Tabs, model: gr.Dropdown):
        self.tabs, self.model_out = tabs, model
        self.step = gr.State(-1)
        with gr.Column(visible=False, elem_id="tour-panel") as self.panel:
            self.text = gr.Markdown(elem_id="tour-text")
            with gr.Row():
                self.back = gr.Button("← Back", size="sm", elem_id="tour-back")
                self.next = gr.Button("Next →", size="sm", variant="primary", elem_id="tour-next")
                self.close_button = gr.Button("Close", size="sm", elem_id="tour-close")
            gr.Markdown(texts.TOUR_HELP, elem_classes="le-tour-help")
        self.outputs = [self.step, self.panel, self.text, self.tabs, self.back, self.next, self.model_out]

    def wire(self, open_button: gr.Button, after_step):
        """`after_step(dependency)` chains what a step needs after its tab opens (a model switch, a refresh)."""
        private = dict(api_visibility="private", show_progress="hidden")
        after_step(open_button.click(lambda m: self.show(0, m), self.model_out, self.outputs, **private))
        after_step(self.back.click(lambda s, m: self.show(s - 1, m), [self.step, self.model_out], self.outputs, **private))

        def forward(s, m):
            return self.close() if s >= len(texts.TOUR) - 1 else self.show(s + 1, m)
        after_step(self.next.click(forward, [self.step, self.model_out], self.outputs, **private))
        self.close_button.click(self.close, None, [self.step, self.panel], **private)
