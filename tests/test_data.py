import numpy as np
import pytest
import torch

from explorer.core.data import (
    CLASS_NAMES,
    TOY_NAMES,
    DataNotFound,
    load_dataset,
    load_image_folder,
    mode_coverage,
    modes,
    sample_toy,
    to_uint8,
)
from explorer.core.data import datasets as ds_mod
from explorer.core.imaging import image_grid
from explorer.core.validation import UserError


def test_embedded_fashion_mnist_is_the_last_resort(monkeypatch, tmp_path):
    monkeypatch.setattr(ds_mod, "SYSTEM_ROOT", tmp_path / "none")
    monkeypatch.delenv("EXPLORER_DATA", raising=False)
    d = load_dataset("fashion-mnist", "test")
    assert d.images.shape == (10000, 1, 28, 28) and d.images.dtype == torch.uint8
    assert d.source.startswith("embedded") and d.class_names[9] == "Ankle boot"
    with pytest.raises(DataNotFound, match="dataset-fashion-mnist"):
        load_dataset("fashion-mnist", "train")


def test_search_order_data_dir_then_env(monkeypatch, tmp_path):
    import shutil
    a, b = tmp_path / "a", tmp_path / "b" / "fashion-mnist"
    for d in (a, b):
        d.mkdir(parents=True)
        for f in ds_mod.EMBEDDED_DIR.glob("t10k-*"):
            shutil.copy(f, d)
    monkeypatch.setenv("EXPLORER_DATA", str(tmp_path / "b"))
    assert load_dataset("fashion-mnist", "test").source.startswith("EXPLORER_DATA")
    assert load_dataset("fashion-mnist", "test", data_dir=a).source.startswith("--data-dir")


def test_mnist_has_no_embedded_copy(monkeypatch, tmp_path):
    monkeypatch.setattr(ds_mod, "SYSTEM_ROOT", tmp_path)
    monkeypatch.delenv("EXPLORER_DATA", raising=False)
    with pytest.raises(DataNotFound, match="mnist"):
        load_dataset("mnist", "test")


def test_digits(digits):
    assert digits.images.shape[1:] == (1, 28, 28) and len(digits) == 1497
    assert digits.class_names == CLASS_NAMES["digits"]


def test_image_folder_skips_bad_files(tmp_path):
    from PIL import Image
    (tmp_path / "cats").mkdir()
    (tmp_path / "dogs").mkdir()
    Image.fromarray(np.full((40, 30, 3), 200, np.uint8)).save(tmp_path / "cats" / "a.png")
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(tmp_path / "dogs" / "b.jpg")
    (tmp_path / "dogs" / "broken.png").write_bytes(b"not an image")
    ds, skipped = load_image_folder(tmp_path, image_size=28, channels=1)
    assert ds.images.shape == (2, 1, 28, 28)
    assert ds.class_names == ["cats", "dogs"] and ds.labels.tolist() == [0, 1]
    assert len(skipped) == 1 and "broken.png" in skipped[0]
    rgb, _ = load_image_folder(tmp_path, image_size=16, channels=3)
    assert rgb.images.shape == (2, 3, 16, 16)


def test_image_folder_with_nothing_readable(tmp_path):
    (tmp_path / "x.png").write_bytes(b"junk")
    with pytest.raises(UserError, match="No readable images"):
        load_image_folder(tmp_path)


@pytest.mark.parametrize("name", TOY_NAMES)
def test_toy_distributions_reproducible(name):
    a = sample_toy(name, 500, torch.Generator().manual_seed(1))
    b = sample_toy(name, 500, torch.Generator().manual_seed(1))
    assert a.shape == (500, 2) and torch.equal(a, b) and a.abs().max() < 4


def test_mode_coverage_sees_collapse():
    g = torch.Generator().manual_seed(0)
    assert mode_coverage("ring", sample_toy("ring", 2000, g)) == (8, 8)
    collapsed = modes("ring")[0] + 0.02 * torch.randn(2000, 2, generator=g)
    assert mode_coverage("ring", collapsed) == (1, 8)
    assert mode_coverage("spiral", collapsed) is None
    assert mode_coverage("grid", sample_toy("grid", 5000, g)) == (25, 25)


def test_image_grid_shape():
    g = image_grid(torch.zeros(10, 1, 28, 28, dtype=torch.uint8), nrow=5, pad=2)
    assert g.shape == (2 * 30 + 2, 5 * 30 + 2)


def test_float_pictures_are_refused_where_they_would_come_out_black():
    """Pictures in 0-1 cast to uint8 are 0 and 1: every picture helper takes uint8 only, and says so."""
    from explorer.core.imaging import gif_bytes, png_bytes, save_png
    floats = torch.rand(4, 3, 8, 8)
    with pytest.raises(TypeError, match="image_grid takes uint8 pictures .*got torch.float32.*to_uint8"):
        image_grid(floats)
    with pytest.raises(TypeError, match="png_bytes takes uint8"):
        png_bytes(floats[0].permute(1, 2, 0).numpy())
    with pytest.raises(TypeError, match="save_png takes uint8"):
        save_png(floats[0, 0].numpy(), "never-written.png")
    with pytest.raises(TypeError, match="gif_bytes takes uint8"):
        gif_bytes(floats.permute(0, 2, 3, 1).numpy())
    assert image_grid(to_uint8(floats)).max() > 1            # converted first: the picture itself
