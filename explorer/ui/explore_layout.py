"""The Explore tab's layout and wiring: the picture column beside the controls, and which event of which
widget runs which handler of ExploreTab (explore_tab.py), then what follows it (the picture, the strip,
the link). The widgets' names here are the handlers' argument names (ui/wiring.py).
"""
from __future__ import annotations

import gradio as gr

from explorer.explore.recipe import ALL_LAYERS
from explorer.explore.temperature import TemperatureScale
from explorer.ui import assets, texts
from explorer.ui.explore_widgets import CLASS_ROW_JS, CLASS_ROW_TEMPLATE, MANIFOLD_JS, MANIFOLD_TEMPLATE
from explorer.ui.inputs import Dropdown, Number, Slider
from explorer.ui.own_picture import OwnPicture
from explorer.ui.strip_view import STRIP_JS, STRIP_TEMPLATE
from explorer.ui.wiring import Parts, event

K_MAX = 10   # sliders shown; the rest of the latent stays reachable in the raw-latent panel
SLIDER_RANGE = 4.0
CONTROLS = ["model", "cls", "seed", "temperature", "base", "direction", "amount", "sliders", "names",
            "layers"]   # what makes the picture
# what a model switch, a recipe, a map dot or your own picture set
POINT = ["seed", "base", "direction", "amount", "temperature", "cls", "sliders"]
SEED_LABEL = "Seed"
STYLE_KEEP = [("keep its shape", "coarse"), ("keep its details and colours", "fine")]
# what a style-based model's slider moves (explore/w_directions.py), in a person's words first
LAYER_CHOICES = [("everything", ALL_LAYERS), ("shape · coarse layers", "coarse"), ("details · middle layers", "middle"),
                 ("colours · fine layers", "fine")]
# The address bar follows the picture: the link reproduces it in another browser.
SHARE_JS = assets.js("share_link.js")


class ExploreLayout:
    """The Explore tab's widgets and events; the handlers they call are ExploreTab's."""

    def build(self, model: gr.Dropdown, z_state: gr.State, cls_state: gr.State, intro_open: bool = True):
        """`z_state` and `cls_state`: the latent and class shown (None for an unconditional model), for the other tabs."""
        p = self.parts = Parts(model=model, z=z_state, cls_state=cls_state, base=gr.State(None))
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=320, elem_classes="le-sticky"):
                p.add(image=gr.HTML(elem_id="explore-image"),
                      class_row=gr.HTML(value=None, html_template=CLASS_ROW_TEMPLATE, js_on_load=CLASS_ROW_JS,
                                        visible=False, elem_id="explore-class-row"),
                      # a style-based model: this picture's coarse (or fine) layers with each of eight seeds' others
                      style_keep=gr.Radio(STYLE_KEEP, value="coarse", label="Style mixing", show_label=False,
                                          visible=False, elem_id="explore-style-keep", container=False,
                                          elem_classes="le-inline-radio"),
                      style_row=gr.HTML(value=None, html_template=CLASS_ROW_TEMPLATE, js_on_load=CLASS_ROW_JS,
                                        visible=False, elem_id="explore-style-row"),
                      strip_dir=Dropdown(label="Strip along", choices=[], info=None, elem_id="explore-strip-dir",
                                            container=False),
                      strip=gr.HTML(value=None, html_template=STRIP_TEMPLATE, js_on_load=STRIP_JS, elem_id="explore-strip"),
                      manifold=gr.HTML(value=None, html_template=MANIFOLD_TEMPLATE, js_on_load=MANIFOLD_JS,
                                       visible=False, elem_id="explore-manifold"))
            with gr.Column(scale=3):
                # the explanation first, where a newcomer starts reading (not below ten sliders)
                with gr.Accordion("What am I looking at?", open=intro_open, elem_id="explore-intro") as intro:
                    gr.Markdown(texts.EXPLORE)
                p.add(intro=intro)
                # what is particular to this model (class-conditional, style-based), in words
                p.add(model_note=gr.Markdown(texts.CONDITIONAL_EXPLORE, visible=False,
                                             elem_id="explore-conditional-note"))
                with gr.Row(elem_classes="le-compact"):
                    p.add(cls=Dropdown(label="Class", choices=[], value=None, visible=False, elem_id="explore-class",
                                          filterable=True, min_width=215),
                          seed=Number(precision=None, label=SEED_LABEL, value=0, elem_id="explore-seed", min_width=100),
                          surprise=gr.Button("Surprise me", elem_id="explore-surprise", min_width=100),
                          reset=gr.Button("Reset", elem_id="explore-reset", min_width=80),
                          undo=gr.Button("↶ Undo", elem_id="explore-undo", min_width=80))
                with gr.Row(elem_classes="le-compact") as direction_row:
                    p.add(direction=Dropdown(label="Named direction", choices=[("(none)", "")], value="",
                                                elem_id="explore-direction", filterable=True, min_width=200),
                          amount=Slider(-2, 2, value=0, step=0.01, label="Amount", elem_id="explore-amount",
                                           min_width=200))
                p.add(direction_row=direction_row, direction_note=gr.HTML(elem_id="explore-direction-note"),
                      temperature=Slider(*TemperatureScale().range, value=1.0, step=0.05, label=TemperatureScale().label,
                                            elem_id="explore-temperature"))
                sliders, layers = [], []
                with gr.Column(elem_classes="le-slider-rows"):        # stacked without gaps, as Gradio's own form does
                    for i in range(K_MAX):
                        # a style-based model's slider moves the layers its choice names (shape / details / colours)
                        with gr.Row(elem_classes="le-compact le-slider-row", elem_id=f"explore-slider-row-{i}"):
                            sliders.append(Slider(-SLIDER_RANGE, SLIDER_RANGE, value=0, step=0.01, label=f"Direction {i + 1}",
                                                  elem_id=f"explore-slider-{i}", scale=4))
                            layers.append(Dropdown(LAYER_CHOICES, value=ALL_LAYERS, label="It changes", visible=False,
                                                   elem_id=f"explore-layers-{i}", min_width=130, scale=1))
                p.add(sliders=sliders, layers=layers)
                with gr.Accordion("Name the sliders", open=False, elem_id="explore-names-panel"):
                    p.add(names=gr.Textbox(label="One name per line: line 1 names Direction 1 (empty: the automatic name)",
                                           lines=3, max_lines=10, elem_id="explore-slider-names"))
                self.own = OwnPicture(self.ws, self)
                self.own.build()
                with gr.Accordion("Share this picture", open=False, elem_id="explore-share"):
                    p.add(share_link=gr.Textbox(label="Link (open it in another browser)", elem_id="explore-share-link",
                                                interactive=False, buttons=["copy"]),
                          recipe=gr.Textbox(label="Recipe (checkpoint, seed, slider values)", elem_id="explore-recipe",
                                            max_lines=3),
                          apply_recipe=gr.Button("Apply recipe", size="sm", elem_id="explore-apply-recipe"))
                with gr.Accordion("Advanced: raw latent coordinates", open=False, elem_id="explore-raw-panel"):
                    p.add(raw=gr.Textbox(label="Latent vector", lines=3, elem_id="explore-raw"),
                          apply_raw=gr.Button("Apply raw latent", size="sm", elem_id="explore-apply-raw"))
        self._wire()
        self.own.wire()

    def _wire(self):
        p = self.parts
        # the picture, then the slower views, then the link: each a step other tabs can chain too
        self.fast = event(p, self.show, CONTROLS + ["style_keep"], ["image", "recipe", "z", "cls_state", "raw", "class_row",
                                                                    "style_row", "style_keep", "temperature", "amount", "sliders"],
                          errors_to="image", trigger_mode="always_last")
        self.extras_event = event(p, self.extras, ["model", "cls", "z", "strip_dir", "sliders", "direction", "amount",
                                                   "layers"],
                                  ["strip", "manifold"], errors_to="strip", trigger_mode="always_last")
        self.share_event = dict(fn=None, inputs=[p["recipe"]], outputs=[p["share_link"]], js=SHARE_JS)
        self.redraw = (self.fast, self.extras_event, self.share_event)
        # while a direction slider, the amount or the temperature moves, the page draws each value's picture itself
        # from GET /le/picture (fast_picture.py: a Gradio event per value costs the page ~100 ms, a drag showed 6
        # pictures in 2 s); its release (a drag's end, the arrow keys' end, a typed value's Enter, pause or
        # leaving the box: static/typed_values.js) runs the usual chain: the picture and its recipe, the strip
        # framing it, the link (and Undo, which follows the recipe)
        for s in p["sliders"] + [p["amount"]]:
            s.release(**self.fast).then(**self.extras_event).then(**self.share_event)
        # temperature rescales the starting point: the sliders follow it as it moves, and on release the picture
        reseed = event(p, self.reseed, ["model", "seed", "temperature", "base", "layers"], ["sliders"], trigger_mode="always_last")
        p["temperature"].input(**reseed)
        p["temperature"].release(**reseed).then(**self.fast).then(**self.extras_event).then(**self.share_event)
        p["strip_dir"].change(**self.extras_event)
        for choice in p["layers"]:          # a slider's layers chosen: the picture, its strip and the link follow
            choice.input(**self.fast).then(**self.extras_event).then(**self.share_event)
        self.then_all(p["direction"].change(**event(p, self.direction_info, ["model", "direction", "amount"],
                                                     ["direction_note", "amount"], errors_to="direction_note")))
        # typing, arrows: the picture follows at once (Enter is no event of its own: a refused seed was said twice)
        self.then_all(p["seed"].input(**event(p, self.seed_typed, ["model", "seed", "temperature", "recipe", "layers"],
                                              ["sliders", "seed", "base"], on_error=self.seed_of, trigger_mode="always_last")))
        self.then_all(p["surprise"].click(**event(p, self.surprise, ["model", "temperature", "layers"], POINT)))
        self.then_all(p["reset"].click(**event(p, self.reset, ["model", "seed", "temperature", "layers"], POINT)))
        # the class: from its picker or a click on the class row; "Surprise me" and Reset keep it
        self.then_all(p["strip"].click(**event(p, self.strip_click, ["strip_dir"], ["sliders"])))
        self.then_all(p["names"].input(**event(p, self.rename, ["model", "names"], ["sliders"], trigger_mode="always_last")))
        self.then_all(p["cls"].input(**self.fast))
        self.then_all(p["class_row"].click(**event(p, self.pick_class, ["model"], ["cls"])))
        p["style_keep"].input(**event(p, self.style_row_for, ["model", "z", "cls", "style_keep"], ["style_row"]))
        self.then_all(p["style_row"].click(**event(p, self.pick_style, ["model", "z", "cls", "style_keep", "layers"], POINT)))
        self.then_all(p["apply_raw"].click(**event(p, self.apply_raw, ["model", "raw", "layers"], POINT)))
        self.then_all(p["manifold"].click(**event(p, self.manifold_click, ["model"], POINT)))
        self.all_controls = ["model", "strip_dir", "model_note", "direction_row", "names", "layers", *POINT]
        self.view_outputs = [*self.all_controls, "image", "recipe", "z", "cls_state", "raw", "class_row", "style_row",
                             "style_keep", "strip", "manifold"]

    def then_all(self, dependency):
        """After the controls changed: the picture, the slower views, the link."""
        for step in self.redraw:
            dependency = dependency.then(**step)
        return dependency
