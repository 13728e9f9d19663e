"""Metrics of one judged run, from the engine's judgments (the formulas live in ``metrics/``).

Pairwise: AlpacaEval's win-rate row (win rate, SE, wins/draws, discrete and length-controlled
win rate), a prompt-clustered bootstrap CI of the win rate, the judge's order agreement and
position bias, and failures; with 5-level verdicts also Arena-Hard's Bradley–Terry score.
Single: FastChat's MT-Bench means per turn, per category and overall, with failures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ads_bench.judging.engine import Grade, PairJudgment
from ads_bench.judging.formats import Question, SingleJudgment
from ads_bench.judging.metrics import (
    Game,
    battles_from_games,
    bradley_terry,
    paired_bootstrap,
    win_rate_summary,
)
from ads_bench.judging.metrics.published import summarize_mt_bench


def win_rate_interval(
    preferences: np.ndarray, clusters: Sequence[Any] | None, *, rounds: int = 1000, seed: int = 0
) -> dict[str, float]:
    """95% CI of the win rate (%) by a prompt-clustered bootstrap (prompts of a task move together)."""
    diff = paired_bootstrap(preferences, np.zeros_like(preferences), clusters, rounds=rounds, seed=seed)
    return {"ci_lower": diff.ci_lower * 100, "ci_upper": diff.ci_upper * 100, "n_clusters": diff.n_clusters}


def pairwise_metrics(
    judgments: Sequence[PairJudgment],
    *,
    lengths_model: Sequence[float] | None = None,
    lengths_reference: Sequence[float] | None = None,
    model_name: str = "model",
    reference_name: str = "reference",
    rounds: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    preferences = np.array([np.nan if j.failed else j.preference for j in judgments], dtype=float)
    valid = ~np.isnan(preferences)
    out: dict[str, Any] = {"n_items": len(judgments), "n_failed": int((~valid).sum())}
    if not valid.any():
        out["error"] = "every judgment failed: see judgments.jsonl for the judge's raw outputs"
        return out
    try:
        summary = win_rate_summary(preferences, lengths_model=lengths_model, lengths_reference=lengths_reference)
    except ValueError as exc:  # the LC GLM needs some variety; a tiny run may not have it
        summary = win_rate_summary(preferences, lengths_model=lengths_model)
        summary["length_controlled_winrate"] = None
        summary["lc_note"] = f"not computed: {exc}"
    out.update(summary)
    clusters = [j.cluster or j.id for j in judgments]
    kept = [c for c, ok in zip(clusters, valid, strict=True) if ok]
    if valid.sum() >= 2:
        out.update(win_rate_interval(preferences[valid], kept, rounds=rounds, seed=seed))
    agreements = [j.agreement for j in judgments if j.agreement is not None]
    out["order_agreement"] = float(np.mean(agreements)) if agreements else None
    shown_first = [
        o["p_model"] if o["model_position"] == "first" else 1 - o["p_model"]
        for j in judgments if not j.failed for o in j.orders
    ]
    out["p_prefer_first_position"] = float(np.mean(shown_first)) if shown_first else None
    arena = _arena_hard_score(judgments, model_name, reference_name, rounds, seed)
    if arena is not None:
        out["arena_hard"] = arena
    return out


def _arena_hard_score(
    judgments: Sequence[PairJudgment], model: str, baseline: str, rounds: int, seed: int
) -> dict[str, Any] | None:
    """Arena-Hard's BT win rate vs the baseline when the judge wrote A>>B-style verdicts."""
    games = []
    for judgment in judgments:
        by_position = {o["model_position"]: o.get("verdict") for o in judgment.orders}
        if not any(isinstance(v, str) and (">" in v or "=" in v) for v in by_position.values()):
            return None
        games.append(Game(judgment.id, model, (by_position.get("second"), by_position.get("first"))))
    result = battles_from_games(games, baseline)
    if len(result.battles) == 0 or len(set(result.battles.model_b.tolist())) < 1:
        return None
    fit = bradley_terry(result.battles, baseline=baseline, rounds=min(rounds, 100), seed=seed)
    [rating] = [r for r in fit.ratings if r.model == model] or [None]
    if rating is None:
        return None
    return {
        "score": rating.win_rate,
        "lower": rating.win_rate_lower,
        "upper": rating.win_rate_upper,
        "n_games": result.n_games,
        "n_failed_games": result.n_failed_games,
    }


def single_metrics(grades: Sequence[Grade], model_name: str = "model") -> dict[str, Any]:
    """MT-Bench scores exactly as FastChat's ``show_result.py`` averages them, plus failures."""
    judgments = [SingleJudgment(g.id, model_name, g.turn, g.score, None) for g in grades]
    questions = {g.id: Question(g.id, g.category) for g in grades if g.category}
    if not judgments:
        return {"n_items": 0}
    summary = summarize_mt_bench(judgments, questions if len(questions) == len({g.id for g in grades}) else None)
    [entry] = summary["models"]
    entry.pop("model")
    return {"n_items": len(grades), "n_failed": sum(g.failed for g in grades), **entry}
