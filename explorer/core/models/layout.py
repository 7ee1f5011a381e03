"""How a convolutional model's blocks are laid out for its picture size.

Two layouts, chosen by a config field `layout`:

  classic  the 28-px layout every model here started with: the picture is halved twice (two
           stride-2 stages), so a generator starts at image_size/4 (7x7 for 28 px) and upsamples
           twice. Kept exactly as it was: the shipped 28-px files load and draw the same pictures.
  grow     the DCGAN paper's layout (Radford et al. 2015, fig. 1: 4x4 -> 8 -> 16 -> 32 -> 64): a
           4x4 start and one x2 block per doubling, so a 64-px model has four blocks and a 128-px
           one five; channels halve at each block on the way up and double on the way down
           (discriminator, encoders, classifier mirror the generator).

"auto" (the default of every config) picks grow for a power-of-two size (8, 16, 32, 64, 128,
256) and classic otherwise (28). A checkpoint written before layouts existed has no `layout`
in its config and is read as classic (models/__init__.py, `config_from_checkpoint`).
"""
from __future__ import annotations

from explorer.core.models.limits import IMAGE
from explorer.core.validation import UserError, check_choice

LAYOUTS = ("classic", "grow")
START = 4                      # the grow layout's first feature map is START x START


def doublings(image_size: int) -> int | None:
    """n when image_size = 4 * 2**n with n >= 1 (8 -> 1, 64 -> 4), else None."""
    n, side = 0, image_size
    while side > START and side % 2 == 0:
        side, n = side // 2, n + 1
    return n if side == START and n >= 1 else None


def resolve_layout(layout: str, image_size: int) -> str:
    """The concrete layout for a config: "auto" resolved by size; a size the layout cannot build
    is a UserError naming the sizes it can."""
    check_choice("layout", layout, ("auto",) + LAYOUTS)
    if layout == "auto":
        layout = "grow" if doublings(image_size) else "classic"
    if layout == "grow" and not doublings(image_size):
        sizes = ", ".join(str(START * 2 ** n) for n in range(1, 7) if START * 2 ** n <= IMAGE[1])
        raise UserError(f"image_size must be one of {sizes} for the grow layout, got {image_size}.")
    if layout == "classic" and image_size % 4:
        raise UserError(f"image_size must be a multiple of 4 between {IMAGE[0]} and {IMAGE[1]}, got {image_size}.")
    return layout


def stages(layout: str, image_size: int) -> int:
    """How many x2 stages lie between the picture and the smallest feature map (classic: 2)."""
    return doublings(image_size) if layout == "grow" else 2


def smallest_side(layout: str, image_size: int) -> int:
    """The side of the smallest feature map: 4 (grow), image_size / 4 (classic: 7 for 28 px)."""
    return START if layout == "grow" else image_size // 4
