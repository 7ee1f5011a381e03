"""A recipe: everything that determines an Explore picture, parsed and checked once where it enters.

Values come from three edges: the Explore tab's widgets, the API's `/render`, and a pasted recipe
or shared link. Each edge hands its raw values to `parse_recipe` together with the model they are
for; it returns a typed, checked `Recipe` or raises a UserError naming the first bad value, its
allowed range and what was given. Below that edge (Workspace.latent, Workspace.render) the code
trusts its typed arguments and checks nothing again.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from explorer.core.loaded_model import MAX_LATENT, LoadedModel
from explorer.core.validation import UserError, check_number, check_seed
from explorer.explore.slider_names import MAX_NAME, tidy_names
from explorer.explore.temperature import RECIPE_RANGE as TEMPERATURE

SLIDER = (-10.0, 10.0)         # principal-direction coordinates, in σ
ALL_LAYERS = "all"             # a slider that moves every layer of a style-based model (the default)
AMOUNT = (-5.0, 5.0)           # how far along a named direction
EXAMPLE = '{"model": ..., "seed": 3, "sliders": [...]}'


@dataclass(frozen=True)
class Recipe:
    """A checked recipe (make one with `parse_recipe`); shown to the user and pasteable back."""
    model: str
    seed: int = 0
    temperature: float = 1.0          # small = typical, large = unusual
    sliders: tuple[float, ...] = ()   # principal-direction coordinates, in sigmas (empty = the seed's own)
    direction: str = ""               # a named direction ("more like Sneaker"), or ""
    amount: float = 0.0               # how far along it
    base: tuple[float, ...] = ()      # a starting latent (a map dot, your picture) used instead of the seed's
    cls: int | None = None            # the class a class-conditional model draws (None: unconditional)
    names: tuple[str, ...] = ()       # a presenter's names for the sliders ("" = the automatic name)
    layers: tuple[str, ...] = ()      # a style-based model: the layers each slider moves ("all", "coarse", ...)

    def to_dict(self) -> dict:
        d = {"model": self.model, "seed": self.seed, "temperature": round(self.temperature, 4),
             "sliders": [round(s, 4) for s in self.sliders], "direction": self.direction, "amount": round(self.amount, 4)}
        if self.cls is not None:
            d["class"] = self.cls
        if self.base:
            d["base"] = [round(v, 5) for v in self.base]
        if any(self.names):
            d["names"] = list(self.names)
        if any(r != ALL_LAYERS for r in self.layers):
            d["layers"] = list(self.layers)
        return d

    def to_text(self) -> str:
        return json.dumps(self.to_dict())


def recipe_values(text) -> dict:
    """A pasted recipe or a link's ?recipe= value -> its raw values (a bare model name is a recipe too)."""
    text = str(text or "").strip()
    if text and not text.startswith("{"):
        return {"model": text}
    try:
        d = json.loads(text)
    except ValueError:
        d = None
    if not isinstance(d, dict) or not isinstance(d.get("model"), str):
        raise UserError(f"Could not read that recipe; it looks like {EXAMPLE}.")
    return d


def _number(value):
    """Text that reads as a number (an API client's "inf", "3") is that number, so the refusal
    shows the number; other text is left for the check to refuse by name."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _numbers(what: str, seq) -> list:
    if seq is None:
        return []
    if isinstance(seq, (str, bytes, dict)) or not hasattr(seq, "__iter__"):
        raise UserError(f"{what} must be a list of numbers, got {type(seq).__name__}.")
    return [_number(v) for v in seq]


def parse_recipe(raw: Mapping, model: LoadedModel, directions) -> Recipe:
    """The one check of a recipe's raw values for `model` (whose slider `directions` are given; None will do
    for a recipe without sliders, direction or names): a typed Recipe, or a UserError naming the first bad value."""
    if not isinstance(raw, Mapping):
        raise UserError(f"A recipe is a set of named values, like {EXAMPLE}")
    seed = check_seed(_number(raw.get("seed") if raw.get("seed") is not None else 0))
    temperature = check_number("Temperature", _number(raw.get("temperature", 1.0)), *TEMPERATURE)
    sliders = tuple(check_number(f"Slider {i + 1}", v, *SLIDER) for i, v in enumerate(_numbers("Sliders", raw.get("sliders"))))
    direction = raw.get("direction") or ""
    if not isinstance(direction, str):
        raise UserError("A direction must be text (its name in the list).")
    amount = check_number("Amount", _number(raw.get("amount") or 0.0), *AMOUNT)
    base = [check_number(f"Base latent value {i + 1}", v, -MAX_LATENT, MAX_LATENT)
            for i, v in enumerate(_numbers("The base latent", raw.get("base")))]
    base = tuple(float(v) for v in model.check_one_latent(base, "The base latent")) if base else ()
    cls = raw.get("class", raw.get("cls"))
    cls = model.check_class(cls if cls != "" else None)          # a whole number as such: "3" and 3.0 are refused
    if sliders and len(sliders) > len(directions.basis):
        raise UserError(f"{model.name} has {len(directions.basis)} slider directions, got {len(sliders)} values.")
    if direction:
        directions.info(direction)            # unknown, or one that does not work: refused by name
    return Recipe(model.name, seed, temperature, sliders, direction, amount, base, cls, _names(raw.get("names"), directions),
                  _layers(raw.get("layers"), model, directions))


def _layers(raw, model: LoadedModel, directions) -> tuple[str, ...]:
    """The layers each slider moves: "all", or a range the model's family has ("coarse", "middle", "fine"),
    one per slider at most; trailing "all" dropped. Only a model with layers takes any."""
    if raw is None or raw == []:
        return ()
    groups = model.family.layer_groups()
    if not groups:
        raise UserError(f"{model.name} has no layers to choose from: its sliders move the whole latent.")
    if isinstance(raw, (str, bytes, dict)) or not hasattr(raw, "__iter__"):
        raise UserError("Slider layers must be a list, one per slider: " + ", ".join((ALL_LAYERS, *groups)) + ".")
    out = list(raw)
    if len(out) > len(directions.basis):
        raise UserError(f"{len(directions.basis)} sliders can take {len(directions.basis)} layer choices, got {len(out)}.")
    for i, name in enumerate(out):
        if not isinstance(name, str) or name not in (ALL_LAYERS, *groups):
            raise UserError(f"The layers of slider {i + 1} must be one of {', '.join((ALL_LAYERS, *groups))}, "
                            f"got {str(name)[:30]!r}.")
    while out and out[-1] == ALL_LAYERS:
        out.pop()
    return tuple(out)


def _names(raw, directions) -> tuple[str, ...]:
    """A presenter's slider names: a list of text, one per slider at most, each one line of MAX_NAME
    characters at most (longer is refused, not cut); trailing empty names dropped."""
    if raw is None:
        return ()
    if isinstance(raw, (str, bytes, dict)) or not hasattr(raw, "__iter__"):
        raise UserError("Slider names must be a list of text, one per slider.")
    names = list(raw)
    if names and len(names) > len(directions.basis):
        raise UserError(f"{len(directions.basis)} sliders can take {len(directions.basis)} names, got {len(names)}.")
    for i, n in enumerate(names):
        if not isinstance(n, str):
            raise UserError(f"The name of slider {i + 1} must be text.")
    out = tidy_names(names)
    for i, n in enumerate(out):
        if len(n) > MAX_NAME:
            raise UserError(f"The name of slider {i + 1} is {len(n)} characters; at most {MAX_NAME} fit.")
    return tuple(out)
