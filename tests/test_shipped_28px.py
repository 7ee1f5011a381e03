"""The shipped 28-px models draw exactly what they drew before the models learned to grow with the
picture (colour, 32/64/128 px): same latents in, same pictures out.

tests/data/shipped_28px_reference.npz was computed from the shipped files with the code as it was
before that change (commit fbe7078): 4 pictures per decoder from sample_z(4, D, seed=20) (classes
0, 3, 7, 9 for the conditional ones), the GAN encoder's latents and the classifiers' logits for
the first 4 test pictures. The Fashion DCGAN and its encoder were replaced on 2026-12-04 (trained on a
GPU, stored in float16 where no picture changes by more than a grey level): their entries were computed
then, from the new files, so a change of code that changes what they draw still shows here.
"""
from pathlib import Path

import numpy as np
import pytest
import torch

from explorer.core.checkpoints import CHECKPOINT_DIR, load_checkpoint
from explorer.core.data import load_dataset, load_digits, to_uint8, to_unit
from explorer.core.latent import sample_z

REFERENCE = np.load(Path(__file__).parent / "data" / "shipped_28px_reference.npz")
DECODERS = ["fashion_dcgan", "fashion_cdcgan", "fashion_vae16", "fashion_vae2", "fashion_cvae16"]


def same_pixels(now: np.ndarray, ref: np.ndarray) -> None:
    """Equal uint8 pixels; a float difference of one rounding step (another CPU's kernels) may move
    a pixel that sits on a rounding boundary, so those few are compared in float instead."""
    assert now.shape == ref.shape
    assert np.abs(now - ref).max() < 1e-5
    on_boundary = np.abs((ref * 255) % 1 - 0.5) < 1e-3
    a, b = to_uint8(torch.from_numpy(now)).numpy(), to_uint8(torch.from_numpy(ref)).numpy()
    assert np.array_equal(a[~on_boundary], b[~on_boundary])


@pytest.mark.parametrize("name", DECODERS)
def test_shipped_28px_decoders_draw_the_same_pictures(name):
    ck = load_checkpoint(CHECKPOINT_DIR / f"{name}.safetensors")
    assert ck.meta["config"]["image_size"] == 28
    dec = ck.modules.get("generator") or ck.modules["vae"]
    y = torch.tensor([0, 3, 7, 9]) if dec.cfg.num_classes else None
    now = dec.generate(sample_z(4, dec.cfg.latent_dim, 20), y).numpy()
    same_pixels(now, REFERENCE[name])


def test_shipped_28px_encoder_and_classifiers_are_unchanged():
    fashion = to_unit(load_dataset("fashion-mnist", "test").images[:4])
    digits = to_unit(load_digits("test").images[:4])
    with torch.no_grad():
        got = {
            "fashion_dcgan-encoder": load_checkpoint(CHECKPOINT_DIR / "fashion_dcgan-encoder.safetensors")
            .modules["encoder"](fashion),
            "fashion_classifier": load_checkpoint(CHECKPOINT_DIR / "fashion_classifier.safetensors")
            .modules["classifier"](fashion),
            "digits_classifier": load_checkpoint(CHECKPOINT_DIR / "digits_classifier.safetensors")
            .modules["classifier"](digits),
        }
    for name, out in got.items():
        np.testing.assert_allclose(out.numpy(), REFERENCE[name], rtol=0, atol=1e-4, err_msg=name)
