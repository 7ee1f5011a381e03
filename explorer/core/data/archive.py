"""Named files of a package, from its .tgz or an unpacked folder, read within fixed bounds.

A package is someone else's file: a 4.4 MB .tgz can hold a 3 GB member of zeros. So only the files
asked for by name are read, each refused past its own cap (its declared size is checked first, and
reading stops at the cap whatever the header said), and the whole archive is decompressed at most
`MAX_ARCHIVE_BYTES` deep. Members are read in memory, never extracted, so no member can write
anywhere. An archive is read in passes (a compressed stream cannot seek back cheaply), each
stopping as soon as it has every file it wants.
"""
from __future__ import annotations

import bz2
import gzip
import lzma
import tarfile
from pathlib import Path

from explorer.core.validation import UserError

MAX_ARCHIVE_BYTES = 512 * 2**20      # decompressed, per pass (emoji-datasource-twitter 16.0.0: 62 MB)


class BadPackage(UserError):
    """The file or folder is not a readable package within the bounds."""


class TooLarge:
    """A file found, but larger than its cap: never read further than the cap."""

    def __init__(self, size: int):
        self.size = size


class _Capped:
    """A readable stream that refuses to hand out more than `limit` bytes in all."""

    def __init__(self, raw, limit: int, source: Path):
        self.raw, self.limit, self.source, self.read_so_far = raw, limit, source, 0

    def read(self, n: int = -1) -> bytes:
        want = self.limit + 1 - self.read_so_far if n is None or n < 0 else min(n, self.limit + 1 - self.read_so_far)
        data = self.raw.read(max(want, 0))
        self.read_so_far += len(data)
        if self.read_so_far > self.limit:
            raise BadPackage(f"{self.source} unpacks to more than {self.limit // 2**20} MB; a package here is "
                             f"at most {self.limit // 2**20} MB unpacked.")
        return data


def _decompressed(path: Path):
    """The archive's tar stream, whatever it is compressed with (gzip, bzip2, xz or none)."""
    with open(path, "rb") as f:
        magic = f.read(6)
    if magic[:2] == b"\x1f\x8b":
        return gzip.open(path, "rb")
    if magic[:3] == b"BZh":
        return bz2.open(path, "rb")
    if magic[:6] == b"\xfd7zXZ\x00":
        return lzma.open(path, "rb")
    return open(path, "rb")


def _inner(name: str) -> str:
    """A member's path inside the package: npm's archives put everything under one folder, "package/"."""
    return name.split("/", 1)[1] if "/" in name else name


class Package:
    """Files of a package by their path inside it ("emoji.json", "img/twitter/64/1f600.png")."""

    def __init__(self, source: Path):
        self.source = Path(source)
        if self.source.is_dir():
            self.root = self.source / "package" if (self.source / "package" / "package.json").is_file() else self.source
        elif not self.source.is_file():
            raise BadPackage(f"{self.source} does not exist.")

    def read(self, paths, cap: int) -> dict[str, bytes | TooLarge]:
        """{path: its bytes, or TooLarge when over `cap` bytes} for each of `paths` that is there."""
        wanted = set(paths)
        if self.source.is_dir():
            return self._from_folder(wanted, cap)
        return self._from_archive(wanted, cap)

    def _from_folder(self, wanted: set[str], cap: int) -> dict:
        found, total = {}, 0
        for path in sorted(wanted):
            p = self.root / path
            try:
                if not p.is_file():
                    continue
                size = p.stat().st_size
                if size > cap:
                    found[path] = TooLarge(size)
                    continue
                with open(p, "rb") as f:
                    data = f.read(size + 1)         # a file that grew since its size was read is refused
            except OSError as exc:
                raise BadPackage(f"Cannot read {p}: {exc.strerror or exc}.") from None
            found[path] = data if len(data) <= size else TooLarge(len(data))
            total += len(data)
            if total > MAX_ARCHIVE_BYTES:
                raise BadPackage(f"The files {self.source} names hold more than {MAX_ARCHIVE_BYTES // 2**20} MB.")
        return found

    def _from_archive(self, wanted: set[str], cap: int) -> dict:
        found = {}
        try:
            with _decompressed(self.source) as raw, tarfile.open(fileobj=_Capped(raw, MAX_ARCHIVE_BYTES, self.source),
                                                                 mode="r|") as tar:
                for m in tar:
                    path = _inner(m.name)
                    if path not in wanted or path in found or not m.isfile():
                        continue
                    if m.size > cap:
                        found[path] = TooLarge(m.size)
                    else:
                        data = tar.extractfile(m).read(m.size + 1)       # never past the size checked
                        found[path] = data if len(data) <= m.size else TooLarge(len(data))
                    if len(found) == len(wanted):
                        break
        except (tarfile.TarError, OSError, EOFError, lzma.LZMAError) as exc:
            raise BadPackage(f"{self.source} is not a readable .tgz archive ({exc}).") from None
        return found
