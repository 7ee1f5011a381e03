"""Shared fixtures: tiny models and data so every test runs in seconds on a 2-core CPU; one app and
one Chromium for the whole run; and a session-end check that the tests left no process running.

`shared_app` is started once per run (in this process, on a free port, with small maps and
directions: tests/apphelpers.py) and shared by the API, conditional, on-device (CPU) and browser
tests. Tests that use it leave it as they found it: a training run they start, they stop.
"""
from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

import explorer.ui  # noqa: F401 - first: gradio, imported by the tests below, then skips its stub writer
from explorer.core.data import load_digits

torch.set_num_threads(1)   # tiny models: one thread is faster than two handing work back and forth

TINY_DCGAN = {"width": 8, "d_width": 8, "latent_dim": 8}
TINY_VAE = {"width": 8, "hidden": 32, "latent_dim": 4}


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


# The longest test files first (about 80 s down to 10 s each on the 2-core machine), the rest after them in
# their usual order: pytest-xdist hands a test process its next file when it is nearly done with the one it
# has (pytest.ini turns off its own reordering, by number of tests), so the two processes end together.
LONGEST_FIRST = ["test_browser.py", "test_browser_presentation.py", "test_bench.py", "test_browser_own_picture.py",
                 "test_directions.py", "test_app_process.py", "test_browser_presenter.py", "test_browser_room.py", "test_evaluate.py",
                 "test_workspace.py", "test_app_api.py", "test_ddp.py", "test_browser_conditional.py",
                 "test_bench_ddp.py", "test_browser_security.py", "test_server_limits.py", "test_colour_app.py"]


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))     # stable: each file's own order is kept


@pytest.fixture(scope="session")
def digits():
    return load_digits("train")


@dataclass
class SharedApp:
    ws: object          # the app's Workspace
    url: str
    folder: Path        # the models it serves
    demo: object = None  # its gr.Blocks


@pytest.fixture(scope="session")
def shared_app(tmp_path_factory):
    """The one app of the run: tiny models of every kind, the hostile `evil_gan`, the shipped Fashion models."""
    from tests.apphelpers import (
        TEST_SESSION_CAPACITY,
        app_folder,
        launch,
        plant_hostile_gan,
        small_workspace,
    )
    folder = app_folder(tmp_path_factory.mktemp("app"))
    ws = small_workspace(folder)
    plant_hostile_gan(ws)
    demo, url = launch(ws, default="tiny_vae2", session_capacity=TEST_SESSION_CAPACITY)
    yield SharedApp(ws, url, folder, demo)
    demo.close()
    ws.close()           # the map worker process ends with the tests


def browser_available() -> bool:
    """Chromium and Playwright are here; in CI (.ci/run installs them) their absence is an error."""
    import importlib.util
    if CHROMIUM and importlib.util.find_spec("playwright"):
        return True
    if os.environ.get("CI"):
        raise RuntimeError("Browser tests are mandatory in CI: install Debian's chromium and the playwright package.")
    return False


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run (each test opens its own pages or contexts)."""
    if not browser_available():
        pytest.skip("Chromium or Playwright missing: browser tests skipped (they are mandatory in CI).")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield b
        b.close()


def _live_children(pid: int) -> dict[int, str]:
    """pid -> command line of the running (not zombie) children of `pid`, from /proc. Python's
    multiprocessing resource tracker is left out: it ends by itself when this process ends (it
    reads until our end of its pipe closes), so it is never left behind."""
    out = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if fields[0] == "Z" or int(fields[1]) != pid:
                continue
            cmd = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if "resource_tracker" not in cmd:
            out[int(stat.parent.name)] = cmd
    return out


def _threads_in_torch() -> dict[str, str]:
    """name -> the last few lines of the stack of every other thread now running PyTorch code."""
    frames, out = sys._current_frames(), {}
    for t in threading.enumerate():
        f = frames.get(t.ident)
        if t is threading.current_thread() or f is None:
            continue
        stack = traceback.extract_stack(f)
        if any("/torch/" in fr.filename for fr in stack):
            out[t.name] = "".join(traceback.format_list(stack[-6:]))
    return out


def _wait_for_computing_threads(session) -> None:
    """Wait (up to 30 s) for handler threads still computing to finish before this process ends: an
    app's event that was running when its server closed (a model switch naming its sliders) goes on in
    a daemon thread, and one inside a PyTorch call when Python shuts down aborts the whole process
    ("terminate called without an active exception", exit code 134: PyTorch issue 38228). The app
    itself ends with os._exit after its orderly shutdown, so this is the tests' own process only."""
    end = time.time() + 30
    busy = _threads_in_torch()
    while busy and time.time() < end:
        time.sleep(0.1)
        busy = _threads_in_torch()
    if busy:
        listing = "\n".join(f"  {name}:\n{stack}" for name, stack in busy.items())
        print(f"threads still computing 30 s after the last test:\n{listing}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    """Fail the run if a process the tests started (a child of this one) is still running at the
    end (after a grace of 5 s for those that are on their way out); end them either way. Before
    that, let threads still computing finish (`_wait_for_computing_threads`)."""
    _wait_for_computing_threads(session)
    if not Path("/proc").is_dir():
        return
    end = time.time() + 5
    left = _live_children(os.getpid())
    while left and time.time() < end:
        time.sleep(0.2)
        left = _live_children(os.getpid())
    if not left:
        return
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    listing = "\n".join(f"  {pid}: {cmd[:200]}" for pid, cmd in left.items())
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    message = f"tests left {len(left)} process(es) running (now killed):\n{listing}"
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_line(message, red=True)
    else:
        print(message)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
