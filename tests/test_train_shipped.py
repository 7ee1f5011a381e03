"""checkpoints/train-shipped.sh: the GPU recipes refuse at once, in plain words, where PyTorch sees no
CUDA GPU, whichever order the flags come in, before anything is trained or written."""
import subprocess
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parent.parent / "checkpoints" / "train-shipped.sh"


@pytest.mark.skipif(torch.cuda.is_available(), reason="on a CUDA machine these recipes would train for real")
@pytest.mark.parametrize("flags", [["--emoji", "--gpu"], ["--gpu", "--emoji"], ["--stylegan", "--gpu"],
                                   ["--gpu", "--stylegan"]])
def test_a_gpu_recipe_without_a_gpu_stops_before_training(tmp_path, flags):
    out = subprocess.run(["bash", str(SCRIPT), *flags, str(tmp_path / "models")], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode != 0
    assert "train-shipped.sh --gpu: this PyTorch sees no CUDA GPU" in out.stderr
    assert list((tmp_path / "models").iterdir()) == []          # the folder is made, nothing written in it


def test_the_emoji_stylegan_has_no_cpu_recipe(tmp_path):
    out = subprocess.run(["bash", str(SCRIPT), "--emoji", "--stylegan", str(tmp_path / "models")], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 2
    assert "the 64-px emoji StyleGAN has a GPU recipe only (--stylegan --gpu)" in out.stderr
    assert list((tmp_path / "models").iterdir()) == []


RECORDER = """
import json, os, sys
argv = sys.argv[1:]
with open(os.environ["SHIM_LOG"], "a") as f:
    f.write(json.dumps(argv) + "\\n")
if "--out" in argv:                                   # what the script moves and evaluates next
    open(argv[argv.index("--out") + 1], "w").close()
if argv[:2] == ["-m", "explorer.evaluate"] and "--json" in argv:
    print(json.dumps({"fd": 20.0 - len(open(os.environ["SHIM_LOG"]).readlines())}))
"""


def test_the_emoji_gpu_recipe_is_what_the_command_line_accepts(tmp_path):
    """Every `python -m explorer.train` line of `--emoji --gpu`, recorded by a stand-in `python` (nothing is
    trained), parses and builds its training settings with this program's command line."""
    import json
    import sys

    from explorer.cli.train import parse_args, train_config
    shim = tmp_path / "bin" / "python"
    shim.parent.mkdir()
    (tmp_path / "recorder.py").write_text(RECORDER)
    shim.write_text(f'#!/usr/bin/env bash\nif [[ "$1" == "-c" && "$2" == *cuda* ]]; then exit 0; fi\n'
                    f'if [[ "$1" == "-c" ]]; then exec {sys.executable} "$@"; fi\n'
                    f'exec {sys.executable} {tmp_path / "recorder.py"} "$@"\n')
    shim.chmod(0o755)
    env = {"PATH": f"{shim.parent}:/usr/bin:/bin", "SHIM_LOG": str(tmp_path / "calls.jsonl"), "HOME": str(tmp_path)}
    out = subprocess.run(["bash", str(SCRIPT), "--emoji", "--gpu", str(tmp_path / "models")], capture_output=True,
                         text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    calls = [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]
    trains = [c[2:] for c in calls if c[:2] == ["-m", "explorer.train"]]
    gans = [a for a in trains if a[a.index("--model") + 1] == "dcgan"]
    assert len(gans) == 2 and len(trains) == 4                   # the two GAN arms, the VAE, the encoder
    for argv in trains:
        args = parse_args(argv)
        args.data_size = 3024
        if args.model != "encoder":
            train_config(args)                                    # every value in its range
    cfgs = [train_config(parse_args(a)) for a in gans]
    assert all(c.ema_half_life == 20_000 and c.diffaugment == "color,translation,cutout" for c in cfgs)
    assert [c.r1_gamma for c in cfgs] == [0.0, 0.0128]
    kept = (tmp_path / "models" / "emoji_cdcgan-recipe.txt").read_text()
    assert "kept: ema-r1" in kept and (tmp_path / "models" / "emoji_cdcgan.safetensors").exists()
