"""`python -m explorer.bench latency --quick`: a smoke run against a launched app (no timing asserts)."""
from explorer.cli.bench import latency
from tests.apphelpers import make_checkpoints


def test_latency_quick(tmp_path):
    res = latency(quick=True, model="tiny_gan", checkpoints_dir=make_checkpoints(tmp_path / "ck"))
    assert res["concurrent"]["errors"] == 0 and res["concurrent"]["mismatches"] == 0
    assert res["single_client"]["render"]["n"] == 20 and res["single_client"]["ping"]["median_ms"] > 0


def test_train_ui_quick():
    from explorer.cli.bench import train_ui
    res = train_ui(quick=True, device="cpu")
    assert res["toy_no_view"]["steps_per_s"] > 0 and res["toy_with_view"]["refreshes_per_s"] > 0
    assert res["dcgan_with_view"]["steps_per_s"] >= 0


def test_decode_and_startup_quick(tmp_path):
    from explorer.cli.bench import decode, startup
    folder = make_checkpoints(tmp_path / "ck")
    res = decode(quick=True, checkpoints_dir=folder, variants=True)
    row = res["tiny_gan@cpu/batch64"]
    assert row["images_per_s"] > 0 and row["contiguous_images_per_s"] > 0 and row["bf16_images_per_s"] > 0
    assert startup(folder)["to_first_page_s"] > 0


def test_train_speed_quick():
    from explorer.cli.bench.speed import train_speed
    res = train_speed(quick=True, device="cpu")
    assert res["dcgan"]["eager_steps_per_s"] > 0 and res["vae"]["eager_images_per_s"] > 0
    assert res["dcgan"]["fast_path"].startswith("eager (CUDA graphs need a CUDA device")   # said, not faked
    assert "fast_steps_per_s" not in res["dcgan"]


def test_gpu_bench_says_plainly_when_there_is_no_gpu(capsys):
    import pytest
    import torch

    from explorer.cli.bench.__main__ import main
    if torch.cuda.is_available():
        pytest.skip("a GPU is visible: the gpu bench runs for real there")
    assert main(["gpu"]) == 1
    assert "no CUDA GPU" in capsys.readouterr().out
