"""Explore tab: the picture and the controls that change it, side by side on one screen.

Sliders move the latent along the model's principal directions; a named direction ("more like
Sneaker") with its Amount; seed and temperature; a ±3σ strip with the current picture framed; for
a 2-d model the decoded manifold, clickable; for a class-conditional model a class picker and the
"one z, every class" row, which follows the sliders and picks the class on a click.

The handlers are plain functions of widget values (keyword arguments named like the widgets) that
return {widget name: value}; `build` (explore_layout.py) lays the widgets out and wires them by name.
Raw widget values become a checked Recipe in one place, `Workspace.recipe`.
"""
from __future__ import annotations

from dataclasses import replace

import gradio as gr

from explorer.core.validation import UserError
from explorer.explore.recipe import ALL_LAYERS, Recipe, recipe_values
from explorer.explore.seeds import surprise_seed
from explorer.explore.styles import MIX_SEEDS, mix_sentence, mixed_latents
from explorer.explore.temperature import TemperatureScale, temperature_scale
from explorer.explore.workspace import Workspace
from explorer.ui import texts, widgets
from explorer.ui.explore_layout import K_MAX, SEED_LABEL, SLIDER_RANGE, ExploreLayout
from explorer.ui.explore_widgets import class_row_value, manifold_value, style_row_value
from explorer.ui.inputs import clamped
from explorer.ui.slider_labels import slider_labels, typed_names
from explorer.ui.strip_view import slider_move, strip_value


def seed_label(source: str = "") -> str:
    """The Seed box's label: plain, or saying the picture starts from `source` (a map dot, your picture), not a seed."""
    return f"{SEED_LABEL} · not used: the picture starts from {source} (type a seed to leave it)" if source else SEED_LABEL


def strip_index(strip_dir) -> int:
    """"Direction 3" (the strip's dropdown) -> 2."""
    parts = str(strip_dir or "Direction 1").split()
    if len(parts) != 2 or parts[0] != "Direction" or not parts[1].isdigit():
        raise UserError(f"Unknown strip direction {str(strip_dir)[:40]!r}.")
    return int(parts[1]) - 1


class ExploreTab(ExploreLayout):
    def __init__(self, ws: Workspace):
        self.ws = ws

    # ---------------------------------------------------------------- plain helpers
    def temperature(self, model) -> TemperatureScale:
        """The temperature range and words offered for `model` (its family's: explore/temperature.py)."""
        return temperature_scale(self.ws.model(model).family)

    def offered_temperature(self, model, temperature, notes: list[str] | None = None) -> float:
        """A temperature typed or kept for `model`, within the range offered for it (the nearest end, said in `notes`)."""
        t = self.temperature(model)
        return clamped(t.name, temperature, *t.range, notes)

    def slider_updates(self, model: str, values: list[float], names=None) -> dict:
        """The sliders at `values`; relabelled (a model's first view, a recipe) when `names` is given."""
        d = self.ws.directions(model)
        labels = slider_labels(self.ws, model, K_MAX, names) if names is not None else None
        out = []
        for i in range(K_MAX):
            if i < len(d.basis):
                out.append(gr.update(visible=True, value=round(max(-SLIDER_RANGE, min(SLIDER_RANGE, values[i])), 3),
                                     **({"label": labels[i]} if labels else {})))
            else:
                out.append(gr.update(visible=False, value=0.0))
        return {"sliders": out}

    def recipe(self, model, cls=None, seed=0, temperature=1.0, base=None, direction="", amount=0.0, sliders=(),
               notes: list[str] | None = None, names="", layers=()) -> Recipe:
        """The widgets' raw values -> a checked Recipe (only the sliders on show; a class only for a conditional
        model; slider layers only for a model with layers). A slider typed beyond its range is set to its
        nearest end, said in `notes`."""
        d = self.ws.directions(model)
        m = self.ws.model(model)
        n = min(len(d.basis), K_MAX)
        sliders = [clamped(f"Direction {i + 1}", v, -SLIDER_RANGE, SLIDER_RANGE, notes) for i, v in enumerate(list(sliders or ())[:n])]
        lo, hi = d.info(direction).amount_range if direction and direction in d.named() else (-2.0, 2.0)
        return self.ws.recipe({"model": model, "seed": seed, "sliders": sliders, "direction": direction or "",
                               "temperature": self.offered_temperature(model, temperature, notes),
                               "amount": clamped("Amount", amount or 0.0, lo, hi, notes), "base": base or None,
                               "class": cls if m.num_classes else None,
                               "names": typed_names(names)[:n],
                               "layers": self.layers_for(model, layers)})

    def layers_for(self, model, layers) -> list | None:
        """The sliders' layer choices as a recipe holds them: a style-based model's (one per slider on show)."""
        m = self.ws.model(model)
        return list(layers or ())[:min(len(self.ws.directions(model).basis), K_MAX)] if m.family.layer_groups() else None

    def rename(self, model, names):
        """The presenter named the sliders (one name per line): the labels follow."""
        labels = slider_labels(self.ws, model, K_MAX, typed_names(names))
        return {"sliders": [gr.update(label=label) for label in labels] + [gr.update()] * (K_MAX - len(labels))}

    # ---------------------------------------------------------------- handlers
    def show(self, model, cls, seed, temperature, base, direction, amount, sliders, names="", layers=(), style_keep="coarse"):
        """The picture for the controls' values, with its recipe, latent and (conditional) class row; a slider
        typed beyond its range is moved to its end and the visitor told."""
        notes: list[str] = []
        r = self.recipe(model, cls, seed, temperature, base, direction, amount, sliders, notes, names, layers)
        out = self.picture_for(r, style_keep)
        if notes:
            widgets.info(" ".join(notes))
            out.update({"temperature": r.temperature, "amount": r.amount, "sliders": [
                gr.update(value=r.sliders[i]) if i < len(r.sliders) else gr.update() for i in range(K_MAX)]})
        return out

    def picture_for(self, r: Recipe, style_keep="coarse") -> dict:
        image, z = self.ws.render(r)
        zl = [round(float(v), 5) for v in z]
        return {"image": widgets.picture(image, 300), "recipe": r.to_text(), "z": zl, "cls_state": r.cls,
                "raw": ", ".join(f"{v:.4f}" for v in zl), "class_row": self.class_row_update(r.model, z, r.cls),
                **self.style_row_for(r.model, z, r.cls, style_keep)}

    def style_row_for(self, model, z, cls, style_keep="coarse") -> dict:
        """A style-based model's mixing row for latent z (explore/styles.py), with its keep choice; hidden otherwise."""
        m = self.ws.model(model)
        if not m.family.layer_groups() or z is None or len(z) != m.latent_dim:
            return {"style_row": gr.update(visible=False, value=None), "style_keep": gr.update(visible=False)}
        keep = style_keep if style_keep in ("coarse", "fine") else "coarse"
        mixed = mixed_latents(m, m.check_one_latent(z), keep)
        images = m.decode(mixed, m.check_class(cls if m.num_classes else None))
        return {"style_row": gr.update(visible=True, value=style_row_value(images, MIX_SEEDS, mix_sentence(keep))),
                "style_keep": gr.update(visible=True, value=keep)}

    def pick_style(self, evt, model, z, cls, style_keep="coarse", layers=()):
        """A click on the mixing row: that mix becomes the current picture."""
        m = self.ws.model(model)
        i = getattr(evt, "index", None)
        if not isinstance(i, int) or not 0 <= i < len(MIX_SEEDS):
            raise UserError("Click one of the mixed pictures.")
        mixed = mixed_latents(m, m.check_one_latent(z), style_keep if style_keep in ("coarse", "fine") else "coarse")
        return self.use_latent(model, mixed[i].tolist(), source=f"a mix with seed {MIX_SEEDS[i]}", layers=layers)

    def class_row_update(self, model, z, cls):
        """A conditional model's "one z, every class" row for latent z, the current class framed; hidden otherwise."""
        m = self.ws.model(model)
        if not m.num_classes:
            return gr.update(visible=False, value=None)
        return gr.update(visible=True, value=class_row_value(self.ws.class_row(model, z), m.class_labels(), cls))

    def pick_class(self, evt, model):
        """A click on the class row: draw that class (checked against the model)."""
        return {"cls": self.ws.model(model).check_class(getattr(evt, "index", None))}

    def extras(self, model, cls, z, strip_dir, sliders=(), direction="", amount=0.0, layers=()):
        """Slower views refreshed on release: the ±3σ strip and, for a 2-d model, the manifold marker.
        `z` is the latent this tab last drew (server-side state); each event that calls this draws the
        picture first in the same chain, so `z` is never the one before a drag."""
        m = self.ws.model(model)
        if not z or len(z) != m.latent_dim:
            return {}
        layers = tuple(layers or ()) if m.family.layer_groups() else ()
        return self.extras_for(model, m.check_one_latent(z), m.check_class(cls if m.num_classes else None),
                               strip_index(strip_dir), sliders, direction, amount, layers)

    def strip_click(self, evt, strip_dir):
        """A click on a strip picture: that direction's slider goes to the picture's place."""
        moved = slider_move(strip_index(strip_dir), getattr(evt, "sigma", None), K_MAX, SLIDER_RANGE)
        return {"sliders": [gr.update() if v is None else v for v in moved]}

    def extras_for(self, model, z, cls, index: int, sliders=(), direction="", amount=0.0, layers=()) -> dict:
        imgs, sigmas, here = self.ws.strip_around(model, z, index, cls, tuple(layers))
        out = {"strip": strip_value(imgs, sigmas, here, self.strip_note(index, sigmas[here], sliders, direction, amount))}
        if self.ws.model(model).latent_dim == 2:
            out["manifold"] = gr.update(visible=True, value=manifold_value(self.ws.manifold(model), z.tolist()))
        else:
            out["manifold"] = gr.update(visible=False)
        return out

    @staticmethod
    def strip_note(index: int, here: float, sliders, direction, amount) -> str:
        """When the framed "you" is not where Direction k's slider says, one line saying what moved it
        (a named direction moves the picture without moving the sliders: they stay the seed's own)."""
        sliders = list(sliders or ())
        if not direction or index >= len(sliders) or abs(float(sliders[index]) - here) < 0.05:
            return ""
        return (f"Direction {index + 1}'s slider says {float(sliders[index]):+.1f}σ; the named direction "
                f"“{str(direction)[:80]}” (Amount {float(amount or 0):.2f}) moved the picture to {here:+.1f}σ along it.")

    def view(self, r: Recipe) -> dict:
        """Everything this tab shows for the checked recipe `r`, in one go: its controls, the picture and
        the strip (a model switch, a pasted recipe or an opened link is one event, not a chain of them)."""
        notes: list[str] = []
        r = replace(r, temperature=self.offered_temperature(r.model, r.temperature, notes))
        if notes:                        # a link or recipe from elsewhere (the API may say any temperature)
            widgets.info(" ".join(notes))
        out = self.state_for(r)
        out.update(self.picture_for(r))
        z = self.ws.model(r.model).check_one_latent(out["z"])
        out.update(self.extras_for(r.model, z, r.cls, 0, r.sliders, r.direction, r.amount, r.layers))   # the strip on Direction 1
        return out

    def reseed(self, model, seed, temperature, base=None, layers=()):
        """The sliders where the (seed's or base's) starting point puts them (each along its own layers' direction,
        for a style-based model)."""
        r = self.ws.recipe({"model": model, "seed": seed, "temperature": self.offered_temperature(model, temperature),
                            "base": base or None, "layers": self.layers_for(model, layers)})
        return self.slider_updates(model, self.ws.slider_values(r))

    def seed_typed(self, model, seed, temperature, recipe, layers=()):
        """A typed seed: the picture is that seed's (a map dot's or your picture's starting point is left) and the
        sliders follow it; a seed that is refused is put back to the picture's own."""
        return {"base": None, "seed": gr.update(label=SEED_LABEL), **self.reseed(model, seed, temperature, layers=layers)}

    @staticmethod
    def seed_of(recipe=None, **_) -> dict:
        """The seed of the picture on show (its recipe), to put a refused seed back."""
        try:
            return {"seed": int(recipe_values(recipe).get("seed", 0))}
        except (UserError, TypeError, ValueError):
            return {}

    def surprise(self, model, temperature, layers=()):
        """A random seed the model's classifier can name: never one of its garbled pictures (explore/seeds.py)."""
        seed = surprise_seed(self.ws, model, self.offered_temperature(model, temperature))
        return {"seed": gr.update(value=seed, label=SEED_LABEL), "base": None, "direction": "", "amount": 0.0,
                **self.reseed(model, seed, temperature, layers=layers)}

    def reset(self, model, seed, temperature, layers=()):
        return {"seed": gr.update(label=SEED_LABEL), "base": None, "direction": "", "amount": 0.0,
                **self.reseed(model, seed, temperature, layers=layers)}

    def use_latent(self, model, z, note: str = "", cls=None, source: str = "a latent of its own", layers=()) -> dict:
        """Make `z` the current point (a map dot, a click on the manifold, a pasted latent, your picture);
        for a conditional model `cls` (when given) becomes the class too. The Seed box says that the picture is
        `source`'s, not its seed's, until a seed is typed. Refusals start "Not applied:"."""
        try:
            m = self.ws.model(model)
            base = [float(v) for v in m.check_one_latent(z)]
            cls = m.check_class(cls) if cls is not None else None
            vals = self.ws.slider_values(self.ws.recipe({"model": model, "base": base, "layers": self.layers_for(model, layers)}))
        except UserError as exc:
            raise UserError(f"Not applied: {exc}") from None
        if note:
            widgets.info(note)
        out = {"base": base, "direction": "", "amount": 0.0, "temperature": 1.0, **self.slider_updates(model, vals),
               "seed": gr.update(label=seed_label(source))}
        if cls is not None:
            out["cls"] = cls
        return out

    def apply_raw(self, model, raw, layers=()):
        try:
            z = [float(v) for v in str(raw).replace("\n", ",").split(",") if v.strip()]
        except ValueError:
            raise UserError("Raw latent not applied: write numbers separated by commas.") from None
        return self.use_latent(model, z, source="the raw latent", layers=layers)

    def manifold_click(self, evt, model):
        return self.use_latent(model, self.ws.manifold_latent(getattr(evt, "fx", None), getattr(evt, "fy", None)),
                               source="the place you clicked on the sheet")

    def first_look(self, r: Recipe) -> dict:
        """A model whose directions are still being found (one just saved from the Train tab): the picture of its
        recipe `r` (the seed's alone) at once, and no other model's strip or slider names beside it meanwhile."""
        out = self.picture_for(r)
        out.update({"strip": widgets.message(texts.FINDING_DIRECTIONS, "info"), "manifold": gr.update(visible=False),
                    "sliders": [gr.update(visible=False)] * K_MAX, "layers": [gr.update(visible=False)] * K_MAX,
                    "model": r.model, "seed": r.seed,
                    "temperature": self.temperature_update(r.model, r.temperature)})
        return out

    def state_for(self, r: Recipe) -> dict:
        """Every control of this tab set for the checked recipe `r` (its model's directions, its sliders)."""
        d = self.ws.directions(r.model)
        names = [(self.direction_label(r.model, name, info), name) for name, info in d.named().items()]
        strip_choices = [f"Direction {i + 1}" for i in range(min(len(d.basis), K_MAX))]
        vals = self.ws.slider_values(r)
        vals[:len(r.sliders)] = r.sliders
        m = self.ws.model(r.model)
        if m.num_classes:
            cls = gr.update(choices=[(label, c) for c, label in enumerate(m.class_labels())], value=r.cls, visible=True)
        else:
            cls = gr.update(choices=[], value=None, visible=False)
        note = "\n\n".join(text for text, shown in ((texts.CONDITIONAL_EXPLORE, m.num_classes),
                                                 (texts.STYLE_EXPLORE, m.family.layer_groups())) if shown)
        return {"model": r.model, "cls": cls, "model_note": gr.update(visible=bool(note), value=note),
                # a conditional model's class is picked directly: no named class directions to offer
                "direction_row": gr.update(visible=not m.num_classes),
                "seed": gr.update(value=r.seed, label=seed_label("a latent of its own" if r.base else "")),
                "base": list(r.base) or None, "temperature": self.temperature_update(r.model, r.temperature),
                "direction": gr.update(choices=[("(none)", "")] + names, value=r.direction or ""),
                "amount": r.amount, "strip_dir": gr.update(choices=strip_choices, value=strip_choices[0]),
                "names": "\n".join(r.names), **self.slider_updates(r.model, vals, r.names),
                "layers": self.layer_updates(r)}

    def layer_updates(self, r: Recipe) -> list:
        """Each slider's layer choice: shown, at the recipe's, for a style-based model's sliders; hidden otherwise."""
        layered = bool(self.ws.model(r.model).family.layer_groups())
        n = min(len(self.ws.directions(r.model).basis), K_MAX)
        return [gr.update(visible=layered and i < n, value=r.layers[i] if i < len(r.layers) else ALL_LAYERS)
                for i in range(K_MAX)]

    def temperature_update(self, model, value) -> dict:
        """The temperature slider for `model`: its family's range and words, at `value`."""
        t = self.temperature(model)
        return gr.update(value=value, minimum=t.lowest, maximum=t.highest, step=t.step, label=t.label)

    def recipe_text(self, recipe) -> Recipe:
        """A pasted recipe, checked."""
        return self.ws.recipe(recipe_values(recipe))

    def model_recipe(self, model, seed, temperature) -> Recipe:
        """A model switch keeps the seed and temperature where they fit the new model (a temperature beyond the
        range offered for it moves to the nearest end, said)."""
        notes: list[str] = []
        try:
            r = self.ws.recipe({"model": model, "seed": seed, "temperature": self.offered_temperature(model, temperature, notes)})
        except UserError:                  # e.g. an out-of-range seed left in the box: start from seed 0
            return self.ws.recipe({"model": model})
        if notes:
            widgets.info(" ".join(notes))
        return r

    def direction_label(self, model, name, info) -> str:
        """The option's words: the second judge's share where one is installed (the steering classifier's
        own share is near 100% by construction), else the steering one's, said as such."""
        second = self.ws.second_opinion(model, wait=False) or {}
        if name in second:
            return f"{name} · 2nd judge {second[name]:.0%}"
        return f"{name} · {info.success:.0%} (its own classifier)"

    def direction_info(self, model, direction, amount):
        """The chosen direction's Amount range and one plain line on what it does and how reliably."""
        if not direction:
            return {"direction_note": "", "amount": gr.update(minimum=-2, maximum=2)}
        info = self.ws.directions(model).info(direction)
        lo, hi = info.amount_range
        second = (self.ws.second_opinion(model, wait=False) or {}).get(direction)
        what = f"{info.minus} at −1 and {info.plus} at +1" if info.minus else f"{info.plus} at Amount 1"
        check = (f" A second classifier (the list's “2nd judge”), trained apart and never used to steer, sees {what} for "
                 f"{'at least ' if info.minus else ''}{second:.0%} of test seeds." if second is not None else "")
        return {"direction_note": widgets.message(info.description + check + " " + texts.AMOUNT_MEANS, "info"),
                "amount": gr.update(minimum=lo, maximum=hi, value=min(hi, max(lo, float(amount or 0))))}
