"""Benchmarks over HTTP against a running `python app.py`: latency of `render` vs the floor, start-up."""
from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[3]   # the repository


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ctrl_c_as_in_a_terminal() -> None:
    """In the child before app.py starts: Ctrl-C (SIGINT) at its default, as in a terminal. A process
    started in the background by a script inherits SIGINT *ignored* (and so would the app, which then
    never saw the Ctrl-C test's signal: the test "hung" only when the whole suite ran in the background)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class AppProcess:
    """`python app.py` on a free port, stopped on exit. It runs in a process group of its own: a
    Ctrl-C meant for the bench reaches the bench, which then stops the app (and a test can signal
    the app's whole group as a terminal would)."""

    def __init__(self, checkpoints_dir: Path | None = None, model: str | None = None):
        self.port = _free_port()
        cmd = [sys.executable, str(ROOT / "app.py"), "--port", str(self.port)]
        if checkpoints_dir:
            cmd += ["--checkpoints-dir", str(checkpoints_dir)]
        if model:
            cmd += ["--checkpoint", model]
        self.cmd = cmd
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self.started = time.perf_counter()
        # the app's log goes to a file, not a pipe: a pipe nobody reads fills up (64 kB) and then the
        # app blocks at its next log line, a shutdown's included
        self._log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(self.cmd, stdout=self._log, stderr=subprocess.STDOUT, cwd=ROOT,
                                     env=dict(os.environ, PYTHONUNBUFFERED="1"), start_new_session=True,
                                     preexec_fn=_ctrl_c_as_in_a_terminal)
        deadline = time.time() + 180
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("app.py exited: " + self.log_tail())
            try:
                if httpx.get(self.url + "/", timeout=1).status_code == 200:
                    self.ready_after = time.perf_counter() - self.started
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("app.py did not start within 180 s")

    def __exit__(self, *exc):
        if self.proc.poll() is None:          # (a test may have ended it already)
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()

    def log_tail(self, chars: int = 3000) -> str:
        """The end of what the app wrote (its standard output and error)."""
        self._log.flush()
        self._log.seek(0, os.SEEK_END)
        self._log.seek(max(0, self._log.tell() - chars))
        return self._log.read().decode(errors="replace")


@contextlib.contextmanager
def running(app: AppProcess | None, checkpoints_dir: Path | None = None, model: str | None = None):
    """`app` if one is given (already running: left running), else a new `python app.py`, stopped after."""
    if app is not None:
        yield app
        return
    with AppProcess(checkpoints_dir, model) as started:
        yield started


def call(client: httpx.Client, base: str, api: str, data: list) -> tuple[float, object]:
    """One call through Gradio's HTTP API (POST, then read the event stream); (seconds, result)."""
    t0 = time.perf_counter()
    r = client.post(f"{base}/gradio_api/call/{api}", json={"data": data})
    r.raise_for_status()
    event_id = r.json()["event_id"]
    body = client.get(f"{base}/gradio_api/call/{api}/{event_id}").text
    dt = time.perf_counter() - t0
    if "event: error" in body:
        raise RuntimeError(f"{api} failed: {body[-300:]}")
    payload = body.split("data:", 1)[1].strip().splitlines()[0]
    return dt, json.loads(payload)[0]          # the data list holds one output


def _stats(xs: list[float]) -> dict:
    xs = sorted(xs)
    return {"median_ms": 1000 * statistics.median(xs), "p95_ms": 1000 * xs[min(len(xs) - 1, int(0.95 * len(xs)))],
            "n": len(xs)}


def latency(quick: bool = False, model: str = "fashion_dcgan", checkpoints_dir: Path | None = None,
            app: AppProcess | None = None) -> dict:
    """Render latency against /ping, a 2-s drag idle and while a 2-D run trains, and concurrent clients;
    against `app` when given (a running app.py serving `model`), else a new one."""
    n = 20 if quick else 400
    clients, per_client = (4, 5) if quick else (20, 50)
    with running(app, checkpoints_dir, model) as served:
        base = served.url
        with httpx.Client(timeout=60) as c:
            for _ in range(5):                                          # warm both paths
                call(c, base, "ping", [])
                call(c, base, "render", [model, 1, 1.0, [0.0] * 3, "", 0.0, None, None])
            ping, render = [], []
            for i in range(n):                                          # interleaved: same conditions for both
                ping.append(call(c, base, "ping", [])[0])
                sliders = [round(random.uniform(-3, 3), 2) for _ in range(3)]
                render.append(call(c, base, "render", [model, i, 1.0, sliders, "", 0.0, None, None])[0])
            drag = {"idle": _drag(c, base, model)}
            started = call(c, base, "train_2d_start", ["ring", "non-saturating", 1e-3, 1e-3, 1, 128, 2])[1]
            time.sleep(1.0)                                             # the run is at full speed
            step0 = call(c, base, "train_status", [started["owner"]])[1]["step"]
            drag["while_training"] = _drag(c, base, model)
            drag["training_steps_during_drag"] = call(c, base, "train_status", [started["owner"]])[1]["step"] - step0
            call(c, base, "train_stop", [started["owner"]])
        errors, lat, mismatches = [], [], []

        def client(idx: int):
            rng = random.Random(idx)
            with httpx.Client(timeout=60) as cc:
                for j in range(per_client):
                    sliders = [round(rng.uniform(-3, 3), 2) for _ in range(3)]
                    try:
                        dt, out = call(cc, base, "render", [model, idx, 1.0, sliders, "", 0.0, None, None])
                        lat.append(dt)
                        if json.loads(out["recipe"])["sliders"][:3] != sliders:   # each session gets its own answer
                            mismatches.append((idx, j))
                    except Exception as exc:  # counted, reported
                        errors.append(repr(exc))

        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
    p, r = _stats(ping), _stats(render)
    return {"model": model, "drag_2s": drag, "single_client": {"ping": p, "render": r,
                                              "render_overhead_median_ms": r["median_ms"] - p["median_ms"]},
            "concurrent": {"clients": clients, "per_client": per_client, "requests": len(lat), "errors": len(errors), "mismatches": len(mismatches),
                           "renders_per_s": len(lat) / wall, **(_stats(lat) if lat else {})},
            "first_errors": errors[:3]}


def _drag(c: httpx.Client, base: str, model: str, seconds: float = 2.0) -> int:
    """Pictures a 2-s slider drag gets back: one render after another, as the browser sends them."""
    t0, done = time.perf_counter(), 0
    while time.perf_counter() - t0 < seconds:
        call(c, base, "render", [model, 3, 1.0, [round(-2 + 4 * (done % 20) / 20, 2)], "", 0.0, None, None])   # to and fro
        done += 1
    return done


def _print_latency(res: dict) -> None:
    s, c = res["single_client"], res["concurrent"]
    print(f"latency of {res['model']} over HTTP (median / p95, ms)")
    print(f"  ping   (Gradio floor)  {s['ping']['median_ms']:7.2f} / {s['ping']['p95_ms']:7.2f}   n={s['ping']['n']}")
    print(f"  render                 {s['render']['median_ms']:7.2f} / {s['render']['p95_ms']:7.2f}   n={s['render']['n']}")
    print(f"  render adds            {s['render_overhead_median_ms']:7.2f} ms (median) over the floor")
    d = res["drag_2s"]
    print(f"  a 2-s drag: {d['idle']} pictures idle, {d['while_training']} while a 2-D run trains "
          f"({d['training_steps_during_drag']} training steps meanwhile)")
    if c.get("requests"):
        print(f"  {c['clients']} concurrent clients: {c['median_ms']:.1f} / {c['p95_ms']:.1f} ms, "
              f"{c['renders_per_s']:.0f} renders/s, {c['errors']} errors, {c['mismatches']} mixed-up answers")


def startup(checkpoints_dir: Path | None = None) -> dict:
    with AppProcess(checkpoints_dir) as app:
        return {"to_first_page_s": app.ready_after}
