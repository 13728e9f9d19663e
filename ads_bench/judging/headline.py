"""A run's headline as its metrics.json states it: the suite's own metric, with its CI and n.

Read by the leaderboard (one row per run) and by repeats (each repeat's headline)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WIN_RATE = "win rate %"
ARENA_HARD = "Arena-Hard score %"
MT_BENCH = "MT-Bench 1–10"


@dataclass(frozen=True)
class Headline:
    """A run's headline as its metrics.json states it."""

    metric: str | None = None
    score: float | None = None
    ci_lower: float | None = None
    ci_upper: float | None = None
    ci_note: str = ""
    n_judged: int = 0
    n_failed: int = 0
    lc_win_rate: float | None = None


def headline(metrics: dict[str, Any]) -> Headline:
    """The suite's own headline: Arena-Hard's BT score (games judged and failed) when the judge
    wrote 5-level verdicts, else the win rate (with the LC win rate), MT-Bench's mean grade or
    the first lm-eval metric."""
    pairwise = metrics.get("pairwise") or {}
    arena = pairwise.get("arena_hard") or {}
    if arena.get("score") is not None:
        n_games, n_failed = int(arena.get("n_games", 0)), int(arena.get("n_failed_games", 0))
        return Headline(ARENA_HARD, arena["score"], arena.get("lower"), arena.get("upper"),
                        arena.get("ci_note") or "", n_games - n_failed, n_failed)
    if pairwise.get("win_rate") is not None:
        n_failed = int(pairwise.get("n_failed", 0))
        return Headline(WIN_RATE, pairwise["win_rate"], pairwise.get("ci_lower"), pairwise.get("ci_upper"),
                        pairwise.get("ci_note") or "", int(pairwise.get("n_items", 0)) - n_failed, n_failed,
                        pairwise.get("length_controlled_winrate"))
    average = (metrics.get("single") or {}).get("average") or {}
    if average.get("score") is not None:
        return Headline(MT_BENCH, average["score"], average.get("ci_lower"), average.get("ci_upper"),
                        average.get("ci_note") or "", int(average.get("n", 0)), int(average.get("n_failed", 0)))
    lm_eval = metrics.get("lm_eval") or {}
    if lm_eval:
        metric = sorted(lm_eval)[0]
        return Headline(f"lm-eval {metric}", lm_eval[metric]["mean"], n_judged=int(lm_eval[metric]["n"]))
    return Headline(n_failed=int(pairwise.get("n_failed", 0)))
