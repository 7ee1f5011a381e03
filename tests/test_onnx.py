"""The ONNX family: decoders this project did not write, opened as the app opens them, and hostile files
refused in words (explorer/core/families/onnx.py, onnx_check.py)."""
import json
import time

import numpy as np
import pytest
import torch
from onnx import TensorProto, helper

import explorer.core.families.onnx as onnx_family
from explorer.core.families.onnx import OnnxFamily
from explorer.core.families.onnx_check import OnnxRefused
from explorer.core.validation import UserError
from tests.onnxhelpers import (
    NZ,
    class_decoder,
    decoder_file,
    examples_dcgan,
    graph_file,
    heavy_decoder,
    latent,
    linear_decoder_nodes,
    picture,
    sigmoid_decoder,
)


def test_pytorch_examples_dcgan_opens_with_its_size_colours_and_range_read_from_the_graph(tmp_path):
    path, g = examples_dcgan(tmp_path / "netG.onnx")
    f = OnnxFamily(path)
    assert (f.latent_dim, f.channels, f.image_size, f.num_classes) == (NZ, 3, 64, 0)
    assert f.value_range == (-1.0, 1.0) and f.range_source == "probe"       # tanh, found by probing
    z = torch.randn(5, NZ)
    with torch.no_grad():
        ref = (g(z[:, :, None, None]) + 1) / 2                               # its own (B, nz, 1, 1) input
    assert (f.decode(z) * 255).round().sub((ref * 255).round()).abs().max() <= 1
    assert f.meta["title"] == "netG" and f.meta["config"]["image_size"] == 64


def test_a_sigmoid_decoder_is_read_as_zero_to_one_and_metadata_is_honoured(tmp_path):
    f = OnnxFamily(sigmoid_decoder(tmp_path / "vae_dec.onnx")[0])
    assert f.value_range == (0.0, 1.0) and (f.channels, f.image_size, f.latent_dim) == (1, 28, 8)
    said = OnnxFamily(sigmoid_decoder(tmp_path / "said.onnx", {
        "output_range": "-1,1", "title": "Course VAE <b>", "dataset": "fashion-mnist",
        "class_names": json.dumps(["a", "b"])})[0])
    assert said.value_range == (-1.0, 1.0) and said.range_source == "metadata"
    assert said.meta["title"] == "Course VAE <b>" and said.meta["dataset"]["name"] == "fashion-mnist"
    assert said.meta["dataset"]["class_names"] == []          # an unconditional model names no classes it draws


def test_the_number_of_classes_of_an_integer_class_input_is_found_by_probing(tmp_path):
    f = OnnxFamily(class_decoder(tmp_path / "cgan.onnx")[0])
    assert f.num_classes == 5 and f.meta["dataset"]["class_names"][4] == "class 4"
    a, b = f.decode(torch.zeros(2, 6), torch.tensor([0, 4]))
    assert not torch.equal(a, b)


@pytest.mark.parametrize("make, words", [
    (lambda p: p.write_bytes(b"\x08\x07garbage" * 50), "not a valid ONNX file"),
    (lambda p: p.write_bytes(b""), "not a valid ONNX file"),
    (lambda p: graph_file(p, [helper.make_node("Evil", ["z"], ["image"], domain="com.evil")], [latent()], [picture()],
                          domain="com.evil"), "custom domain 'com.evil'"),
    (lambda p: graph_file(p, [helper.make_node("Loop", ["n", "c"], ["image"], body=helper.make_graph([], "b", [], []))],
                          [latent()], [picture()]), "control flow (Loop)"),
    (lambda p: graph_file(p, [helper.make_node("Identity", ["z"], ["z0"])] + [
        helper.make_node("Identity", [f"z{i}"], [f"z{i + 1}"]) for i in range(20_001)],
        [latent()], [helper.make_tensor_value_info("z20001", TensorProto.FLOAT, ["batch", 4])]), "at most 20000"),
    (lambda p: graph_file(p, [helper.make_node("ConstantOfShape", ["s"], ["image"])], [latent()], [picture()],
                          [helper.make_tensor("s", TensorProto.INT64, [4], [1, 3, 60000, 60000])]), "numbers per picture"),
    (lambda p: graph_file(p, [helper.make_node("NonZero", ["z"], ["image"])], [latent()], [picture()]),
     "cannot be worked out"),
    (lambda p: decoder_file(p, channels=5), "(batch, 1 or 3, side, side)"),
    (lambda p: decoder_file(p, side=4), "side 8 to 256"),
    (lambda p: decoder_file(p, last="Log"), "NaN or infinite"),
    (lambda p: decoder_file(p, last="Exp"), "values from"),
    (lambda p: graph_file(p, [helper.make_node("Identity", ["z"], ["image"])],
                          [helper.make_tensor_value_info("z", TensorProto.INT64, ["batch", 4])], [picture()]),
     "not (batch, latent size) float32"),
])
def test_broken_and_hostile_files_are_refused_in_words(tmp_path, make, words):
    path = tmp_path / "bad.onnx"
    make(path)
    with pytest.raises(OnnxRefused, match=words.replace("(", r"\(").replace(")", r"\)")):
        OnnxFamily(path)


def test_a_file_with_external_weights_is_refused_before_reading_them(tmp_path):
    import onnx
    path, _ = sigmoid_decoder(tmp_path / "ext.onnx")
    model = onnx.load(str(path))
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True, location="w.bin",
                    size_threshold=0)
    with pytest.raises(OnnxRefused, match="external files"):
        OnnxFamily(path)


def test_a_decoder_over_the_work_limit_is_refused_before_it_runs(tmp_path):
    with pytest.raises(OnnxRefused, match="billion multiply-adds per picture"):
        OnnxFamily(heavy_decoder(tmp_path / "heavy.onnx", products=30))       # 32 billion


def test_a_decoder_that_takes_too_long_is_stopped_and_says_so(tmp_path, monkeypatch):
    """Within the work limit a picture costs at most 20 billion multiply-adds: about 0.2 s on this CPU when idle,
    seconds under load or on a slow machine. The time limit is scaled down to show it stops such a run between
    two of its (19 billion) multiply-adds' nodes, whatever the machine's speed."""
    monkeypatch.setattr(onnx_family, "DECODE_SECONDS", 0.02)
    path = heavy_decoder(tmp_path / "slow.onnx", products=18)
    t = time.perf_counter()
    with pytest.raises(UserError, match="took longer than 0.02 s to draw and was stopped"):
        OnnxFamily(path)
    assert time.perf_counter() - t < 5


def test_nan_for_some_latents_is_a_message_and_the_model_keeps_working(tmp_path):
    nodes, inits = linear_decoder_nodes(last="Tanh")                        # sqrt(z @ w + 100): NaN far out only
    nodes = nodes[:2] + [helper.make_node("Add", ["r", "hundred"], ["a"]), helper.make_node("Sqrt", ["a"], ["q"]),
                         helper.make_node("Tanh", ["q"], ["image"])]
    hundred = helper.make_tensor("hundred", TensorProto.FLOAT, [], [100.0])
    f = OnnxFamily(graph_file(tmp_path / "sqrt.onnx", nodes, [latent()], [picture()], inits + [hundred]))
    w = np.frombuffer(inits[0].raw_data, np.float32).reshape(4, 64) if inits[0].raw_data else np.array(inits[0].float_data).reshape(4, 64)
    far = torch.from_numpy(-1000 * np.sign(w[:, :1].T)).float()            # every weight of pixel 0 pulls it below -100
    with pytest.raises(UserError, match="NaN or infinite values for this latent"):
        f.decode(far)
    assert torch.isfinite(f.decode(torch.ones(2, 4))).all()


# ---------------------------------------------------------------- in the app's workspace

@pytest.fixture(scope="module")
def onnx_ws(tmp_path_factory):
    """A models folder of foreign ONNX decoders (one that says it draws Fashion-MNIST, one that says nothing,
    one class-conditional) beside the shipped Fashion-MNIST classifier."""
    from tests.apphelpers import link_shipped, small_workspace
    folder = tmp_path_factory.mktemp("onnx-models")
    sigmoid_decoder(folder / "course_vae.onnx", {"dataset": "fashion-mnist", "title": "Course VAE decoder"})
    examples_dcgan(folder / "netG.onnx")
    class_decoder(folder / "cgan.onnx")
    link_shipped(folder, ["fashion_classifier"])
    ws = small_workspace(folder)
    yield ws
    ws.close()


def test_foreign_decoders_are_listed_and_draw_in_explore(onnx_ws):
    ws = onnx_ws
    assert {"course_vae", "netG", "cgan"} <= set(ws.model_names())
    assert ws.listing()["course_vae"]["title"] == "Course VAE decoder"
    for name, shape in (("course_vae", (28, 28, 1)), ("netG", (64, 64, 3))):
        img, z = ws.render(ws.recipe({"model": name, "seed": 3, "temperature": 0.8, "sliders": [1.5, -1.0]}))
        assert img.shape == shape and z.shape == (ws.model(name).latent_dim,)
        strip, sigmas, here = ws.strip_around(name, z, 0)
        assert strip.shape[1:] == shape and len(strip) == len(sigmas)
        assert not np.array_equal(strip[0], strip[-1])              # the direction changes the picture
    d = ws.directions("course_vae")
    assert len(d.basis) == 8 and torch.allclose(d.basis @ d.basis.T, torch.eye(8), atol=1e-4)
    img, _ = ws.render(ws.recipe({"model": "cgan", "seed": 1, "class_index": 4}))
    assert img.shape == (28, 28, 1)


def test_foreign_decoders_interpolate_and_the_class_walk_is_not_offered_without_class_vectors(onnx_ws):
    ws = onnx_ws
    a, b = ws.model("netG").family.seed_latents(2, 0)
    res = ws.interpolate("netG", a, b, 5)
    assert res["linear"].shape == (5, 64, 64, 3) and np.array_equal(res["linear"][0], ws.model("netG").decode(a[None])[0])
    assert not ws.model("cgan").family.blends_classes


def test_a_picture_is_placed_in_a_foreign_decoder_by_search(onnx_ws):
    ws = onnx_ws
    m = ws.model("course_vae")
    target = m.decode(m.family.seed_latents(1, 7))[0]                 # a picture the decoder can draw
    enc = ws.encode_picture("course_vae", target[..., 0], refine=True)
    assert enc.guessed_by == "random starts" and enc.refine_steps > 0 and enc.guess_latent is not None
    assert enc.scores["pixel_mse"] < enc.guess_scores["pixel_mse"]    # the search improved on its start
    with pytest.raises(UserError, match="no classifier"):
        ws.encode_picture("netG", np.zeros((64, 64, 3), np.uint8))    # it says nothing of its data


def test_an_uploaded_onnx_decoder_is_listed_and_a_hostile_one_is_refused_without_a_trace(onnx_ws, tmp_path):
    ws = onnx_ws
    before = ws.model_names()
    bad = tmp_path / "evil.onnx"
    graph_file(bad, [helper.make_node("Evil", ["z"], ["image"], domain="com.evil")], [latent()], [picture()],
               domain="com.evil")
    with pytest.raises(UserError, match="custom domain"):
        ws.register_upload(bad, "evil.onnx", "visitor")
    assert ws.model_names() == before
    done = ws.register_upload(sigmoid_decoder(tmp_path / "mine.onnx")[0], "mine.onnx", "visitor")
    assert done.name in ws.model_names() and ws.model(done.name).family.kind == "onnx"
    assert ws.render(ws.recipe({"model": done.name, "seed": 2}))[0].shape == (28, 28, 1)


@pytest.mark.slow
def test_a_foreign_decoders_map_lays_out_its_samples(onnx_ws):
    ws = onnx_ws
    lm = ws.wait_for_map("course_vae", timeout=240)
    assert lm is not None, ws.map_status("course_vae")
    assert lm.source == "samples" and lm.key_space == "classifier-features" and len(lm.latents) == ws.map_params.points
    item = ws.map_item("course_vae", 3)
    assert item["decoded"].shape == (28, 28, 1)
