"""`python -m explorer.evaluate`: JSON keys, model-card writing, and refusal of bad files."""
import json

import pytest

from explorer.cli.evaluate import main
from explorer.core.checkpoints import read_metadata
from tests.apphelpers import make_checkpoints


def small_test_split(folder, n: int = 2000):
    """The first n Fashion-MNIST test pictures as a test split of their own (raw IDX files in `folder`):
    every figure is computed the same way on them, in a fifth of the time."""
    from explorer.core.data import load_dataset
    from tests.test_idx import idx_bytes
    test = load_dataset("fashion-mnist", "test")
    folder.mkdir()
    (folder / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(test.images[:n, 0].numpy()))
    (folder / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(test.labels[:n].numpy().astype("uint8")))
    return str(folder)


@pytest.mark.slow
def test_evaluate_json_and_card(tmp_path, capsys):
    folder = make_checkpoints(tmp_path / "ck")
    clf = str(folder / "fashion_classifier.safetensors")
    data = small_test_split(tmp_path / "data")
    for name, extra in (("tiny_gan", set()), ("tiny_vae8", {"neg_elbo", "recon_mse"})):
        path = folder / f"{name}.safetensors"
        assert main([str(path), "--json", "--samples", "300", "--classifier", clf, "--write-card", "--data-dir", data]) == 0
        out = json.loads(capsys.readouterr().out)
        assert {"fd", "fd_real_floor", "class_coverage", "precision", "recall"} | extra <= set(out)
        # random weights against real pictures: far from the real data, further than two halves of it are apart
        assert out["fd_real_floor"] > 0 and out["fd"] > 5 * out["fd_real_floor"]
        assert out["class_coverage"] == pytest.approx(_coverage_of(path, clf, 300), abs=1e-9)
        assert read_metadata(path)["evaluation"]["fd"] == out["fd"]
        assert "| fd |" in path.with_suffix(".md").read_text()
    assert main([clf, "--json", "--data-dir", data]) == 0
    assert json.loads(capsys.readouterr().out)["test_accuracy"] == pytest.approx(_accuracy_of(clf, data), abs=1e-12)


def _accuracy_of(clf_path, data_dir) -> float:
    """The classifier's test accuracy, counted here directly."""
    from explorer.core.data import load_dataset, to_unit
    from explorer.eval.features import load_classifier
    net, test = load_classifier(clf_path, "cpu"), load_dataset("fashion-mnist", "test", data_dir)
    assert len(test) == 2000
    import torch
    with torch.no_grad():
        pred = torch.cat([net(to_unit(test.images[i:i + 1000])).argmax(1) for i in range(0, len(test), 1000)])
    return float((pred == test.labels).double().mean())


def _coverage_of(path, clf_path, samples: int) -> float:
    """The normalised entropy of the classifier's labels of the model's `samples` pictures (seed 0), counted here."""
    import torch

    from explorer.core.checkpoints import load_checkpoint
    from explorer.core.latent import sample_z
    from explorer.core.models import decoder_of
    from explorer.eval.features import load_classifier
    dec, net = decoder_of(load_checkpoint(path).modules).eval(), load_classifier(clf_path, "cpu")
    with torch.no_grad():
        pred = net(dec.generate(sample_z(samples, dec.cfg.latent_dim, 0))).argmax(1)
    p = torch.bincount(pred, minlength=10).double() / samples
    return float(-(p[p > 0] * p[p > 0].log()).sum() / torch.log(torch.tensor(10.0)))


def test_evaluate_refuses_a_pickle(tmp_path, capsys):
    bad = tmp_path / "x.safetensors"
    bad.write_bytes(b"\x80\x04K\x01.")
    assert main([str(bad)]) == 2
    assert "pickle" in capsys.readouterr().err


def _digits_gan(folder):
    import torch

    from explorer.core.checkpoints import save_checkpoint
    from explorer.core.data import CLASS_NAMES
    from explorer.core.models import build
    torch.manual_seed(0)
    mods = build("dcgan", {"width": 8, "d_width": 8, "latent_dim": 8})
    path = folder / "digits_gan.safetensors"
    save_checkpoint(path, "dcgan", mods, {"config": {"width": 8, "d_width": 8, "latent_dim": 8}, "dataset": {
        "name": "digits", "split": "train", "size": 1497, "class_names": CLASS_NAMES["digits"]}})
    return path


def test_a_digits_model_is_measured_against_digits_or_not_at_all(tmp_path, capsys):
    """Before: every model was compared with Fashion-MNIST through the Fashion classifier."""
    folder = make_checkpoints(tmp_path / "ck")          # holds only a Fashion-MNIST classifier
    path = _digits_gan(folder)
    from explorer.core.checkpoints import load_checkpoint
    from explorer.eval.evaluate import evaluate
    from explorer.eval.features import CHECKPOINT_DIR
    out = evaluate(load_checkpoint(path), samples=200)           # finds the shipped digits classifier
    assert out["features"] == "digits_classifier.safetensors" and (CHECKPOINT_DIR / out["features"]).is_file()
    assert out["fd"] > 0 and {"class_coverage", "precision", "recall"} <= set(out)
    # a Fashion-MNIST feature network given by hand is refused for a digits model
    assert main([str(path), "--json", "--samples", "200", "--classifier", str(folder / "fashion_classifier.safetensors")]) == 2
    assert "not on digits" in capsys.readouterr().err


def test_a_model_of_unknown_data_gets_figures_plainly_unavailable(tmp_path):
    import torch

    from explorer.core.checkpoints import load_checkpoint, save_checkpoint
    from explorer.core.models import build
    from explorer.eval.evaluate import evaluate
    from explorer.eval.features import classifier_path_for
    torch.manual_seed(0)
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, "dcgan", build("dcgan", {"width": 8, "d_width": 8, "latent_dim": 8}),
                    {"config": {"width": 8, "d_width": 8, "latent_dim": 8},
                     "dataset": {"name": "mnist", "split": "train", "size": 0, "class_names": []}})
    assert classifier_path_for("mnist", (tmp_path,)) is None
    out = evaluate(load_checkpoint(path), samples=100)
    assert set(out) == {"unavailable"} and "mnist" in out["unavailable"]
