import gzip
import struct

import numpy as np
import pytest

from explorer.core.data import IdxError, parse_idx, read_idx, read_idx_pair
from explorer.core.data.datasets import EMBEDDED_DIR


def idx_bytes(arr: np.ndarray, code: int = 0x08) -> bytes:
    return struct.pack(">HBB", 0, code, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.astype(">u1").tobytes()


def test_round_trip_raw_and_gzip(tmp_path):
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a-idx3-ubyte").write_bytes(idx_bytes(arr))
    (tmp_path / "a-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(arr)))
    np.testing.assert_array_equal(read_idx(tmp_path / "a-idx3-ubyte"), arr)
    np.testing.assert_array_equal(read_idx(tmp_path / "a-idx3-ubyte.gz"), arr)


def test_big_endian_int32():
    arr = np.array([1, -2, 70000], dtype=np.int32)
    raw = struct.pack(">HBB", 0, 0x0C, 1) + struct.pack(">I", 3) + arr.astype(">i4").tobytes()
    np.testing.assert_array_equal(parse_idx(raw), arr)


def test_truncated_file_names_file(tmp_path):
    raw = idx_bytes(np.zeros((5, 28, 28), np.uint8))[:-10]
    p = tmp_path / "broken-idx3-ubyte"
    p.write_bytes(raw)
    with pytest.raises(IdxError, match="broken-idx3-ubyte.*truncated"):
        read_idx(p)


def test_wrong_magic():
    with pytest.raises(IdxError, match="magic"):
        parse_idx(b"\x89PNG\r\n\x1a\n" + bytes(100), "x.png")


def test_trailing_bytes():
    with pytest.raises(IdxError, match="unexpected bytes"):
        parse_idx(idx_bytes(np.zeros((2, 2), np.uint8)) + b"\x00")


def test_corrupt_gzip(tmp_path):
    p = tmp_path / "bad.gz"
    p.write_bytes(gzip.compress(b"hello")[:8])
    with pytest.raises(IdxError, match="bad.gz"):
        read_idx(p)


def test_count_mismatch(tmp_path):
    (tmp_path / "i").write_bytes(idx_bytes(np.zeros((3, 2, 2), np.uint8)))
    (tmp_path / "l").write_bytes(idx_bytes(np.zeros(4, np.uint8)))
    with pytest.raises(IdxError, match="3 images but .* 4 labels"):
        read_idx_pair(tmp_path / "i", tmp_path / "l")


def test_missing_file(tmp_path):
    with pytest.raises(IdxError, match="not found"):
        read_idx(tmp_path / "nope.gz")


def test_shipped_test_split_parses():
    images, labels = read_idx_pair(EMBEDDED_DIR / "t10k-images-idx3-ubyte.gz", EMBEDDED_DIR / "t10k-labels-idx1-ubyte.gz")
    assert images.shape == (10000, 28, 28) and labels.shape == (10000,)
    assert set(np.unique(labels)) == set(range(10))


def _write_split(folder, images: np.ndarray, labels: np.ndarray, gz_images: bool, gz_labels: bool, prefix="train"):
    for name, arr, gz in ((f"{prefix}-images-idx3-ubyte", images, gz_images), (f"{prefix}-labels-idx1-ubyte", labels, gz_labels)):
        raw = idx_bytes(arr)
        (folder / (name + (".gz" if gz else ""))).write_bytes(gzip.compress(raw) if gz else raw)


@pytest.mark.parametrize("gz_images,gz_labels", [(False, True), (True, False), (False, False), (True, True)])
def test_a_pair_may_mix_raw_and_gzipped_files(tmp_path, gz_images, gz_labels):
    """Raw images beside gzipped labels (and the other way round) are one split, read by --data-dir."""
    from explorer.core.data import load_dataset
    images = np.arange(3 * 28 * 28, dtype=np.uint8).reshape(3, 28, 28)
    labels = np.array([7, 0, 9], dtype=np.uint8)
    _write_split(tmp_path, images, labels, gz_images, gz_labels)
    ds = load_dataset("mnist", "train", tmp_path)
    assert ds.images.shape == (3, 1, 28, 28) and ds.labels.tolist() == [7, 0, 9]
    np.testing.assert_array_equal(ds.images[:, 0].numpy(), images)
    assert ds.source == f"--data-dir:{tmp_path}"


def test_half_a_pair_is_still_refused_naming_the_file_it_has(tmp_path):
    from explorer.core.data import DataNotFound, load_dataset
    (tmp_path / "train-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((2, 28, 28), np.uint8)))
    with pytest.raises(DataNotFound, match="has train-images-idx3-ubyte but not the other file of the pair"):
        load_dataset("mnist", "train", tmp_path)


def test_gzip_is_recognised_by_content_not_name(tmp_path):
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "inflated-idx3-ubyte.gz").write_bytes(idx_bytes(arr))           # inflated, kept its .gz name
    (tmp_path / "packed-idx3-ubyte").write_bytes(gzip.compress(idx_bytes(arr)))  # gzipped, lost its .gz name
    np.testing.assert_array_equal(read_idx(tmp_path / "inflated-idx3-ubyte.gz"), arr)
    np.testing.assert_array_equal(read_idx(tmp_path / "packed-idx3-ubyte"), arr)
