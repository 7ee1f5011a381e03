"""The app's one live training run: who owns it, what it trains, what it shows. The only way in.

`TrainingSession` sets trainer + view + quality probe + owner together, under one lock, and only
after the ownership check has passed: a refused Start never touches the run that is going. It is
the only way to start, control, save and release a run; the Train tab and the API both call it.

Ownership is a token, not a browser tab: `start` returns one (the browser keeps it in its local
storage, an API client in a variable), every control call must bring it, so a reload keeps control
and one API client cannot stop another's run.

The owner has left when their page closed (it says so as it closes: `leaving`) and did not come back
within LEAVE_GRACE_S (a reload comes back), or when nothing was heard from them for `abandon_after`
seconds: the owner's page says it is open every HEARTBEAT_S (the Train tab's heartbeat), an API client
by asking for the status. A watchdog stops a run whose owner has left within a second of it, so it no
longer trains for nobody; everyone sees it stopped and why, and the next Start is anyone's. The owner,
back after all (a tab hidden so long that its timers slowed to one a minute), finds it stopped and may
still save it.
"""
from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from explorer.core.families import FAMILIES
from explorer.core.metadata import DatasetInfo
from explorer.core.priority import InteractiveGate
from explorer.core.validation import UserError, check_choice, check_number, os_error_words
from explorer.eval.features import FeaturesUnavailable, classifier_for
from explorer.live.probe import QualityProbe, live_grid
from explorer.live.settings import (
    TOY_DEVICE_NOTE,
    TOY_THREADS,
    ImageSettings,
    ToySettings,
    image_trainer,
    toy_trainer,
)
from explorer.live.toy_view import ToyView
from explorer.live.worker import ACTIVE, TrainingWorker

HEARTBEAT_S = 5.0          # the owner's page says it is open this often
ABANDON_AFTER_S = 75.0     # not heard from for this long: gone (a hidden tab's timers may fire once a minute only)
LEAVE_GRACE_S = 10.0       # after the owner's page closed: unless it comes back (a reload) within this long
LEFT = ("Stopped at step {step:,}: the visitor who started it has left (their page closed, or was not heard "
        "from for {after:.0f} s). Anyone may start the next run.")


class TrainerBusy(UserError):
    """Another visitor's run is going, or this caller does not own the run it tries to control."""


@dataclass
class RunInfo:
    kind: str                            # "toy_gan", or a model family's kind ("dcgan", "vae")
    description: str                     # one line for everyone ("2-D GAN on ring, non-saturating loss")
    where: str                           # where it runs, in words
    data: DatasetInfo = field(default_factory=DatasetInfo)
    settings: dict = field(default_factory=dict)
    attribution: str = ""                # the pictures' licence and credit (emoji: CC-BY 4.0), kept in a saved model
    started: float = field(default_factory=time.time)


def _slug(title: str) -> str:
    """A file-name-safe form of a title: lower-case letters, digits and dashes only (never a path)."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:48] or "model"


class TrainingSession:
    def __init__(self, device, save_folder: Path, classifier_folders=(), gate: InteractiveGate | None = None,
                 abandon_after: float = ABANDON_AFTER_S, clock=time.monotonic, worker: TrainingWorker | None = None,
                 watch_every: float | None = 1.0, leave_grace: float = LEAVE_GRACE_S):
        self.device, self.save_folder = device, Path(save_folder)
        self.classifier_folders = tuple(classifier_folders)
        self.abandon_after, self.leave_grace, self.clock = abandon_after, leave_grace, clock
        self.worker = worker or TrainingWorker(gate=gate)
        self.info: RunInfo | None = None
        self._owner: str | None = None
        self._last_seen = 0.0
        self._lock = threading.RLock()
        self._classifiers: dict[str, object] = {}
        self._saved: dict[Path, str] = {}          # file -> the owner token that saved it (this process)
        self._left = ""                            # why the run stopped by itself, when its owner left
        self._closed = threading.Event()
        self._watch_every = watch_every            # seconds between the watchdog's looks (None: no watchdog)
        self._watchdog: threading.Thread | None = None

    # ---------------------------------------------------------------- ownership
    def _active(self) -> bool:
        return self.worker.state in ACTIVE

    def _abandoned(self) -> bool:
        return self.clock() - self._last_seen > self.abandon_after

    def owns(self, token: str | None) -> bool:
        return bool(token) and token == self._owner

    def touch(self, token: str | None) -> None:
        """The owner's page is still open (its refresh timer calls this)."""
        with self._lock:
            if self.owns(token):
                self._last_seen = self.clock()

    def leaving(self, token: str | None) -> None:
        """The owner's page is closing (or reloading): unless it is heard from again within `leave_grace` seconds,
        the owner has left."""
        with self._lock:
            if self.owns(token):
                self._last_seen = min(self._last_seen, self.clock() - self.abandon_after + self.leave_grace)

    def stop_if_left(self) -> bool:
        """Stop the run if its owner has left (the watchdog calls this every second); True if it did."""
        with self._lock:
            if self.info is None or not self._active() or not self._abandoned():
                return False
            self.worker.stop()
            self._left = LEFT.format(step=self.worker.snapshot()["step"], after=self.abandon_after)
            return True

    def _watch(self) -> None:
        while not self._closed.wait(self._watch_every):
            try:
                self.stop_if_left()
            except Exception:  # noqa: BLE001 - the watchdog keeps watching; the failure is logged
                import logging
                logging.getLogger(__name__).exception("stopping an abandoned run failed")

    def _require_owner(self, token: str | None) -> None:
        if self.info is None:
            raise TrainerBusy("Nothing is training yet: press Start first.")
        if not self.owns(token):
            raise TrainerBusy(f"Only the visitor who started this run can control it ({self.info.description}).")
        self._last_seen = self.clock()

    def _claim(self, token: str | None) -> str:
        """Check that a new run may start now; returns the owner token the new run will have."""
        if self._active() and self.info is not None and not self.owns(token) and not self._abandoned():
            since = time.strftime("%H:%M", time.localtime(self.info.started))
            raise TrainerBusy(f"The trainer is busy: {self.info.description} (started {since} by another visitor). "
                              "It is released when its owner stops it or leaves.")
        return token if isinstance(token, str) and 16 <= len(token) <= 64 and token.isascii() else secrets.token_urlsafe(16)

    # ---------------------------------------------------------------- starting
    def start_toy(self, settings: ToySettings, token: str | None = None, paused: bool = False) -> str:
        settings = settings.validated()
        with self._lock:
            owner = self._claim(token)
            trainer = toy_trainer(settings)
            view = ToyView(trainer, settings.dataset)
            info = RunInfo("toy_gan", settings.describe(), TOY_DEVICE_NOTE, settings=vars(settings))
            self._begin(owner, info, trainer, view.frame, None, paused, threads=TOY_THREADS)
            return owner

    def start_images(self, settings: ImageSettings, token: str | None = None, paused: bool = False) -> str:
        settings = settings.validated()
        with self._lock:
            owner = self._claim(token)
            trainer, ds, note = image_trainer(settings, self.device)
            probe = self._probe(ds)
            info = RunInfo(settings.model, settings.describe(note), f"on {self.device}",
                           DatasetInfo(ds.name, ds.split, len(ds), tuple(ds.class_names)), vars(settings),
                           attribution=ds.attribution)
            # a conditional run's grid is rows = classes x columns = the same noise vectors, named by class
            view = partial(live_grid, trainer, ds.class_names if settings.conditional else None)
            self._begin(owner, info, trainer, view, probe, paused)
            return owner

    def _begin(self, owner, info, trainer, view_fn, probe, paused, threads: int | None = None) -> None:
        self.worker.start(trainer, view_fn=view_fn, on_report=probe, paused=paused, threads=threads)
        self.info, self._owner, self._last_seen, self._left = info, owner, self.clock(), ""
        if self._watch_every is not None and self._watchdog is None:
            self._watchdog = threading.Thread(target=self._watch, name="training-watchdog", daemon=True)
            self._watchdog.start()

    def _probe(self, ds) -> QualityProbe | None:
        """A quick FD/coverage probe in the features of a classifier of the run's own dataset, if one exists."""
        if ds.name not in self._classifiers:
            try:
                self._classifiers[ds.name] = classifier_for(ds.name, self.device, self.classifier_folders)
            except FeaturesUnavailable:
                self._classifiers[ds.name] = None
        clf = self._classifiers[ds.name]
        return None if clf is None else QualityProbe(clf, ds.images[-1000:], len(ds.class_names))

    # ---------------------------------------------------------------- control
    def control(self, token: str | None, action: str) -> str:
        """pause | play | stop | d | g | rollback; returns a short note of what happened."""
        check_choice("Action", action, ("pause", "play", "stop", "d", "g", "rollback"))
        with self._lock:
            self._require_owner(token)
            # refusals that depend on the run's state ("pause first", "GANs only") are UserErrors of the
            # worker's; anything else (a CUDA failure in a single step) is a bug and is not dressed up
            if action == "pause":
                self.worker.pause()
            elif action == "play":
                self.worker.resume()
            elif action == "stop":
                self.worker.stop()
            elif action == "rollback":
                return f"Rolled back to step {self.worker.rollback()}."
            else:
                self.worker.single_step(action)
            return ""

    def set_speed(self, token: str | None, delay) -> None:
        with self._lock:
            self._require_owner(token)
            self.worker.set_speed(check_number("Slow motion", delay, 0.0, 1.0))

    def release(self, token: str | None) -> None:
        """The owner leaves: the run stops and anyone may start the next one."""
        with self._lock:
            if self.owns(token) and self._active():
                self.worker.stop()

    def save(self, token: str | None, title: str) -> tuple[Path, bool]:
        """Save the run's last good state as `trained-<title>.safetensors`; (path, replaced an earlier save).
        Only a save of the same owner's is replaced: a file another run saved is never overwritten."""
        with self._lock:
            self._require_owner(token)
            info = self.info
            family = FAMILIES.get(info.kind)
            if family is None:
                raise UserError("Only image models can be saved and explored; the 2-D game has no pictures to explore.")
            title = " ".join(str(title or "").split())[:80] or f"My {family.words}"
            path = self.save_folder / f"trained-{_slug(title)}.safetensors"
            replaced = path.exists()
            if replaced and self._saved.get(path) != token:
                # titles that differ only in case, spaces or punctuation name one file: never someone else's
                raise UserError(f"The title “{title}” gives the file name {path.name}, which another model in the list "
                                "already has; that model stays as it is. Choose another title.")
            last = self.worker.history[-1] if self.worker.history else {}
            meta = {"title": title, "description": f"Trained live in the Train tab: {info.description}.",
                    "command": f"Train tab: {info.description}", "dataset": {**info.data.to_dict(),
                    **({"attribution": info.attribution} if info.attribution else {})},
                    "train_seconds": self.worker.snapshot()["train_seconds"],
                    "evaluation": {k: last[k] for k in ("fd_fast", "coverage", "class_match") if k in last}}
            try:
                self.worker.call_locked(lambda t: t.save(path, dict(
                    meta, config=next(iter(t.modules.values())).cfg.to_dict(), device=str(t.device)), with_optimizers=False))
            except OSError as exc:
                raise UserError(f"the models folder {self.save_folder} cannot be written: {os_error_words(exc)}.") from None
            self._saved[path] = token
            return path, replaced

    # ---------------------------------------------------------------- reading
    @property
    def view(self):
        return self.worker.view

    def status(self, token: str | None = None) -> dict:
        """Everything a page shows about the run; `mine` says whether `token` owns it."""
        with self._lock:
            if self.owns(token):
                self._last_seen = self.clock()
            self.stop_if_left()
            snap = self.worker.snapshot()
            info = self.info
            snap.update(kind=info.kind if info else None, description=info.description if info else "",
                        where=info.where if info else "", mine=self.owns(token),
                        busy_for_others=bool(info) and self._active(), left=self._left,
                        classes=list(info.data.class_names) if info else [], settings=dict(info.settings) if info else {})
            return snap

    def close(self) -> None:
        self._closed.set()
        self.worker.stop()
