"""The 2-D game's verdict (issue 19 #3): true (coverage of the data, not only D near ½) and stable
(judged over a window, changed only after the new verdict held)."""
import pytest
import torch

from explorer.core.data import mode_coverage, sample_toy
from explorer.live.toy_view import data_fit
from explorer.live.verdict import HOLD, WINDOW, StableVerdict, game_verdict


def _real(name, n=1000, seed=0):
    return sample_toy(name, n, torch.Generator().manual_seed(seed))


def _line(n=2000):
    """Every fake on one diagonal line across the plane: what the issue saw called 'won' at step 329."""
    t = torch.linspace(-2.2, 2.2, n)
    return torch.stack([t, t], 1)


@pytest.mark.parametrize("name", ["spiral", "ring", "moons", "grid"])
def test_fakes_on_one_line_are_never_a_won_game(name):
    real, fakes = _real(name), _line()
    fit, coverage = data_fit(real, fakes), mode_coverage(name, fakes)
    assert fit[1] < 0.75                                         # the line covers little of the data
    v = StableVerdict()
    for i in range(5 * HOLD):                                    # D at ½ for many frames: still not won
        shown = v.update(400 + 10 * i, 0.5, 0.5, coverage, [(400, coverage[0] if coverage else 0)], False, fit)
        assert shown[0] != "the forger has won", (name, i, shown)
    assert shown[0] in ("still spreading out", "learning")
    assert game_verdict(2000, 0.5, 0.5, coverage, [], True, fit)[0] != "the forger has won"    # nor under WGAN-GP


def test_fakes_on_one_spot_of_the_ring_are_not_won_either():
    real = _real("ring")
    fakes = torch.tensor([[2.0, 0.0]]) + 0.03 * torch.randn(2000, 2, generator=torch.Generator().manual_seed(1))
    fit, coverage = data_fit(real, fakes), mode_coverage("ring", fakes)
    assert coverage == (1, 8) and fit[0] > 0.9 and fit[1] < 0.2   # precise, but covers one cluster in 8
    label, sentence = game_verdict(600, 0.5, 0.5, coverage, [(500, 1), (600, 1)], False, fit)
    assert label == "still spreading out" and "7 clusters have no fakes yet" in sentence


def test_fakes_that_are_the_data_win_once_d_is_near_half():
    real, fakes = _real("spiral"), _real("spiral", 2000, seed=5)
    fit = data_fit(real, fakes)
    assert min(fit) > 0.9
    assert game_verdict(2000, 0.5, 0.5, None, [], False, fit)[0] == "the forger has won"
    assert game_verdict(2000, 0.9, 0.1, None, [], False, fit)[0] == "the inspector is winning"


def test_a_one_frame_blip_never_changes_the_shown_verdict():
    """Hysteresis: the readings that flipped the old verdict every second (D jumping around ½) move nothing."""
    fit = (0.95, 0.95)
    v = StableVerdict()
    for i in range(WINDOW):
        v.update(1000 + i, 0.5, 0.5, None, [], False, fit)
    assert v.shown[0] == "the forger has won"
    changes, last = 0, v.shown[0]
    for i in range(200):                                         # one frame in 3 far from ½
        d_real, d_fake = (0.75, 0.25) if i % 3 == 0 else (0.5, 0.5)
        shown = v.update(1100 + i, d_real, d_fake, None, [], False, fit)
        changes += shown[0] != last
        last = shown[0]
    assert changes == 0
    # a blip in the fit itself (one frame with poor recall) does not change it either
    for i in range(HOLD - 1):
        v.update(1400 + i, 0.5, 0.5, None, [], False, (0.95, 0.3) if i % 2 else fit)
    assert v.shown[0] == "the forger has won"


def test_a_real_change_is_shown_after_it_held_for_hold_frames():
    v = StableVerdict()
    for i in range(WINDOW):
        v.update(1000 + i, 0.5, 0.5, None, [], False, (0.95, 0.95))
    assert v.shown[0] == "the forger has won"
    frames = 0
    while v.shown[0] == "the forger has won":                    # the fakes left the data for good
        v.update(1100 + frames, 0.5, 0.5, None, [], False, (0.95, 0.3))
        frames += 1
        assert frames < 100
    assert v.shown[0] == "still spreading out" and HOLD <= frames <= HOLD + 1
    # same label, new numbers: the sentence follows the readings at once
    v.update(1300, 0.5, 0.5, None, [], False, (0.95, 0.4))
    assert "40%" in v.shown[1]


def test_just_started_is_shown_at_once_and_the_sentence_is_grammatical():
    v = StableVerdict()
    assert v.update(10, 0.9, 0.1, (0, 8), [], False, (0.0, 0.0))[0] == "just started"
    sentence = game_verdict(600, 0.5, 0.5, (7, 8), [(500, 7)], False, (0.9, 0.8))[1]
    assert "1 cluster has no fakes yet" in sentence
