"""The server under load and abuse, as `python app.py` in a process of its own: memory stays flat over
thousands of API calls, a 50 MB body is refused at once while others are still served, and SIGTERM
or Ctrl-C ends the server and every process it started."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.apphelpers import free_port, make_checkpoints

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
CALLS = int(os.environ.get("EXPLORER_LOAD_CALLS", "10000"))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


def children(pid: int) -> list[int]:
    """Direct children of `pid` (from /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def group_members(pgid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            out.append(int(stat.parent.name))
    return out


def start_app(folder: Path):
    """`python app.py` on a free port in its own process group; returns (process, base URL)."""
    import httpx
    port = free_port()
    proc = subprocess.Popen([sys.executable, "app.py", "--checkpoints-dir", str(folder), "--port", str(port)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    end = time.time() + 180
    while time.time() < end:
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        try:
            if httpx.get(url + "/gradio_api/info", timeout=5).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    stop_app(proc)
    raise AssertionError("the app did not start within 180 s")


def stop_app(proc) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    for pid in group_members(proc.pid):      # whatever SIGTERM left (the test below says whether it did)
        os.kill(pid, signal.SIGKILL)
    proc.stderr.close()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    proc, url = start_app(make_checkpoints(tmp_path_factory.mktemp("ck")))
    yield proc, url
    stop_app(proc)


async def _calls(url: str, n: int, concurrency: int = 16) -> float:
    """n calls of /ping through the queue over plain HTTP (each one a new Gradio session, as a
    script's calls are); returns the calls per second."""
    import httpx
    api = url + "/gradio_api/call/ping"
    sem = asyncio.Semaphore(concurrency)

    async def one(client):
        async with sem:
            r = await client.post(api, json={"data": []})
            r.raise_for_status()
            stream = await client.get(f"{api}/{r.json()['event_id']}")
            assert "event: complete" in stream.text, stream.text

    t0 = time.perf_counter()
    async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=concurrency)) as client:
        await asyncio.gather(*[one(client) for _ in range(n)])
    return n / (time.perf_counter() - t0)


def test_memory_stays_flat_over_many_api_calls(app):
    from explorer.ui.server import SESSION_CAPACITY
    proc, url = app
    asyncio.run(_calls(url, 2 * SESSION_CAPACITY))            # warm-up: the session store is full
    before = rss_mb(proc.pid)
    rate = asyncio.run(_calls(url, CALLS))
    grown = rss_mb(proc.pid) - before
    print(f"\n{CALLS} API calls at {rate:.0f}/s: RSS {before:.0f} MB -> {before + grown:.0f} MB")
    assert grown < 100, f"RSS grew by {grown:.0f} MB over {CALLS} calls"


def test_a_50_mb_body_is_refused_at_once_while_others_are_served(app):
    import httpx
    _, url = app
    body = b'{"data": ["tiny_gan", 1, 1.0, [' + b"0.5, " * (10 * 1024 * 1024) + b'0.5], "", 0.0, null]}'
    assert len(body) > 50_000_000

    async def chunks():                  # no Content-Length: the body is counted as it arrives
        for i in range(0, len(body), 1 << 20):
            yield body[i:i + (1 << 20)]

    async def main():
        async with httpx.AsyncClient(timeout=60) as client:
            async def big(content, headers):
                t0 = time.perf_counter()
                try:
                    r = await client.post(url + "/gradio_api/call/render", content=content, headers=headers)
                    status = r.status_code
                except (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError):
                    status = "closed"        # refused before the client finished sending
                return status, time.perf_counter() - t0

            async def ping():
                await asyncio.sleep(0.05)
                t0 = time.perf_counter()
                r = await client.post(url + "/gradio_api/run/ping", json={"data": []})
                assert r.json()["data"] == ["ok"]
                return time.perf_counter() - t0
            return await asyncio.gather(big(body, {"content-type": "application/json"}),
                                        big(chunks(), {"content-type": "application/json"}), ping())

    async def status_line():
        """The answer to a request announcing 50 MB, read after sending only its first megabyte."""
        host, port = url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(f"POST /gradio_api/call/render HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:1 << 20])
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), 5)
        writer.close()
        return line.decode().strip()

    assert asyncio.run(status_line()) == "HTTP/1.1 413 Request Entity Too Large"
    (sized, sized_s), (chunked, chunked_s), ping_s = asyncio.run(main())
    print(f"\n50 MB body: {sized} in {sized_s:.2f} s; sent without a length: {chunked} in {chunked_s:.2f} s;"
          f" a ping meanwhile: {ping_s * 1000:.0f} ms")
    assert sized in (413, "closed") and chunked in (413, "closed")
    assert sized_s < 3 and chunked_s < 3 and ping_s < 1
    small = httpx.post(url + "/gradio_api/upload", files={"files": ("x.safetensors", b"\0" * 100_000)}, timeout=30)
    assert small.status_code == 200                         # uploads keep their own, larger limit


@pytest.mark.parametrize("how", ["SIGTERM", "Ctrl-C"])
def test_sigterm_and_ctrl_c_end_the_app_and_all_its_children(tmp_path, how):
    proc, _ = start_app(make_checkpoints(tmp_path / "ck"))
    try:
        end = time.time() + 60
        while not children(proc.pid) and time.time() < end:   # the map worker (and multiprocessing's tracker)
            time.sleep(0.2)
        kids = children(proc.pid)
        assert kids, "no map worker was started"
        t0 = time.perf_counter()
        if how == "SIGTERM":
            proc.send_signal(signal.SIGTERM)
        else:                                   # a terminal's Ctrl-C: SIGINT to the whole process group
            os.killpg(proc.pid, signal.SIGINT)
        proc.wait(15)
        end = time.time() + 5
        while group_members(proc.pid) and time.time() < end:
            time.sleep(0.1)
        assert group_members(proc.pid) == [], f"left running after {how}: {group_members(proc.pid)}"
        print(f"\n{how}: the app and its {len(kids)} children ended in {time.perf_counter() - t0:.1f} s")
        assert proc.returncode == 0, proc.stderr.read().decode()[-2000:]
    finally:
        stop_app(proc)
