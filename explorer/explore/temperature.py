"""Temperature: how far from the latent space's centre the Explore picture's starting point is put (the seed's
noise, or a base latent, times the temperature), and the range of it the Explore tab offers, per model family.

At the centre itself random points never land, and what a model draws there depends on the family: the
shipped Fashion DCGAN draws an empty black square at 0 (mean 0.5/255) and a faint ghost at 0.1 (contrast 9/255
for some seeds), readable pictures from 0.3 on; a VAE draws its blurry average picture at 0, still a
picture. So each family says the lowest value worth offering; measured on every shipped model by
tests/test_temperature.py (mean and contrast at the lowest value). A recipe (a link, the API) may say any
value in RECIPE_RANGE; the Explore tab keeps its slider, and the values typed into it, in the family's range.

One function, `temperature_scale`, answers for a model family: its range, the slider's step and its plain
words, so a family with a different knob (a style-based GAN's truncation ψ) says its own name and words.
"""
from __future__ import annotations

from dataclasses import dataclass

RECIPE_RANGE = (0.0, 3.0)      # what a recipe may say: 0 = the centre, 3 = far out


@dataclass(frozen=True)
class TemperatureScale:
    """What the Explore tab offers for one model family's temperature."""
    lowest: float = 0.0            # the lowest value offered: the family's pictures there are still readable
    highest: float = 2.0           # the highest offered (a recipe may say up to RECIPE_RANGE[1])
    typical: float = 1.0           # a random picture as the model was trained to draw it
    step: float = 0.05
    name: str = "Temperature"
    words: str = "typical ↔ unusual"     # what low and high values draw, in plain words

    @property
    def label(self) -> str:
        return f"{self.name} · {self.words}"

    @property
    def range(self) -> tuple[float, float]:
        return self.lowest, self.highest


# family (a checkpoint's kind) -> its scale; a family not listed gets the default one
SCALES = {
    "dcgan": TemperatureScale(lowest=0.3),     # 0: a black square; 0.1: a faint ghost (see above)
    "vae": TemperatureScale(lowest=0.0),       # 0: the decoder's average picture, blurry but a picture
}


def temperature_scale(kind: str) -> TemperatureScale:
    """The temperature range and words the Explore tab offers for a model of family `kind`."""
    return SCALES.get(kind, TemperatureScale())
