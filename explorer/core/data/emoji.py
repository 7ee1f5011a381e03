"""The shipped colourful dataset: Twemoji at 64x64 RGB, from npm's emoji-datasource-twitter 16.0.0,
with each emoji's Unicode category as its class.

The package (iamcal/emoji-data, MIT) holds `emoji.json` (name, category, skin-tone variations, image
file of each emoji) and `img/twitter/64/*.png`, 3 786 transparent 64x64 pictures. This module reads
them from the package's .tgz or an unpacked folder, never from the network (fetching the package is
the command line's job: explorer/cli/prepare_data.py). Only package.json, emoji.json and the pictures
emoji.json names are read, each within a size cap, the archive in memory and never extracted
(explorer/core/data/archive.py), and each picture is checked like a picture sent to /encode before
it is decoded.

Classes: the nine categories in Unicode's order. "Component" (the five skin-tone swatches: colour
samples, not pictures of anything) is left out and counted in the metadata. A skin-tone variation
belongs to its emoji's category and to its emoji's group, so the held-out split never has one tone
of an emoji in training and another in the test split.

The Twemoji graphics are licensed CC-BY 4.0: ATTRIBUTION goes with the dataset, its models and cards.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from explorer.core.data.archive import BadPackage, Package, TooLarge
from explorer.core.validation import UserError

PACKAGE = "emoji-datasource-twitter"
VERSION = "16.0.0"
SIZE = 64
IMAGE_DIR = "img/twitter/64/"
CATEGORIES = ("Smileys & Emotion", "People & Body", "Animals & Nature", "Food & Drink", "Travel & Places",
              "Activities", "Objects", "Symbols", "Flags")
LEFT_OUT = ("Component",)
TEST_FRACTION = 0.2          # of each category, whole emoji (all tones) at a time
SPLIT_SEED = 0
ATTRIBUTION = ("Emoji pictures: Twemoji, © Twitter, Inc and other contributors, licensed CC-BY 4.0 "
               "(https://creativecommons.org/licenses/by/4.0/; https://github.com/twitter/twemoji; these are "
               "the community fork's v16 graphics, https://github.com/jdecked/twemoji), as packaged in npm's "
               "emoji-datasource-twitter 16.0.0 (iamcal/emoji-data, MIT).")


class NotTheEmojiPackage(UserError):
    """The given file or folder is not (a readable copy of) emoji-datasource-twitter."""


@dataclass
class EmojiSet:
    images: np.ndarray                      # (N, 3, 64, 64) uint8, composited on white
    labels: np.ndarray                      # (N,) int64, index into class_names
    groups: np.ndarray                      # (N,) int64: one id per emoji, shared by its skin tones
    names: list[str]                        # short name of each picture ("grinning", "wave::skin-tone-2")
    class_names: list[str]
    version: str
    left_out: dict[str, int] = field(default_factory=dict)   # category -> pictures left out


MAX_JSON_BYTES = 16 * 2**20      # package.json, emoji.json (16.0.0's emoji.json: 1.3 MB)
MAX_PICTURE_BYTES = 2**20        # one picture file (16.0.0's largest 64-px picture: 7 kB)
MAX_PICTURES = 10_000            # pictures emoji.json may name (16.0.0: 3 786): 10 000 decoded are 123 MB
PICTURE_FILE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,127}$")     # a file name in IMAGE_DIR, no folders


def _read(fn, *args):
    """fn(*args), a package's refusal said as this package's."""
    try:
        return fn(*args)
    except BadPackage as exc:
        raise NotTheEmojiPackage(str(exc)) from None


def _json(source, files: dict, path: str):
    raw = files.get(path)
    if raw is None:
        raise NotTheEmojiPackage(f"{source} has no {path}: it is not the {PACKAGE} package.")
    if isinstance(raw, TooLarge):
        raise NotTheEmojiPackage(f"{source}: {path} is {raw.size / 2**20:.0f} MB; at most "
                                 f"{MAX_JSON_BYTES // 2**20} MB of it is read.")
    try:
        return json.loads(raw)
    except RecursionError:
        raise NotTheEmojiPackage(f"{source}: {path} nests its values too deeply to be {PACKAGE}'s.") from None
    except ValueError:
        raise NotTheEmojiPackage(f"{source}: {path} is not valid JSON.") from None


def _sort_order(e) -> float:
    """An entry's place (a number; anything else, or a number too large for a float, counts as 0)."""
    order = e.get("sort_order") if isinstance(e, dict) else None
    if not isinstance(order, (int, float)) or isinstance(order, bool):
        return 0.0
    try:
        order = float(order)
    except OverflowError:
        return 0.0
    return order if order == order else 0.0         # NaN


def read_emoji_package(source: str | Path, progress: bool = True) -> EmojiSet:
    """Every Twemoji picture of the package at `source` (.tgz or folder) with its category."""
    from tqdm import tqdm

    from explorer.core.data.folder import decode_picture

    pkg = _read(Package, Path(source))
    files = _read(pkg.read, ["package.json", "emoji.json"], MAX_JSON_BYTES)   # one pass for both
    info = _json(source, files, "package.json")
    if not isinstance(info, dict) or info.get("name") != PACKAGE:
        raise NotTheEmojiPackage(f"{source} holds {info.get('name') if isinstance(info, dict) else '?'!r}, "
                                 f"not {PACKAGE}.")
    entries = _json(source, files, "emoji.json")
    del files
    if not isinstance(entries, list):
        raise NotTheEmojiPackage(f"{source}: emoji.json is not a list of emoji.")
    if len(entries) > MAX_PICTURES:
        raise NotTheEmojiPackage(f"{source}: emoji.json lists {len(entries):,} emoji; at most {MAX_PICTURES:,} are "
                                 f"read ({PACKAGE} {VERSION} lists 1 911).")
    todo = []                                   # (image file, category, group, short name)
    for group, e in enumerate(sorted(entries, key=_sort_order)):
        if not isinstance(e, dict) or not isinstance(e.get("category"), str):
            continue
        variants = [(e.get("image"), e.get("has_img_twitter"), e.get("short_name"))]
        tones = e.get("skin_variations")
        for tone, v in (tones.items() if isinstance(tones, dict) else ()):
            if isinstance(v, dict):
                variants.append((v.get("image"), v.get("has_img_twitter"), f"{e.get('short_name')}::{tone}"))
        todo += [(img, e["category"], group, str(name)) for img, has, name in variants
                 if isinstance(img, str) and has]
        if len(todo) > MAX_PICTURES:
            raise NotTheEmojiPackage(f"{source}: emoji.json names more than {MAX_PICTURES:,} pictures; "
                                     f"{PACKAGE} {VERSION} names 3 786.")
    extra = sorted({c for _, c, _, _ in todo} - set(CATEGORIES) - set(LEFT_OUT))
    class_names = list(CATEGORIES) + extra      # a later package's new category becomes one more class
    left_out = {c: sum(1 for t in todo if t[1] == c) for c in LEFT_OUT}
    todo = [t for t in todo if t[1] not in LEFT_OUT]
    files = _read(pkg.read, {IMAGE_DIR + img for img, _, _, _ in todo if PICTURE_FILE.match(img)}, MAX_PICTURE_BYTES)
    images = np.zeros((len(todo), 3, SIZE, SIZE), np.uint8)
    labels, groups, names, missing = [], [], [], []
    n = 0
    for img, cat, group, name in tqdm(todo, desc="decoding emoji", unit="picture", disable=None if progress else True):
        raw = files.get(IMAGE_DIR + img)           # absent, or TooLarge: over its cap, never read whole
        try:
            if not isinstance(raw, bytes):
                raise UserError("absent or too large")
            images[n] = decode_picture(raw, SIZE, 3, fit=False)      # (3, 64, 64)
        except Exception:   # noqa: BLE001 - not a picture that can be decoded within the limits
            missing.append(img)
            continue
        labels.append(class_names.index(cat))
        groups.append(group)
        names.append(name)
        n += 1
    if not n:
        raise NotTheEmojiPackage(f"{source} has none of the pictures emoji.json names under {IMAGE_DIR}.")
    if missing:
        left_out["missing or unreadable picture files"] = len(missing)
    return EmojiSet(images[:n], np.array(labels, np.int64), np.array(groups, np.int64), names, class_names,
                    str(info.get("version", "?")), left_out)
