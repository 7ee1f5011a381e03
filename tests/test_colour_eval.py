"""Evaluating colour models against a prepared dataset (a tiny fake emoji set made here): FD with
its real-vs-real floor, the conditional figures, the VAE's ELBO, and a card that credits the pictures."""
import json

import pytest

from explorer.cli import prepare_data
from explorer.cli.evaluate import main as evaluate_main
from explorer.core.checkpoints import load_checkpoint, save_checkpoint
from explorer.core.data import load_dataset
from explorer.core.models import build
from explorer.eval.evaluate import evaluate
from tests.test_colour_data import fake_emoji_package


@pytest.fixture(scope="module")
def emoji_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("emoji")
    _, tgz = fake_emoji_package(root, n=48)
    prepare_data.prepare_emoji(tgz, data_dir=root / "data", progress=False)
    ds = load_dataset("emoji", "train", root / "data")
    meta = {"name": "emoji", "split": "train", "size": len(ds), "class_names": ds.class_names,
            "attribution": ds.attribution}
    specs = {"emoji_classifier": ("classifier", {"width": 2, "feature_dim": 8, "num_classes": 9, "image_size": 64, "channels": 3}),
             "emoji_cgan": ("dcgan", {"width": 2, "d_width": 2, "latent_dim": 4, "image_size": 64, "channels": 3, "num_classes": 9}),
             "emoji_vae": ("vae", {"width": 2, "hidden": 8, "latent_dim": 3, "image_size": 64, "channels": 3})}
    for name, (kind, cfg) in specs.items():
        mods = {k: m.eval() for k, m in build(kind, cfg).items()}
        save_checkpoint(root / f"{name}.safetensors", kind, mods, {"title": name, "config": cfg, "dataset": meta})
    return root


def test_a_colour_gan_and_vae_are_measured_against_their_own_pictures(emoji_models):
    root = emoji_models
    clf = root / "emoji_classifier.safetensors"
    gan = evaluate(load_checkpoint(root / "emoji_cgan.safetensors"), 90, data_dir=root / "data", classifier_path=clf)
    assert gan["fd"] >= 0 and gan["fd_real_floor"] >= 0 and gan["samples"] == 90
    assert 0 <= gan["class_accuracy"] <= 1 and "fd_class_0" in gan and gan["features"] == "emoji_classifier.safetensors"
    vae = evaluate(load_checkpoint(root / "emoji_vae.safetensors"), 100, data_dir=root / "data", classifier_path=clf)
    assert vae["neg_elbo"] > 0 and 0 <= vae["recon_mse"] <= 1 and vae["fd"] >= 0


def test_the_card_of_an_emoji_model_credits_the_pictures(emoji_models, capsys):
    path = emoji_models / "emoji_vae.safetensors"
    assert evaluate_main([str(path), "--samples", "100", "--data-dir", str(emoji_models / "data"), "--json",
                          "--classifier", str(emoji_models / "emoji_classifier.safetensors"), "--write-card"]) == 0
    assert json.loads(capsys.readouterr().out)["fd_real_floor"] >= 0
    card = path.with_suffix(".md").read_text()
    assert "CC-BY 4.0" in card and "Twemoji" in card and "fd_real_floor" in card
