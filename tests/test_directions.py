"""Named class directions: routes that end as their class, what is offered, the cache format, and a
check of every direction offered on the shipped models (slow)."""
from __future__ import annotations

import json
import math

import pytest
import torch
from safetensors.torch import load, save

from explorer.core.checkpoints import CHECKPOINT_DIR, load_checkpoint
from explorer.core.latent import sample_z
from explorer.core.validation import UserError
from explorer.explore.class_routes import CHECK_SEED0, classifier_judge, fit_class_routes
from explorer.core.families import family_of
from explorer.explore.direction_methods import METHODS
from explorer.explore.directions import PASS, Directions, ganspace_directions
from explorer.explore.workspace import Workspace
from tests.apphelpers import make_checkpoints

NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress"]


def latent_judge(scale: float = 4.0, dead: int | None = None):
    """A stand-in for decoder + classifier: class c where z points along axis c (D = 6), confidently
    far out. `dead`: a class the judge never gives, like a class a model cannot draw."""
    w = torch.eye(6)[:4]

    def judge(z):
        logits = scale * z @ w.T
        if dead is not None:
            logits[:, dead] = -1e4
        return torch.softmax(logits, 1)
    return judge


def fitted(judge=None, check: int = 60) -> Directions:
    routes = fit_class_routes(judge or latent_judge(), lambda n, seed: sample_z(n, 6, seed), 4, samples=2000, check=check)
    return Directions(torch.eye(6)[:2], torch.tensor([0.6, 0.4]), torch.zeros(6), torch.ones(2), NAMES, routes)


def test_routes_end_as_their_class_on_fresh_seeds():
    judge = latent_judge()
    d = fitted(judge)
    z = torch.stack([sample_z(1, 6, s)[0] for s in range(50)])          # not the checking seeds
    for c in range(4):
        assert float(d.routes.success[c]) >= PASS
        assert (judge(d.routes.end(z, c, judge)).argmax(1) == c).float().mean() >= 0.75
    named = list(d.named())
    assert named[:4] == [f"more like {n}" for n in NAMES] and all("↔" in n for n in named[4:]) and len(named) > 4


def test_move_follows_the_route_and_checks_the_amount():
    judge = latent_judge()
    d = fitted(judge)
    z = sample_z(1, 6, 3)[0]
    assert torch.equal(d.move(z, "more like Dress", 0.0, judge), z)
    end = d.move(z, "more like Dress", 1.0, judge)
    assert int(judge(end[None]).argmax()) == 3
    assert torch.allclose(d.move(z, "more like Dress", 0.5, judge), (z + end) / 2)
    pair = next(n for n in d.named() if "↔" in n)
    info = d.named()[pair]
    lo, hi = d.move(z, pair, -1.0, judge), d.move(z, pair, 1.0, judge)
    assert NAMES[int(judge(lo[None]).argmax())] == info.minus and NAMES[int(judge(hi[None]).argmax())] == info.plus
    assert info.amount_range == (-1.0, 1.0) and d.named()["more like Dress"].amount_range == (0.0, 1.0)
    with pytest.raises(UserError, match="between 0 and 1, got -0.5"):
        d.move(z, "more like Dress", -0.5, judge)
    with pytest.raises(UserError, match="between -1 and 1, got 2"):
        d.move(z, pair, 2, judge)
    with pytest.raises(UserError, match="Unknown direction"):
        d.move(z, "more like Bag", 1.0, judge)


def test_a_failing_direction_is_not_offered():
    d = fitted()
    d.routes.success[1] = 0.5                              # "more like Trouser" reached the class for half the seeds
    assert "more like Trouser" not in d.named() and "more like Trouser" in d.all_named()
    assert not any("Trouser" in n for n in d.named())       # nor any pair with a Trouser end
    assert math.isclose(d.success("more like Dress"), float(d.routes.success[3]))
    with pytest.raises(UserError, match="Unknown direction"):
        d.success("more like Trouser")
    text = d.named()["more like Dress"].description
    assert f"{float(d.routes.success[3]):.0%} of 60 test seeds" in text


def test_a_class_the_model_never_draws_gets_no_direction():
    d = fitted(latent_judge(dead=2))
    assert float(d.routes.levels[2]) == 0 and "more like Pullover" not in d.named()
    assert d.all_named()["more like Pullover"].description.startswith("Not offered")
    assert not any("Pullover" in n for n in d.named())


def test_cache_round_trip_and_old_formats_are_refused():
    judge = latent_judge()
    d = fitted(judge)
    back = Directions.from_tensors(load(save(d.to_tensors())), NAMES)
    assert back.named() == d.named()
    for k, v in d.to_tensors().items():
        assert torch.equal(back.to_tensors()[k], v), k
    z = sample_z(1, 6, 9)[0]
    assert torch.equal(back.move(z, "more like Trouser", 0.7, judge), d.move(z, "more like Trouser", 0.7, judge))
    old = {k: v for k, v in d.to_tensors().items() if not k.startswith("routes.") and k != "format_version"}
    old["class_means"] = torch.zeros(4, 6)                   # the first format: class means, no version
    with pytest.raises(ValueError, match="format 1"):
        Directions.from_tensors(old, NAMES)
    future = dict(d.to_tensors(), format_version=torch.tensor([99]))
    with pytest.raises(ValueError, match="format 99"):
        Directions.from_tensors(future, NAMES)


class Brightness(torch.nn.Module):
    """A stand-in classifier for tiny random models: the class whose centre is nearest the picture's
    mean brightness (random tiny decoders draw nearly flat pictures, which a real classifier cannot tell apart)."""

    def __init__(self, centres: torch.Tensor, width: float):
        super().__init__()
        self.centres = torch.nn.Parameter(centres, requires_grad=False)
        self.width = width

    def forward(self, x):
        m = x.mean((1, 2, 3))                                           # (B, C, H, W) -> (B,)
        return -((m[:, None] - self.centres[None]) / self.width) ** 2    # -> (B, classes)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = make_checkpoints(tmp_path_factory.mktemp("ck"))
    ck = load_checkpoint(folder / "tiny_gan.safetensors")
    with torch.no_grad():
        bright = ck.modules["generator"].generate(sample_z(500, 12, 0)).mean((1, 2, 3))
    clf = Brightness(torch.quantile(bright, torch.linspace(0.05, 0.95, 10)), float(bright.std()) / 20)
    return folder, ck, clf


def test_workspace_applies_a_cached_direction_reproducibly(tiny, monkeypatch):
    folder, ck, clf = tiny
    ws = Workspace(folder, "cpu", cache_dir=folder / "cache")
    monkeypatch.setattr(ws, "classifier", lambda dataset="fashion-mnist": clf)
    d = ganspace_directions(family_of(ck), samples=300, classifier=clf, check=5, class_samples=200)
    assert d.named(), "the stand-in classifier should give passing directions"
    path = ws.directions_path("tiny_gan")
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(save(d.to_tensors(), metadata={"class_names": json.dumps(d.class_names)}))
    assert ws.directions("tiny_gan").named() == d.named()                 # read from the cache, not recomputed
    name, info = next(iter(ws.directions("tiny_gan").named().items()))
    r = ws.recipe({"model": "tiny_gan", "seed": 5, "temperature": 0.7, "sliders": [1.0, -0.5], "direction": name,
                   "amount": 1.0})
    img, z = ws.render(r)
    judge = classifier_judge(ws.model("tiny_gan").family, clf)
    assert d.class_names[int(judge(z[None]).argmax())] == info.plus
    fresh = Workspace(folder, "cpu", cache_dir=folder / "cache")
    monkeypatch.setattr(fresh, "classifier", lambda dataset="fashion-mnist": clf)
    img2, z2 = fresh.render(fresh.recipe(r.to_text()))
    assert torch.equal(z, z2) and (img == img2).all()
    assert not torch.equal(z, ws.latent(ws.recipe({"model": "tiny_gan", "seed": 5, "temperature": 0.7,
                                                   "sliders": [1.0, -0.5]})))


def test_workspace_recomputes_an_old_cache(tiny, monkeypatch):
    folder, ck, clf = tiny
    ws = Workspace(folder, "cpu", cache_dir=folder / "cache-old")
    path = ws.directions_path("tiny_gan")
    path.parent.mkdir(exist_ok=True)
    old = {"basis": torch.eye(12)[:3], "explained": torch.ones(3) / 3, "center": torch.zeros(12),
           "scales": torch.ones(3), "class_means": torch.zeros(10, 12)}
    path.write_bytes(save(old, metadata={"class_names": "[]"}))
    calls = []

    def quick(family, classifier=None, **sizes):
        calls.append(1)
        return ganspace_directions(family, samples=300, classifier=clf, check=5, class_samples=200)
    monkeypatch.setitem(METHODS, "ganspace", quick)
    assert ws.directions("tiny_gan").routes is not None and calls == [1]
    assert int(load(path.read_bytes())["format_version"][0]) == 2


SHIPPED = ["fashion_dcgan", "fashion_vae16", "fashion_vae2"]


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED)
def test_every_direction_offered_on_a_shipped_model_passes_on_fresh_seeds(name):
    """The shipped caches were checked on seeds 1 000 000-1 000 199; here 50 other seeds (0-49,
    the ones visitors see first; fixed, so the check is deterministic). Thresholds below the fit's
    0.8 for the sampling noise of 50 seeds; measured on them: every route's end 100 %, the halfway
    pictures in between 80-100 % (the same as on seeds 0-99, which took twice as long)."""
    ws = Workspace(CHECKPOINT_DIR, "cpu", cache_dir=CHECKPOINT_DIR / "cache")
    m = ws.model(name)
    assert ws.directions_path(name).is_file(), "regenerate the shipped cache"
    d = ws.directions(name)
    offered = d.named()
    assert len(offered) >= 8, list(offered)
    judge = classifier_judge(m.family, ws.classifier("fashion-mnist"))
    seeds = range(50)
    assert CHECK_SEED0 > max(seeds)
    z = torch.stack([sample_z(1, m.latent_dim, s)[0] for s in seeds])
    start = judge(z)
    classes = {d.class_names.index(i.plus) for i in offered.values()} | {
        d.class_names.index(i.minus) for i in offered.values() if i.minus}
    for c in sorted(classes):
        ends = d.routes.end(z, c, judge)
        end, half = judge(ends), judge((z + ends) / 2)
        assert (end.argmax(1) == c).float().mean() >= 0.75, d.class_names[c]
        between = (half[:, c] >= start[:, c] - 1e-3) & (half[:, c] <= end[:, c] + 1e-3)
        assert between.float().mean() >= 0.7, d.class_names[c]          # halfway pictures are in between
    for seed, (dname, info) in zip((11, 12, 13), list(offered.items())[:3]):
        _, zz = ws.render(ws.recipe({"model": name, "seed": seed, "direction": dname, "amount": 1.0}))
        assert d.class_names[int(judge(zz[None]).argmax())] == info.plus
