"""argparse types for numbers on the command lines: the range is checked by core/validation.py,
so `--batch-size 1e7` or `--latent-dim 0` is refused with the allowed range named (house rule 5)."""
from __future__ import annotations

import argparse

from explorer.core.validation import UserError, check_int, check_number


def whole(name: str, lo: int, hi: int):
    """A whole number in [lo, hi] (1e3 is 1000; 2.5 is refused)."""
    def parse(text):
        try:
            return check_int(name, text, lo, hi)
        except UserError as exc:
            raise argparse.ArgumentTypeError(str(exc).removeprefix(name + " ")) from None
    return parse


def number(name: str, lo: float, hi: float):
    """A finite number in [lo, hi]."""
    def parse(text):
        try:
            return check_number(name, text, lo, hi)
        except UserError as exc:
            raise argparse.ArgumentTypeError(str(exc).removeprefix(name + " ")) from None
    return parse
