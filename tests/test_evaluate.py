"""`python -m explorer.evaluate`: JSON keys, model-card writing, and refusal of bad files."""
import json

from explorer.cli.evaluate import main
from explorer.core.checkpoints import read_metadata
from tests.apphelpers import make_checkpoints


def test_evaluate_json_and_card(tmp_path, capsys):
    folder = make_checkpoints(tmp_path / "ck")
    clf = str(folder / "fashion_classifier.safetensors")
    for name, extra in (("tiny_gan", set()), ("tiny_vae8", {"neg_elbo", "recon_mse"})):
        path = folder / f"{name}.safetensors"
        assert main([str(path), "--json", "--samples", "300", "--classifier", clf, "--write-card"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert {"fd", "fd_real_floor", "class_coverage", "precision", "recall"} | extra <= set(out)
        assert out["fd"] >= 0 and 0 <= out["class_coverage"] <= 1 and 0 <= out["precision"] <= 1
        assert read_metadata(path)["evaluation"]["fd"] == out["fd"]
        assert "| fd |" in path.with_suffix(".md").read_text()
    assert main([clf, "--json"]) == 0
    assert 0 <= json.loads(capsys.readouterr().out)["test_accuracy"] <= 1


def test_evaluate_refuses_a_pickle(tmp_path, capsys):
    bad = tmp_path / "x.safetensors"
    bad.write_bytes(b"\x80\x04K\x01.")
    assert main([str(bad)]) == 2
    assert "pickle" in capsys.readouterr().err
