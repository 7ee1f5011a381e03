import pytest
import torch

from explorer.core.latent import (
    angle_degrees,
    fractions,
    lerp,
    lerp_dip,
    norm_dip_sentence,
    sample_z,
    slerp,
)
from explorer.eval.metrics import class_coverage, frechet_distance, precision_recall


def feats(n=2000, d=16, shift=0.0, scale=1.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=torch.float64) * scale + shift


def test_fd_of_distribution_with_itself_is_zero():
    f = feats()
    assert frechet_distance(f, f) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(f, feats(seed=1)) < 0.5     # two samples of the same Gaussian: small


def test_fd_grows_with_shift():
    base = feats()
    fds = [frechet_distance(base, feats(shift=s, seed=1)) for s in (0.0, 0.5, 1.0, 2.0)]
    assert fds == sorted(fds) and fds[-1] > 50
    # for equal covariances FD is |mu1 - mu2|^2: a shift of 2 in 16 dims gives about 64
    assert fds[-1] == pytest.approx(16 * 4, rel=0.1)


def test_fd_sees_covariance():
    assert frechet_distance(feats(), feats(scale=2.0, seed=1)) == pytest.approx(16 * (1 - 2) ** 2, rel=0.15)


def test_class_coverage():
    assert class_coverage(torch.arange(10).repeat(100), 10) == pytest.approx(1.0)
    assert class_coverage(torch.zeros(1000, dtype=torch.long), 10) == pytest.approx(0.0)
    half = class_coverage(torch.arange(5).repeat(100), 10)
    assert 0.6 < half < 0.75   # log 5 / log 10 = 0.699


def test_precision_recall():
    real = feats(1000, 4).float()
    p, r = precision_recall(real, feats(1000, 4, seed=1).float())
    assert p > 0.8 and r > 0.8
    collapsed = real[:5].repeat(200, 1) + 0.01 * torch.randn(1000, 4)     # high quality, no variety
    p, r = precision_recall(real, collapsed)
    assert p > 0.9 and r < 0.2
    p, r = precision_recall(real, feats(1000, 4, shift=10.0).float())    # far away: neither
    assert p < 0.05 and r < 0.05


def test_sample_z_reproducible_and_truncated():
    assert torch.equal(sample_z(4, 8, seed=7), sample_z(4, 8, seed=7))
    assert not torch.equal(sample_z(4, 8, seed=7), sample_z(4, 8, seed=8))
    assert sample_z(100, 8, seed=1, truncation=0.5).abs().max() <= 0.5


def test_lerp_and_slerp_endpoints():
    a, b = torch.randn(32), torch.randn(32)
    t = fractions(9)
    for f in (lerp, slerp):
        path = f(a, b, t)
        assert path.shape == (9, 32)
        assert torch.allclose(path[0], a, atol=1e-5) and torch.allclose(path[-1], b, atol=1e-5)
    mid = lerp(a, b, t)[4]
    assert torch.allclose(mid, (a + b) / 2)


def test_slerp_keeps_norm_for_equal_norm_endpoints():
    a, b = torch.randn(64), torch.randn(64)
    b = b / b.norm() * a.norm()
    norms = slerp(a, b, fractions(11)).norm(dim=1)
    assert torch.allclose(norms, a.norm().expand(11), rtol=1e-4)
    assert lerp(a, b, fractions(11)).norm(dim=1)[5] < 0.9 * a.norm()   # lerp cuts through the middle


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_slerp_parallel_and_opposite(sign):
    a = torch.randn(16)
    b = sign * a * 1.5 if sign > 0 else -a
    path = slerp(a, b, fractions(7))
    assert torch.isfinite(path).all()
    assert torch.allclose(path[0], a, atol=1e-5) and torch.allclose(path[-1], b, atol=1e-4)
    if sign < 0:   # opposite endpoints: the path stays on the sphere instead of passing through 0
        assert torch.allclose(path.norm(dim=1), a.norm().expand(7), rtol=1e-4)


def test_lerp_dip_is_the_midpoint_length_ratio():
    a = torch.randn(64)
    assert lerp_dip(a, -a) == pytest.approx(0.0, abs=1e-6) and lerp_dip(a, 2 * a) == pytest.approx(1.0)
    assert angle_degrees(a, -a) == pytest.approx(180.0, abs=0.1) and angle_degrees(a, 2 * a) == pytest.approx(0.0, abs=0.1)
    dips = [lerp_dip(sample_z(1, 64, s)[0], sample_z(1, 64, s + 1000)[0]) for s in range(50)]
    assert abs(sum(dips) / len(dips) - 2 ** -0.5) < 0.03          # random pairs: about 1/sqrt(2), i.e. 71 %
    for a_, b_ in [(a, -a), (a, torch.randn(64))]:
        mid = lerp(a_, b_, fractions(3))[1].norm() / slerp(a_, b_, fractions(3))[1].norm()
        assert lerp_dip(a_, b_) == pytest.approx(float(mid), rel=1e-4)


def test_norm_dip_sentence_says_how_big_and_why():
    a = sample_z(1, 64, 0)[0]
    opposite = norm_dip_sentence(a, -a)
    assert "0% as long" in opposite and "deep dip" in opposite and "through the centre" in opposite
    random_pair = norm_dip_sentence(a, sample_z(1, 64, 1)[0])
    assert "small dip" in random_pair and "right angles" in random_pair and "71 %" in random_pair
    close = norm_dip_sentence(a, a + 0.1 * sample_z(1, 64, 2)[0])
    assert "nearly the same pictures" in close and "small dip" in close
    tilted = norm_dip_sentence(a, -a + 0.9 * sample_z(1, 64, 3)[0] * a.norm() / 8)
    assert "clear dip" in tilted or "deep dip" in tilted
    assert "√16 ≈ 4.0" in norm_dip_sentence(torch.ones(16), -torch.ones(16).roll(1))
