"""Command lines that cannot finish end with one `error:` line and an exit code (2; 130 for Ctrl-C,
143 for SIGTERM), never a traceback, and leave no temporary folder behind, even killed."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from explorer.cli import prepare, prepare_data
from explorer.core.data import prepared
from tests.test_messages import run_cli

ROOT = Path(__file__).resolve().parents[1]


def one_error_line(err: str) -> bool:
    lines = err.strip().splitlines()
    return len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err


@pytest.fixture
def pictures(tmp_path) -> Path:
    folder = tmp_path / "pictures"
    for cls in ("a", "b"):
        (folder / cls).mkdir(parents=True)
        for i in range(4):
            Image.fromarray(np.full((8, 8), 40 * i + (100 if cls == "b" else 0), np.uint8)).save(folder / cls / f"{i}.png")
    return folder


def leftovers(data: Path) -> list[str]:
    return sorted(p.name for p in data.iterdir() if p.name.startswith(".")) if data.is_dir() else []


def test_train_refuses_an_out_in_a_missing_folder_and_creates_none(capsys, tmp_path, monkeypatch):
    from explorer.cli import train
    monkeypatch.setattr(train, "make_trainer", lambda *a, **k: pytest.fail("training started"))
    out = tmp_path / "typo" / "models" / "gan.safetensors"
    code, err = run_cli(train.main, ["--model", "vae", "--steps", "1", "--out", str(out)], capsys)
    assert code == 2 and one_error_line(err), err
    assert f"the folder {tmp_path / 'typo'} does not exist" in err and not (tmp_path / "typo").exists()


@pytest.mark.parametrize("procs", ["-3", "0", "2.5"])
def test_bench_ddp_refuses_a_process_count_out_of_range(capsys, procs):
    from explorer.cli.bench.__main__ import main as bench
    code, err = run_cli(bench, ["ddp", "--procs", procs, "--quick"], capsys)
    assert code == 2 and "argument --procs: must be" in err and "between 1 and 64" in err and "Traceback" not in err, err


def test_prepare_with_nothing_to_prepare_says_so(capsys, tmp_path):
    code, err = run_cli(prepare.main, ["--checkpoints-dir", str(tmp_path)], capsys)
    assert code == 2 and one_error_line(err) and "holds no model to explore" in err, err
    (tmp_path / "empty").mkdir()
    code, err = run_cli(prepare.main, ["folder", str(tmp_path / "empty"), "--name", "mine", "--data-dir", str(tmp_path)],
                        capsys)
    assert code == 2 and one_error_line(err) and "No readable images" in err, err


def test_prepare_help_lists_the_datasets(capsys):
    with pytest.raises(SystemExit) as done:
        prepare.main(["--help"])
    out = capsys.readouterr().out
    assert done.value.code == 0 and "emoji [PATH]" in out and "folder PATH --name NAME" in out, out


def test_prepare_refuses_an_unwritable_data_dir_before_decoding(capsys, pictures, monkeypatch):
    monkeypatch.setattr(prepare_data, "load_image_folder", lambda *a, **k: pytest.fail("decoding started"))
    code, err = run_cli(prepare.main, ["folder", str(pictures), "--name", "mine", "--data-dir", "/proc/x"], capsys)
    assert code == 2 and one_error_line(err) and "cannot be written to /proc/x" in err, err


@pytest.mark.parametrize("stop, code", [("ctrl-c", 130), ("sigterm", 143)])
def test_a_prepare_stopped_while_writing_says_so_and_leaves_no_folder(capsys, pictures, tmp_path, monkeypatch, stop, code):
    data = tmp_path / "data"
    argv = ["folder", str(pictures), "--name", "mine", "--image-size", "8", "--data-dir", str(data)]
    assert run_cli(prepare.main, argv, capsys)[0] == 0
    before = np.load(data / "mine" / "train-images.npy")
    save = np.save

    def stopped(*args, **kwargs):                # the stop comes while the new dataset is written
        if stop == "ctrl-c":
            raise KeyboardInterrupt
        os.kill(os.getpid(), signal.SIGTERM)
        return save(*args, **kwargs)
    monkeypatch.setattr(prepared.np, "save", stopped)
    got, err = run_cli(prepare.main, argv, capsys)
    assert got == code and one_error_line(err) and "no dataset was written" in err, err
    assert leftovers(data) == [] and np.array_equal(np.load(data / "mine" / "train-images.npy"), before)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


KILLED = """
import os, signal, sys
import numpy as np
from explorer.cli import prepare
np.save = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)       # kill -9 in the middle of the write
prepare.main(sys.argv[1:])
"""


def test_what_a_killed_prepare_left_is_removed_by_the_next(pictures, tmp_path):
    data = tmp_path / "data"
    argv = ["folder", str(pictures), "--name", "mine", "--image-size", "8", "--data-dir", str(data)]
    for _ in range(2):                               # each killed run removes what the one before left
        killed = subprocess.run([sys.executable, "-c", KILLED, *argv], cwd=ROOT, capture_output=True, timeout=300)
        assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
        assert len(leftovers(data)) == 1, leftovers(data)
    legacy = data / ".mine.abcd1234.tmp"             # an older version's (no process id): removed once an hour old
    legacy.mkdir()
    os.utime(legacy, (1e9, 1e9))
    mine = data / f".mine.{os.getpid()}.efgh5678.tmp"    # a writer that still runs: left alone
    mine.mkdir()
    assert len(leftovers(data)) == 3
    done = subprocess.run([sys.executable, "-m", "explorer.prepare", *argv], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert leftovers(data) == [mine.name]
    mine.rmdir()


def test_a_torchrun_environment_without_its_peers_fails_soon_in_words(capsys, monkeypatch):
    """RANK/WORLD_SIZE set by hand, no other process: a DistStoreError traceback after --ddp-timeout."""
    import socket
    import time

    from explorer.cli import train
    from explorer.training import distributed
    monkeypatch.setattr(distributed, "JOIN_TIMEOUT_S", 2)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for k, v in {"RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("TORCHELASTIC_RUN_ID", raising=False)
    t0 = time.monotonic()
    code, err = run_cli(train.main, ["--model", "vae", "--width", "4", "--latent-dim", "2", "--batch-size", "4",
                                     "--steps", "1", "--dry-run", "--ddp-timeout", "10"], capsys)
    assert code == 2 and one_error_line(err), err
    assert "rank 0: Waited 2 s for the other 1 process of this launch (WORLD_SIZE=2)" in err and "torchrun" in err, err
    assert time.monotonic() - t0 < 10
