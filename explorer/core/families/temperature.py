"""What a model family's temperature slider offers: its range, step and plain words (explore/temperature.py
says why each family's lowest value is what it is)."""
from __future__ import annotations

from dataclasses import dataclass


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
