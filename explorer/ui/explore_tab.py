"""Explore tab: the picture and the controls that change it, side by side on one screen.

Sliders move the latent along the model's principal directions; a named direction ("more like
Sneaker") with its Amount; seed and temperature; a ±3σ strip with the current picture framed; for
a 2-d model the decoded manifold, clickable; for a class-conditional model a class picker and the
"one z, every class" row, which follows the sliders and picks the class on a click. Handlers take plain widget values, build a Recipe, and
return {component: value} dicts (wired by name, not by position).
"""
from __future__ import annotations

import json
import random

import gradio as gr

from explorer.core.validation import MAX_SEED, UserError
from explorer.explore.workspace import Recipe, Workspace
from explorer.ui import texts, widgets
from explorer.ui.explore_widgets import (
    CLASS_ROW_JS,
    CLASS_ROW_TEMPLATE,
    MANIFOLD_JS,
    MANIFOLD_TEMPLATE,
    class_row_value,
    manifold_value,
    strip_html,
)
from explorer.ui.own_picture import OwnPicture

K_MAX = 10   # sliders shown; the rest of the latent stays reachable in the raw-latent panel
SLIDER_RANGE = 4.0


class ExploreTab:
    def __init__(self, ws: Workspace):
        self.ws = ws

    # ---------------------------------------------------------------- plain helpers
    def slider_updates(self, name: str, values: list[float]) -> dict:
        d = self.ws.directions(name)
        out = {}
        for i, s in enumerate(self.sliders):
            if i < len(d.basis):
                out[s] = gr.update(visible=True, value=round(max(-SLIDER_RANGE, min(SLIDER_RANGE, values[i])), 3),
                                   label=f"Direction {i + 1} · {100 * float(d.explained[i]):.1f}% of the variation")
            else:
                out[s] = gr.update(visible=False, value=0.0)
        return out

    def recipe(self, model, cls, seed, temperature, base, direction, amount, sliders) -> Recipe:
        n = min(len(self.ws.directions(model).basis), K_MAX)
        return Recipe(model, seed, temperature, tuple(sliders[:n]), direction or "", amount or 0.0, tuple(base or ()),
                      cls if self.ws.model(model).num_classes else None)

    # ---------------------------------------------------------------- handlers
    def show(self, model, cls, seed, temperature, base, direction, amount, *sliders):
        try:
            r = self.ws.check_recipe(self.recipe(model, cls, seed, temperature, base, direction, amount, sliders))
            image, z = self.ws.render(r)
            row = self.class_row_update(model, z, r.cls)
        except UserError as exc:
            return {self.image: widgets.message(str(exc))}
        zl = [round(float(v), 5) for v in z]
        return {self.image: widgets.picture(image, 300), self.recipe_box: r.to_text(), self.z_state: zl,
                self.cls_state: r.cls, self.raw: ", ".join(f"{v:.4f}" for v in zl), self.class_row: row}

    def class_row_update(self, model, z, cls):
        """A conditional model's "one z, every class" row for latent z, the current class framed; hidden otherwise."""
        m = self.ws.model(model)
        if not m.num_classes:
            return gr.update(visible=False, value=None)
        return gr.update(visible=True, value=class_row_value(self.ws.class_row(model, z), m.class_labels(), cls))

    def pick_class(self, model, evt: gr.EventData):
        """A click on the class row: draw that class (validated against the model)."""
        try:
            cls = self.ws.model(model).check_class(getattr(evt, "index", None))
        except UserError as exc:
            widgets.warn(str(exc))
            return {self.cls: gr.update()}
        return {self.cls: cls}

    def extras(self, model, cls, z, strip_dir):
        """Slower views refreshed on release: the ±3σ strip and, for a 2-d model, the manifold marker."""
        try:
            if not z or len(z) != self.ws.model(model).latent_dim:
                return {self.strip: gr.update()}
            idx = int(str(strip_dir).split()[1]) - 1 if strip_dir else 0
            cls = cls if self.ws.model(model).num_classes else None
            imgs, sigmas, here = self.ws.strip_around(model, z, idx, cls)
            out = {self.strip: strip_html(imgs, sigmas, here)}
            if self.ws.model(model).latent_dim == 2:
                grid, _ = self.ws.manifold(model)
                out[self.manifold] = gr.update(visible=True, value=manifold_value(grid, z))
            else:
                out[self.manifold] = gr.update(visible=False)
            return out
        except (UserError, IndexError, ValueError) as exc:
            return {self.strip: widgets.message(str(exc))}

    def reseed(self, model, seed, temperature, base=None):
        try:
            vals = self.ws.slider_values(model, seed, temperature, base)
        except UserError as exc:
            widgets.warn(str(exc))
            return {self.sliders[0]: gr.update()}
        return self.slider_updates(model, vals)

    def surprise(self, model, temperature):
        seed = random.randrange(0, 1_000_000)
        return {self.seed: seed, self.base: None, self.direction: "", self.amount: 0.0,
                **self.reseed(model, seed, temperature)}

    def reset(self, model, seed, temperature):
        return {self.base: None, self.direction: "", self.amount: 0.0, **self.reseed(model, seed, temperature)}

    def use_latent(self, model, z, note: str = "", cls=None) -> dict:
        """Make `z` the current point (a map dot, a click on the manifold, a pasted latent); for a
        conditional model `cls` (when given) becomes the class too."""
        try:
            m = self.ws.model(model)
            z = [float(v) for v in m.check_latent(z)[0]]
            cls = m.check_class(cls) if cls is not None else None
            vals = self.ws.slider_values(model, 0, 1.0, z)
        except UserError as exc:
            widgets.warn(f"Not applied: {exc}")
            return {self.base: gr.update()}
        if note:
            widgets.info(note)
        out = {self.base: z, self.direction: "", self.amount: 0.0, self.temperature: 1.0, **self.slider_updates(model, vals)}
        if cls is not None:
            out[self.cls] = cls
        return out

    def apply_raw(self, model, text):
        try:
            z = [float(v) for v in str(text).replace("\n", ",").split(",") if v.strip()]
        except ValueError:
            widgets.warn("Raw latent not applied: write numbers separated by commas.")
            return {self.base: gr.update()}
        return self.use_latent(model, z)

    def manifold_click(self, model, evt: gr.EventData):
        try:
            z = self.ws.manifold_latent(getattr(evt, "fx", None), getattr(evt, "fy", None))
        except UserError as exc:
            widgets.warn(str(exc))
            return {self.base: gr.update()}
        return self.use_latent(model, z)

    def state_for(self, r: Recipe) -> dict:
        """Every control of this tab set for recipe `r` (its model's directions, its sliders); validated first."""
        self.ws.latent(r)                                      # raises UserError before anything changes
        d = self.ws.directions(r.model)
        names = [(f"{name} · {info.success:.0%}", name) for name, info in d.named().items()]
        strip_choices = [f"Direction {i + 1}" for i in range(min(len(d.basis), K_MAX))]
        vals = self.ws.slider_values(r.model, r.seed, r.temperature, r.base or None)
        vals[:len(r.sliders)] = r.sliders
        m = self.ws.model(r.model)
        if m.num_classes:
            cls = gr.update(choices=[(label, c) for c, label in enumerate(m.class_labels())], value=m.check_class(r.cls),
                            visible=True)
        else:
            cls = gr.update(choices=[], value=None, visible=False)
        return {self.model: r.model, self.cls: cls, self.conditional_note: gr.update(visible=bool(m.num_classes)),
                # a conditional model's class is picked directly: no named class directions to offer
                self.direction_row: gr.update(visible=not m.num_classes),
                self.seed: r.seed, self.temperature: r.temperature, self.base: list(r.base) or None,
                self.direction: gr.update(choices=[("(none)", "")] + names, value=r.direction or ""),
                self.amount: r.amount, self.strip_dir: gr.update(choices=strip_choices, value=strip_choices[0]),
                **self.slider_updates(r.model, vals)}

    def apply_recipe(self, text):
        try:
            return self.state_for(Recipe.from_text(text))
        except UserError as exc:
            widgets.warn(str(exc))
            return {self.base: gr.update()}

    def on_model(self, model, seed, temperature):
        """A model switch: every model-dependent control of this tab is reset for the new model."""
        try:
            return {self.z_state: None, **self.state_for(Recipe(model, seed, temperature))}
        except UserError:                  # e.g. an out-of-range seed left in the box: start from seed 0
            return {self.z_state: None, **self.state_for(Recipe(model, 0, 1.0))}

    # ---------------------------------------------------------------- layout
    def build(self, model: gr.Dropdown, z_state: gr.State, cls_state: gr.State, intro_open: bool = True):
        """`z_state` and `cls_state`: the latent and class shown (None for an unconditional model), for the other tabs."""
        self.model, self.z_state, self.cls_state = model, z_state, cls_state
        self.base = gr.State(None)            # a starting latent other than the seed's (map dot, raw edit, click)
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=320, elem_classes="le-sticky"):
                self.image = gr.HTML(elem_id="explore-image")
                self.class_row = gr.HTML(value=None, html_template=CLASS_ROW_TEMPLATE, js_on_load=CLASS_ROW_JS,
                                         visible=False, elem_id="explore-class-row")
                self.strip_dir = gr.Dropdown(label="Strip along", choices=[], info=None, elem_id="explore-strip-dir",
                                             container=False)
                self.strip = gr.HTML(elem_id="explore-strip")
                self.manifold = gr.HTML(value=None, html_template=MANIFOLD_TEMPLATE, js_on_load=MANIFOLD_JS,
                                        visible=False, elem_id="explore-manifold")
            with gr.Column(scale=3):
                self.conditional_note = gr.Markdown(texts.CONDITIONAL_EXPLORE, visible=False, elem_id="explore-conditional-note")
                with gr.Row(elem_classes="le-compact"):
                    self.cls = gr.Dropdown(label="Class", choices=[], value=None, visible=False,
                                           elem_id="explore-class", filterable=True, min_width=160)
                    self.seed = gr.Number(label="Seed", value=0, precision=0, minimum=0, maximum=MAX_SEED,
                                          elem_id="explore-seed", min_width=100)
                    surprise = gr.Button("Surprise me", elem_id="explore-surprise", min_width=100)
                    reset = gr.Button("Reset", elem_id="explore-reset", min_width=80)
                with gr.Row(elem_classes="le-compact") as self.direction_row:
                    self.direction = gr.Dropdown(label="Named direction", choices=[("(none)", "")], value="",
                                                 elem_id="explore-direction", filterable=True, min_width=200)
                    self.amount = gr.Slider(-2, 2, value=0, step=0.01, label="Amount", elem_id="explore-amount", min_width=200)
                self.direction_note = gr.HTML(elem_id="explore-direction-note")
                self.temperature = gr.Slider(0.0, 2.0, value=1.0, step=0.05, label="Typical ↔ unusual (temperature)",
                                             elem_id="explore-temperature")
                self.sliders = [gr.Slider(-SLIDER_RANGE, SLIDER_RANGE, value=0, step=0.01, label=f"Direction {i + 1}",
                                          elem_id=f"explore-slider-{i}") for i in range(K_MAX)]
                self.own = OwnPicture(self.ws, self)
                self.own.build()
                with gr.Accordion("Share this picture", open=False, elem_id="explore-share"):
                    self.share_link = gr.Textbox(label="Link (open it in another browser)", elem_id="explore-share-link",
                                                 interactive=False, buttons=["copy"])
                    self.recipe_box = gr.Textbox(label="Recipe (checkpoint, seed, slider values)", elem_id="explore-recipe",
                                                 max_lines=3)
                    apply_recipe = gr.Button("Apply recipe", size="sm", elem_id="explore-apply-recipe")
                with gr.Accordion("Advanced: raw latent coordinates", open=False):
                    self.raw = gr.Textbox(label="Latent vector", lines=3, elem_id="explore-raw")
                    apply_raw = gr.Button("Apply raw latent", size="sm", elem_id="explore-apply-raw")
                with gr.Accordion("What am I looking at?", open=intro_open, elem_id="explore-intro") as self.intro:
                    gr.Markdown(texts.EXPLORE)
        self._wire(apply_recipe, apply_raw, surprise, reset)
        self.own.wire()

    def _wire(self, apply_recipe, apply_raw, surprise, reset):
        private = dict(api_visibility="private", show_progress="hidden")
        inputs = [self.model, self.cls, self.seed, self.temperature, self.base, self.direction, self.amount, *self.sliders]
        outputs = [self.image, self.recipe_box, self.z_state, self.cls_state, self.raw, self.class_row]
        self.fast = dict(fn=self.show, inputs=inputs, outputs=outputs, trigger_mode="always_last", **private)
        self.extras_event = dict(fn=self.extras, inputs=[self.model, self.cls, self.z_state, self.strip_dir],
                                 outputs=[self.strip, self.manifold], trigger_mode="always_last", **private)
        self.share_event = dict(fn=None, inputs=[self.recipe_box], outputs=[self.share_link], js=SHARE_JS)
        slider_outs = [self.base, self.direction, self.amount, self.temperature, self.cls, *self.sliders]
        for s in self.sliders + [self.amount]:
            s.input(**self.fast).then(**self.share_event)       # the link follows the picture, not the mouse
            s.release(**self.extras_event)
        # temperature rescales the starting point: the sliders follow it, then the picture
        self.temperature.input(self.reseed, [self.model, self.seed, self.temperature, self.base], self.sliders,
                               trigger_mode="always_last", **private).then(**self.fast)
        self.temperature.release(**self.extras_event).then(**self.share_event)
        self.strip_dir.change(**self.extras_event)
        self.direction.change(self.direction_info, [self.model, self.direction, self.amount],
                              [self.direction_note, self.amount], **private).then(
            **self.fast).then(**self.extras_event).then(**self.share_event)
        for ev in (self.seed.input, self.seed.submit):      # typing, arrows, Enter: the picture follows at once
            ev(self.reseed, [self.model, self.seed, self.temperature], self.sliders, trigger_mode="always_last",
               **private).then(**self.fast).then(**self.extras_event).then(**self.share_event)
        then_all = lambda dep: dep.then(**self.fast).then(**self.extras_event).then(**self.share_event)  # noqa: E731
        then_all(surprise.click(self.surprise, [self.model, self.temperature], [self.seed, *slider_outs], **private))
        then_all(reset.click(self.reset, [self.model, self.seed, self.temperature], slider_outs, **private))
        # the class: from its picker or a click on the class row; "Surprise me" and Reset keep it
        self.cls.input(**self.fast).then(**self.extras_event).then(**self.share_event)
        then_all(self.class_row.click(self.pick_class, [self.model], [self.cls], **private))
        self.all_controls = [self.model, self.seed, self.strip_dir, self.conditional_note, self.direction_row, *slider_outs]
        self.apply_recipe_button = apply_recipe
        then_all(apply_raw.click(self.apply_raw, [self.model, self.raw], slider_outs, **private))
        then_all(self.manifold.click(self.manifold_click, [self.model], slider_outs, **private))
        self.model_refresh = dict(fn=self.on_model, inputs=[self.model, self.seed, self.temperature],
                                  outputs=[self.z_state, *self.all_controls], **private)
        self.slider_outs, self.then_all = slider_outs, then_all

    def direction_info(self, model, direction, amount):
        """The chosen direction's Amount range and one plain line on what it does and how reliably."""
        if not direction:
            return {self.direction_note: "", self.amount: gr.update(minimum=-2, maximum=2)}
        try:
            info = self.ws.directions(model).info(direction)
        except UserError as exc:
            return {self.direction_note: widgets.message(str(exc))}
        lo, hi = info.amount_range
        return {self.direction_note: widgets.message(info.description, "info"),
                self.amount: gr.update(minimum=lo, maximum=hi, value=min(hi, max(lo, float(amount or 0))))}


# The address bar follows the picture: the link reproduces it in another browser.
SHARE_JS = """(recipe) => {
  if (!recipe) return '';
  const url = new URL(window.location.href);
  url.searchParams.set('recipe', recipe);
  window.history.replaceState(null, '', url);
  return url.toString();
}"""


def recipe_from_query(params) -> Recipe | None:
    """The recipe in a shared link's query string (?recipe=...), or None."""
    text = params.get("recipe") if params else None
    if not text:
        return None
    try:
        return Recipe.from_text(text if text.lstrip().startswith("{") else json.dumps({"model": text}))
    except UserError:
        return None
