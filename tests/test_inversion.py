"""Encoding your own picture: the GAN's encoder (checkpoint, training), refinement, VAE encoding,
the encode and train command lines. Tiny random models: these test the plumbing, not quality."""
from __future__ import annotations

import json
import threading

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.core.checkpoints import load_checkpoint, read_metadata, save_checkpoint
from explorer.core.latent import sample_z
from explorer.core.models import build
from explorer.core.validation import UserError
from explorer.eval.inversion import evaluate_inversion, verdict
from explorer.eval.refine import refine_latent
from explorer.explore.inversion import PictureEncoder
from explorer.explore.registry import ModelRegistry, file_digest
from explorer.training import EncoderTrainConfig, EncoderTrainer, ImageSampler
from tests.apphelpers import TINY, make_checkpoints
from tests.conftest import TINY_DCGAN

TINY_ENCODER = {"latent_dim": 12, "width": 4, "hidden": 16}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return make_checkpoints(tmp_path_factory.mktemp("ckpts"))


@pytest.fixture(scope="module")
def registry(folder):
    return ModelRegistry(folder, "cpu")


@pytest.fixture(scope="module")
def classifier(folder):
    return load_checkpoint(folder / "fashion_classifier.safetensors").modules["classifier"]


def picture() -> np.ndarray:
    """A grey boot-ish block, dark on light, 90 x 120."""
    img = np.full((90, 120), 240, np.uint8)
    img[20:70, 15:60] = 30
    img[50:70, 15:105] = 30
    return img


def save_encoder(path, gan_path, digest=None):
    torch.manual_seed(1)
    mods = build("encoder", TINY_ENCODER)
    save_checkpoint(path, "encoder", mods, {"config": TINY_ENCODER, "for": {"file": gan_path.name,
                                                                            "digest": digest or file_digest(gan_path)}})


def test_encoder_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    mods = build("encoder", TINY_ENCODER)
    mods["encoder"](torch.rand(5, 1, 28, 28)).sum().backward()   # BatchNorm statistics move in train mode
    path = save_checkpoint(tmp_path / "e.safetensors", "encoder", mods, {"config": TINY_ENCODER})
    ck = load_checkpoint(path)
    assert ck.kind == "encoder" and ck.modules["encoder"].cfg.latent_dim == 12
    x = torch.rand(3, 1, 28, 28)
    mods["encoder"].eval()
    assert torch.equal(mods["encoder"](x), ck.modules["encoder"](x))
    assert ck.modules["encoder"](x).shape == (3, 12)


def test_encoder_training_two_steps(digits, tmp_path):
    g = build("dcgan", TINY_DCGAN)["generator"]
    c = build("classifier", {"width": 8})["classifier"]
    g_before = [p.clone() for p in g.parameters()]
    enc = build("encoder", {"latent_dim": TINY_DCGAN["latent_dim"], "width": 4, "hidden": 16})
    e_before = [p.clone() for p in enc["encoder"].parameters()]
    sampler = ImageSampler(digits.images, "cpu", (0.0, 1.0), digits.labels)
    trainer = EncoderTrainer(enc, g, sampler, EncoderTrainConfig(batch_size=8, total_steps=2, seed=3), "cpu", c)
    records = list(trainer.run(2))
    assert [r.step for r in records] == [1, 2]
    for value in records[-1].values.values():
        assert value.dim() == 0 and torch.isfinite(value)
    assert set(records[-1].values) == {"loss", "latent", "pixel", "feature", "norm"}
    assert any(not torch.equal(a, b) for a, b in zip(e_before, enc["encoder"].parameters()))
    assert all(torch.equal(a, b) for a, b in zip(g_before, g.parameters()))       # the GAN stays frozen
    assert trainer.samples().shape == (64, 1, 28, 28)
    ck = load_checkpoint(trainer.save(tmp_path / "e.safetensors", {"config": trainer.E.cfg.to_dict()}))
    assert ck.kind == "encoder" and ck.meta["steps"] == 2


def test_encoder_needs_the_generators_latent_size(digits):
    g = build("dcgan", TINY_DCGAN)["generator"]
    enc = build("encoder", {"latent_dim": 5, "width": 4, "hidden": 16})
    with pytest.raises(UserError, match="predicts 5 numbers but the generator reads 8"):
        EncoderTrainer(enc, g, ImageSampler(digits.images, "cpu", (0.0, 1.0)), EncoderTrainConfig(), "cpu")


def test_a_conditional_gans_encoder_fits_real_pictures_in_their_own_class(digits):
    torch.manual_seed(0)
    g = build("dcgan", {**TINY_DCGAN, "num_classes": 10})["generator"]
    enc = build("encoder", {"latent_dim": TINY_DCGAN["latent_dim"], "width": 4, "hidden": 16})
    sampler = ImageSampler(digits.images, "cpu", (0.0, 1.0), digits.labels)
    trainer = EncoderTrainer(enc, g, sampler, EncoderTrainConfig(batch_size=8, seed=3), "cpu",
                             build("classifier", {"width": 8})["classifier"])
    records = list(trainer.run(2))
    assert all(torch.isfinite(v) for v in records[-1].values.values())
    grid = trainer.samples()                                        # pictures above their fits G(E(x), y_x)
    with torch.no_grad():
        z = trainer.E.eval()(trainer.fixed_real)
        own = trainer.decode(z, trainer.fixed_labels) * 2 - 1
        other = trainer.decode(z, (trainer.fixed_labels + 1) % 10) * 2 - 1
    assert torch.allclose(grid[32:], own, atol=1e-6) and not torch.allclose(grid[32:], other, atol=1e-3)
    with pytest.raises(UserError, match="no class labels"):
        EncoderTrainer(enc, g, ImageSampler(digits.images, "cpu", (0.0, 1.0)), EncoderTrainConfig(), "cpu")
    few = build("dcgan", {**TINY_DCGAN, "num_classes": 5})["generator"]
    with pytest.raises(UserError, match="draws 5 classes"):
        EncoderTrainer(enc, few, sampler, EncoderTrainConfig(seed=3), "cpu")


@pytest.fixture(scope="module")
def tiny_gan():
    torch.manual_seed(0)
    g = build("dcgan", TINY_DCGAN)["generator"].eval()
    c = build("classifier", {"width": 8})["classifier"].eval()
    return (lambda z: (g(z) + 1) * 0.5), c


def test_refinement_lowers_the_loss_and_keeps_its_step_budget(tiny_gan):
    decode, c = tiny_gan
    target = decode(sample_z(2, 8, seed=1)).detach()
    seen = []
    r = refine_latent(decode, c.features, target, sample_z(2, 8, seed=2), steps=25, seconds=None, lr=0.1,
                      progress=lambda step, loss, pic: seen.append((step, loss, pic.shape, pic.dtype)))
    assert r.steps == 25 and r.stopped_by == "steps" and len(r.history) == 25
    assert (r.loss < r.start_loss).all()
    assert [s[0] for s in seen] == [0, 10, 20, 25]
    assert seen[-1][2:] == ((28, 28), np.uint8) and seen[-1][1] < seen[0][1]
    assert r.z.shape == (2, 8) and not r.z.requires_grad


def test_refinement_stops_on_time_and_on_request(tiny_gan):
    decode, c = tiny_gan
    target = decode(sample_z(1, 8, seed=1)).detach()
    r = refine_latent(decode, c.features, target, sample_z(1, 8, seed=2), steps=50, seconds=0.0)
    assert r.stopped_by == "time" and r.steps == 0
    stop = threading.Event()
    stop.set()
    r = refine_latent(decode, None, target, sample_z(1, 8, seed=2), steps=50, seconds=None, stop=stop)
    assert r.stopped_by == "stop" and r.steps == 0


def test_vae_encoding_gives_the_mean_and_samples(registry, classifier):
    model = registry.get("tiny_vae8")
    pe = PictureEncoder(classifier)
    e = pe.encode(model, picture(), samples=3, seed=5)
    assert e.kind == "vae" and e.latent.shape == (8,) and e.input.shape == (28, 28)
    assert e.reconstruction.shape == (28, 28, 1) and e.samples.shape == (3, 28, 28, 1)
    assert e.sample_latents.shape == (3, 8) and (e.posterior_std > 0).all()
    with torch.no_grad():
        mean, _ = model.family.encode(torch.from_numpy(e.input)[None, None].float() / 255)
    assert np.allclose(e.latent, mean[0].numpy(), atol=1e-5)
    assert np.array_equal(pe.encode(model, picture(), samples=3, seed=5).sample_latents, e.sample_latents)
    assert e.scores["verdict"] in ("very close", "close", "rough") and "inverted" in " ".join(e.notes)
    assert json.loads(json.dumps(e.to_json()))["latent"] == pytest.approx(e.latent.tolist(), abs=1e-5)


def test_gan_inversion_with_its_encoder_and_without(registry, classifier, folder):
    model = registry.get("tiny_gan")
    gan_path = folder / "tiny_gan.safetensors"
    enc_path = folder / "tiny_gan-encoder.safetensors"
    e = PictureEncoder(classifier).encode(model, picture(), steps=4, seconds=30)
    assert any("no learned encoder" in n for n in e.notes) and e.guessed_by == "random starts"
    save_encoder(enc_path, gan_path)
    try:
        assert "tiny_gan-encoder" not in registry.available()                 # never offered as a model
        e = PictureEncoder(classifier).encode(model, picture(), steps=4, seconds=30)
        assert not any("no learned encoder" in n for n in e.notes) and e.guessed_by == "encoder"
        assert e.latent.shape == e.guess_latent.shape == (12,) and e.refine_steps == 4
        assert e.guess.shape == e.reconstruction.shape == (28, 28, 1) and e.stopped_by == "steps"
        assert e.scores["pixel_mse"] <= e.guess_scores["pixel_mse"] + 0.02
        save_encoder(enc_path, gan_path, digest="0123456789abcdef")
        e = PictureEncoder(classifier).encode(model, picture(), steps=1, seconds=30)
        assert any("another version of tiny_gan" in n for n in e.notes)
    finally:
        enc_path.unlink()


def test_encode_command_line_json(folder, tmp_path, capsys):
    from explorer.cli.encode import main

    src, out = tmp_path / "boot.png", tmp_path / "rec.png"
    Image.fromarray(picture()).save(src)
    assert main([str(src), "--model", "tiny_gan", "--checkpoints-dir", str(folder), "--json", "--steps", "3",
                 "--out", str(out)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["kind"] == "dcgan" and len(result["latent"]) == 12 and result["refine_steps"] <= 3
    assert {"pixel_mse", "feature_distance", "label", "label_reconstruction", "same_label", "verdict"} <= set(result["scores"])
    assert Image.open(out).size == (28, 28)
    assert main([str(src), "--model", "tiny_vae2", "--checkpoints-dir", str(folder), "--json", "--samples", "2"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result["latent"]) == 2 and len(result["sample_latents"]) == 2
    assert main([str(src), "--model", "nope", "--checkpoints-dir", str(folder)]) == 2
    assert "Unknown model" in capsys.readouterr().err
    bad = tmp_path / "bad.png"
    bad.write_text("not a picture")
    assert main([str(bad), "--model", "tiny_vae2", "--checkpoints-dir", str(folder)]) == 2
    assert "not a picture" in capsys.readouterr().err


def test_train_command_line_stores_the_encoder_beside_its_gan(folder, tmp_path):
    from explorer.cli.train import main

    out = tmp_path / "tiny_gan-encoder.safetensors"
    gan = folder / "tiny_gan.safetensors"
    assert main(["--model", "encoder", "--for", str(gan), "--dataset", "digits", "--steps", "2", "--batch-size", "8",
                 "--width", "4", "--sample-every", "0", "--dry-run", "--out", str(out)]) == 0
    meta = read_metadata(out)
    assert meta["kind"] == "encoder" and meta["steps"] == 2
    assert meta["for"] == {"file": "tiny_gan.safetensors", "digest": file_digest(gan), "num_classes": 0}
    assert "--model encoder" in meta["command"] and meta["config"]["latent_dim"] == 12


def test_a_full_encoder_run_ends_with_its_quick_figures_in_the_file(folder, tmp_path, capsys):
    from explorer.cli.train import main

    out = tmp_path / "tiny_gan-encoder.safetensors"
    assert main(["--model", "encoder", "--for", str(folder / "tiny_gan.safetensors"), "--split", "test", "--steps", "1",
                 "--batch-size", "4", "--width", "4", "--sample-every", "0", "--out", str(out)]) == 0
    figures = read_metadata(out)["evaluation"]
    assert figures["test_pictures"] > 0 and 0 <= figures["encoder_class_kept"] <= 1
    assert "encoder_pixel_mse" in capsys.readouterr().out


def test_train_command_line_trains_a_conditional_gans_encoder_on_the_gans_own_dataset(tmp_path, capsys):
    from explorer.cli.train import main
    from tests.apphelpers import COND, save_models

    folder = save_models(tmp_path, {"tiny_cgan": COND["tiny_cgan"], "fashion_classifier": ("classifier", {"width": 8})})
    out = tmp_path / "tiny_cgan-encoder.safetensors"
    args = ["--model", "encoder", "--for", str(folder / "tiny_cgan.safetensors"), "--split", "test", "--steps", "1",
            "--batch-size", "4", "--width", "4", "--sample-every", "0", "--dry-run", "--out", str(out)]
    assert main(args) == 0                                          # no --dataset: the GAN's own
    meta = read_metadata(out)
    assert meta["dataset"]["name"] == "fashion-mnist" and meta["for"]["num_classes"] == 10
    save_models(tmp_path, {"big_gan": ("dcgan", {**TINY_DCGAN, "image_size": 32})})
    assert main(args[:3] + [str(tmp_path / "big_gan.safetensors"), "--dataset", "digits"] + args[4:]) == 2
    assert "but big_gan.safetensors draws 1x32x32" in capsys.readouterr().err


DEVICES = [pytest.param("cpu"),
           pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"))]


@pytest.mark.parametrize("device", DEVICES)
def test_evaluate_inversion_draws_a_conditional_gans_test_pictures_in_the_class_read_in_them(classifier, tmp_path,
                                                                                             device):
    """On each device (the GPU's figures must be the CPU's, computed here directly on the CPU)."""
    import copy

    from explorer.core.data import load_dataset, to_unit
    from explorer.eval.features import classify
    from tests.apphelpers import COND, save_models

    from explorer.core.families import family_of

    path = save_models(tmp_path, {"tiny_cgan": COND["tiny_cgan"]}) / "tiny_cgan.safetensors"
    g = load_checkpoint(path).modules["generator"]
    torch.manual_seed(0)
    enc = build("encoder", TINY_ENCODER)["encoder"].eval()
    on = [family_of(load_checkpoint(path, device))] + [copy.deepcopy(m).to(device) for m in (enc, classifier)]
    fig = evaluate_inversion(*on, dataset="fashion-mnist", refine_subset=3, gan_samples=3,
                             refine_steps=2, timing=False, test_limit=12)
    x = to_unit(load_dataset("fashion-mnist", "test").images[:12])
    with torch.no_grad():
        fits = (g(enc(x), classify(classifier, x)[1]) + 1) / 2
    assert fig["test_pictures"] == 12 and fig["test_pair_feature_distance"] > 0
    assert fig["encoder_pixel_mse"] == pytest.approx(float((fits - x).pow(2).mean()), rel=1e-4)
    assert fig["refined_subset"] == 3 and fig["gan_samples_refined_mse"] > 0


def test_evaluate_inversion_on_a_few_pictures(tiny_gan, registry, classifier):
    model = registry.get("tiny_gan")
    torch.manual_seed(0)
    enc = build("encoder", TINY_ENCODER)["encoder"].eval()
    vae = registry.get("tiny_vae8").family
    fig = evaluate_inversion(model.family, enc, classifier, refine_subset=4, gan_samples=4, refine_steps=2,
                             vae=vae, timing=False, test_limit=20)
    for key, pictures in (("encoder", 20), ("refined", 4), ("vae", 20)):
        kept = fig[f"{key}_class_kept"] * pictures                       # a share of the pictures it was measured on
        assert kept == pytest.approx(round(kept), abs=1e-6) and fig[f"{key}_pixel_mse"] > 0
    assert fig["refined_subset"] == 4 and fig["gan_samples"] == 4 and fig["gan_samples_refined_mse"] > 0


def test_verdict_in_plain_words():
    assert verdict(0.005, True) == "very close"
    assert verdict(0.02, True) == "close"
    assert verdict(0.005, False) == "rough" and verdict(0.2, True) == "rough"



def test_evaluate_command_hands_an_encoder_to_encode_evaluate(folder, tmp_path, monkeypatch):
    import explorer.cli.encode
    from explorer.cli.evaluate import main

    save_encoder(tmp_path / "tiny_gan-encoder.safetensors", folder / "tiny_gan.safetensors")
    seen = []
    monkeypatch.setattr(explorer.cli.encode, "main", lambda argv: seen.append(argv) or 0)
    assert main([str(tmp_path / "tiny_gan-encoder.safetensors"), "--write-card"]) == 0
    assert seen == [["--evaluate", "--model", "tiny_gan", "--checkpoints-dir", str(tmp_path), "--seed", "0",
                     "--write-card"]]


def test_encode_evaluate_measures_on_the_gans_dataset_beside_its_largest_plain_vae(tmp_path, monkeypatch, capsys):
    import explorer.eval.inversion
    from explorer.cli.encode import main
    from tests.apphelpers import save_models

    save_models(tmp_path, {**TINY, "fashion_classifier": ("classifier", {"width": 8}),
                           "tiny_cvae16": ("vae", {"width": 8, "hidden": 32, "latent_dim": 16, "num_classes": 10})})
    save_encoder(tmp_path / "tiny_gan-encoder.safetensors", tmp_path / "tiny_gan.safetensors")
    seen = {}
    monkeypatch.setattr(explorer.eval.inversion, "evaluate_inversion",
                        lambda g, e, c, **kw: seen.update(kw) or {"test_pictures": 7.0, "encoder_class_kept": 0.5})
    args = ["--evaluate", "--model", "tiny_gan", "--checkpoints-dir", str(tmp_path), "--json"]
    assert main(args + ["--write-card"]) == 0
    assert json.loads(capsys.readouterr().out)["test_pictures"] == 7.0
    assert seen["dataset"] == "fashion-mnist" and seen["vae"].latent_dim == 8     # the 16-d one is conditional
    assert "On the 7 fashion-mnist test pictures" in (tmp_path / "tiny_gan-encoder.md").read_text()
    assert main(args + ["--vae", ""]) == 0 and seen["vae"] is None


def test_a_class_conditional_model_draws_the_picture_in_the_class_the_classifier_reads(classifier, tmp_path):
    """A conditional GAN (random starts, then refinement) and a conditional VAE place the picture, and the
    point opens in the class the dataset's classifier reads in the picture."""
    from explorer.eval.features import classify
    from tests.apphelpers import COND, save_models
    registry = ModelRegistry(save_models(tmp_path, COND), "cpu")
    pe, kinds = PictureEncoder(classifier), set()
    for name in COND:
        model = registry.get(name)
        e = pe.encode(model, picture(), steps=2, seconds=30)
        kinds.add(e.kind)
        _, read = classify(classifier, torch.from_numpy(e.input)[None, None].float() / 255)
        assert e.cls == int(read[0]) and e.to_json()["class"] == e.cls, name
        assert np.array_equal(e.reconstruction, model.decode(e.latent[None], e.cls)[0]), name   # drawn in that class
        assert any("drawn in the class" in n for n in e.notes), e.notes
    assert kinds == {"dcgan", "vae"}
    save_encoder(tmp_path / "tiny_cgan-encoder.safetensors", tmp_path / "tiny_cgan.safetensors")
    e = PictureEncoder(classifier).encode(registry.get("tiny_cgan"), picture(), steps=0)
    assert e.guessed_by == "encoder" and not any("no learned encoder" in n for n in e.notes)
    assert e.cls is not None and np.array_equal(e.guess, registry.get("tiny_cgan").decode(e.guess_latent[None], e.cls)[0])


def drawn_smiley() -> np.ndarray:
    """A smiley drawn the way a person would in a paint program: yellow disc, two eyes, a smile, on white."""
    from PIL import ImageDraw
    im = Image.new("RGB", (128, 128), "white")
    d = ImageDraw.Draw(im)
    d.ellipse((8, 8, 120, 120), fill=(255, 204, 77))
    d.ellipse((40, 40, 52, 62), fill=(102, 69, 0))
    d.ellipse((76, 40, 88, 62), fill=(102, 69, 0))
    d.arc((34, 50, 94, 100), 20, 160, fill=(102, 69, 0), width=6)
    return np.array(im)


@pytest.mark.slow
def test_the_shipped_emoji_gans_encoder_guesses_a_drawn_smiley_better_than_random_starts(tmp_path):
    """The shipped class-conditional emoji GAN's encoder: a drawn smiley is read as a smiley, and the
    encoder's first guess is nearer to it than the best of 16 random latents (the GAN without its encoder)."""
    from explorer.core.checkpoints import CHECKPOINT_DIR
    from explorer.eval.features import classifier_for

    (tmp_path / "emoji_cdcgan.safetensors").symlink_to(CHECKPOINT_DIR / "emoji_cdcgan.safetensors")
    pe = PictureEncoder(classifier_for("emoji", "cpu"))
    with_encoder = pe.encode(ModelRegistry(CHECKPOINT_DIR, "cpu").get("emoji_cdcgan"), drawn_smiley(), steps=0)
    without = pe.encode(ModelRegistry(tmp_path, "cpu").get("emoji_cdcgan"), drawn_smiley(), steps=0)
    assert with_encoder.guessed_by == "encoder" and without.guessed_by == "random starts"
    assert with_encoder.scores["label"] == with_encoder.scores["label_reconstruction"] == "Smileys & Emotion"
    assert with_encoder.guess_scores["pixel_mse"] < 0.8 * without.guess_scores["pixel_mse"]
    assert with_encoder.guess_scores["verdict"] in ("close", "very close")
