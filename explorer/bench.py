"""`python -m explorer.bench SUBCOMMAND [--json] [--quick]`: measure the speeds users feel.

  train-ui  the Train tab's live runs: 2-D GAN steps/s with the view refreshed 5 times a second
            (each refresh computes a full frame, as the UI does) against the same run with no view;
            the same for the image models (DCGAN, VAE at the Train tab's settings).
  decode    images/s at batch 1, 64 and 1024 for each shipped decoder on each available device.
  umap      map timings: a cold fit in a new process (JIT included), a warm fit, loading a cached
            map, and placing one new point on an existing map.
  startup   from `python app.py` to the first page served.
  latency   the app's `render` endpoint over HTTP against the trivial `ping` endpoint of the same
            app (Gradio's own floor): median and 95th percentile, one client and 20 concurrent
            clients dragging sliders (random slider values, each client checks its own results).

The app runs in a separate process (`python app.py`), as a user would run it. `--quick` runs a
seconds-long smoke version (used by the tests; no timing asserts anywhere).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppProcess:
    """`python app.py` on a free port, stopped on exit."""

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
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT,
                                     env=dict(os.environ, PYTHONUNBUFFERED="1"))
        deadline = time.time() + 180
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("app.py exited: " + self.proc.stderr.read().decode()[-2000:])
            try:
                if httpx.get(self.url + "/", timeout=1).status_code == 200:
                    self.ready_after = time.perf_counter() - self.started
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("app.py did not start within 180 s")

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


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


def latency(quick: bool = False, model: str = "fashion_dcgan", checkpoints_dir: Path | None = None) -> dict:
    n = 20 if quick else 400
    clients, per_client = (4, 5) if quick else (20, 50)
    with AppProcess(checkpoints_dir, model) as app:
        base = app.url
        with httpx.Client(timeout=60) as c:
            for _ in range(5):                                          # warm both paths
                call(c, base, "ping", [])
                call(c, base, "render", [model, 1, 1.0, [0.0] * 3, "", 0.0, None])
            ping, render = [], []
            for i in range(n):                                          # interleaved: same conditions for both
                ping.append(call(c, base, "ping", [])[0])
                sliders = [round(random.uniform(-3, 3), 2) for _ in range(3)]
                render.append(call(c, base, "render", [model, i, 1.0, sliders, "", 0.0, None])[0])
        errors, lat, mismatches = [], [], []

        def client(idx: int):
            rng = random.Random(idx)
            with httpx.Client(timeout=60) as cc:
                for j in range(per_client):
                    sliders = [round(rng.uniform(-3, 3), 2) for _ in range(3)]
                    try:
                        dt, out = call(cc, base, "render", [model, idx, 1.0, sliders, "", 0.0, None])
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
    return {"model": model, "single_client": {"ping": p, "render": r,
                                              "render_overhead_median_ms": r["median_ms"] - p["median_ms"]},
            "concurrent": {"clients": clients, "requests": len(lat), "errors": len(errors), "mismatches": len(mismatches),
                           "renders_per_s": len(lat) / wall, **(_stats(lat) if lat else {})},
            "first_errors": errors[:3]}


def _print_latency(res: dict) -> None:
    s, c = res["single_client"], res["concurrent"]
    print(f"latency of {res['model']} over HTTP (median / p95, ms)")
    print(f"  ping   (Gradio floor)  {s['ping']['median_ms']:7.2f} / {s['ping']['p95_ms']:7.2f}   n={s['ping']['n']}")
    print(f"  render                 {s['render']['median_ms']:7.2f} / {s['render']['p95_ms']:7.2f}   n={s['render']['n']}")
    print(f"  render adds            {s['render_overhead_median_ms']:7.2f} ms (median) over the floor")
    if c.get("requests"):
        print(f"  {c['clients']} concurrent clients: {c['median_ms']:.1f} / {c['p95_ms']:.1f} ms, "
              f"{c['renders_per_s']:.0f} renders/s, {c['errors']} errors, {c['mismatches']} mixed-up answers")


def _run_worker(trainer, seconds: float, view=None, refresh_hz: float = 5.0) -> dict:
    from .training.worker import RunInfo, TrainingWorker
    w = TrainingWorker()
    w.start(trainer, RunInfo("bench", "bench", "bench"))
    t0 = time.perf_counter()
    s0 = w.snapshot()["step"]
    frames = 0
    while time.perf_counter() - t0 < seconds:
        if view is not None:
            with w._lock:
                view()
            frames += 1
        time.sleep(1 / refresh_hz)
    steps = w.snapshot()["step"] - s0
    dt = time.perf_counter() - t0
    w.stop()
    return {"steps_per_s": steps / dt, "refreshes_per_s": frames / dt}


def train_ui(quick: bool = False, device: str | None = None) -> dict:
    import torch

    from .device import choose_device
    from .livetrain import ImageSettings, ToySettings, image_trainer, sample_grid, toy_trainer
    from .toyview import ToyView
    dev = choose_device(device)
    secs = 1.5 if quick else 10.0
    out = {"device": str(dev), "threads": torch.get_num_threads()}
    t = toy_trainer(ToySettings(), dev)
    out["toy_no_view"] = _run_worker(t, secs)
    t = toy_trainer(ToySettings(), dev)
    view = ToyView(t, "ring")
    out["toy_with_view"] = _run_worker(t, secs, view.frame)
    for model in ("dcgan", "vae"):
        t, _, _ = image_trainer(ImageSettings(dataset="fashion-mnist", model=model), dev)
        out[f"{model}_no_view"] = _run_worker(t, secs)
        t, _, _ = image_trainer(ImageSettings(dataset="fashion-mnist", model=model), dev)
        out[f"{model}_with_view"] = _run_worker(t, secs, lambda t=t: sample_grid(t), refresh_hz=2.0)
    return out


def _print_train_ui(res: dict) -> None:
    print(f"Train tab live runs on {res['device']} ({res['threads']} threads): steps/s")
    for name in ("toy", "dcgan", "vae"):
        a, b = res[f"{name}_no_view"], res[f"{name}_with_view"]
        print(f"  {name:6s} no view {a['steps_per_s']:8.1f}   with view {b['steps_per_s']:8.1f}"
              f"  ({b['refreshes_per_s']:.1f} refreshes/s, {100 * (1 - b['steps_per_s'] / max(a['steps_per_s'], 1e-9)):+.0f}% cost)")


def decode(quick: bool = False, checkpoints_dir: Path | None = None) -> dict:
    import torch

    from .render import ModelRegistry
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    out = {}
    for dev in devices:
        reg = ModelRegistry(checkpoints_dir or ROOT / "checkpoints", dev)
        for name in sorted(reg.available()):
            dec = reg.get(name).decoder
            for batch in (1, 64) if quick else (1, 64, 1024):
                z = torch.randn(batch, dec.cfg.latent_dim, device=dev)
                reps = 3 if quick else max(3, int(2048 / batch))
                with torch.inference_mode():
                    dec.generate(z)
                    if dev == "cuda":
                        torch.cuda.synchronize()
                    t0 = time.perf_counter()
                    for _ in range(reps):
                        dec.generate(z)
                    if dev == "cuda":
                        torch.cuda.synchronize()
                    dt = (time.perf_counter() - t0) / reps
                out[f"{name}@{dev}/batch{batch}"] = {"images_per_s": batch / dt, "ms_per_batch": 1000 * dt}
    return out


_UMAP_CHILD = """
import time, sys, numpy as np
t0 = time.perf_counter()
from explorer.projection import MapParams, fit_umap
x = np.random.default_rng(0).normal(size=(int(sys.argv[1]), 16)).astype(np.float32)
fit_umap(x, MapParams(points=len(x)))
cold = time.perf_counter() - t0
t0 = time.perf_counter()
fit_umap(x, MapParams(points=len(x)))
print(cold, time.perf_counter() - t0)
"""


def umap_bench(quick: bool = False) -> dict:
    import numpy as np

    from .projection import LatentMap, MapParams, load_map, save_map
    n = 1000 if quick else 10_000
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", _UMAP_CHILD, str(n)], cwd=ROOT, capture_output=True, text=True, check=True)
    cold, warm = map(float, res.stdout.split()[-2:])
    rng = np.random.default_rng(0)
    lm = LatentMap(rng.normal(size=(n, 2)).astype(np.float32), rng.normal(size=(n, 16)).astype(np.float32),
                   np.zeros(n, np.int64), [], "test-images", "umap")
    import tempfile
    path = Path(tempfile.mkdtemp()) / "map.safetensors"
    save_map(lm, path, MapParams(points=n))
    t1 = time.perf_counter()
    load_map(path, 16)
    load_s = time.perf_counter() - t1
    z = rng.normal(size=(1, 16)).astype(np.float32)
    lm.place(z)
    t1 = time.perf_counter()
    for _ in range(20):
        lm.place(z)
    place_ms = (time.perf_counter() - t1) / 20 * 1000
    return {"points": n, "cold_fit_s_new_process": cold, "warm_fit_s": warm, "load_cached_s": load_s,
            "place_one_point_ms": place_ms, "wall_s": time.perf_counter() - t0}


def startup(checkpoints_dir: Path | None = None) -> dict:
    with AppProcess(checkpoints_dir) as app:
        return {"to_first_page_s": app.ready_after}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m explorer.bench", description=__doc__.split("\n")[0])
    p.add_argument("what", choices=["latency", "train-ui", "decode", "umap", "startup"])
    p.add_argument("--device")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quick", action="store_true", help="seconds-long smoke run")
    p.add_argument("--model", default="fashion_dcgan")
    p.add_argument("--checkpoints-dir")
    args = p.parse_args(argv)
    ck_dir = Path(args.checkpoints_dir) if args.checkpoints_dir else None
    simple = {"decode": lambda: decode(args.quick, ck_dir), "umap": lambda: umap_bench(args.quick),
              "startup": lambda: startup(ck_dir)}
    if args.what in simple:
        res = simple[args.what]()
        if args.json:
            print(json.dumps(res))
        else:
            for k, v in res.items():
                print(f"  {k:40s} {v if not isinstance(v, dict) else ', '.join(f'{a}={b:.4g}' for a, b in v.items())}")
        return 0
    if args.what == "train-ui":
        res = train_ui(args.quick, args.device)
        print(json.dumps(res)) if args.json else _print_train_ui(res)
        return 0
    res = latency(args.quick, args.model, Path(args.checkpoints_dir) if args.checkpoints_dir else None)
    res["machine"] = {"cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d")}
    print(json.dumps(res, indent=None)) if args.json else _print_latency(res)
    return 1 if res["concurrent"]["errors"] or res["concurrent"]["mismatches"] else 0


if __name__ == "__main__":
    sys.exit(main())
