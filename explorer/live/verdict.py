"""The 2-D game's state in plain words, from what the live view measured.

"Mode collapse!" must mean mode collapse: the forger keeps its fakes on a few clusters while the
inspector still accepts them. When the forger is simply losing (the inspector rejects every fake,
D(G(z)) near 0) or is still spreading out (both verdicts near 1/2, more clusters found over time),
it says that instead.
"""
from __future__ import annotations

EARLY_STEPS = 300          # before this the fakes are still random scribbles
COLLAPSE_AFTER = 1500      # too early to call a collapse before this
STUCK_FOR = 1000           # steps without a newly covered cluster


def _near_half(x: float) -> bool:
    return abs(x - 0.5) < 0.08


def game_verdict(step: int, d_real: float | None, d_fake: float | None, coverage: tuple[int, int] | None,
                 coverage_history: list[tuple[int, int]] = (), wgan: bool = False) -> tuple[str, str]:
    """(short label, one plain sentence) describing the game right now."""
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
    if not wgan and d_real is not None and d_fake is not None and _near_half(d_real) and _near_half(d_fake):
        if total and covered < total:
            return "still spreading out", (f"Both verdicts are near ½, but {total - covered} of the {total} clusters "
                                           "have no fakes yet: the forger is still spreading out.")
        return "the forger has won", "Both verdicts are near ½: the inspector can no longer tell real from fake."
    return "learning", "The forger and the inspector are still learning from each other."
