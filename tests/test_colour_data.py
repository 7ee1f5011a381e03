"""Colour data: the image-folder cache, prepared datasets, the emoji package (a tiny fake one made
here: tests never use the network) and the command lines that train on them."""
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.cli import prepare_data
from explorer.cli.train import main as train_main
from explorer.core.checkpoints import read_metadata
from explorer.core.data import DataNotFound, folder as folder_mod, guess_picture_shape, list_prepared, load_dataset
from explorer.core.data.emoji import CATEGORIES, NotTheEmojiPackage
from explorer.core.data.prepared import split_indices
from explorer.core.validation import UserError

RED, BLUE = (220, 30, 30), (30, 60, 220)


def picture(path, colour, size=16, alpha=255, mode="RGBA"):
    a = np.zeros((size, size, 4), np.uint8)
    a[...] = (*colour, 0)                             # transparent everywhere...
    a[size // 4: 3 * size // 4, size // 4: 3 * size // 4, 3] = alpha   # ...but a square in the middle
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(a, "RGBA").convert(mode).save(path)


@pytest.fixture
def colour_folder(tmp_path):
    root = tmp_path / "pictures"
    for i in range(3):
        picture(root / "red" / f"r{i}.png", RED)
        picture(root / "blue" / f"b{i}.png", BLUE)
    (root / "blue" / "broken.png").write_bytes(b"not a picture")
    return root


def test_a_folder_is_decoded_once_into_a_cache_and_reused_until_it_changes(colour_folder, tmp_path, monkeypatch):
    calls = []
    real = folder_mod.load_picture
    monkeypatch.setattr(folder_mod, "load_picture", lambda *a: calls.append(a) or real(*a))
    cache = tmp_path / "cache"
    ds, skipped = folder_mod.load_image_folder(colour_folder, 16, 3, cache_dir=cache)
    assert ds.images.shape == (6, 3, 16, 16) and ds.images.dtype == torch.uint8
    assert ds.class_names == ["blue", "red"] and ds.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert len(skipped) == 1 and "broken.png" in skipped[0] and len(calls) == 7
    corner, centre = ds.images[3, :, 0, 0].tolist(), ds.images[3, :, 8, 8].tolist()
    assert corner == [255, 255, 255] and centre == list(RED)          # transparency composited on white
    again, skipped_again = folder_mod.load_image_folder(colour_folder, 16, 3, cache_dir=cache)
    assert len(calls) == 7 and skipped_again == skipped                # nothing decoded the second time
    assert torch.equal(again.images, ds.images) and len(list(cache.glob("*.npy"))) == 1
    picture(colour_folder / "red" / "r9.png", RED)                    # the folder changes: decoded again
    grown, _ = folder_mod.load_image_folder(colour_folder, 16, 3, cache_dir=cache)
    assert len(grown) == 7 and len(calls) == 15 and len(list(cache.glob("*.npy"))) == 1   # stale cache removed
    grey, _ = folder_mod.load_image_folder(colour_folder, 8, 1, cache_dir=cache)           # another size: its own
    assert grey.images.shape == (7, 1, 8, 8) and len(list(cache.glob("*.npy"))) == 2


@pytest.mark.skipif(not Path("/proc/self/maps").is_file(), reason="reads Linux's /proc/self/maps")
def test_the_folder_cache_is_memory_mapped_from_disk(colour_folder, tmp_path):
    ds, _ = folder_mod.load_image_folder(colour_folder, 16, 3, cache_dir=tmp_path / "cache")
    (npy,) = (tmp_path / "cache").glob("*.npy")
    spans = [[int(a, 16) for a in line.split()[0].split("-")]
             for line in Path("/proc/self/maps").read_text().splitlines() if line.endswith(str(npy.resolve()))]
    ptr = ds.images.data_ptr()
    assert any(lo <= ptr < hi for lo, hi in spans)                      # the pictures are the file's pages
    assert np.array_equal(np.load(npy)[:len(ds)], ds.images.numpy())
    # a 200 000-picture set is never gathered in memory: the decoder writes rows into the mapped file
    assert "open_memmap" in folder_mod._decode_into_cache.__code__.co_names


def test_guessing_a_folders_picture_shape(tmp_path):
    picture(tmp_path / "a" / "x.png", RED, size=32)
    picture(tmp_path / "b" / "x.png", RED, size=32, mode="LA")
    Image.new("RGB", (40, 30)).save(tmp_path / "c.png")
    assert guess_picture_shape(tmp_path / "a") == (32, 3)
    assert guess_picture_shape(tmp_path / "b") == (32, 1)
    (tmp_path / "d").mkdir()
    Image.new("RGB", (40, 30)).save(tmp_path / "d" / "c.png")
    assert guess_picture_shape(tmp_path / "d") == (64, 3)


def test_a_held_out_split_is_stratified_seeded_and_keeps_groups_together():
    labels = np.array([0] * 50 + [1] * 10)
    groups = np.arange(60) // 5                               # ten groups of five near-copies
    train, test = split_indices(labels, 0.2, 0, groups)
    assert len(set(train) | set(test)) == 60 and not set(train) & set(test)
    assert (labels[test] == 0).sum() == 10 and (labels[test] == 1).sum() == 5
    assert not set(groups[train]) & set(groups[test])
    again = split_indices(labels, 0.2, 0, groups)
    assert np.array_equal(again[1], test)


def fake_emoji_package(root, name="emoji-datasource-twitter", n=12):
    """A package folder like npm's: package.json, emoji.json, img/twitter/64/*.png (16 px here)."""
    pkg = root / "package"
    cats = list(CATEGORIES[:3]) + ["Component"]
    entries = []
    for i in range(n):
        cat = cats[i % 4]
        e = {"short_name": f"e{i}", "image": f"{i:04x}.png", "category": cat, "sort_order": i, "has_img_twitter": True}
        if i == 1:   # one emoji with skin tones: its tones stay together in one split
            e["skin_variations"] = {t: {"image": f"{i:04x}-{t}.png", "has_img_twitter": True} for t in ("1F3FB", "1F3FC")}
            for t in ("1F3FB", "1F3FC"):
                picture(pkg / "img" / "twitter" / "64" / f"{i:04x}-{t}.png", BLUE)
        entries.append(e)
        picture(pkg / "img" / "twitter" / "64" / f"{i:04x}.png", RED if i % 2 else BLUE, mode="P" if i == 2 else "RGBA")
    entries.append({"short_name": "gone", "image": "ffff.png", "category": cats[0], "sort_order": 99, "has_img_twitter": True})
    (pkg / "emoji.json").write_text(json.dumps(entries))
    (pkg / "package.json").write_text(json.dumps({"name": name, "version": "16.0.0"}))
    tgz = root / "package.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        tar.add(pkg, arcname="package")
    return pkg, tgz


def test_the_emoji_dataset_is_built_from_the_package_tgz_or_folder(tmp_path):
    pkg, tgz = fake_emoji_package(tmp_path)
    out = prepare_data.prepare_emoji(tgz, data_dir=tmp_path / "data", progress=False)
    train = load_dataset("emoji", "train", tmp_path / "data")
    test = load_dataset("emoji", "test", tmp_path / "data")
    assert train.images.shape[1:] == (3, 64, 64) and len(train) + len(test) == 11    # 14 pictures - 3 Component - 1 missing
    assert train.class_names == list(CATEGORIES) and "CC-BY 4.0" in train.attribution
    info = json.loads((out / "dataset.json").read_text())
    assert info["left_out"] == {"Component": 3, "missing or unreadable picture files": 1}
    names = info["names"]
    tones = [n for n in names["train"] + names["test"] if n.split("::")[0] == "e1"]
    assert len(tones) == 3 and (set(tones) <= set(names["train"]) or set(tones) <= set(names["test"]))
    assert train.images[0, :, 0, 0].tolist() == [255, 255, 255]                       # transparent -> white
    [info_listed] = list_prepared(tmp_path / "data")
    assert info_listed.name == "emoji" and info_listed.sizes == {"train": len(train), "test": len(test)}
    from_folder = prepare_data.prepare_emoji(pkg, data_dir=tmp_path / "data2", progress=False)
    assert np.array_equal(np.load(from_folder / "train-images.npy"), train.images.numpy())


def test_the_emoji_command_says_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(prepare_data.shutil, "which", lambda name: None)
    with pytest.raises(UserError, match=r"npm .* is not installed.*apt-get install npm.*\.tgz"):
        prepare_data.prepare_emoji(None, data_dir=tmp_path)
    _, other = fake_emoji_package(tmp_path / "other", name="left-pad")
    with pytest.raises(NotTheEmojiPackage, match="left-pad"):
        prepare_data.prepare_emoji(other, data_dir=tmp_path)
    with pytest.raises(DataNotFound, match="python -m explorer.prepare emoji"):
        load_dataset("emoji", "train", tmp_path / "empty")
    with pytest.raises(UserError, match="Unknown dataset 'emojis'"):
        load_dataset("emojis", "train", tmp_path / "empty")
    assert prepare_data.main(["emoji", str(tmp_path / "nothing.tgz"), "--data-dir", str(tmp_path)]) == 2


def test_a_colour_folder_trains_from_the_command_line_and_becomes_a_named_dataset(colour_folder, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("EXPLORER_DATA", raising=False)
    out = tmp_path / "gan.safetensors"
    assert train_main(["--model", "dcgan", "--image-folder", str(colour_folder), "--image-size", "16", "--channels", "3",
                       "--conditional", "--width", "4", "--d-width", "4", "--latent-dim", "4", "--batch-size", "4",
                       "--steps", "2", "--sample-every", "0", "--out", str(out)]) == 0
    meta = read_metadata(out)
    assert {k: meta["config"][k] for k in ("image_size", "channels", "layout", "num_classes")} == \
        {"image_size": 16, "channels": 3, "layout": "grow", "num_classes": 2}
    assert meta["training"]["diffaugment"] == "color,translation,cutout"                     # auto: a small set
    assert list((tmp_path / "xdg" / "latent-explorer" / "folders").glob("*.npy"))
    assert prepare_data.main(["folder", str(colour_folder), "--name", "mine", "--image-size", "16"]) == 0
    [mine] = list_prepared()
    assert (mine.name, mine.image_size, mine.channels, mine.class_names) == ("mine", 16, 3, ("blue", "red"))
    assert train_main(["--model", "vae", "--dataset", "mine", "--image-size", "8", "--channels", "1", "--width", "4",
                       "--latent-dim", "2", "--batch-size", "4", "--steps", "1", "--sample-every", "0", "--dry-run"]) == 0
    clf = tmp_path / "clf.safetensors"
    assert train_main(["--model", "classifier", "--dataset", "mine", "--width", "2", "--batch-size", "4", "--steps", "1",
                       "--out", str(clf)]) == 0
    assert read_metadata(clf)["config"]["num_classes"] == 2                     # one output per class of the data
    assert prepare_data.main(["folder", str(colour_folder), "--name", "digits"]) == 2
