"""Preparing a person's picture: every file kind, the Gradio canvas, and every refusal.

All pictures are made here, in memory or in pytest's tmp_path; no binary fixtures."""
from __future__ import annotations

import io
import re
import struct
import time
import zlib

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from explorer.core.data import load_dataset
from explorer.core.picture import MAX_BYTES, PreparedPicture, prepare_picture, read_picture_file
from explorer.core.validation import UserError


def shape_picture(size=(300, 200), box=(60, 40, 240, 100), fg=0, bg=255, mode="L") -> Image.Image:
    """A filled grey rectangle (dark on light by default): a wide object, 181 x 61 pixels."""
    img = Image.new("L", size, bg)
    ImageDraw.Draw(img).rectangle(box, fill=fg)
    return img.convert(mode)


def encoded(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def bbox(picture: np.ndarray, level: int = 40) -> tuple[int, int, int, int]:
    rows, cols = np.flatnonzero((picture > level).any(1)), np.flatnonzero((picture > level).any(0))
    return rows[0], rows[-1], cols[0], cols[-1]


def check_wide_bar(p: PreparedPicture) -> None:
    """The rectangle: 28 wide, about 28 * 61/181 = 9.4 tall, centred, white on black (JPEG's
    ringing may fade one edge column)."""
    assert p.tensor.shape == (1, 28, 28) and p.tensor.dtype == torch.uint8
    assert np.array_equal(p.tensor[0].numpy(), p.picture)
    top, bottom, left, right = bbox(p.picture)
    assert left <= 1 and right >= 26
    assert 8 <= bottom - top + 1 <= 11 and abs((top + bottom) / 2 - 13.5) <= 1
    assert p.picture.max() == 255 and p.picture[0, 0] == 0


def test_dark_on_light_png_is_inverted_trimmed_and_centred():
    p = prepare_picture(encoded(shape_picture(), "PNG"))
    check_wide_bar(p)
    assert any("inverted" in n for n in p.notes) and p.source_size == (300, 200)


def test_light_on_dark_is_left_as_it_is():
    p = prepare_picture(np.asarray(shape_picture(fg=200, bg=10)))
    check_wide_bar(p)
    assert not any("inverted" in n for n in p.notes)


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "BMP", "GIF"])
def test_other_formats(fmt):
    check_wide_bar(prepare_picture(encoded(shape_picture(mode="RGB"), fmt)))


def test_pil_image_and_tall_object():
    p = prepare_picture(shape_picture(size=(100, 400), box=(40, 50, 59, 349)))
    top, bottom, left, right = bbox(p.picture)
    assert (top, bottom) == (0, 27) and right - left + 1 <= 3


def test_enlarged_test_pictures_come_back_close():
    """A Fashion-MNIST picture enlarged 8x and made dark-on-light is prepared back into nearly itself."""
    x = load_dataset("fashion-mnist", "test").images[:20, 0].numpy()
    errs = []
    for img in x:
        big = np.asarray(Image.fromarray(255 - img).resize((224, 224), Image.Resampling.BILINEAR))
        errs.append(((prepare_picture(big).picture / 255.0 - img / 255.0) ** 2).mean())
    assert np.mean(errs) < 0.025


def test_sixteen_bit_png():
    arr = np.full((120, 160), 65535, np.uint16)
    arr[30:60, 20:140] = 0
    img = Image.fromarray(arr)
    assert img.mode.startswith("I;16")
    data = encoded(img, "PNG")
    assert Image.open(io.BytesIO(data)).mode in ("I;16", "I")
    p = prepare_picture(data)
    top, bottom, left, right = bbox(p.picture)
    assert (left, right) == (0, 27) and 6 <= bottom - top + 1 <= 8 and p.picture.max() == 255


def test_cmyk_jpeg():
    img = shape_picture(mode="RGB").convert("CMYK")
    data = encoded(img, "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    check_wide_bar(prepare_picture(data))


def test_palette_with_transparency():
    img = Image.new("P", (300, 200), 0)
    img.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    ImageDraw.Draw(img).rectangle((60, 40, 240, 100), fill=1)     # white object, transparent black around it
    p = prepare_picture(encoded(img, "PNG", transparency=0))
    check_wide_bar(p)
    assert any("transparent background treated as black" in n for n in p.notes)


def sketch(color) -> np.ndarray:
    """What Gradio's Sketchpad gives with image_mode RGBA: strokes on a transparent canvas."""
    canvas = np.zeros((400, 600, 4), np.uint8)
    canvas[80:200, 120:480, :3] = color
    canvas[80:200, 120:480, 3] = 255
    return canvas


@pytest.mark.parametrize("color", [0, 255])
def test_sketchpad_strokes_of_any_colour_become_a_light_object(color):
    p = prepare_picture({"background": None, "layers": [sketch(color)], "composite": sketch(color)})
    check_wide_bar(p)
    assert any(("white" if color == 0 else "black") in n for n in p.notes)


@pytest.mark.parametrize("value", [None, {"background": None, "layers": [], "composite": None},
                                   {"composite": np.zeros((50, 50, 4), np.uint8)}])
def test_empty_canvas_is_refused(value):
    with pytest.raises(UserError, match="(?i)empty|no picture"):
        prepare_picture(value)


@pytest.mark.parametrize("level,words", [(0, "all black"), (255, "all white"), (128, "flat shade of grey")])
def test_flat_pictures_are_refused(level, words):
    with pytest.raises(UserError, match=words):
        prepare_picture(encoded(Image.new("RGB", (64, 48), (level,) * 3), "PNG"))


def huge_png(width: int, height: int) -> bytes:
    """A valid all-black grayscale PNG, built row block by row block (never the whole image in memory)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    comp, rows = zlib.compressobj(1), b"\x00" * (width + 1) * 100
    body = b"".join(comp.compress(rows) for _ in range(height // 100)) + comp.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", body) + chunk(b"IEND", b""))


def test_decompression_bomb_is_refused_before_decoding():
    data = huge_png(10_000, 10_000)
    assert len(data) < MAX_BYTES
    start = time.perf_counter()
    with pytest.raises(UserError, match="100 million pixels; the limit is 50 million"):
        prepare_picture(data)
    assert time.perf_counter() - start < 1.0     # decoding 100 M pixels would take seconds
    with pytest.raises(UserError, match="8000 x 7000 pixels = 56 million pixels; the limit is 50 million"):
        prepare_picture(huge_png(8000, 7000))     # below PIL's own limit: refused by ours


def png_header(width: int, height: int, bits: int, colour: int) -> bytes:
    """A PNG with a header and no pixels (PNG colour types: 0 grey, 6 RGBA)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bits, colour, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))


def test_the_decoded_size_is_bounded_in_bytes_from_the_header():
    with pytest.raises(UserError, match=re.escape("The picture is 7000 x 7000 pixels (RGBA), which takes 187 MB of "
                                                  "memory to open; the limit is 128 MB. Shrink it first.")):
        prepare_picture(png_header(7000, 7000, 8, 6))          # under the pixel limit, over the bytes
    with pytest.raises(UserError, match="damaged or incomplete"):
        prepare_picture(png_header(7000, 7000, 16, 0))         # 93 MB of 16-bit grey: it may be decoded


def test_a_big_16_bit_png_is_shrunk_before_any_float_copy():
    import tracemalloc
    arr = np.zeros((3000, 3000), np.uint16)
    arr[1000:1300, 500:2500] = 60000
    data = encoded(Image.fromarray(arr), "PNG")
    del arr
    tracemalloc.start()                        # sees NumPy's arrays (PIL's own pixels are not counted)
    try:
        p = prepare_picture(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 24 * 2**20, f"{peak / 2**20:.0f} MB at once; a float64 copy at full size is 69 MB"
    top, bottom, left, right = bbox(p.picture)
    assert (left, right) == (0, 27) and 3 <= bottom - top + 1 <= 5


def test_truncated_file_is_refused():
    data = encoded(Image.effect_noise((200, 200), 60), "PNG")
    with pytest.raises(UserError, match="damaged or incomplete"):
        prepare_picture(data[: len(data) // 2])


def test_non_image_renamed_png_is_refused(tmp_path):
    path = tmp_path / "holiday.png"
    path.write_text("definitely not a picture\n" * 20)
    with pytest.raises(UserError, match="not a picture"):
        prepare_picture(read_picture_file(path))
    with pytest.raises(UserError, match="empty"):
        prepare_picture(b"")


def test_too_many_bytes_are_refused(tmp_path):
    path = tmp_path / "big.png"
    with open(path, "wb") as f:
        f.truncate(MAX_BYTES + 1)                 # sparse: no disk, no memory
    with pytest.raises(UserError, match="limit is 20 MB"):
        read_picture_file(path)
    with pytest.raises(UserError, match="limit is 20 MB"):
        prepare_picture(bytes(MAX_BYTES + 1))


def test_exif_rotation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6                              # "rotate 90 degrees clockwise to view"
    p = prepare_picture(encoded(shape_picture(mode="RGB"), "JPEG", exif=exif.tobytes()))
    top, bottom, left, right = bbox(p.picture)
    assert top <= 1 and bottom >= 26 and 8 <= right - left + 1 <= 11      # the wide bar now stands upright
    assert any("EXIF" in n for n in p.notes)


def test_animated_gif_uses_the_first_frame():
    first, second = shape_picture(), shape_picture(box=(120, 10, 180, 190))
    data = encoded(first, "GIF", save_all=True, append_images=[second], duration=100, loop=0)
    p = prepare_picture(data)
    check_wide_bar(p)
    assert any("animated picture: the first frame is used" in n for n in p.notes)


def test_a_gif_of_700_000_frames_is_opened_without_counting_them():
    frame = (b"\x21\xf9\x04\x00\x01\x00\x00\x00" + b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0)
             + b"\x02\x02\x44\x01\x00")                         # a 1 x 1 frame shown for 10 ms
    gif = b"GIF89a" + struct.pack("<HHBBB", 8, 8, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff" + frame * 700_000 + b"\x3b"
    assert len(gif) < MAX_BYTES
    start = time.process_time()
    with pytest.raises(UserError, match="all black"):
        prepare_picture(gif)
    assert time.process_time() - start < 0.5, "every frame was read"        # all 700 000: 2.2 s of CPU


def test_arrays_of_other_types_and_bad_arrays():
    bar = np.asarray(shape_picture(fg=255, bg=0)) > 0
    check_wide_bar(prepare_picture(bar))                                     # bool
    check_wide_bar(prepare_picture(bar.astype(np.float32)))                  # float in [0, 1]
    check_wide_bar(prepare_picture((bar * 65535).astype(np.uint16)))         # 16-bit
    big = np.zeros((1500, 2250), np.uint8)
    big[300:700, 450:1800] = 255
    check_wide_bar(prepare_picture(big))                                     # shrunk before any float copy
    with pytest.raises(UserError, match="between 0 and 1"):
        prepare_picture(bar.astype(np.float32) * 3)
    with pytest.raises(UserError, match="shape"):
        prepare_picture(np.zeros((4, 4, 5), np.uint8))
    with pytest.raises(UserError, match="must be image bytes"):
        prepare_picture("picture.png")


def test_the_pages_own_picture_and_the_apis_encode_share_one_concurrency_limit(shared_app):
    from explorer.ui.api import ENCODE_CONCURRENCY, ENCODE_GROUP
    fns = [fn for fn in shared_app.demo.fns.values() if (fn.api_name or "").startswith("encode")]
    assert len(fns) == 2, [fn.api_name for fn in fns]                # /encode, and the page's button
    assert {(fn.concurrency_id, fn.concurrency_limit) for fn in fns} == {(ENCODE_GROUP, ENCODE_CONCURRENCY)}
