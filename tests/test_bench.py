"""`python -m explorer.bench`: smoke runs of each bench that check what they report holds
together (every row present, counts equal what was asked, no errors, finite speeds, phases that
add up, JSON that round-trips). No timing thresholds: speed is the bench's output, not a test."""
import json
import math
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.cli.bench.__main__ import main
from tests.apphelpers import make_checkpoints


def finite_positive(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def round_trips(res: dict) -> bool:
    return json.loads(json.dumps(res)) == res


# ---------------------------------------------------------------- quality-time
def check_quality_time(res: dict, steps: int, every: int, thresholds) -> None:
    assert round_trips(res)
    phases = res["phases_s"]
    assert {"start_up", "imports", "data_loading", "model_build", "warm_up", "training", "evaluation"} <= set(phases)
    assert all(v >= 0 for v in phases.values())
    assert sum(phases.values()) <= res["total_s"] + 1e-6            # disjoint phases of one clock
    hist = res["history"]
    assert [h["step"] for h in hist] == sorted({*range(0, steps + 1, every), steps})
    assert all(math.isfinite(h["fd"]) and h["fd"] > 0 for h in hist)
    assert res["final_fd"] == hist[-1]["fd"]
    secs = [h["seconds"] for h in hist]
    assert secs == sorted(secs) and all(h["seconds"] <= h["wall_s"] <= res["total_s"] for h in hist)
    # evaluation left out: the last reading's training clock plus all evaluation is its wall clock, at most
    assert hist[-1]["seconds"] + phases["evaluation"] >= hist[-1]["wall_s"] - 1e-6
    assert [f["threshold"] for f in res["first_below"]] == list(thresholds)
    for first in res["first_below"]:                                 # the first reading at or below, or none
        below = [h for h in hist if h["fd"] <= first["threshold"]]
        if below:
            assert (first["step"], first["fd"], first["seconds"]) == (below[0]["step"], below[0]["fd"], below[0]["seconds"])
        else:
            assert first["step"] is first["fd"] is first["seconds"] is None
    assert res["settings"]["steps"] == steps and res["warm_up_steps"] == 1      # eager on CPU: step 1 warms
    assert math.isclose(res["steps_per_s"] * phases["training"], steps - res["warm_up_steps"], rel_tol=1e-9)
    assert all(t["met"] is None and t["why_not_judged"] == "not on a CUDA GPU" for t in res["targets"])
    first_step = res["first_step_s"]   # set-up before the first step, evaluation left out
    assert 0 < first_step <= res["total_s"] - phases["evaluation"] + 1e-6
    assert first_step >= sum(phases[k] for k in ("start_up", "imports", "data_loading", "model_build")) - 1e-6


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU run's report")
def test_quality_time_reports_a_consistent_timeline_and_fd_history():
    from explorer.cli.bench.quality_time import quality_time
    thresholds = (1e6, 0.0, 10.0)    # reached at step 0, never reached, and the real one
    threads = torch.get_num_threads()
    res = quality_time(quick=True, thresholds=thresholds, steps=4, eval_every=3, samples=64, device="cpu")
    check_quality_time(res, 4, 3, thresholds)
    assert res["threads"] == 1 and torch.get_num_threads() == threads    # one thread, as shipped; then put back
    assert res["first_below"][0]["step"] == 0 and res["first_below"][1]["step"] is None


def test_quality_time_refuses_bad_settings_by_name():
    from explorer.cli.bench.quality_time import quality_time
    from explorer.core.validation import UserError
    with pytest.raises(UserError, match="--eval-every must be between 1 and 10000000, got 0"):
        quality_time(quick=True, eval_every=0)
    with pytest.raises(UserError, match="--threshold must be .*got NaN"):
        quality_time(quick=True, thresholds=(float("nan"),))
    with pytest.raises(UserError, match="--batch-size must be between 2 and 8192, got 1"):
        quality_time(quick=True, batch_size=1)
    with pytest.raises(UserError, match="--lr-rule must be one of sqrt, linear, none"):
        quality_time(quick=True, lr_rule="cubic")


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU run's report")
def test_quality_time_quick_command_line():
    """In a process of its own, as a user runs it: the report holds together, and nothing on the
    way to the first step imported torch._dynamo (5 s on an H200 before this was found)."""
    out = subprocess.run([sys.executable, "-m", "explorer.bench", "quality-time", "--quick", "--json", "--device", "cpu"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    check_quality_time(res, 16, 8, (10.0, 8.0))
    assert res["settings"]["samples"] == 256 and res["quick"] is True
    assert res["torch_dynamo_imported"] is False


def test_quality_time_recipe_scales_the_learning_rate_with_the_batch():
    from explorer.cli.bench.quality_time import recipe
    assert recipe(64) == {"batch_size": 64, "lr_g": 2e-4, "lr_d": 2e-4, "label_smoothing": 0.9, "seed": 0,
                          "ema_half_life": 0.0}
    assert recipe(256)["lr_g"] == pytest.approx(4e-4) and recipe(256, "linear")["lr_d"] == pytest.approx(8e-4)
    assert recipe(256, "none")["lr_g"] == 2e-4 and recipe(128, ema_half_life=5000)["ema_half_life"] == 5000


def test_quality_time_on_cuda_defaults_to_the_gpu_recipe_and_elsewhere_to_the_shipped_one():
    """The H200 found batch 256 too few steps (2 820) for FD 8: CUDA's default is the shipped batch of 64 for
    16 epochs, evaluating G's EMA; the CPU and --quick keep the shipped run, so their figures stay comparable."""
    from explorer.cli.bench.quality_time import GPU_RECIPE, default_run, recipe
    from explorer.training import GANTrainConfig
    assert default_run("cuda", False) == GPU_RECIPE
    assert GPU_RECIPE["batch_size"] == 64 and GPU_RECIPE["epochs"] == 16 and GPU_RECIPE["ema_half_life"] > 0
    assert default_run("cpu", False) == default_run("cuda", True) == {"batch_size": 64, "epochs": 12, "ema_half_life": 0.0}
    assert GANTrainConfig(**recipe(64, "sqrt", GPU_RECIPE["ema_half_life"])).ema_half_life == GPU_RECIPE["ema_half_life"]


# ---------------------------------------------------------------- live-time
@pytest.mark.slow
def test_live_time_runs_the_train_tabs_model_and_reports_when_the_grid_passed_the_threshold(tmp_path, capsys):
    """The Train tab's own DCGAN on digits (shipped classifier, no data to install): an FD reading every
    2 steps with its grid written, seconds that grow, the threshold met at once when it is huge and never
    when it is 0, and the GPU target left unjudged on the CPU."""
    grids = tmp_path / "grids"
    assert main(["live-time", "--quick", "--json", "--device", "cpu", "--dataset", "digits", "--threshold", "1e5",
                 "--grids", str(grids)]) == 0
    res = json.loads(capsys.readouterr().out)
    assert [h["step"] for h in res["history"]] == [0, 2, 4] and res["settings"]["samples"] == 64
    assert all(finite_positive(h["fd"]) for h in res["history"])
    seconds = [h["seconds"] for h in res["history"]]
    assert seconds == sorted(seconds) and seconds[-1] > seconds[0] >= res["built_s"] > 0
    assert "DCGAN on digits" in res["settings"]["run"] and res["recognisable"]["step"] == 0
    assert res["target"]["met"] is None and res["target"]["why_not_judged"] == "not on a CUDA GPU"
    assert sorted(p.name for p in grids.iterdir()) == [f"digits-step{s:06d}.png" for s in (0, 2, 4)]
    for png in grids.iterdir():        # the pictures themselves, not black (floats in 0-1 once came out as 0 and 1)
        pixels = np.asarray(Image.open(png))
        assert pixels.max() > 100 and pixels.mean() > 20, (png.name, pixels.max(), pixels.mean())
    assert main(["live-time", "--quick", "--device", "cpu", "--dataset", "digits", "--threshold", "0", "--steps", "2"]) == 0
    out = capsys.readouterr().out
    assert "FD <= 0 (recognisable): not reached in 2 steps" in out and "not judged (not on a CUDA GPU)" in out


def test_live_time_needs_a_threshold_where_none_is_known(capsys):
    assert main(["live-time", "--quick", "--dataset", "digits"]) == 2
    assert "no recognisable-FD threshold is known for 'digits'" in capsys.readouterr().err


# ---------------------------------------------------------------- in-process speeds
@pytest.mark.slow
def test_train_speed_quick_says_why_there_is_no_fast_path():
    from explorer.cli.bench.speed import SHIPPED_TRAINING, train_speed
    res = train_speed(quick=True, device="cpu")
    assert round_trips(res)
    for kind, (_, train_cfg) in SHIPPED_TRAINING.items():
        row = res[kind]
        assert row["batch"] == train_cfg["batch_size"] and finite_positive(row["eager_steps_per_s"])
        assert row["eager_images_per_s"] == row["eager_steps_per_s"] * row["batch"]
        assert row["fast_path"].startswith("eager (CUDA graphs need a CUDA device")   # said, not faked
        assert "fast_steps_per_s" not in row


@pytest.mark.slow
def test_train_ui_quick_times_each_run_warm_with_the_view_off_and_on():
    from explorer.cli.bench import train_ui
    res = train_ui(quick=True, device="cpu")
    assert round_trips(res) and res["device"] == "cpu"
    for name in ("toy", "dcgan", "vae"):
        off, on, warm = res[f"{name}_no_view"], res[f"{name}_with_view"], res[f"{name}_warm_up"]
        assert off["windows"] == on["windows"] == res["rounds"]
        assert finite_positive(off["steps_per_s"]) and finite_positive(on["steps_per_s"])
        assert off["refreshes_per_s"] == 0 and on["refreshes_per_s"] > 0    # the view really was off, then on
        assert warm["steps"] >= 2 and warm["seconds"] > 0 and warm["fast_path"] == "off"


@pytest.mark.slow
def test_decode_quick_has_every_row_and_consistent_rates(tmp_path):
    from explorer.cli.bench import decode
    res = decode(quick=True, checkpoints_dir=make_checkpoints(tmp_path / "ck"), variants=True)
    assert round_trips(res)
    models = {"tiny_gan", "tiny_vae2", "tiny_vae8"}
    expected = {f"{m}@{d}/batch{b}" for m in models for d in ["cpu"] + ["cuda"] * torch.cuda.is_available()
                for b in (1, 64)}
    assert set(res) == expected
    for key, row in res.items():
        batch = int(key.rsplit("batch", 1)[1])
        assert all(finite_positive(row[k]) for k in ("images_per_s", "contiguous_images_per_s",
                                                      "channels_last_images_per_s", "bf16_images_per_s"))
        assert math.isclose(row["images_per_s"] * row["ms_per_batch"] / 1000, batch, rel_tol=1e-9)


@pytest.mark.slow
def test_decode_quick_times_every_shipped_model_conditional_ones_included():
    """`bench gpu` once crashed here: `decode` asked the class-conditional decoders for pictures
    without a class. Every shipped model must be timed, on every device (`--variants`, which `bench
    gpu` adds, times the same call three more ways: test_decode_quick_has_every_row... covers it)."""
    from explorer.cli.bench import decode
    from explorer.cli.bench.http import ROOT
    from explorer.explore.registry import ModelRegistry
    shipped = set(ModelRegistry(ROOT / "checkpoints", "cpu").available())
    assert {"fashion_dcgan", "fashion_vae16", "fashion_cdcgan", "fashion_cvae16"} <= shipped
    res = decode(quick=True, checkpoints_dir=None)
    devices = ["cpu"] + ["cuda"] * torch.cuda.is_available()
    assert set(res) == {f"{m}@{d}/batch{b}" for m in shipped for d in devices for b in (1, 64)}
    assert all(finite_positive(row["images_per_s"]) for row in res.values())


# against a launched app.py (startup, latency, memory): tests/test_app_process.py, which reads one app


def test_gpu_bench_says_plainly_when_there_is_no_gpu(capsys):
    if torch.cuda.is_available():
        pytest.skip("a GPU is visible: the gpu bench runs for real there")
    assert main(["gpu"]) == 1
    assert "no CUDA GPU" in capsys.readouterr().out


@pytest.mark.slow
def test_gpu_bench_quick_reports_each_model_as_it_goes_and_finishes():
    """The H200 saw nothing from `bench gpu` for a minute: now each row is a flushed line the moment it is
    measured. On the CPU (`--device cpu`, the same procedure, nothing judged): a line per training setting and
    per shipped decoder and batch, arriving one by one through a pipe, and the run ends."""
    import select

    from explorer.core.checkpoints import CHECKPOINT_DIR
    from explorer.explore.registry import ModelRegistry
    proc = subprocess.Popen([sys.executable, "-m", "explorer.bench", "gpu", "--quick", "--device", "cpu"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines, arrived, start = [], [], time.monotonic()
    try:
        while time.monotonic() - start < 300:
            ready, _, _ = select.select([proc.stdout], [], [], 5)
            line = proc.stdout.readline() if ready else ""
            if ready and not line:
                break                                           # the pipe closed: the run ended
            if line:
                lines.append(line)
                arrived.append(time.monotonic())
        assert proc.wait(timeout=60) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    names = [line.split("]", 1)[1].split()[0] + (" " + line.split()[4] if " decode " in line else "") for line in lines]
    trains = [n for n in names if n.startswith("train_")]
    decodes = [n for n in names if n.startswith("decode")]
    assert names[0] == "device" and trains == ["train_dcgan", "train_vae", "train_cdcgan", "train_cvae"]
    shipped = sorted(ModelRegistry(CHECKPOINT_DIR, "cpu").available())
    assert decodes == [f"decode {m}@cpu/batch{b}" for m in shipped for b in (1, 64)]
    assert all("met=None" in line for line in lines if "target=" in line)     # nothing judged off a GPU
    assert arrived[-1] - arrived[1] > 0.5           # one by one as measured, not all at once at the end
