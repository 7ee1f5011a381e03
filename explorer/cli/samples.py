"""Sample grids written while training (the train and train-encoder command lines share it)."""
from __future__ import annotations

from pathlib import Path

from explorer.core.data import to_uint8
from explorer.core.imaging import image_grid, save_png


def write_samples(trainer, path: Path) -> None:
    """The trainer's fixed-noise samples as one PNG grid at `path` (nothing for 2-D toy points)."""
    x = trainer.samples()
    if x.dim() != 4:
        return  # 2-D toy points have no image grid
    path.parent.mkdir(parents=True, exist_ok=True)
    save_png(image_grid(to_uint8((x + 1) / 2), getattr(trainer, "grid_columns", None)), path)
