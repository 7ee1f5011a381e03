"""Explore tab: sliders along principal directions, named class directions, seed, temperature,
a strip along one direction, the decoded manifold for 2-d models, and a pasteable recipe."""
from __future__ import annotations

import random

import gradio as gr

from explorer.core.validation import UserError
from explorer.explore.workspace import SIGMA_STRIP, Recipe, Workspace
from explorer.ui import texts, widgets

K_MAX = 10   # sliders shown; the rest of the latent stays reachable in the advanced panel


def slider_updates(ws: Workspace, name: str, values: list[float]) -> list:
    d = ws.directions(name)
    ups = []
    for i in range(K_MAX):
        if i < len(d.basis):
            ups.append(gr.update(visible=True, value=round(max(-4.0, min(4.0, values[i])), 3),
                                 label=f"Direction {i + 1} · explains {100 * float(d.explained[i]):.1f}% of the variation"))
        else:
            ups.append(gr.update(visible=False, value=0.0))
    return ups


class ExploreTab:
    def __init__(self, ws: Workspace):
        self.ws = ws

    # ---------------------------------------------------------------- handlers (plain values in, plain values out)
    def recipe(self, model, seed, temperature, base, direction, amount, sliders) -> Recipe:
        n = len(self.ws.directions(model).basis)
        return Recipe(model, int(seed or 0), float(temperature), tuple(float(s) for s in sliders[:min(n, K_MAX)]),
                      direction or "", float(amount or 0.0), tuple(base or ()))

    def show(self, model, seed, temperature, base, direction, amount, *sliders):
        try:
            r = self.recipe(model, seed, temperature, base, direction, amount, sliders)
            image, z = self.ws.render(r)
        except (UserError, ValueError) as exc:
            return widgets.message(str(exc)), gr.update(), gr.update(), gr.update()
        zl = [round(float(v), 5) for v in z]
        return widgets.picture(image, 384), r.to_text(), zl, ", ".join(f"{v:.4f}" for v in zl)

    def extras(self, model, z, strip_dir):
        """Slower views refreshed on release: the ±3σ strip and the manifold marker."""
        try:
            idx = int(str(strip_dir).split()[1]) - 1 if strip_dir else 0
            imgs = self.ws.strip(model, z, idx)
            strip_html = widgets.strip(imgs, [f"{s:+g}σ" for s in SIGMA_STRIP])
            man = gr.update(visible=False)
            if self.ws.model(model).latent_dim == 2:
                grid, cell = self.ws.manifold(model, z)
                man = gr.update(visible=True, value=widgets.manifold(grid, cell, 15, caption=texts.MANIFOLD))
            return strip_html, man
        except (UserError, ValueError, IndexError) as exc:
            return widgets.message(str(exc)), gr.update()

    def reseed(self, model, seed, temperature, base=None):
        try:
            vals = self.ws.slider_values(model, int(seed or 0), float(temperature), base)
        except (UserError, ValueError) as exc:
            widgets.warn(str(exc))
            return [gr.update()] * K_MAX
        return slider_updates(self.ws, model, vals)

    def surprise(self, model, temperature):
        seed = random.randrange(0, 1_000_000)
        return [seed, None, "", 0.0] + self.reseed(model, seed, temperature)

    def reset(self, model, seed, temperature):
        return [None, "", 0.0] + self.reseed(model, seed, temperature)

    def apply_recipe(self, text):
        try:
            r = Recipe.from_text(text)
            self.ws.latent(r)   # validates everything before the widgets change
        except (UserError, ValueError) as exc:
            widgets.warn(str(exc))
            return [gr.update()] * (6 + K_MAX)
        vals = self.ws.slider_values(r.model, r.seed, r.temperature, r.base or None)
        vals[:len(r.sliders)] = r.sliders
        return [r.model, r.seed, r.temperature, list(r.base) or None, r.direction or None, r.amount] + slider_updates(self.ws, r.model, vals)

    def apply_raw(self, model, text):
        try:
            z = [float(v) for v in str(text).replace("\n", ",").split(",") if v.strip()]
            self.ws.model(model).check_latent(z)
        except (UserError, ValueError) as exc:
            widgets.warn(f"Raw latent not applied: {exc}")
            return [gr.update()] * (3 + K_MAX)
        return [z, "", 0.0] + slider_updates(self.ws, model, self.ws.slider_values(model, 0, 1.0, z))

    def on_model(self, model, seed, temperature):
        d = self.ws.directions(model)
        names = list(d.named())
        strip_choices = [f"Direction {i + 1}" for i in range(min(len(d.basis), K_MAX))]
        return ([None, gr.update(choices=[""] + names, value=""), 0.0,
                 gr.update(choices=strip_choices, value=strip_choices[0])]
                + self.reseed(model, seed, temperature))

    # ---------------------------------------------------------------- layout
    def build(self, model: gr.Dropdown, z_state: gr.State):
        with gr.Accordion("What am I looking at?", open=False):
            gr.Markdown(texts.EXPLORE)
        base = gr.State(None)            # a starting latent other than the seed's (map point, raw edit)
        with gr.Row():
            with gr.Column(scale=3):
                image = gr.HTML(elem_id="explore-image")
                recipe = gr.Textbox(label="Recipe (checkpoint, seed, slider values)", info=texts.TIPS["recipe"],
                                    elem_id="explore-recipe", max_lines=3)
                apply_recipe = gr.Button("Apply recipe", size="sm", elem_id="explore-apply-recipe")
                strip_dir = gr.Dropdown(label="Strip along", choices=[], info=texts.TIPS["strip"], elem_id="explore-strip-dir")
                strip = gr.HTML(elem_id="explore-strip")
                manifold = gr.HTML(visible=False, elem_id="explore-manifold")
            with gr.Column(scale=2):
                with gr.Row():
                    seed = gr.Number(label="Seed", value=0, precision=0, minimum=0, info=texts.TIPS["seed"], elem_id="explore-seed")
                    surprise = gr.Button("Surprise me", elem_id="explore-surprise")
                temperature = gr.Slider(0.0, 2.0, value=1.0, step=0.05, label="Typical ↔ unusual (temperature)",
                                        info=texts.TIPS["temperature"], elem_id="explore-temperature")
                sliders = [gr.Slider(-4, 4, value=0, step=0.01, label=f"Direction {i + 1}", info=texts.TIPS["slider"] if i == 0 else None,
                                     elem_id=f"explore-slider-{i}") for i in range(K_MAX)]
                direction = gr.Dropdown(label="Named direction", choices=[""], value="", info=texts.TIPS["direction"],
                                        elem_id="explore-direction", filterable=True)
                amount = gr.Slider(-2, 2, value=0, step=0.01, label="Amount", info=texts.TIPS["amount"], elem_id="explore-amount")
                reset = gr.Button("Reset to the seed's picture", elem_id="explore-reset")
                with gr.Accordion("Advanced: raw latent coordinates", open=False):
                    raw = gr.Textbox(label="Latent vector", info=texts.TIPS["raw"], lines=4, elem_id="explore-raw")
                    apply_raw = gr.Button("Apply raw latent", size="sm", elem_id="explore-apply-raw")

        inputs = [model, seed, temperature, base, direction, amount, *sliders]
        outputs = [image, recipe, z_state, raw]
        fast = dict(fn=self.show, inputs=inputs, outputs=outputs, show_progress="hidden", trigger_mode="always_last",
                    api_visibility="private")
        for s in sliders + [amount, temperature]:
            s.input(**fast)
        extras = dict(fn=self.extras, inputs=[model, z_state, strip_dir], outputs=[strip, manifold],
                      show_progress="hidden", trigger_mode="always_last", api_visibility="private")
        for s in sliders + [amount, temperature]:
            s.release(**extras)
        strip_dir.change(**extras)
        direction.change(**fast).then(**extras)

        seed.submit(self.reseed, [model, seed, temperature], sliders, api_visibility="private").then(**fast).then(**extras)
        surprise.click(self.surprise, [model, temperature], [seed, base, direction, amount, *sliders],
                       api_visibility="private").then(**fast).then(**extras)
        reset.click(self.reset, [model, seed, temperature], [base, direction, amount, *sliders],
                    api_visibility="private").then(**fast).then(**extras)
        apply_recipe.click(self.apply_recipe, recipe, [model, seed, temperature, base, direction, amount, *sliders],
                           api_visibility="private").then(**fast).then(**extras)
        apply_raw.click(self.apply_raw, [model, raw], [base, direction, amount, *sliders],
                        api_visibility="private").then(**fast).then(**extras)
        self.model_refresh = dict(fn=self.on_model, inputs=[model, seed, temperature],
                                  outputs=[base, direction, amount, strip_dir, *sliders], api_visibility="private")
        self.fast, self.extras_event = fast, extras
        self.base, self.z_state, self.seed, self.temperature, self.sliders = base, z_state, seed, temperature, sliders
        self.direction, self.amount = direction, amount
