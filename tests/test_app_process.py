"""`python app.py` as a user runs it, in a process of its own: one app is started for this file (its
start-up is the startup bench's figure), the latency and memory benches read it (smoke runs: their
reports hold together; speed is the bench's output, not a test), then SIGTERM ends it and every
process it started; Ctrl-C (SIGINT to the process group, as a terminal sends it) ends another.

One app for the benches and SIGTERM: each start of app.py is ~10 s of CPU (torch, Gradio, the map
worker) on the 2-core test machine."""
from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from explorer.cli.bench.http import AppProcess
from tests.apphelpers import in_own_thread, link_shipped

pytestmark = pytest.mark.slow


def finite_positive(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def json_round_trips(res: dict) -> bool:
    return json.loads(json.dumps(res)) == res


def children(pid: int) -> list[int]:
    """Running (not zombie) children of `pid` (from /proc)."""
    return [p for p, fields in _stats() if fields[0] != "Z" and int(fields[1]) == pid]


def group_members(pgid: int) -> list[int]:
    """Running processes of the process group `pgid`."""
    return [p for p, fields in _stats() if fields[0] != "Z" and int(fields[2]) == pgid]


def _stats():
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            yield int(stat.parent.name), stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue


def ends_with_its_children(app, how: str, send) -> None:
    """`send()` (a signal) ends the app and every process of its group, with exit status 0."""
    proc = app.proc
    end = time.time() + 60
    while not children(proc.pid) and time.time() < end:   # the map worker (and multiprocessing's tracker)
        time.sleep(0.2)
    kids = children(proc.pid)
    assert kids, "no map worker was started"
    while "Running on local URL" not in app.log_tail(1 << 20) and time.time() < end:    # started, as a person sees it
        time.sleep(0.1)
    t0 = time.perf_counter()
    send()
    try:
        proc.wait(30)                                   # 0.1-0.3 s when the machine is quiet
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGUSR1)               # app.py writes every thread's stack to its log
        time.sleep(2)
        kill_group(proc)
        raise AssertionError(f"still running 30 s after {how}; its log ends: " + app.log_tail()) from None
    end = time.time() + 5
    while group_members(proc.pid) and time.time() < end:
        time.sleep(0.1)
    assert group_members(proc.pid) == [], f"left running after {how}: {group_members(proc.pid)}"
    print(f"\n{how}: the app and its {len(kids)} children ended in {time.perf_counter() - t0:.1f} s")
    assert proc.returncode == 0, app.log_tail()


def kill_group(proc) -> None:
    """Whatever a failed test left of the app's process group."""
    for pid in group_members(proc.pid):
        os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def user_app(tmp_path_factory):
    folder = link_shipped(tmp_path_factory.mktemp("ck"), ("fashion_classifier", "fashion_vae16"))   # cached: starts at once
    with AppProcess(folder, "fashion_vae16") as app:
        yield app
    kill_group(app.proc)


def test_the_startup_and_latency_benches_read_the_app(user_app):
    from explorer.cli.bench import latency
    assert finite_positive(user_app.ready_after)                   # `bench startup`'s figure: to the first page
    res = latency(quick=True, model="fashion_vae16", app=user_app)
    assert json_round_trips(res)
    s, c = res["single_client"], res["concurrent"]
    assert s["render"]["n"] == s["ping"]["n"] == 20
    assert c["errors"] == 0 and c["mismatches"] == 0 and res["first_errors"] == []
    assert c["requests"] == c["clients"] * c["per_client"]            # every request answered
    for st in (s["ping"], s["render"], c):
        assert finite_positive(st["median_ms"]) and st["median_ms"] <= st["p95_ms"]
    assert math.isclose(s["render_overhead_median_ms"], s["render"]["median_ms"] - s["ping"]["median_ms"])
    d = res["drag_2s"]                    # both drags got pictures back, and training went on meanwhile
    assert d["idle"] >= 1 and d["while_training"] >= 1 and d["training_steps_during_drag"] >= 1
    assert user_app.proc.poll() is None                              # left running for the next test


def test_the_memory_bench_reads_the_app_around_api_calls(user_app):
    from explorer.cli.bench.memory import memory
    res = in_own_thread(memory, quick=True, calls=30, warm=10, app=user_app)      # the soak itself is the bench's
    assert json_round_trips(res) and res["calls"] == 30 and res["warm_up_calls"] == 10
    assert finite_positive(res["calls_per_s"]) and res["rss_start_mb"] > 0 and res["rss_after_mb"] > 0
    assert math.isclose(res["kb_per_call"], (res["rss_after_mb"] - res["rss_before_mb"]) * 1024 / 30)
    assert user_app.proc.poll() is None


def test_sigterm_ends_the_app_and_all_its_children(user_app):
    """The app the benches used (one that has served and trained, not only started)."""
    ends_with_its_children(user_app, "SIGTERM", lambda: user_app.proc.send_signal(signal.SIGTERM))


def test_ctrl_c_ends_the_app_and_all_its_children(tmp_path):
    folder = link_shipped(tmp_path / "ck", ("fashion_classifier", "fashion_vae2"))
    with AppProcess(folder) as app:
        try:
            ends_with_its_children(app, "Ctrl-C", lambda: os.killpg(app.proc.pid, signal.SIGINT))
        finally:
            kill_group(app.proc)
