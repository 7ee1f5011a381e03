"""How many pictures are decoded at once, and the memory handed back after a large one.

A picture's file is small and its decoding is not: a 95 kB PNG holds 7000 x 7000 16-bit pixels,
98 MB once decoded. The checks in picture.py bound one picture (MAX_DECODED_MB); this bounds how
many are open together, whoever asks (the API's /encode, the page's own-picture button, a dataset
being prepared): at most `AT_ONCE`, the rest wait their turn.

Freed is not returned: glibc's allocator gives each thread its own arena and, once a large block
was freed, serves the next large ones from the arenas too (its mmap threshold rises with them), so
pictures decoded by a server's many threads stayed in its memory (8 at a time, repeated: 0.2 -> 1 GB,
never given back). After a picture of `TRIM_FROM_BYTES` or more, `malloc_trim(0)` hands the free pages
of every arena back to the system. Elsewhere than glibc (macOS, musl) it is skipped.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import threading
from contextlib import contextmanager

AT_ONCE = 2                        # pictures decoded at the same time, in the whole process
TRIM_FROM_BYTES = 16 * 2**20       # a decoded picture this large is followed by a trim

_slots = threading.BoundedSemaphore(AT_ONCE)


def _find_trim():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):     # not glibc
        return None


_malloc_trim = _find_trim()


def release_free_memory() -> bool:
    """Free memory of the allocator's arenas handed back to the system (glibc); False where it cannot be."""
    if _malloc_trim is None:
        return False
    _malloc_trim(0)
    return True


class Slot:
    """One picture being decoded; `decoded(nbytes)` says how large it is (the trim follows a large one)."""

    def __init__(self):
        self.nbytes = 0

    def decoded(self, nbytes: int) -> None:
        self.nbytes = max(self.nbytes, int(nbytes))


@contextmanager
def decoding_slot():
    """Wait for one of the AT_ONCE places, decode inside it; memory is handed back after a large picture."""
    slot = Slot()
    with _slots:
        try:
            yield slot
        finally:
            if slot.nbytes >= TRIM_FROM_BYTES:
                release_free_memory()
