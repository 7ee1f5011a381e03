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
