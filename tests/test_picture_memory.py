"""Pictures decoded at once, and the memory they leave: at most decoding.AT_ONCE pictures are decoded
together in a process, and the memory of a large one is handed back to the system afterwards."""
from __future__ import annotations

import io
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFile

from explorer.core import decoding
from explorer.core.colour_picture import prepare_colour_picture
from explorer.core.picture import prepare_picture

ROOT = Path(__file__).resolve().parents[1]


def shape_png(side: int, mode: str = "L", fill: int = 200) -> bytes:
    image = Image.new(mode, (side, side), 0)
    ImageDraw.Draw(image).rectangle((side // 4, side // 5, side * 3 // 4, side * 4 // 5), fill=fill)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_at_most_two_pictures_are_decoded_at_once(monkeypatch):
    load, lock, now, most = ImageFile.ImageFile.load, threading.Lock(), [0], [0]

    def slow_load(self):                    # each decode takes a while, so the callers overlap
        with lock:
            now[0] += 1
            most[0] = max(most[0], now[0])
        try:
            time.sleep(0.05)
            return load(self)
        finally:
            with lock:
                now[0] -= 1
    monkeypatch.setattr(ImageFile.ImageFile, "load", slow_load)
    data = shape_png(120)
    threads = [threading.Thread(target=prepare_picture if i % 2 else prepare_colour_picture, args=(data, 28))
               for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == decoding.AT_ONCE == 2


# Eight threads at a time, twice, each decoding a 95 kB PNG of 5000 x 5000 16-bit pixels (48 MB decoded),
# in a process of its own so that the pytest process's memory does not blur the figure.
GROWTH_SCRIPT = """
import io, sys, threading
from PIL import Image, ImageDraw
from explorer.core.picture import prepare_picture
def rss_mb():
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS")) / 1024
image = Image.new("I;16", (5000, 5000), 0)
ImageDraw.Draw(image).rectangle((1500, 1000, 3500, 4000), fill=40000)
buf = io.BytesIO(); image.save(buf, "PNG"); data = buf.getvalue(); del image
prepare_picture(data)
before = rss_mb()
for _ in range(2):
    threads = [threading.Thread(target=prepare_picture, args=(data,)) for _ in range(8)]
    [t.start() for t in threads]; [t.join() for t in threads]
print(round(rss_mb() - before))
"""


@pytest.mark.slow
def test_memory_comes_back_after_big_pictures_decoded_in_many_threads():
    if not Path("/proc/self/status").exists() or decoding.release_free_memory() is False:
        pytest.skip("measured with Linux's /proc and glibc's allocator")
    out = subprocess.run([sys.executable, "-c", GROWTH_SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    growth = int(out.stdout.split()[-1])
    print(f"\nRSS after 16 decodes of 48 MB, 8 threads at a time: +{growth} MB")
    assert growth < 120, f"+{growth} MB kept after the pictures were done with"
