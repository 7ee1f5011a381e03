"""The 2-D game's state in plain words, from what the live view measured: true, and stable enough to read aloud.

True: "the forger has won" needs more than D near 1/2. The fakes must also lie on the real data
(precision: the share of fakes near some real point) and cover it (recall: the share of real
points near some fake; on the ring and the grid also every cluster covered). Fakes on one line
across a spiral, with D at 1/2, are "still spreading out". "Mode collapse" must mean mode collapse:
the fakes stay on a few clusters for a long time while the inspector accepts them there.

Stable: a presenter reads the verdict aloud, so it must not flip every second. `StableVerdict`
judges D(x) and D(G(z)) averaged over the last few frames, and a new verdict replaces the shown one
only after it held for `HOLD` frames in a row (about 1.5 s at the view's 5 frames a second).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

EARLY_STEPS = 300          # before this the fakes are still random scribbles
COLLAPSE_AFTER = 1500      # too early to call a collapse before this
STUCK_FOR = 1000           # steps without a newly covered cluster
GOOD_FIT = 0.75            # precision and recall both at least this: the fakes are where the data is
WINDOW = 8                 # frames whose D readings are averaged
HOLD = 8                   # frames a new verdict must hold before it is shown


def _near_half(x: float) -> bool:
    return abs(x - 0.5) < 0.08


def _clusters(n: int) -> str:
    return f"{n} cluster has" if n == 1 else f"{n} clusters have"


def game_verdict(step: int, d_real: float | None, d_fake: float | None, coverage: tuple[int, int] | None,
                 coverage_history=(), wgan: bool = False, fit: tuple[float, float] | None = None) -> tuple[str, str]:
    """(short label, one plain sentence) describing the game from one set of readings. `fit`:
    (precision, recall) of the fakes against the real data."""
    if step < EARLY_STEPS:
        return "just started", "The game has just started: the forger's fakes are still random scribbles."
    covered, total = coverage if coverage else (None, None)
    if not wgan and d_fake is not None and d_fake < 0.15 and (d_real or 0) > 0.6:
        where = " No fake is near the real data yet." if covered == 0 else ""
        return "the inspector is winning", "The inspector is winning: it spots the fakes easily." + where
    recent = [c for s, c in coverage_history if s >= step - STUCK_FOR]
    stuck = bool(coverage_history) and coverage_history[0][0] <= step - STUCK_FOR and len(set(recent)) <= 1
    if (total and covered <= total // 2 and step >= COLLAPSE_AFTER and stuck
            and (wgan or (d_fake is not None and d_fake >= 0.2))):
        return "mode collapse", (f"Mode collapse: the forger sends its fakes to only {covered} of the {total} clusters, "
                                 "and the inspector accepts them there, so nothing pushes it towards the others.")
    # WGAN's critic scores are not probabilities: there, only where the fakes are can say the game is won
    balanced = wgan or (d_real is not None and d_fake is not None and _near_half(d_real) and _near_half(d_fake))
    if balanced:
        if total and covered < total:
            return "still spreading out", (f"Both verdicts are near ½, but {_clusters(total - covered)} no fakes yet: "
                                           "the forger is still spreading out.")
        if fit is not None:
            precision, recall = fit
            if recall < GOOD_FIT:
                return "still spreading out", (f"The fakes cover only {recall:.0%} of the real data: the forger is "
                                               "still spreading out.")
            if precision < GOOD_FIT:
                return "learning", (f"Only {precision:.0%} of the fakes lie on the real data: the forger is still "
                                    "learning where it is.")
        if fit is not None or not wgan:
            return "the forger has won", ("The fakes lie on the real data and cover it: the critic scores them like "
                                          "real data." if wgan else "The fakes lie on the real data and cover it, and "
                                          "the inspector can no longer tell real from fake: both verdicts are near ½.")
    return "learning", "The forger and the inspector are still learning from each other."


@dataclass
class StableVerdict:
    """The verdict shown: judged on averaged readings, changed only after the new one held for HOLD frames."""
    shown: tuple[str, str] | None = None
    _candidate: tuple[str, str] | None = None
    _held: int = 0
    _d: deque = field(default_factory=lambda: deque(maxlen=WINDOW))

    def update(self, step: int, d_real, d_fake, coverage, coverage_history=(), wgan: bool = False,
               fit=None) -> tuple[str, str]:
        if d_real is not None and d_fake is not None:
            self._d.append((d_real, d_fake))
        mean_real = sum(r for r, _ in self._d) / len(self._d) if self._d else d_real
        mean_fake = sum(f for _, f in self._d) / len(self._d) if self._d else d_fake
        now = game_verdict(step, mean_real, mean_fake, coverage, coverage_history, wgan, fit)
        if self.shown is None or now[0] == "just started" or now[0] == self.shown[0]:
            self.shown, self._candidate, self._held = now, None, 0      # (a same-label verdict may update its numbers)
            return self.shown
        if self._candidate is not None and self._candidate[0] == now[0]:
            self._held += 1
        else:
            self._candidate, self._held = now, 1
        if self._held >= HOLD:
            self.shown, self._candidate, self._held = now, None, 0
        return self.shown
