"""Hostile packages and folders for `python -m explorer.prepare`: only what emoji.json names is read,
each file within its cap and the archive within its unpacked size; pictures keep /encode's limits;
a malformed emoji.json is refused in words (exit code 2, no traceback)."""
from __future__ import annotations

import io
import json
import tarfile
import tracemalloc

import numpy as np
import pytest
from PIL import Image

from explorer.cli import prepare_data
from explorer.core.data import archive, load_image_folder
from explorer.core.data.emoji import CATEGORIES, IMAGE_DIR, NotTheEmojiPackage, read_emoji_package
from tests.test_picture import huge_png


class Zeros(io.RawIOBase):
    """`size` zero bytes, handed out as they are asked for (never all in memory)."""

    def __init__(self, size: int):
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = min(len(b), self.left)
        b[:n] = bytes(n)
        self.left -= n
        return n


def png(colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), colour).save(out, "PNG")
    return out.getvalue()


def package_tgz(path, members: list[tuple[str, object]]) -> str:
    """A .tgz like npm's (everything under package/): (path, bytes or a number of zero bytes), in order."""
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for name, content in members:
            info = tarfile.TarInfo("package/" + name)
            if isinstance(content, int):
                info.size = content
                tar.addfile(info, io.BufferedReader(Zeros(content)))
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return str(path)


PACKAGE_JSON = json.dumps({"name": "emoji-datasource-twitter", "version": "16.0.0"}).encode()


def emoji_json(images) -> bytes:
    return json.dumps([{"short_name": f"e{i}", "image": img, "category": CATEGORIES[i % 2], "sort_order": i,
                        "has_img_twitter": True} for i, img in enumerate(images)]).encode()


def test_only_the_pictures_emoji_json_names_are_read_each_within_its_cap(tmp_path):
    tgz = package_tgz(tmp_path / "bomb.tgz", [
        ("package.json", PACKAGE_JSON),
        ("emoji.json", emoji_json(["a.png", "b.png", "big.png", "../../a.png"])),
        (IMAGE_DIR + "a.png", png()), (IMAGE_DIR + "b.png", png((30, 30, 200))),
        (IMAGE_DIR + "big.png", 3 * 2**20),                  # named, but over the 1 MB a picture may take
        (IMAGE_DIR + "zeros.png", 100 * 2**20)])             # named nowhere: a gzip bomb under the picture folder
    tracemalloc.start()
    try:
        em = read_emoji_package(tgz, progress=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20, f"{peak / 2**20:.0f} MB held at once"
    assert em.names == ["e0", "e1"] and em.images.shape == (2, 3, 64, 64)
    assert em.left_out["missing or unreadable picture files"] == 2         # big.png and the path out of the folder


def test_an_archive_is_unpacked_only_so_far(tmp_path, monkeypatch):
    monkeypatch.setattr(archive, "MAX_ARCHIVE_BYTES", 8 * 2**20)
    tgz = package_tgz(tmp_path / "deep.tgz", [("README.md", 20 * 2**20), ("package.json", PACKAGE_JSON),
                                              ("emoji.json", emoji_json(["a.png"])), (IMAGE_DIR + "a.png", png())])
    with pytest.raises(NotTheEmojiPackage, match="unpacks to more than 8 MB"):
        read_emoji_package(tgz, progress=False)


@pytest.mark.parametrize("emoji, words", [
    (b"[" * 100_000 + b"]" * 100_000, "nests its values too deeply"),
    (emoji_json(["a.png"] * 20_000), "emoji.json lists 20,000 emoji; at most 10,000 are read"),
    (b'[{"category": "Flags", "image": "a.png", "has_img_twitter": true, "sort_order": "x", "skin_variations": [1]},'
     b' {"category": "Flags", "image": "a.png", "has_img_twitter": true, "sort_order": 1e999}]', None),
], ids=["100 000 deep", "20 000 emoji", "odd values"])
def test_a_malformed_emoji_json_is_refused_in_words(tmp_path, capsys, emoji, words):
    tgz = package_tgz(tmp_path / "odd.tgz", [("package.json", PACKAGE_JSON), ("emoji.json", emoji),
                                             (IMAGE_DIR + "a.png", png())])
    code = prepare_data.main(["emoji", tgz, "--data-dir", str(tmp_path / "data")])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if words is None:                                    # odd values where numbers and tones go: read past
        assert code == 0, err
    else:
        assert code == 2 and err.startswith("error: ") and words in err, err


def test_a_folders_pictures_keep_the_limits_of_a_picture_sent_to_encode(tmp_path):
    folder = tmp_path / "pictures"
    folder.mkdir()
    (folder / "a-bomb.png").write_bytes(huge_png(9000, 9000))
    Image.fromarray(np.full((16, 16), 200, np.uint8)).save(folder / "b.png")
    ds, skipped = load_image_folder(folder, 16, 1, cache_dir=tmp_path / "cache", progress=False)
    assert len(ds) == 1
    assert len(skipped) == 1 and skipped[0].startswith("a-bomb.png") and "81 million pixels; the limit is 50 million" in skipped[0]
