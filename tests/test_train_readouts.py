"""Issue 32: each Train sub-tab reads out its own kind of run (#9: the 2-D sub-tab showed the image run's step
and FD), a rollback is news that Play clears (#8), and a typed seed is one event (#9: a refused seed's toast
came twice, from typing and from Enter)."""
from __future__ import annotations

import pytest

pytest.importorskip("gradio")

from explorer.ui.train_figures import readout  # noqa: E402
from explorer.ui.train_tab import TrainTab  # noqa: E402


class FakeSession:
    def __init__(self, status):
        self._status, self.view = status, None

    def status(self, token=None):
        return dict(self._status)


def image_run(**extra):
    return {"state": "running", "kind": "dcgan", "mine": False, "step": 1234, "steps_per_s": 3.0, "history":
            [{"step": 1000, "fd_fast": 42.0}], "description": "DCGAN on digits", "where": "on cpu", "message": "",
            "settings": {}, **extra}


def test_each_sub_tab_reads_out_its_own_kind_of_run():
    out = TrainTab(FakeSession(image_run())).refresh("token")
    assert "1,234" in out["img_readout"] and "FD" in out["img_readout"]
    toy = out["toy_readout"]
    assert "1,234" not in toy and "FD" not in toy and "Images tab" in toy and "DCGAN on digits" in toy
    toy_run = {**image_run(), "kind": "toy_gan", "history": [], "description": "2-D GAN on ring"}
    out = TrainTab(FakeSession(toy_run)).refresh("token")
    assert "1,234" in out["toy_readout"] and "2-D points tab" in out["img_readout"]


def test_a_rollback_is_news_and_other_visitors_are_told_who_may_stop_the_run():
    shown = readout(image_run(state="paused", mine=True, message="Rolled back to step 900, the last good state.",
                              message_kind="info"))
    assert '<p class="le-info">Rolled back' in shown and "le-error" not in shown
    assert "only they can pause, stop or save it" in readout(image_run())
    left = readout(image_run(state="stopped", left="Stopped at step 1,234: the visitor who started it has left."))
    assert "has left" in left


def test_a_typed_seed_is_one_event(shared_app):
    cfg = shared_app.demo.get_config_file()
    seed = next(c["id"] for c in cfg["components"] if c.get("props", {}).get("elem_id") == "explore-seed")
    triggers = [t[1] for d in cfg["dependencies"] for t in d["targets"] if t[0] == seed]
    assert triggers == ["input"]
