"""The shipped colourful dataset: Twemoji at 64x64 RGB, from npm's emoji-datasource-twitter 16.0.0,
with each emoji's Unicode category as its class.

The package (iamcal/emoji-data, MIT) holds `emoji.json` (name, category, skin-tone variations, image
file of each emoji) and `img/twitter/64/*.png`, 3 786 transparent 64x64 pictures. This module reads
them from the package's .tgz or an unpacked folder, never from the network (fetching the package is
the command line's job: explorer/cli/prepare_emoji.py). Members are read from the archive in memory,
never extracted, so a crafted archive cannot write anywhere.

Classes: the nine categories in Unicode's order. "Component" (the five skin-tone swatches: colour
samples, not pictures of anything) is left out and counted in the metadata. A skin-tone variation
belongs to its emoji's category and to its emoji's group, so the held-out split never has one tone
of an emoji in training and another in the test split.

The Twemoji graphics are licensed CC-BY 4.0: ATTRIBUTION goes with the dataset, its models and cards.
"""
from __future__ import annotations

import io
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

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


class _Package:
    """Files of the package by their path inside it ("emoji.json", "img/twitter/64/1f600.png"). An archive
    is read in one pass (a gzip stream cannot seek back cheaply), keeping only the files used here."""

    def __init__(self, source: Path):
        self.source = source
        self.files: dict[str, bytes] | None = None
        if source.is_dir():
            self.root = source / "package" if (source / "package" / "emoji.json").is_file() else source
        elif source.is_file():
            self.files = {}
            try:
                with tarfile.open(source, "r|*") as tar:
                    for m in tar:
                        path = m.name.split("/", 1)[1] if "/" in m.name else m.name
                        if m.isfile() and (path in ("package.json", "emoji.json") or path.startswith(IMAGE_DIR)):
                            self.files[path] = tar.extractfile(m).read()
            except (tarfile.TarError, OSError, EOFError) as exc:
                raise NotTheEmojiPackage(f"{source} is not a readable .tgz archive ({exc}).") from None
        else:
            raise NotTheEmojiPackage(f"{source} does not exist.")

    def read(self, path: str) -> bytes | None:
        if self.files is not None:
            return self.files.get(path)
        p = self.root / path
        return p.read_bytes() if p.is_file() else None


def _json(pkg: _Package, path: str):
    raw = pkg.read(path)
    if raw is None:
        raise NotTheEmojiPackage(f"{pkg.source} has no {path}: it is not the {PACKAGE} package.")
    try:
        return json.loads(raw)
    except ValueError:
        raise NotTheEmojiPackage(f"{pkg.source}: {path} is not valid JSON.") from None


def read_emoji_package(source: str | Path, progress: bool = True) -> EmojiSet:
    """Every Twemoji picture of the package at `source` (.tgz or folder) with its category."""
    from PIL import Image
    from tqdm import tqdm

    from explorer.core.data.folder import flatten_on_white

    pkg = _Package(Path(source))
    info = _json(pkg, "package.json")
    if not isinstance(info, dict) or info.get("name") != PACKAGE:
        raise NotTheEmojiPackage(f"{source} holds {info.get('name') if isinstance(info, dict) else '?'!r}, "
                                 f"not {PACKAGE}.")
    entries = _json(pkg, "emoji.json")
    if not isinstance(entries, list):
        raise NotTheEmojiPackage(f"{source}: emoji.json is not a list of emoji.")
    todo = []                                   # (image file, category, group, short name)
    for group, e in enumerate(sorted(entries, key=lambda e: e.get("sort_order", 0) if isinstance(e, dict) else 0)):
        if not isinstance(e, dict) or not isinstance(e.get("category"), str):
            continue
        variants = [(e.get("image"), e.get("has_img_twitter"), e.get("short_name"))]
        for tone, v in (e.get("skin_variations") or {}).items():
            if isinstance(v, dict):
                variants.append((v.get("image"), v.get("has_img_twitter"), f"{e.get('short_name')}::{tone}"))
        todo += [(img, e["category"], group, str(name)) for img, has, name in variants
                 if isinstance(img, str) and has]
    extra = sorted({c for _, c, _, _ in todo} - set(CATEGORIES) - set(LEFT_OUT))
    class_names = list(CATEGORIES) + extra      # a later package's new category becomes one more class
    left_out = {c: sum(1 for t in todo if t[1] == c) for c in LEFT_OUT}
    todo = [t for t in todo if t[1] not in LEFT_OUT]
    images = np.zeros((len(todo), 3, SIZE, SIZE), np.uint8)
    labels, groups, names, missing = [], [], [], []
    n = 0
    for img, cat, group, name in tqdm(todo, desc="decoding emoji", unit="picture", disable=None if progress else True):
        raw = pkg.read(IMAGE_DIR + img)
        try:
            with Image.open(io.BytesIO(raw)) as im:
                im = flatten_on_white(im).convert("RGB")
                if im.size != (SIZE, SIZE):
                    im = im.resize((SIZE, SIZE), Image.Resampling.LANCZOS)
                images[n] = np.asarray(im, dtype=np.uint8).transpose(2, 0, 1)    # (H, W, 3) -> (3, H, W)
        except Exception:   # noqa: BLE001 - absent (raw is None) or not a picture PIL can read
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
