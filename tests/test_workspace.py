"""The functions below the UI: directions, recipes, strips, manifold, interpolation, maps, uploads."""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from explorer.core.validation import UserError
from explorer.explore.workspace import Workspace
from explorer.maps.cache import load_map
from explorer.maps.layout import LatentMap, MapParams
from explorer.maps.store import MapStore
from tests.apphelpers import DIRECTION_SAMPLES, SMALL_MAPS, make_checkpoints, small_workspace


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    ws = small_workspace(make_checkpoints(tmp_path_factory.mktemp("ck")))
    yield ws
    ws.close()


@pytest.mark.parametrize("name", ["tiny_gan", "tiny_vae8", "tiny_vae2"])
def test_principal_directions_are_orthonormal(ws, name):
    d = ws.directions(name)
    k = len(d.basis)
    assert torch.allclose(d.basis @ d.basis.T, torch.eye(k), atol=1e-5)
    assert (d.explained[:-1] >= d.explained[1:] - 1e-6).all() and 0 < float(d.explained.sum()) <= 1 + 1e-5
    assert len(d.class_means) == 10 and len(d.all_named()) == 10       # random weights: checked, none passes
    assert set(d.named()) <= set(d.all_named())


def test_directions_are_cached_on_disk(ws):
    d = ws.directions("tiny_gan")
    fresh = Workspace(ws.folder, "cpu", cache_dir=ws.cache_dir, direction_samples=DIRECTION_SAMPLES)
    assert torch.equal(fresh.directions("tiny_gan").basis, d.basis)
    assert ws.directions_path("tiny_gan").is_file()


def test_workspace_sizes_are_injected_and_named_in_the_caches(ws):
    """Tests ask for small maps and directions; the default sizes are the shipped caches' own."""
    assert ws.map_params == SMALL_MAPS and ws.direction_samples == DIRECTION_SAMPLES
    assert ws.directions_path("tiny_gan").name.endswith(f"-directions-n{DIRECTION_SAMPLES}.safetensors")
    assert ws.map_path("tiny_gan") != Workspace(ws.folder, "cpu", cache_dir=ws.cache_dir).map_path("tiny_gan")
    assert Workspace(ws.folder, "cpu", cache_dir=ws.cache_dir).directions_path("tiny_gan").name.endswith("-directions.safetensors")


def test_sliders_set_coordinates_and_keep_the_rest(ws):
    d = ws.directions("tiny_vae8")
    z = torch.randn(8)
    target = d.coordinates(z).clone()
    target[0], target[2] = 1.5, -2.0
    moved = d.apply(z, target)
    assert torch.allclose(d.coordinates(moved), target, atol=1e-4)
    gan = ws.directions("tiny_gan")          # fewer directions than dimensions: the rest of z is untouched
    z = torch.randn(12)
    c = gan.coordinates(z)
    c[0] += 1
    moved = gan.apply(z, c)
    rest = torch.eye(12) - gan.basis.T @ gan.basis
    assert torch.allclose(rest @ moved, rest @ z, atol=1e-5)


def test_recipe_round_trip_reproduces_the_picture(ws):
    r = ws.recipe({"model": "tiny_gan", "seed": 5, "temperature": 0.7, "sliders": [1.0, -0.5]})   # a direction: test_directions.py
    img, z = ws.render(r)
    img2, z2 = ws.render(ws.recipe(r.to_text()))
    assert np.array_equal(img, img2) and torch.equal(z, z2) and ws.recipe(r.to_text()) == r
    with pytest.raises(UserError, match="recipe"):
        ws.recipe("{not json")
    assert ws.recipe("tiny_gan") == ws.recipe({"model": "tiny_gan"})        # a bare model name is a recipe


@pytest.mark.parametrize("raw, message", [
    ({"model": "tiny_gan", "sliders": ["nan"]}, "Slider 1 must be a number between -10 and 10, got NaN"),
    ({"model": "tiny_gan", "sliders": [0.0] * 13}, "tiny_gan has 12 slider directions, got 13 values"),
    ({"model": "tiny_gan", "sliders": "1, 2"}, "Sliders must be a list of numbers, got str"),
    ({"model": "tiny_gan", "temperature": "inf"}, "Temperature must be between 0 and 3, got inf"),
    ({"model": "tiny_gan", "seed": 2.5}, "Seed must be a whole number"),
    ({"model": "tiny_gan", "seed": 10**400}, "Seed must be"),
    ({"model": "tiny_gan", "amount": 9}, "Amount must be between -5 and 5"),
    ({"model": "tiny_gan", "direction": 3}, "A direction must be text"),
    ({"model": "tiny_gan", "direction": "no such direction"}, "Unknown direction"),
    ({"model": "tiny_gan", "base": [1.0, 2.0]}, "needs latent vectors of 12"),
    ({"model": "tiny_gan", "base": [1e308] * 12}, "Base latent value 1 must be between -10000 and 10000, got 1e+308"),
    ({"model": "tiny_gan", "class": 3}, "unconditional"),
    ({"model": "../../etc/passwd"}, "Unknown model"),
    ({"model": 7}, "A model name must be text"),
])
def test_a_recipe_is_checked_once_where_it_enters(ws, raw, message):
    with pytest.raises(UserError, match=re.escape(message)):
        ws.recipe(raw)


def test_strip_and_manifold(ws):
    z = torch.zeros(8)
    assert ws.strip("tiny_vae8", z, 0).shape == (7, 28, 28, 1)
    with pytest.raises(UserError, match="Direction 100 does not exist"):
        ws.strip_around("tiny_vae8", z, 99)
    grid = ws.manifold("tiny_vae2", n=5)
    assert grid.shape == (5 * 28, 5 * 28, 1) and ws.manifold_cell(torch.zeros(2), n=5) == (2, 2)
    assert ws.manifold_cell(torch.tensor([3.0, 3.0]), n=5) == (0, 4)        # top right
    with pytest.raises(UserError, match="2-d latent"):
        ws.manifold("tiny_vae8")


def test_interpolate_paths(ws):
    out = ws.interpolate("tiny_vae8", torch.ones(8), -torch.ones(8), 2)
    assert out["linear"].shape[0] == out["spherical"].shape[0] == 2     # bad frame counts: refused at the edges (API, tab)


@pytest.mark.slow
def test_map_of_2d_vae_is_its_latent_plane(ws, tmp_path):
    store = MapStore(cache_dir=tmp_path)
    m = ws.model("tiny_vae2")
    assert store.get(m) is None                 # not cached: starts the background computation
    store.wait("tiny_vae2", 60)
    lm = store.get(m)
    store.close()
    assert lm.method == "latent-plane" and lm.embedding.shape == (10_000, 2)
    assert np.allclose(lm.place(lm.latents[:5]), lm.latents[:5])
    assert store.status("tiny_vae2").startswith("ready")
    cached = load_map(next(tmp_path.glob("*.safetensors")), m.family.seed_latents)
    assert np.array_equal(cached.embedding, lm.embedding) and cached.class_names[0] == "T-shirt/top"


def _wait_for(cond, timeout=120):
    import time
    end = time.time() + timeout
    while not cond() and time.time() < end:
        time.sleep(0.1)
    return cond()


@pytest.mark.slow
def test_map_worker_warms_up_and_a_dead_worker_is_reported_then_replaced(ws, tmp_path):
    import os
    import signal
    store = MapStore(cache_dir=tmp_path)
    store.warm_up()                                   # compiles UMAP in the worker process
    assert _wait_for(lambda: store.warm_status.startswith(("warm (", "warm-up failed")))
    assert store.warm_status.startswith("warm (JIT compiled in"), store.warm_status
    first = store.worker.pid
    os.kill(first, signal.SIGKILL)                    # the worker dies between maps
    assert _wait_for(lambda: store.worker.pid is None, 10)     # noticed at once, not at the next job
    m = ws.model("tiny_vae2")
    store.get(m)
    store.wait("tiny_vae2", 120)
    assert store.status("tiny_vae2").startswith("ready") and store.get(m, start=False) is not None
    assert store.worker.pid not in (None, first)      # a fresh worker did the map
    store.close()
    assert store.worker.pid is None


@pytest.mark.slow
def test_a_worker_dying_mid_job_fails_that_map_then_the_next_one_works(ws, tmp_path):
    import os
    import signal
    store = MapStore(cache_dir=tmp_path)
    store.warm_up()                                   # the worker is busy compiling for seconds:
    m = ws.model("tiny_vae2")                         # the map job waits behind it in the worker
    store.get(m)
    assert _wait_for(lambda: store.worker.pid is not None, 30)
    os.kill(store.worker.pid, signal.SIGKILL)
    store.wait("tiny_vae2", 60)
    assert "map worker process died (exit code -9)" in store.status("tiny_vae2")
    assert store.warm_status.startswith("warm-up failed")
    store.get(m)                                      # asked again: a fresh worker computes it
    store.wait("tiny_vae2", 120)
    assert store.status("tiny_vae2").startswith("ready")
    store.close()


def test_closing_the_store_ends_its_worker_for_good_even_with_a_map_waiting_its_turn(ws, tmp_path):
    """At shutdown a map queued behind another must fail, not start a new worker process after close()."""
    store = MapStore(cache_dir=tmp_path)
    first, second = ws.model("tiny_vae2"), ws.model("tiny_vae8")
    store.get(first)                                  # its worker is starting (seconds: it imports torch)
    store.get(second)                                 # waits for its turn behind the first
    assert _wait_for(lambda: store.worker.pid is not None, 30)
    store.close()
    store.wait("tiny_vae2", 30)
    store.wait("tiny_vae8", 30)
    assert store.status("tiny_vae2") == store.status("tiny_vae8") == \
        "failed (the map worker was stopped); see the server log"
    assert store.worker.pid is None
    store.get(ws.model("tiny_gan"))                   # and a map asked for afterwards fails the same way
    store.wait("tiny_gan", 30)
    assert store.status("tiny_gan").startswith("failed (the map worker was stopped)") and store.worker.pid is None


def test_new_points_are_placed_among_their_neighbours():
    rng = np.random.default_rng(0)
    lat = rng.normal(size=(500, 6)).astype(np.float32)
    emb = (lat[:, :2] * 10).astype(np.float32)
    lm = LatentMap(emb, lat, np.zeros(500, np.int64), [], "samples", "umap")
    placed = lm.place(lat[:20] + 1e-4)
    assert np.abs(placed - emb[:20]).max() < 0.5
    assert MapParams().key() == MapParams().key() != MapParams(n_neighbors=30).key()


@pytest.mark.slow
def test_map_item_validates_the_index(ws):
    assert ws.wait_for_map("tiny_vae2", 60) is not None and ws.map_status("tiny_vae2").startswith("ready")
    item = ws.map_item("tiny_vae2", 3)
    assert item["original"].shape == (28, 28, 1) and item["label"]
    for bad in ("x", 2.5, -1, SMALL_MAPS.points, 10**9, None):
        with pytest.raises(UserError):
            ws.map_item("tiny_vae2", bad)


@pytest.mark.slow
def test_gan_map_is_laid_out_by_appearance(ws):
    """UMAP (exact k-NN graph) on the classifier's features of generated pictures; new latents are
    placed through the same features."""
    from explorer.eval.features import load_classifier
    from explorer.maps.umap_fit import compute_map
    m = ws.model("tiny_gan")
    clf = load_classifier(ws.classifier_path("fashion-mnist"))
    lm = compute_map(m, MapParams(points=300, n_neighbors=10), clf)
    assert lm.method == "umap" and lm.key_space == "classifier-features"
    assert lm.embedding.shape == (300, 2) and lm.keys.shape == (300, 128) and np.isfinite(lm.embedding).all()
    from explorer.maps.features import map_keys
    placed = lm.place(map_keys(m, lm.latents[:5], clf, lm.key_space))
    assert np.abs(placed - lm.embedding[:5]).max() < 1e-3     # a dot's own latent lands on the dot


def test_temperature_scales_the_starting_point_and_the_sliders_follow(ws):
    """Before: temperature only scaled the dimensions beyond the sliders (nothing moved on a 2-d model)."""
    for name in ("tiny_vae2", "tiny_gan"):
        centre, cold, warm = (np.array(ws.slider_values(ws.recipe({"model": name, "seed": 5, "temperature": t})))
                              for t in (0.0, 0.5, 1.5))
        assert np.allclose(warm - centre, 3 * (cold - centre), rtol=1e-4, atol=1e-3)   # the point moves, so do the sliders
        assert not np.allclose(warm, cold, atol=1e-2)
        z_cold = ws.latent(ws.recipe({"model": name, "seed": 5, "temperature": 0.5}))
        z_warm = ws.latent(ws.recipe({"model": name, "seed": 5, "temperature": 1.5}))
        assert torch.allclose(z_warm, 3 * z_cold, atol=1e-5)
    z, = ws.latent(ws.recipe({"model": "tiny_vae2", "base": [0.5, -1.0], "temperature": 2.0}))[None]
    assert torch.allclose(z, torch.tensor([1.0, -2.0]))                          # a given point is scaled too


def test_the_strip_frames_the_current_picture(ws):
    z = ws.latent(ws.recipe({"model": "tiny_vae8", "seed": 3}))
    imgs, sigmas, here = ws.strip_around("tiny_vae8", z, 0)
    current = float(ws.directions("tiny_vae8").coordinates(z)[0])
    assert sigmas[here] == pytest.approx(current) and sigmas == sorted(sigmas) and len(imgs) == len(sigmas)
    assert np.array_equal(imgs[here], ws.model("tiny_vae8").decode(z[None])[0])  # the framed cell is the picture


def test_a_click_on_the_manifold_is_the_point_under_it(ws):
    assert ws.manifold_latent(0.5, 0.5) == [0.0, 0.0]
    assert ws.manifold_latent(0.5 / 15, 0.5 / 15) == [-3.0, 3.0]                # centre of the top-left tile
    with pytest.raises(UserError, match="Click x must be between 0 and 1"):
        ws.manifold_latent(1.5, 0.5)


def test_a_gan_does_not_pretend_to_encode_a_test_picture(ws):
    with pytest.raises(UserError, match="no encoder"):
        ws.dataset_latent("tiny_gan", 5)
    assert ws.dataset_latent("tiny_vae8", 5).shape == (8,)


def counted(monkeypatch, method: str, pause: float = 0.0) -> list:
    """Count the calls of a directions method (explore/directions.py METHODS), each held `pause` seconds."""
    import time

    from explorer.explore.direction_methods import METHODS
    calls, real = [], METHODS[method]

    def wrapper(*args, **kwargs):
        calls.append(1)
        time.sleep(pause)
        return real(*args, **kwargs)
    monkeypatch.setitem(METHODS, method, wrapper)
    return calls


def test_a_damaged_directions_cache_is_recomputed_once_for_simultaneous_requests(ws, tmp_path, monkeypatch):
    import threading
    fresh = Workspace(ws.folder, "cpu", cache_dir=tmp_path, direction_samples=DIRECTION_SAMPLES)
    fresh.directions_path("tiny_vae8").write_bytes(b"\0damaged\0" * 100)
    calls = counted(monkeypatch, "encoded-pca", pause=0.3)         # a window for the second request to race in
    got = []
    threads = [threading.Thread(target=lambda: got.append(fresh.directions("tiny_vae8"))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and got[0] is got[1] is got[2]
    assert fresh.directions_path("tiny_vae8").read_bytes()[:9] != b"\0damaged\0"     # the repaired cache


def test_a_read_only_cache_folder_keeps_the_directions_in_memory(ws, tmp_path, monkeypatch, caplog):
    import errno
    import os

    import explorer.explore.direction_store as store

    def read_only(path, blob):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
    monkeypatch.setattr(store, "_write_atomic", read_only)
    calls = counted(monkeypatch, "encoded-pca")
    fresh = Workspace(ws.folder, "cpu", cache_dir=tmp_path / "cache", direction_samples=DIRECTION_SAMPLES)
    first = fresh.render(fresh.recipe({"model": "tiny_vae8", "seed": 1}))[0]
    again = fresh.render(fresh.recipe({"model": "tiny_vae8", "seed": 1, "sliders": [0.5]}))[0]
    assert first.shape == again.shape and len(calls) == 1 and not fresh.directions_path("tiny_vae8").exists()
    assert any("kept in memory only" in r.getMessage() and "Read-only file system" in r.getMessage() for r in caplog.records)
