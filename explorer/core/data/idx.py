"""Reader for IDX files, the format of MNIST, Fashion-MNIST, KMNIST (http://yann.lecun.com/exdb/mnist/).

Layout: two zero bytes, a type code, the number of dimensions n, then n big-endian uint32 sizes,
then the data. Gzipped files are read transparently, recognised by their content, not their name.
Anything off (wrong magic, truncated data, trailing bytes) raises IdxError naming the file.
"""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from explorer.core.validation import UserError

# type code -> numpy big-endian dtype
_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
MAX_BYTES = 2 * 1024 ** 3  # refuse absurd headers before allocating
GZIP_MAGIC = b"\x1f\x8b"


class IdxError(UserError):
    """An IDX file that cannot be read; the message names the file and what is wrong."""


def _read_bytes(path: Path) -> bytes:
    """The IDX bytes of `path`, inflated when the file is gzip data: recognised by its first two
    bytes (an IDX file starts with two zero bytes), whatever the name says, so a pair may mix a
    raw and a gzipped file, and an inflated file that kept its .gz name is still read."""
    gzipped = False
    try:
        with open(path, "rb") as f:
            gzipped = f.read(2) == GZIP_MAGIC
            f.seek(0)
            if gzipped:
                with gzip.GzipFile(fileobj=f, mode="rb") as g:
                    return g.read()
            return f.read()
    except FileNotFoundError:
        raise IdxError(f"{path}: file not found.") from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise IdxError(f"{path}: cannot be read as {'gzip' if gzipped else 'a file'} ({exc}).") from None


def parse_idx(raw: bytes, name: str = "<bytes>") -> np.ndarray:
    """Parse IDX bytes into a numpy array of the file's shape and (native-endian) type."""
    if len(raw) < 4:
        raise IdxError(f"{name}: too short to be an IDX file ({len(raw)} bytes).")
    zero, code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or code not in _DTYPES or not 1 <= ndim <= 4:
        raise IdxError(f"{name}: wrong magic number 0x{raw[:4].hex()} (not an IDX file).")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IdxError(f"{name}: truncated header.")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_DTYPES[code])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if expected > MAX_BYTES:
        raise IdxError(f"{name}: header claims {shape}, implausibly large.")
    got = len(raw) - header
    if got < expected:
        raise IdxError(f"{name}: truncated: header says {shape} ({expected} bytes of data) but only {got} present.")
    if got > expected:
        raise IdxError(f"{name}: {got - expected} unexpected bytes after the {shape} data.")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path: str | Path) -> np.ndarray:
    path = Path(path)
    return parse_idx(_read_bytes(path), str(path))


def read_idx_pair(images_path: str | Path, labels_path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, H, W) uint8 and labels (N,) int64, checked against each other."""
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise IdxError(f"{images_path}: expected 3-D uint8 images, got {images.ndim}-D {images.dtype}.")
    if labels.ndim != 1:
        raise IdxError(f"{labels_path}: expected 1-D labels, got shape {labels.shape}.")
    if len(images) != len(labels):
        raise IdxError(f"{images_path} has {len(images)} images but {labels_path} has {len(labels)} labels.")
    return images, labels.astype(np.int64)
