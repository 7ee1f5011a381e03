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
