"""Every refusal is for a person: it names the parameter, the allowed range and what was given, and
nothing is silently "fixed" (a batch cut to its first row, 2.7 frames made 2, a bad --data-dir
replaced by other data). Through the workspace, the HTTP API and the command lines."""
from __future__ import annotations

import re
import shutil

import pytest

from explorer.core.data import DataNotFound, load_dataset
from explorer.core.data import datasets as ds_mod
from explorer.core.models import build
from explorer.core.validation import UserError
from tests.apphelpers import make_checkpoints, small_workspace

SEED_RANGE = "between 0 and 2147483647"


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    ws = small_workspace(make_checkpoints(tmp_path_factory.mktemp("ck")))
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def api(ws):
    """The API's endpoints as plain functions (the edge where their values are checked)."""
    from explorer.ui.api import endpoints
    return {fn.__name__: fn for fn, _ in endpoints(ws)}


@pytest.mark.parametrize("values, words", [
    ({"seed": float("inf")}, f"Seed must be a whole number {SEED_RANGE}, got inf"),
    ({"seed": 10**400}, f"Seed must be {SEED_RANGE}, got 1000000000"),
    ({"seed": "abc"}, f"Seed must be a whole number {SEED_RANGE}, got 'abc'"),
    ({"seed": 2.5}, f"Seed must be a whole number {SEED_RANGE}, got 2.5"),
    ({"temperature": "warm"}, "Temperature must be a number between 0 and 3, got 'warm'"),
    ({"sliders": ["x"]}, "Slider 1 must be a number between -10 and 10, got 'x'"),
    ({"sliders": "1, 2"}, "Sliders must be a list of numbers, got str"),
    ({"amount": "lots", "direction": "more like Bag"}, "Amount must be a number between -5 and 5, got 'lots'"),
    ({"base": [1e308] * 12}, "Base latent value 1 must be between -10000 and 10000, got 1e+308"),
    ({"base": [0.0] * 24}, "tiny_gan needs latent vectors of 12 numbers, got shape (1, 24)"),
])
def test_render_refusals_name_the_value_and_its_range(ws, api, values, words):
    with pytest.raises(UserError, match=re.escape(words)):
        ws.recipe({"model": "tiny_gan", **values})
    with pytest.raises(UserError, match=re.escape(words)):
        api["render"]("tiny_gan", **{"base" if k == "base" else k: v for k, v in values.items()})


def test_latents_out_of_range_batches_and_fractional_frames_are_refused(api):
    one = [0.5] * 8
    cases = [
        (([1e308] * 8, one, 5), "The start latent is out of range ±10 000: value 1 is 1e+308"),
        ((one, [0.0] * 7 + [-2e4], 5), "The end latent is out of range ±10 000: value 8 is -20000"),
        (([one, one], one, 5), "The start latent must be one latent vector of 8 numbers, got 2 of them"),
        ((one, [float("nan")] * 8, 5), "The end latent holds NaN (not a number) at position 1"),
        ((one, "zeros", 5), "The end latent must be a list of numbers"),
        ((one, one, 2.7), "Frames must be a whole number between 2 and 64, got 2.7"),
        ((one, one, "ten"), "Frames must be a whole number between 2 and 64, got 'ten'"),
        ((one, one, float("inf")), "Frames must be a whole number between 2 and 64, got inf"),
        ((one, one, float("nan")), "Frames must be a whole number between 2 and 64, got nan"),
        ((one, one, 65), "Frames must be between 2 and 64, got 65"),
        ((one, one, 1), "Frames must be between 2 and 64, got 1"),
    ]
    for args, words in cases:
        with pytest.raises(UserError, match=re.escape(words)):
            api["interpolate"]("tiny_vae8", *args)
    assert len(api["interpolate"]("tiny_vae8", one, one, 3.0)["linear"]) == 3          # 3.0 is a whole number


@pytest.mark.slow
def test_pasted_recipes_and_map_points(ws):
    with pytest.raises(UserError, match=re.escape(f"Seed must be a whole number {SEED_RANGE}, got inf")):
        ws.recipe('{"model": "tiny_gan", "seed": 1e400}')        # JSON's 1e400 is infinity
    assert ws.recipe('{"model": "tiny_gan", "seed": 3.0}').seed == 3
    ws.wait_for_map("tiny_vae2", 60)
    with pytest.raises(UserError, match=re.escape("A map point index must be a whole number between 0 and 499, got 'x'")):
        ws.map_item("tiny_vae2", "x")


def test_model_sizes_are_checked_before_anything_is_built():
    for kind, cfg, words in [
        ("vae", {"latent_dim": 1e9}, "latent_dim must be a whole number between 1 and 1024, got 1e+09 (float)"),
        ("dcgan", {"latent_dim": 0}, "latent_dim must be between 1 and 1024, got 0"),
        ("dcgan", {"image_size": 4096}, "image_size must be between 8 and 256, got 4096"),
        ("dcgan", {"channels": "3"}, "channels must be a whole number between 1 and 4, got '3' (str)"),
        ("toy_gan", {"hidden": True}, "hidden must be a whole number between 1 and 8192, got True (bool)"),
        ("classifier", {"feature_dim": 10**12}, "feature_dim must be between 1 and 8192"),
        ("vae", {"hidden": 8192, "width": 512, "image_size": 256}, "million parameters; at most 100 million"),
    ]:
        with pytest.raises(UserError, match=re.escape(words)):
            build(kind, cfg)


# ---------------------------------------------------------------- --data-dir and EXPLORER_DATA

@pytest.fixture
def idx_folders(tmp_path, monkeypatch):
    """A "system" folder that has the Fashion test split, an empty folder and one with half a pair."""
    system, empty, half = tmp_path / "system", tmp_path / "empty", tmp_path / "half"
    (system / "fashion-mnist").mkdir(parents=True)
    empty.mkdir()
    half.mkdir()
    for f in ds_mod.EMBEDDED_DIR.glob("t10k-*"):
        shutil.copy(f, system / "fashion-mnist")
    shutil.copy(next(ds_mod.EMBEDDED_DIR.glob("t10k-images-*")), half)
    monkeypatch.setattr(ds_mod, "SYSTEM_ROOT", system)
    monkeypatch.delenv("EXPLORER_DATA", raising=False)
    return system, empty, half


def test_an_explicit_data_location_is_used_or_refused_never_replaced(idx_folders, monkeypatch):
    system, empty, half = idx_folders
    assert load_dataset("fashion-mnist", "test").source.startswith("system")    # no location given: the search
    with pytest.raises(DataNotFound, match=re.escape(f"--data-dir {empty} has no fashion-mnist test split:"
                                                     " t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz]")):
        load_dataset("fashion-mnist", "test", data_dir=empty)
    with pytest.raises(DataNotFound, match="It has t10k-images-idx3-ubyte.gz but not the other file of the pair"):
        load_dataset("fashion-mnist", "test", data_dir=half)
    monkeypatch.setenv("EXPLORER_DATA", str(empty))
    with pytest.raises(DataNotFound, match=re.escape(f"EXPLORER_DATA {empty} has no fashion-mnist test split")):
        load_dataset("fashion-mnist", "test")
    assert load_dataset("fashion-mnist", "test", data_dir=system).source.startswith("--data-dir")


# ---------------------------------------------------------------- command lines

def run_cli(main, argv, capsys):
    """(exit code, stderr) of a CLI main, whether it returns or argparse exits."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err


def test_command_lines_refuse_with_one_line_and_exit_2(idx_folders, capsys, tmp_path):
    from explorer.cli import evaluate, train
    _, empty, _ = idx_folders
    cases = [
        (train.main, ["--latent-dim", "0"], "argument --latent-dim: must be between 1 and 1024, got '0'"),
        (train.main, ["--batch-size", "1e7"], "argument --batch-size: must be between 1 and 65536, got '1e7'"),
        (train.main, ["--seed", "inf"], "argument --seed: must be a whole number between 0 and 2147483647, got 'inf'"),
        (train.main, ["--lr-g", "nan", "--dry-run"], "argument --lr-g: must be a number between 1e-08 and 1, got NaN"),
        (train.main, ["--dataset", "fashion-mnist", "--data-dir", str(empty), "--steps", "1", "--dry-run"],
         f"error: --data-dir {empty} has no fashion-mnist train split"),
        (train.main, ["--model", "toy_gan", "--dataset", "fashion-mnist", "--steps", "1"],
         "error: toy_gan trains on a 2-D distribution: --dataset must be one of"),
        (train.main, ["--model", "toy_gan", "--dataset", "ring", "--latent-dim", "100", "--steps", "1", "--dry-run"],
         "error: latent_dim must be between 1 and 64, got 100"),
        (evaluate.main, [str(tmp_path / "missing.safetensors")], "error: missing.safetensors: no such checkpoint file"),
        (evaluate.main, ["x.safetensors", "--samples", "1e9"], "argument --samples: must be between 100 and 100000"),
    ]
    for main, argv, words in cases:
        code, err = run_cli(main, argv, capsys)
        assert code == 2 and words in err and "Traceback" not in err, (argv, err)


# ---------------------------------------------------------------- the adversarial pass's small ones

@pytest.fixture(scope="module")
def cond_api(tmp_path_factory):
    """The API's endpoints over 10-class conditional models."""
    from explorer.ui.api import endpoints
    from tests.apphelpers import COND, save_models
    ws = small_workspace(save_models(make_checkpoints(tmp_path_factory.mktemp("cond")), COND))
    yield {fn.__name__: fn for fn, _ in endpoints(ws)}
    ws.close()


@pytest.mark.parametrize("value, words", [
    (10, "Class must be between 0 and 9, got 10"), (10_000, "Class must be between 0 and 9, got 10000"),
    (-1, "Class must be between 0 and 9, got -1"), (2.5, "Class must be a whole number between 0 and 9, got 2.5"),
    (True, "Class must be a whole number between 0 and 9, got True"),
    ("3", "Class must be a whole number between 0 and 9, got '3': write it as a number (3, not \"3\" or 3.0)."),
    ("-0", "got '-0': write it as a number"), ("\uff18", "got '\uff18': write it as a number"),
    (8.0, "Class must be a whole number between 0 and 9, got 8.0: write it as a number")])
def test_a_ten_class_model_names_its_own_class_range(cond_api, value, words):
    with pytest.raises(UserError, match=re.escape(words)):
        cond_api["render"]("tiny_cgan", 1, class_index=value)


def test_far_interpolation_ends_are_drawn_not_refused_with_a_number_never_sent(cond_api):
    far = [9999.0] * 12
    for model, cls in (("tiny_gan", None), ("tiny_cgan", 3)):
        out = cond_api["interpolate"](model, far, [-v for v in far], 5, cls)     # opposite ends: the slerp turns
        assert len(out["spherical"]) == 5 and max(out["spherical_norm"]) == pytest.approx(9999 * 12 ** 0.5, rel=1e-4)
    one_hot = [9999.0] + [0.0] * 11
    assert len(cond_api["interpolate"]("tiny_gan", one_hot, [-v for v in one_hot], 3)["linear"]) == 3


def test_encode_and_class_row_refuse_what_is_not_their_type(api):
    with pytest.raises(UserError, match=re.escape("image is a data URL without a comma: it must look like "
                                                  "data:image/png;base64,")):
        api["encode"]("tiny_gan", "data:image/png;base64")
    png = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg=="
    for refine, shown in (("yes", "'yes'"), (2, "2"), (None, "None")):
        with pytest.raises(UserError, match=re.escape(f"refine must be true or false, got {shown}")):
            api["encode"]("tiny_gan", png, refine)
    for latent in ([True] * 12, [1.0] * 11 + [False]):
        with pytest.raises(UserError, match=re.escape("The latent must be a list of numbers, got true/false values")):
            api["class_row"]("tiny_gan", latent)


def test_app_refuses_a_bad_host_and_a_busy_port_in_one_line(capsys, tmp_path):
    import socket

    import app
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        for argv, words in ((["--host", "999.1.1.1"], "error: --host '999.1.1.1' is not an address or name this computer knows"),
                            (["--port", str(port)], f"error: Port {port} on 127.0.0.1 is in use: another program")):
            code, err = run_cli(app.main, [*argv, "--checkpoints-dir", str(tmp_path)], capsys)
            assert code == 2 and words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_train_refuses_an_unwritable_out_before_training(capsys, tmp_path, monkeypatch):
    from explorer.cli import train
    monkeypatch.setattr(train, "make_trainer", lambda *a, **k: pytest.fail("training started"))
    for out, words in (("/proc/model.safetensors", "cannot be written: that folder takes no new files"),
                       (str(tmp_path), "is a folder: give a file name in it")):
        code, err = run_cli(train.main, ["--model", "vae", "--steps", "1", "--out", out], capsys)
        assert code == 2 and f"error: --out {out}" in err and words in err and "Traceback" not in err, err
