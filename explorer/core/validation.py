"""One user-error base class and one range checker for every value that comes from outside.

`UserError` is what a person can fix (a bad slider value, an unknown model, a broken file); the
UI and the API show its message as it is. Anything else is a bug: logged with its traceback and
shown as "internal error, logged". Only the edges catch: the API's guard, the UI's handler
decorator and each command line's `main`. Messages name the parameter, the allowed range and what was
given (house rule 5), and nothing is silently "fixed".
"""
from __future__ import annotations

import errno
import math
import numbers

MAX_SEED = 2**31 - 1        # numpy and torch generators both take seeds up to this


class UserError(Exception):
    """Bad input from a person or a file; the message is for them, in one or two sentences.

    Deliberately not a ValueError: an `except ValueError` meant for a conversion must never also
    swallow a user error, and an `except UserError` at an edge must never swallow a bug."""


def _shown(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "…"


def check_number(name: str, value, lo: float, hi: float) -> float:
    """`value` as a finite float in [lo, hi], or UserError naming `name`, the range and the value."""
    if isinstance(value, bool):
        raise UserError(f"{name} must be a number between {lo:g} and {hi:g}, got {_shown(value)}.")
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        raise UserError(f"{name} must be a number between {lo:g} and {hi:g}, got {_shown(value)}.") from None
    if math.isnan(x):
        raise UserError(f"{name} must be a number between {lo:g} and {hi:g}, got NaN.")
    if not lo <= x <= hi:
        raise UserError(f"{name} must be between {lo:g} and {hi:g}, got {_shown(value)}.")
    return x


def check_int(name: str, value, lo: int, hi: int) -> int:
    """`value` as a whole number in [lo, hi] (2.0 is fine, 2.7 is refused), or UserError."""
    if isinstance(value, bool):
        raise UserError(f"{name} must be a whole number between {lo} and {hi}, got {_shown(value)}.")
    if isinstance(value, int):
        x = value
    else:
        try:
            f = float(value)
        except (TypeError, ValueError, OverflowError):
            raise UserError(f"{name} must be a whole number between {lo} and {hi}, got {_shown(value)}.") from None
        if math.isnan(f) or math.isinf(f) or f != int(f):
            raise UserError(f"{name} must be a whole number between {lo} and {hi}, got {_shown(value)}.")
        x = int(f)
    if not lo <= x <= hi:
        raise UserError(f"{name} must be between {lo} and {hi}, got {_shown(value)}.")
    return x


def check_index(name: str, value, lo: int, hi: int) -> int:
    """`value` as an index in [lo, hi], given as a whole number itself (JSON's 3, a NumPy integer), never
    as text ("3", "-0", the full-width "８") or a decimal (8.0), or UserError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        shown = repr(value) if isinstance(value, float) else _shown(value)
        raise UserError(f"{name} must be a whole number between {lo} and {hi}, got {shown}: write it as a number "
                        f"(3, not \"3\" or 3.0).")
    return check_int(name, int(value), lo, hi)


def check_seed(value, name: str = "Seed") -> int:
    return check_int(name, value, 0, MAX_SEED)


def check_flag(name: str, value) -> bool:
    """A yes/no setting: True or False only ("yes", 1 and None are refused, not guessed at)."""
    if not isinstance(value, bool):
        raise UserError(f"{name} must be true or false, got {_shown(value)}.")
    return value


def check_choice(name: str, value, choices) -> str:
    if value not in choices:
        raise UserError(f"{name} must be one of {', '.join(map(str, choices))}; got {_shown(value)}.")
    return value


def check_whole(name: str, value, lo: int, hi: int) -> int:
    """A setting that must be an int already (a model's size in its config): 64.0, "64" and True
    are refused, not converted, so a damaged or hand-edited file says what is wrong."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise UserError(f"{name} must be a whole number between {lo} and {hi}, got {_shown(value)}"
                        f" ({type(value).__name__}).")
    if not lo <= value <= hi:
        raise UserError(f"{name} must be between {lo} and {hi}, got {_shown(value)}.")
    return value


_OS_WORDS = {errno.EROFS: "the folder is on a read-only file system", errno.EACCES: "no permission to write there",
             errno.EPERM: "no permission to write there", errno.ENOSPC: "the disk is full",
             errno.EDQUOT: "the disk quota is used up", errno.ENOENT: "the folder does not exist",
             errno.ENOTDIR: "part of the path is a file, not a folder", errno.EISDIR: "that is a folder, not a file"}


def os_error_words(exc: OSError) -> str:
    """Why a file could not be written, in words ("the disk is full"), not "[Errno 28] …"."""
    return _OS_WORDS.get(exc.errno) or (exc.strerror or type(exc).__name__).lower()
