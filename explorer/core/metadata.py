"""Typed views of a checkpoint's metadata, with one home for each default.

Metadata is JSON from a file that may come from anyone, so every field is type-checked and
length-limited when read (strings from it are still escaped wherever they are shown).
"""
from __future__ import annotations

from dataclasses import dataclass

MAX_TEXT = 200           # characters kept of a name read from a file
MAX_CLASSES = 1000


def _text(value, limit: int = MAX_TEXT) -> str:
    return value[:limit] if isinstance(value, str) else ""


@dataclass(frozen=True)
class DatasetInfo:
    """What a model was trained on: "fashion-mnist", "digits", "mnist", an image folder's name…"""
    name: str = ""
    split: str = ""
    size: int = 0
    class_names: tuple[str, ...] = ()

    @classmethod
    def from_meta(cls, meta: dict) -> "DatasetInfo":
        ds = meta.get("dataset") if isinstance(meta, dict) else None
        if not isinstance(ds, dict):
            return cls()
        names = ds.get("class_names")
        names = tuple(_text(n) for n in names[:MAX_CLASSES]) if isinstance(names, list) else ()
        size = ds.get("size")
        return cls(_text(ds.get("name")), _text(ds.get("split")), size if isinstance(size, int) and size >= 0 else 0, names)

    def to_dict(self) -> dict:
        return {"name": self.name, "split": self.split, "size": self.size, "class_names": list(self.class_names)}
