"""Class-conditional DCGAN and cVAE: checkpoints, class checks, the class row and interpolation,
the conditional training grid, the CLI, and old unconditional checkpoints left unchanged."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.core.checkpoints import CHECKPOINT_DIR, load_checkpoint, read_metadata
from explorer.core.latent import sample_z
from explorer.core.models import decoder_of
from explorer.core.validation import UserError
from explorer.eval.evaluate import conditional_scores, style_measures
from explorer.explore.conditional import class_paths, class_row, decode_blends
from explorer.explore.registry import LoadedModel
from explorer.training import GANTrainConfig, ImageSampler, VAETrainConfig, make_trainer
from tests.conftest import TINY_DCGAN, TINY_VAE

KINDS = {"dcgan": (TINY_DCGAN, GANTrainConfig, (-1.0, 1.0)), "vae": (TINY_VAE, VAETrainConfig, (0.0, 1.0))}


def trainer(kind, digits, **model):
    cfg, train_cls, value_range = KINDS[kind]
    sampler = ImageSampler(digits.images, "cpu", value_range, digits.labels)
    return make_trainer(kind, {**cfg, "num_classes": 10, **model}, train_cls(batch_size=8), sampler, "cpu")


def meta(t, digits) -> dict:
    return {"config": decoder_of(t.modules).cfg.to_dict(),
            "dataset": {"name": "digits", "split": "train", "class_names": digits.class_names}}


def saved(kind, digits, tmp_path, steps=2) -> LoadedModel:
    t = trainer(kind, digits)
    list(t.run(steps))
    path = t.save(tmp_path / f"c_{kind}.safetensors", meta(t, digits))
    ck = load_checkpoint(path)
    for m in ck.modules.values():
        m.eval()
    return LoadedModel.of(path.stem, ck, "test")


@pytest.mark.parametrize("kind", ["dcgan", "vae"])
def test_conditional_checkpoint_round_trip(kind, digits, tmp_path):
    t = trainer(kind, digits)
    list(t.run(2))
    path = t.save(tmp_path / "c.safetensors", meta(t, digits))
    header = read_metadata(path)
    assert header["config"]["num_classes"] == 10 and header["dataset"]["class_names"] == digits.class_names
    dec = decoder_of(load_checkpoint(path).modules).eval()
    mine = decoder_of(t.modules).eval()
    z, y = sample_z(5, dec.cfg.latent_dim, 1), torch.tensor([0, 3, 9, 9, 1])
    assert torch.equal(dec.generate(z, y), mine.generate(z, y))


@pytest.mark.parametrize("kind", ["dcgan", "vae"])
def test_class_out_of_range_or_missing_is_refused_clearly(kind, digits):
    dec = decoder_of(trainer(kind, digits).modules).eval()
    z = torch.zeros(2, dec.cfg.latent_dim)
    with pytest.raises(UserError, match="between 0 and 9, got 10"):
        dec.generate(z, [0, 10])
    with pytest.raises(UserError, match="between 0 and 9, got -1"):
        dec.generate(z, -1)
    with pytest.raises(UserError, match="class-conditional.*between 0 and 9"):
        dec.generate(z)
    with pytest.raises(UserError, match="whole number"):
        dec.generate(z, [0.5, 1])
    assert dec.generate(z, 3).shape == (2, 1, 28, 28)         # one class for every picture


def test_unconditional_model_refuses_a_class(digits):
    dec = decoder_of(make_trainer("dcgan", TINY_DCGAN, GANTrainConfig(batch_size=8),
                                  ImageSampler(digits.images, "cpu"), "cpu").modules).eval()
    with pytest.raises(UserError, match="unconditional"):
        dec.generate(torch.zeros(1, 8), [0])


@pytest.mark.parametrize("kind", ["dcgan", "vae"])
def test_class_row_interpolation_and_decode(kind, digits, tmp_path):
    model = saved(kind, digits, tmp_path)
    z = sample_z(1, model.latent_dim, 0)[0]
    row = class_row(model, z)
    assert row.shape == (10, 28, 28, 1) and row.dtype == np.uint8
    flat = row.reshape(10, -1).astype(int)
    assert all((flat[i] != flat[j]).any() for i in range(10) for j in range(i))   # ten distinct pictures
    assert np.array_equal(model.decode(z[None].expand(3, -1), [2, 5, 7]), row[[2, 5, 7]])
    frames = decode_blends(model, z, class_paths(model, 2, 7, 5)["linear"])
    assert frames.shape == (5, 28, 28, 1)
    assert np.abs(frames[0].astype(int) - row[2]).max() <= 1 and np.abs(frames[-1].astype(int) - row[7]).max() <= 1
    assert (frames[2] != frames[0]).any()        # refusals of bad classes and frame counts: where they enter (the tab)


def test_the_map_of_a_cvae_is_its_style_space(digits, tmp_path, monkeypatch):
    """A cVAE's map encodes each test picture with its true class: the dots are z without the class."""
    from explorer.maps.features import encode_items
    from explorer.maps.layout import MapParams
    model = saved("vae", digits, tmp_path)
    monkeypatch.setattr("explorer.maps.features.load_dataset", lambda *a, **k: digits)
    z, labels, source, _, key_space, classes = encode_items(model, MapParams(points=30))
    assert z.shape == (30, model.latent_dim) and source == "test-images" and key_space == "latent"
    assert np.array_equal(labels, digits.labels[:30].numpy()) and np.array_equal(classes, labels)
    x = torch.from_numpy(digits.images[:30].numpy()).float() / 255
    with torch.inference_mode():
        own, _ = model.family.encode(x, digits.labels[:30])
        other, _ = model.family.encode(x, (digits.labels[:30] + 1) % 10)
    assert np.allclose(z, own.numpy(), atol=1e-5) and not np.allclose(z, other.numpy(), atol=1e-3)


@pytest.mark.parametrize("kind", ["dcgan", "vae"])
def test_conditional_fixed_grid_is_classes_by_fixed_z(kind, digits):
    t = trainer(kind, digits)
    x = t.samples()
    assert x.shape == (80, 1, 28, 28) and t.grid_columns == 8
    assert torch.equal(t.fixed_noise[:8], t.fixed_noise[8:16])             # same z in every row
    assert t.fixed_labels.tolist() == [c for c in range(10) for _ in range(8)]
    assert not torch.equal(x[:8], x[8:16])                                  # rows differ by class
    assert float(x.min()) >= -1 and float(x.max()) <= 1


@pytest.mark.parametrize("kind", ["dcgan", "vae"])
def test_cli_trains_a_conditional_model_in_two_steps(kind, tmp_path):
    from explorer.cli.train import main
    out = tmp_path / "c.safetensors"
    extra = ["--d-width", "8"] if kind == "dcgan" else []
    assert main(["--model", kind, "--conditional", "--dataset", "digits", "--steps", "2", "--width", "8",
                 "--latent-dim", "4", "--batch-size", "8", "--out", str(out), "--sample-every", "1", *extra]) == 0
    header = read_metadata(out)
    assert header["config"]["num_classes"] == 10 and len(header["dataset"]["class_names"]) == 10
    with Image.open(tmp_path / "c-samples" / "final.png") as im:     # 10 rows x 8 columns of 28 + 2 px
        assert im.size == (8 * 30 + 2, 10 * 30 + 2)


def test_cli_refuses_conditional_where_it_cannot_work(capsys):
    from explorer.cli.train import main
    assert main(["--model", "classifier", "--conditional", "--dataset", "digits", "--steps", "1"]) == 2
    assert "dcgan, stylegan or vae" in capsys.readouterr().err
    assert main(["--model", "dcgan", "--conditional", "--loss", "wgan-gp", "--dataset", "digits", "--steps", "1"]) == 2
    assert "non-saturating or minimax" in capsys.readouterr().err


# Decoded with the code before conditional models existed (same z from sample_z(4, D, seed 0)); the
# Fashion DCGAN of that time was replaced by a GPU-trained one (2026-12-04), which is not an old file.
OLD_SUMS = {"fashion_vae16": [342.8343, 349.4431, 174.5756, 164.7147]}


@pytest.mark.parametrize("name", sorted(OLD_SUMS))
def test_old_unconditional_checkpoints_load_and_decode_identically(name):
    ck = load_checkpoint(CHECKPOINT_DIR / f"{name}.safetensors")
    dec = decoder_of(ck.modules).eval()
    assert dec.cfg.num_classes == 0
    x = dec.generate(sample_z(4, dec.cfg.latent_dim, 0))
    assert x.sum(dim=(1, 2, 3)).tolist() == pytest.approx(OLD_SUMS[name], abs=2e-2)


def test_style_spread_is_zero_when_the_class_changes_no_style():
    # 50 z x 10 classes; brightness and width set by z alone, the class only moves the object down
    n_z, k = 50, 10
    g = torch.Generator().manual_seed(0)
    level, half = torch.rand(n_z, generator=g) * 0.8 + 0.2, torch.randint(2, 12, (n_z,), generator=g)
    imgs = torch.zeros(n_z, k, 1, 28, 28)
    for i in range(n_z):
        for c in range(k):
            imgs[i, c, 0, c:c + 14, 14 - half[i]:14 + half[i]] = level[i]
    fake, y = imgs.view(-1, 1, 28, 28), torch.arange(k).repeat(n_z)
    feats = torch.randn(len(fake), 4, dtype=torch.float64, generator=g)
    scores = conditional_scores(fake, y, feats, y, feats, y, k)
    assert scores["class_accuracy"] == 1.0 and "fd_class_9" in scores
    assert scores["style_spread_fixed_z"] < 1e-3 and scores["style_spread_random_z"] > 0.9
    assert style_measures(fake).shape == (len(fake), 2)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["dcgan", "vae"])
def test_conditional_step_reads_nothing_back_to_the_host(kind, digits):
    """The CUDA-graph fast path captures _step(): labels must be drawn and looked up on the device."""
    from torch.utils._python_dispatch import TorchDispatchMode

    from tests.test_fast_path import HOST_READS

    class Record(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.ops = set()

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.ops.add(func.overloadpacket.__name__)
            return func(*args, **(kwargs or {}))

    t = trainer(kind, digits)
    t.zero_grad_to_none = False
    list(t.run(1))
    with Record() as rec:
        t._step()
    assert "embedding" in rec.ops and "_fused_adam_" in rec.ops        # the recorder sees a conditional step
    assert not rec.ops & HOST_READS, rec.ops & HOST_READS


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["dcgan", "vae"])
def test_conditional_captured_step_trains_like_eager_on_a_cpu_graph(kind, digits, monkeypatch):
    from explorer.training import fast
    from tests.cuda_stand_ins import CpuGraph, patch_graphs
    patch_graphs(monkeypatch)
    eager, graphed = trainer(kind, digits), trainer(kind, digits)
    graphed._fast = fast.FastPath(graphed)
    list(eager.run(8)), list(graphed.run(8))
    assert graphed.fast_path_status == "CUDA graph" and CpuGraph.captures == 1
    params = [torch.cat([p.detach().flatten() for m in t.modules.values() for p in m.parameters()]) for t in (eager, graphed)]
    assert torch.equal(*params)
