"""Temperature: how far from the latent space's centre the Explore picture's starting point is put (the seed's
noise, or a base latent, times the temperature), and the range of it the Explore tab offers, per model family.

At the centre itself random points never land, and what a model draws there depends on the family: the
shipped Fashion DCGAN draws an empty black square at 0 (mean 0.5/255) and a faint ghost at 0.1 (contrast 9/255
for some seeds), readable pictures from 0.3 on; a VAE draws its blurry average picture at 0, still a
picture. So each family says the lowest value worth offering; measured on every shipped model by
tests/test_temperature.py (mean and contrast at the lowest value). A recipe (a link, the API) may say any
value in RECIPE_RANGE; the Explore tab keeps its slider, and the values typed into it, in the family's range.

Each model family says its range, the slider's step and its plain words (`Family.temperature`,
explorer/core/families), so a family with a different knob (a style-based GAN's truncation ψ) says its own
name and words: the DCGAN's lowest is 0.3 (0: a black square; 0.1: a faint ghost), a VAE's 0 (the decoder's
average picture, blurry but a picture), a style-based GAN's ψ 0 (the average w's picture), an ONNX
decoder's 0.3 (like a GAN's: what it draws at the centre is not known).
"""
from __future__ import annotations

from explorer.core.families.temperature import TemperatureScale

RECIPE_RANGE = (0.0, 3.0)      # what a recipe may say: 0 = the centre, 3 = far out


def temperature_scale(family) -> TemperatureScale:
    """The temperature range and words the Explore tab offers for a model of this family (a Family or its class):
    the family says it (`Family.temperature`)."""
    return family.temperature
