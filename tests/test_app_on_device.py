"""The app on each device (`python app.py --device cuda` on a GPU): render, interpolate, map_select
and a short image-mode training run, driven through the API with gradio_client.

Parametrised over ["cpu", "cuda"]: the CUDA case is skipped without a GPU, and the CPU case runs
everywhere, so the test itself is known to work. Pictures are checked against the checkpoint's
own decoding of the returned latent on the CPU: an app that decodes on the GPU must draw what
the model draws."""
from __future__ import annotations

import base64
import io
import time

import numpy as np
import pytest
import torch

pytest.importorskip("gradio")
from gradio_client import Client  # noqa: E402

from tests.apphelpers import launch, make_checkpoints, small_workspace  # noqa: E402

DEVICES = [pytest.param("cpu"),
           pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"))]
# the image-mode training endpoints (/train_images_start, /train_stop(owner)) come with the new
# Train tab engine; run this test once they are in the app
image_training_api = pytest.mark.image_training_api
pytestmark = pytest.mark.slow          # a training run


@pytest.fixture(scope="module", params=DEVICES)
def app(request, shared_app, tmp_path_factory):
    """On the CPU the run's shared app; on another device an app of its own."""
    if request.param == "cpu":
        shared_app.ws.wait_for_map("tiny_vae2", 120)   # the 2-d map needs no UMAP: ready in seconds
        yield "cpu", shared_app.folder, shared_app.ws, Client(shared_app.url, verbose=False)
        return
    ws = small_workspace(make_checkpoints(tmp_path_factory.mktemp(f"ck-{request.param}")), request.param)
    demo, url = launch(ws)
    ws.wait_for_map("tiny_vae2", 120)
    yield request.param, ws.folder, ws, Client(url, verbose=False)
    demo.close()
    ws.close()      # the map worker process ends with the tests


def picture(data_url: str) -> np.ndarray:
    from PIL import Image
    assert data_url.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))))


def cpu_drawing(folder, model: str, latents) -> np.ndarray:
    """The checkpoint decoded on the CPU, as uint8 (N, H, W): the reference for every device."""
    from explorer.core.checkpoints import load_checkpoint
    from explorer.core.data import to_uint8
    from explorer.core.models import decoder_of
    dec = decoder_of(load_checkpoint(folder / f"{model}.safetensors", "cpu").modules).eval()
    with torch.inference_mode():
        return to_uint8(dec.generate(torch.tensor(latents, dtype=torch.float32)))[:, 0].numpy()


def close(a: np.ndarray, b: np.ndarray) -> bool:
    """Same picture up to float rounding between devices (one grey level)."""
    return a.shape == b.shape and int(np.abs(a.astype(int) - b.astype(int)).max()) <= 1


def test_the_app_decodes_on_its_device(app):
    device, _, ws, _ = app
    for name in ("tiny_gan", "tiny_vae2"):
        assert ws.model(name).device.type == device
        assert all(p.device.type == device for mod in ws.model(name).family.modules.values() for p in mod.parameters())


def test_render_draws_what_the_model_draws(app):
    _, folder, _, c = app
    a = c.predict("tiny_gan", 7, 1.0, [0.5, -1.0], "", 0.0, None, api_name="/render")
    b = c.predict("tiny_gan", 7, 1.0, [0.5, -1.0], "", 0.0, None, api_name="/render")
    assert a["latent"] == b["latent"] and np.array_equal(picture(a["image"]), picture(b["image"]))
    assert close(picture(a["image"]), cpu_drawing(folder, "tiny_gan", [a["latent"]])[0])


def test_interpolate_draws_both_paths(app):
    from explorer.core.latent import fractions, lerp, slerp
    _, folder, _, c = app
    start, end = [1.0] * 12, [-1.0] * 12
    out = c.predict("tiny_gan", start, end, 5, api_name="/interpolate")
    assert len(out["linear"]) == len(out["spherical"]) == 5
    t = fractions(5)
    a, b = torch.tensor(start), torch.tensor(end)
    for key, path in (("linear", lerp(a, b, t)), ("spherical", slerp(a, b, t))):
        drawn = np.stack([picture(u) for u in out[key]])
        assert close(drawn, cpu_drawing(folder, "tiny_gan", path.tolist())), key


def test_map_select_gives_the_test_image_and_its_decoding(app):
    from explorer.core.data import load_dataset
    _, folder, _, c = app
    out = c.predict("tiny_vae2", 17, api_name="/map_select")
    assert out["index"] == 17 and len(out["latent"]) == 2 and out["label"]
    assert np.array_equal(picture(out["original"]), load_dataset("fashion-mnist", "test").images[17, 0].numpy())
    assert close(picture(out["decoded"]), cpu_drawing(folder, "tiny_vae2", [out["latent"]])[0])


@image_training_api
def test_a_short_image_training_run(app):
    device, _, _, c = app
    started = c.predict("digits", "dcgan", "non-saturating", 2e-4, 1, 32, 1.0, api_name="/train_images_start")
    owner = started["owner"]
    assert isinstance(owner, str) and owner and started["kind"] == "dcgan"
    try:
        seen, deadline = [], time.time() + 120
        while time.time() < deadline:
            status = c.predict(api_name="/train_status")
            seen.append(status["step"])
            if status["step"] >= 10 and (device == "cpu" or status["fast_path"] == "CUDA graph"):
                break
            time.sleep(0.3)
        assert status["state"] == "running" and status["step"] >= 10, status
        assert seen == sorted(seen) and status["steps_per_s"] > 0
        if device == "cuda":
            assert status["fast_path"] == "CUDA graph"          # each step replays as one graph
        else:
            assert not status["fast_path"].startswith("CUDA graph")
        latest = status["latest"]
        assert 0 < latest["d_real"] < 1 and 0 < latest["d_fake"] < 1
        assert np.isfinite([latest["loss_d"], latest["loss_g"]]).all()
        with pytest.raises(Exception):                           # only the owner may stop it
            c.predict("someone-else", api_name="/train_stop")
        assert c.predict(api_name="/train_status")["state"] == "running"
    finally:
        stopped = c.predict(owner, api_name="/train_stop")
    assert stopped["state"] == "stopped"
