"""Gradio's files live in the runtime folder (removed at exit) and stay few: no empty file per upload,
a picture deleted once used, what nobody consumed deleted after KEEP_S or beyond KEEP_MB, the upload
route capped in size."""
from __future__ import annotations

import asyncio
import io
import os
import time
import uuid
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from explorer.core import runtime
from explorer.core.validation import UserError


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def test_gradios_files_and_the_gifs_live_in_the_runtime_folder(shared_app):
    import httpx
    from gradio.utils import get_upload_folder

    from explorer.ui.interpolate_tab import MIRROR, SEED, STYLE, InterpolateTab
    root = runtime.folder().resolve()
    assert root in Path(get_upload_folder()).resolve().parents
    assert {Path(c.GRADIO_CACHE).resolve() for c in shared_app.demo.blocks.values()} == {Path(get_upload_folder()).resolve()}
    posted = httpx.post(shared_app.url + "gradio_api/upload", files={"files": ("notes.bin", b"kept for an hour")}).json()
    assert root in Path(posted[0]).resolve().parents
    Path(posted[0]).unlink()
    gif = InterpolateTab(shared_app.ws).run("tiny_gan", STYLE, 0, 1, SEED, 1, MIRROR, 2, 3, None, {})["gif"]
    assert Path(gif).parent == runtime.folder("gifs")


def test_the_upload_route_refuses_a_body_over_its_limit_before_reading_it(shared_app):
    from explorer.explore.uploads import MAX_UPLOAD_MB
    host, port = shared_app.url.removeprefix("http://").rstrip("/").split(":")

    async def status_line():
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(f"POST /gradio_api/upload HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; "
                     f"boundary=x\r\nContent-Length: {(MAX_UPLOAD_MB + 2) * 2**20}\r\n\r\n".encode())
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), 10)
        writer.close()
        return line.decode().strip()
    from tests.apphelpers import run_async
    assert run_async(status_line) == "HTTP/1.1 413 Request Entity Too Large"


def test_a_file_box_hands_over_the_upload_and_leaves_no_empty_file(tmp_path):
    import gradio as gr
    from gradio.data_classes import FileData
    from gradio.utils import get_upload_folder

    from explorer.ui.gradio_files import FileBox, use_runtime_folder
    use_runtime_folder()
    folder = Path(get_upload_folder())
    upload = folder / uuid.uuid4().hex / "model.safetensors"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"weights")
    before = files_under(folder)
    assert FileBox(type="filepath", file_types=[".safetensors"]).preprocess(FileData(path=str(upload))) == str(upload)
    assert files_under(folder) == before
    gr.File(type="filepath").preprocess(FileData(path=str(upload)))      # Gradio's own leaves an empty file
    stray = files_under(folder) - before
    assert len(stray) == 1 and next(iter(stray)).stat().st_size == 0
    for p in stray | {upload}:
        p.unlink()
    upload.parent.rmdir()


def test_tidy_deletes_what_nobody_consumed(tmp_path):
    from explorer.ui.gradio_files import tidy
    now = time.time()
    made = {}
    for name, age, size in (("old/a.png", 7200, 10), ("new/b.gif", 60, 600_000), ("new/c.gif", 30, 600_000),
                            ("d.bin", 10, 100)):
        p = tmp_path / name
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(b"x" * size)
        os.utime(p, (now - age, now - age))
        made[name] = p
    gone = tidy(tmp_path, keep_s=3600, keep_mb=1.0, now=now)
    assert gone == [made["old/a.png"], made["new/b.gif"]]           # too old; then the oldest while over 1 MB
    assert files_under(tmp_path) == {made["new/c.gif"], made["d.bin"]} and not (tmp_path / "old").exists()


class NoExplore:
    def use_latent(self, model, latent, cls=None, source="", layers=()):
        return {}


def test_a_used_picture_is_deleted_from_gradios_folder(shared_app):
    from gradio.utils import get_upload_folder

    from explorer.ui.own_picture import OwnPicture
    picture = Path(get_upload_folder()) / uuid.uuid4().hex / "my shoe.png"
    picture.parent.mkdir(parents=True)
    img = Image.new("L", (120, 80), 255)
    ImageDraw.Draw(img).rectangle((20, 30, 100, 60), fill=0)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    picture.write_bytes(buf.getvalue())
    own = OwnPicture(shared_app.ws, NoExplore())
    *_, last = own.encode("fashion_vae2", "Upload", None, str(picture), 0)
    assert "Result" in last["own_result"] and last["own_upload"] is None
    assert not picture.exists() and not picture.parent.exists()
    with pytest.raises(UserError, match="That picture is no longer on the server"):
        list(own.encode("fashion_vae2", "Upload", None, str(picture), 0))


def test_an_uploaded_file_is_not_served_back_and_the_apps_own_files_are(shared_app):
    """Gradio served whatever was POSTed to its upload route to anyone who asked for its path, for an hour."""
    import httpx
    from gradio.utils import get_upload_folder
    url = shared_app.url + "gradio_api/"
    [posted] = httpx.post(url + "upload", files={"files": ("private.png", b"someone's picture")}).json()
    try:
        for asked in (f"file={posted}", f"file={posted.replace('/', '//')}", f"file/{posted}",
                      f"file={Path(posted).parent}/../{Path(posted).parent.name}/{Path(posted).name}"):
            r = httpx.get(url + asked)
            assert r.status_code == 404 and b"someone" not in r.content, (asked, r.status_code)
            assert httpx.head(url + asked).status_code == 404
    finally:
        Path(posted).unlink(missing_ok=True)
    own = Path(get_upload_folder()) / uuid.uuid4().hex / "picture.png"      # an output the app wrote there
    own.parent.mkdir(parents=True)
    own.write_bytes(b"a picture the app drew")
    try:
        assert httpx.get(url + f"file={own}").content == b"a picture the app drew"
    finally:
        own.unlink()
        own.parent.rmdir()


def test_the_upload_folders_limit_holds_as_files_arrive(shared_app, monkeypatch):
    """25 uploads of 100 MB wrote 2.2 GB in 11.5 s while the limit, 1 GB, was enforced once a minute."""
    import os

    import httpx
    from gradio.utils import get_upload_folder

    from explorer.ui import upload_edge
    folder = Path(get_upload_folder())
    held = lambda: sum(size for _, size, _ in upload_edge.folder_files(folder))      # noqa: E731
    monkeypatch.setattr(upload_edge, "LIMIT_MB", held() / 2**20 + 3.5)             # room for 3 files of 1 MB
    url = shared_app.url + "gradio_api/upload"
    kept, codes = [], []
    try:
        for i in range(6):
            r = httpx.post(url, files={"files": (f"big{i}.bin", os.urandom(2**20))})
            codes.append(r.status_code)
            if r.status_code == 200:
                kept += r.json()
            assert held() <= upload_edge.LIMIT_MB * 2**20
        assert codes == [200, 200, 200, 507, 507, 507], codes
        assert "folder for uploads is full" in r.json()["detail"]
        for i, p in enumerate(kept):                    # uploads nobody used, older than a minute: they make room
            os.utime(p, (1e9 + i, 1e9 + i))
        r = httpx.post(url, files={"files": ("next.bin", os.urandom(2**20))})
        assert r.status_code == 200 and not Path(kept[0]).exists() and Path(kept[1]).exists()
        kept += r.json()
    finally:
        for p in kept:
            Path(p).unlink(missing_ok=True)
