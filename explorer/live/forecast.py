"""What this machine can show in the Train tab's image mode, and how long it takes, said before Start.

A run's time to pictures is its speed here times the steps its grid needs before it shows something
recognisable. The speed is this machine's own: read off a run of the same settings (the one going
now, or an earlier one), else timed once with a fresh trainer for a couple of seconds, and kept
(`SpeedBook`). The steps are measured, by looking at the grids of runs at the tab's settings
(`RECOGNISABLE_STEPS`; README, "The Train tab on a small CPU"). Where a run would take longer than a
few minutes, the forecast offers a quick run (`QUICK_RUNS`): one that does show recognisable pictures
within a few minutes here.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import torch

from explorer.live.settings import ImageSettings, image_datasets, image_trainer, model_name
from explorer.training.fast import WARMUP_STEPS

# Steps at batch 64 until the tab's grid (64 fixed noise vectors, 8 x 8) shows recognisable pictures, and
# what it shows then: read off grids written every 100 to 250 steps, looked at full size, on the project's
# 2-core CPU (README, "The Train tab on a small CPU").
RECOGNISABLE_STEPS = {
    ("digits", "dcgan"): (800, "digits, most of them readable"),
    ("digits", "vae"): (750, "blurry but readable digits"),
    ("fashion-mnist", "dcgan"): (1600, "shirts, trousers, sneakers and bags"),
    ("fashion-mnist", "vae"): (750, "blurry shirts, trousers, dresses and shoes"),
    ("emoji", "dcgan"): (2500, "emoji shapes: faces with hair, a flower, a heart"),
    ("digits", "stylegan"): (1000, "blurry digits, most of them readable"),
}
# The runs offered for pictures within a few minutes, in order: the GAN (the tab's subject) when it makes it
# here; else the VAE on digits, whose steps cost a seventh of the GAN's on the 2-core CPU.
QUICK_RUNS = (ImageSettings(dataset="digits", model="dcgan"), ImageSettings(dataset="digits", model="vae"))
FEW_MINUTES_S = 300.0
TIMING_BUDGET_S = 1.5      # seconds of steps when a speed is timed (at least two steps; CUDA: after the warm-up)


@dataclass(frozen=True)
class Speed:
    steps_per_s: float
    source: str            # "timed" (just now, a fresh trainer) or "run" (a run of these settings)


def speed_key(s: ImageSettings, device) -> tuple:
    """What a step's cost depends on (not the seed or the learning rate)."""
    return (str(device), s.dataset, s.model, s.conditional, s.batch_size, s.k, s.loss if s.model == "dcgan" else "")


class SpeedBook:
    """Steps/s of image runs on this machine, by settings: from runs seen, or timed once. Thread-safe."""

    def __init__(self):
        self._speeds: dict[tuple, Speed] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Speed | None:
        with self._lock:
            return self._speeds.get(key)

    def record(self, key: tuple, steps_per_s: float, source: str = "run") -> None:
        if steps_per_s > 0:
            with self._lock:
                self._speeds[key] = Speed(float(steps_per_s), source)

    def time_run(self, s: ImageSettings, device, data_dir=None, budget_s: float = TIMING_BUDGET_S) -> Speed:
        """Time a fresh trainer of these settings for about `budget_s` (at least two steps) and keep it.
        On a CPU from the first step (a 64-px colour step takes seconds there, and the first is not much
        slower than the rest); on CUDA after the fast path's warm-up and capture."""
        trainer, _, _ = image_trainer(s, device, data_dir)
        steps = trainer.run(None)
        if trainer.device.type == "cuda":
            for _ in range(WARMUP_STEPS + 2):          # the eager warm-up, the capture, one replay
                next(steps)
        _sync(trainer.device)
        t0, n = time.perf_counter(), 0
        while n < 2 or time.perf_counter() - t0 < budget_s:
            next(steps)
            _sync(trainer.device)
            n += 1
        steps.close()
        speed = Speed(n / (time.perf_counter() - t0), "timed")
        self.record(speed_key(s, device), speed.steps_per_s, "timed")
        return speed


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@dataclass(frozen=True)
class Forecast:
    settings: ImageSettings
    speed: Speed | None            # None: not known, and not timed now (another run is training)
    steps: int | None              # steps until recognisable (None: never measured for these settings)
    shows: str                     # what the grid shows by then

    @property
    def seconds(self) -> float | None:
        return self.steps / self.speed.steps_per_s if self.steps and self.speed else None

    @property
    def within_minutes(self) -> bool:
        return self.seconds is not None and self.seconds <= FEW_MINUTES_S

    def to_dict(self) -> dict:
        s = self.settings
        return {"dataset": s.dataset, "model": s.model, "conditional": s.conditional, "batch_size": s.batch_size,
                "steps_per_s": self.speed.steps_per_s if self.speed else None,
                "speed_from": self.speed.source if self.speed else None, "steps_to_recognisable": self.steps,
                "shows": self.shows, "seconds": self.seconds, "within_a_few_minutes": self.within_minutes}


def steps_to_recognisable(s: ImageSettings) -> tuple[int | None, str]:
    """(steps, what the grid shows then) for these settings, scaled from batch 64 by pictures seen."""
    known = RECOGNISABLE_STEPS.get((s.dataset, s.model))
    if known is None:
        return None, ""
    steps, shows = known
    return max(1, round(steps * 64 / s.batch_size)), shows


def forecast(book: SpeedBook, s: ImageSettings, device, data_dir=None, may_time: bool = True) -> Forecast:
    """The forecast for settings `s` on `device`: the speed known for them, else timed now if `may_time`."""
    s = s.validated(data_dir)
    key = speed_key(s, device)
    speed = book.get(key) or (book.time_run(s, device, data_dir) if may_time else None)
    steps, shows = steps_to_recognisable(s)
    return Forecast(s, speed, steps, shows)


def learn_from_run(book: SpeedBook, status: dict, device, min_steps: int = 20) -> None:
    """Keep the speed of the image run in `status` (TrainingSession.status) once it has run a while."""
    settings = status.get("settings") or {}
    if status.get("kind") in ("dcgan", "vae") and status.get("step", 0) >= min_steps and status.get("steps_per_s", 0) > 0:
        try:
            s = ImageSettings(**settings)
        except TypeError:                       # settings of another kind of run
            return
        book.record(speed_key(s, device), status["steps_per_s"], "run")


def what_this_machine_shows(book: SpeedBook, s: ImageSettings, device, status: dict, data_dir=None) -> dict:
    """The forecast for `s` (and the quick run's, where `s` needs more than a few minutes), in plain
    values and sentences. `status` is the session's: a run's speed is learnt from it, and nothing is
    timed while a run is training."""
    learn_from_run(book, status, device)
    busy = status.get("state") == "running"
    f = forecast(book, s, device, data_dir, may_time=not busy)
    quick = None if f.within_minutes else quick_run(book, device, data_dir, may_time=not busy)
    if quick is not None and (quick.settings.dataset, quick.settings.model, False) == (s.dataset, s.model, s.conditional):
        quick = None
    return {**f.to_dict(), "quick": quick.to_dict() if quick else None, "lines": forecast_lines(f, quick, device),
            "not_offered": offered_note(data_dir)}


def quick_run(book: SpeedBook, device, data_dir=None, may_time: bool = True) -> Forecast:
    """The quick run: the first of QUICK_RUNS recognisable within a few minutes here, else the soonest."""
    found = []
    for s in QUICK_RUNS:
        found.append(forecast(book, s, device, data_dir, may_time))
        if found[-1].within_minutes:
            return found[-1]
    timed = [f for f in found if f.seconds is not None]
    return min(timed, key=lambda f: f.seconds) if timed else found[0]


def forecast_lines(f: Forecast, quick: Forecast | None, device) -> list[str]:
    """The forecast in plain sentences (the Train tab escapes them; the API returns them)."""
    s, where = f.settings, "this GPU" if torch.device(device).type == "cuda" else f"this machine's {torch.device(device).type.upper()}"
    what = ("class-conditional " if s.conditional else "") + f"{model_name(s.model)} on {s.dataset}"
    if f.speed is None:
        lines = [f"{what}: its speed on {where} is not known yet, and it is not timed while a run is training "
                 "(timing would slow that run and read low). Ask again when it has stopped."]
    else:
        source = "timed just now" if f.speed.source == "timed" else "as a run of these settings went"
        lines = [f"{what} makes about {_rate(f.speed.steps_per_s)} steps/s on {where} ({source})."]
    if f.steps is None:
        lines.append("How many steps it needs before its pictures are recognisable has not been measured.")
    else:
        steps = f"{f.steps:,}".replace(",", " ")
        lines.append(f"Its grid shows {f.shows} after about {steps} steps"
                     + (f": {duration_words(f.seconds)} here." if f.seconds is not None else "."))
    if quick is not None:
        q = quick.settings
        lead = ("For recognisable pictures within a few minutes here" if quick.within_minutes else
                "The run recognisable soonest here (this machine is slow or busy now)")
        lines.append(f"{lead}: the quick run ({model_name(q.model)} on {q.dataset}"
                     + (f", {duration_words(quick.seconds)}" if quick.seconds is not None else "") + ").")
    return lines


def _rate(steps_per_s: float) -> str:
    return f"{steps_per_s:.1f}" if steps_per_s < 10 else f"{steps_per_s:.0f}"


def offered_note(data_dir=None) -> str:
    """What the dataset choice says about datasets that are not offered yet (empty when emoji is there)."""
    if "emoji" in image_datasets(data_dir):
        return ""
    return ("Emoji (64-px colour pictures) is offered once it is prepared: run `python -m explorer.prepare emoji` "
            "on this machine (it fetches about 60 MB once), then reload this page.")


def duration_words(seconds: float) -> str:
    """'about 40 s', 'about 3 min', 'about 1 h 45 min'."""
    if seconds < 90:
        return f"about {max(1, round(seconds / 5) * 5 if seconds >= 10 else round(seconds))} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min"
    return f"about {minutes // 60} h" + (f" {minutes % 60} min" if minutes % 60 else "")


MACHINE_SPEEDS = SpeedBook()   # this process's: the speeds are facts about the machine, shared by the tab and the API
