"""What the Train tab says before Start (explorer/live/forecast.py): this machine's speed for the chosen
image run (timed once, or learnt from a run of the same settings), the steps its grid needs before it is
recognisable, how long that is here, and the quick run where the chosen one takes more than a few minutes."""
import pytest
import torch

from explorer.core.validation import UserError
from explorer.live import forecast as fc
from explorer.live.settings import ImageSettings

CPU = torch.device("cpu")


def test_a_speed_is_timed_once_then_kept(monkeypatch):
    book = fc.SpeedBook()
    f = fc.forecast(book, ImageSettings(dataset="digits", model="vae", batch_size=16), CPU)
    assert f.speed.source == "timed" and f.speed.steps_per_s > 0
    assert f.steps == fc.RECOGNISABLE_STEPS[("digits", "vae")][0] * 4            # batch 16: four times the steps
    assert f.seconds == pytest.approx(f.steps / f.speed.steps_per_s)

    def never(*a, **k):
        raise AssertionError("timed again")
    monkeypatch.setattr(fc, "image_trainer", never)
    again = fc.forecast(book, ImageSettings(dataset="digits", model="vae", batch_size=16, seed=5, lr=1e-3), CPU)
    assert again.speed == f.speed                                              # seed and rate do not change a step's cost


def test_a_runs_own_speed_is_learnt_and_nothing_is_timed_while_a_run_trains(monkeypatch):
    monkeypatch.setattr(fc, "image_trainer", lambda *a, **k: pytest.fail("timed while a run was training"))
    book = fc.SpeedBook()
    running = {"kind": "dcgan", "state": "running", "step": 40, "steps_per_s": 12.5,
               "settings": vars(ImageSettings(dataset="fashion-mnist"))}
    found = fc.what_this_machine_shows(book, ImageSettings(dataset="fashion-mnist"), CPU, running)
    assert found["steps_per_s"] == 12.5 and found["speed_from"] == "run"
    assert found["seconds"] == pytest.approx(found["steps_to_recognisable"] / 12.5)
    assert "as a run of these settings went" in found["lines"][0]
    other = fc.what_this_machine_shows(book, ImageSettings(dataset="digits", model="vae"), CPU, running)
    assert other["steps_per_s"] is None and "not timed while a run is training" in other["lines"][0]


def test_a_long_run_is_told_so_and_offered_the_quick_one():
    book = fc.SpeedBook()
    gan, vae = fc.QUICK_RUNS
    book.record(fc.speed_key(ImageSettings(dataset="emoji"), CPU), 0.4, "timed")
    book.record(fc.speed_key(gan, CPU), 15.0, "timed")
    found = fc.what_this_machine_shows(book, ImageSettings(dataset="emoji"), CPU, {})
    assert found["steps_to_recognisable"] == 2500 and not found["within_a_few_minutes"]
    assert "about 1 h 44 min here" in found["lines"][1]                         # 2 500 steps at 0.4 steps/s
    assert (found["quick"]["dataset"], found["quick"]["model"]) == ("digits", "dcgan") and found["quick"]["within_a_few_minutes"]
    assert "the quick run (DCGAN on digits, about " in found["lines"][2]
    quick = fc.what_this_machine_shows(book, gan, CPU, {})
    assert quick["within_a_few_minutes"] and quick["quick"] is None and len(quick["lines"]) == 2


def test_where_the_gan_is_too_slow_for_a_few_minutes_the_quick_run_is_the_vae():
    book = fc.SpeedBook()
    gan, vae = fc.QUICK_RUNS
    book.record(fc.speed_key(gan, CPU), 1.0, "timed")             # 800 steps: 13 min
    book.record(fc.speed_key(vae, CPU), 20.0, "timed")            # 750 steps: 38 s
    assert fc.quick_run(book, CPU).settings == vae
    found = fc.what_this_machine_shows(book, ImageSettings(dataset="fashion-mnist"), CPU,
                                       {"state": "running", "kind": "toy_gan", "settings": {"dataset": "ring"}})
    assert found["steps_per_s"] is None and found["quick"]["model"] == "vae"       # nothing timed while a run trains
    book.record(fc.speed_key(vae, CPU), 0.5, "run")               # both too slow: the sooner of the two
    assert fc.quick_run(book, CPU).settings == gan


def test_settings_never_measured_say_so():
    book = fc.SpeedBook()
    book.record(fc.speed_key(ImageSettings(dataset="digits", model="vae", conditional=True), CPU), 9.0)
    s = ImageSettings(dataset="digits", model="vae", conditional=True)
    f = fc.forecast(book, s, CPU)
    assert f.steps == fc.RECOGNISABLE_STEPS[("digits", "vae")][0]
    with pytest.raises(UserError, match="Data must be one of"):
        fc.forecast(book, ImageSettings(dataset="no-such-data"), CPU)
    lines = fc.forecast_lines(fc.Forecast(s, fc.Speed(3.0, "timed"), None, ""), None, CPU)
    assert lines[1] == "How many steps it needs before its pictures are recognisable has not been measured."


def test_the_dataset_choice_says_how_to_get_emoji_until_it_is_prepared(monkeypatch):
    monkeypatch.setattr(fc, "image_datasets", lambda data_dir=None: ("digits", "fashion-mnist"))
    assert "python -m explorer.prepare emoji" in fc.offered_note()
    monkeypatch.setattr(fc, "image_datasets", lambda data_dir=None: ("digits", "fashion-mnist", "emoji"))
    assert fc.offered_note() == ""


def test_durations_in_words():
    assert [fc.duration_words(s) for s in (4, 42, 200, 3600, 6300)] == \
        ["about 4 s", "about 40 s", "about 3 min", "about 1 h", "about 1 h 45 min"]


def test_a_quick_run_that_is_not_quick_here_is_not_called_a_few_minutes():
    book = fc.SpeedBook()
    for s in fc.QUICK_RUNS:
        book.record(fc.speed_key(s, CPU), 0.5, "timed")
    book.record(fc.speed_key(ImageSettings(dataset="emoji"), CPU), 0.1, "timed")
    lines = fc.what_this_machine_shows(book, ImageSettings(dataset="emoji"), CPU, {})["lines"]
    assert lines[2].startswith("The run recognisable soonest here (this machine is slow or busy now): the quick run")


def test_the_tab_names_each_model_and_offers_its_own_learning_rate():
    """Choosing the style-based GAN sets the learning rate its recipes train at (the tab offered the DCGAN's
    2e-4 for every model), and the tab says "StyleGAN", not "STYLEGAN"."""
    from explorer.live.settings import STYLEGAN_LR, default_lr, model_name
    from explorer.ui.train_tab import TrainTab, quick_label
    assert TrainTab.model_lr("stylegan") == {"img_lr": STYLEGAN_LR} and STYLEGAN_LR == 0.002
    assert TrainTab.model_lr("dcgan") == {"img_lr": 2e-4} and default_lr("vae") == 2e-4
    assert model_name("stylegan") == "StyleGAN" and quick_label("stylegan", "digits") == "Quick run: StyleGAN on digits"
