"""Metrics of one judged run, from the engine's judgments (the formulas live in ``metrics/``).

Pairwise: AlpacaEval's win-rate row (win rate, SE, wins/draws, discrete and length-controlled
win rate), a task-clustered 95% t interval of the win rate (:mod:`.metrics.clustered`; none
below ``MIN_CLUSTERS`` tasks), the judge's order agreement and position bias, and failures;
with 5-level verdicts also Arena-Hard's Bradley–Terry score, which is then the headline.
Single: FastChat's MT-Bench means per turn, per category and overall, with failures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ads_bench.judging.engine import Grade, PairJudgment
from ads_bench.judging.format_mt_bench import Question, SingleJudgment
from ads_bench.judging.metric_registry import judgment_metrics
from ads_bench.judging.metrics import (
    Game,
    battles_from_games,
    bradley_terry,
    clustered_mean,
    verdict_outcome,
    win_rate_summary,
)
from ads_bench.judging.metrics.published import summarize_mt_bench

#: position bias: a judge is unreliable when swapping the two answers changes its winner more
#: often than not (order agreement below 0.5: the verdict then says more about the positions
#: than the answers) ...
MIN_ORDER_AGREEMENT = 0.5
#: ... or when it prefers one position three times in four (|P(first) - 0.5| above 0.25) ...
MAX_POSITION_PREFERENCE = 0.25
#: ... judged on at least this many pairs: a judge that truly agrees with
#: itself 80% of the time shows an agreement below 0.5 on 10 pairs with probability 0.6%
MIN_PAIRS_FOR_BIAS_CHECK = 10
POSITION_BIAS = "judge unreliable: position bias"


def win_rate_interval(preferences: np.ndarray, clusters: Sequence[Any] | None) -> dict[str, Any]:
    """95% CI of the win rate (%): the task-clustered t interval (prompts of a task move together);
    below ``MIN_CLUSTERS`` tasks no interval, and ``ci_note`` says so."""
    mean = clustered_mean(preferences, clusters)
    out: dict[str, Any] = {"n_clusters": mean.n_clusters}
    if mean.ci_lower is None:
        out.update(ci_lower=None, ci_upper=None, ci_note=mean.note)
    else:
        out.update(ci_lower=mean.ci_lower * 100, ci_upper=mean.ci_upper * 100)  # type: ignore[operator]
    out["clustered_standard_error"] = None if mean.standard_error is None else mean.standard_error * 100
    return out


def position_bias_warning(pairwise: Mapping[str, Any]) -> str | None:
    """``judge unreliable: position bias (...)`` when the order agreement or the preference for
    the first position crosses its threshold on enough pairs, else None. Reads a metrics.json
    pairwise block (older ones lack the counts: then the judged items stand in for them)."""
    judged = int(pairwise.get("n_items", 0)) - int(pairwise.get("n_failed", 0))
    reasons = []
    agreement = pairwise.get("order_agreement")
    if agreement is not None and pairwise.get("n_order_pairs", judged) >= MIN_PAIRS_FOR_BIAS_CHECK \
            and agreement < MIN_ORDER_AGREEMENT:
        reasons.append(f"order agreement {agreement:.2f}")
    first = pairwise.get("p_prefer_first_position")
    if first is not None and judged >= MIN_PAIRS_FOR_BIAS_CHECK and abs(first - 0.5) > MAX_POSITION_PREFERENCE:
        reasons.append(f"P(first) {first:.2f}")
    return f"{POSITION_BIAS} ({', '.join(reasons)})" if reasons else None


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
    """The pairwise block of metrics.json. ``warnings``: what makes the headline unreliable (a
    position-biased judge, an LC win rate far from the raw one). ``rounds`` is kept for callers:
    the intervals are analytic now, nothing is resampled."""
    preferences = np.array([np.nan if j.failed else j.preference for j in judgments], dtype=float)
    valid = ~np.isnan(preferences)
    out: dict[str, Any] = {"n_items": len(judgments), "n_failed": int((~valid).sum())}
    arena = _arena_hard_score(judgments, model_name, reference_name, seed)
    if arena is not None:
        out["arena_hard"] = arena
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
    out.update(win_rate_interval(preferences[valid], kept))
    if out["n_clusters"] < int(valid.sum()) and out["clustered_standard_error"] is not None:
        # prompts of one task are not independent: AlpacaEval's SE (each prompt its own unit,
        # kept exactly when it is) would be too small, so the SE is the task-clustered one too
        out["standard_error"] = out["clustered_standard_error"]
        out["standard_error_method"] = "task-clustered jackknife"
    out.update(judgment_metrics(judgments))  # order agreement, position preference, plugins'
    warning = position_bias_warning(out)
    out["warnings"] = [warning] if warning else []
    if summary.get("lc_warning"):
        out["warnings"].append(summary["lc_warning"])
    return out


# -- Arena-Hard ---------------------------------------------------------------------------------

def arena_hard_games(orders: Sequence[Mapping[str, Any]]) -> tuple[str | None, str | None]:
    """The two Arena-Hard games of one judged pair: the verdicts with the baseline shown first and
    with the model shown first (None for a game that failed or was not judged)."""
    by_position = {o.get("model_position"): o.get("verdict") for o in orders}
    return by_position.get("second"), by_position.get("first")


def arena_hard_item_score(orders: Sequence[Mapping[str, Any]], strong_weight: int = 3) -> tuple[float, int, int]:
    """(battle points won by the model, battles, failed games) of one judged pair, counted as
    Arena-Hard counts them: a strong verdict is ``strong_weight`` battles, a tie half a point, and
    a failed game drops out alone (the other game of the question still counts). Labels are
    normalised: this project's arena-hard judge accepts ``B=A`` as a tie."""
    points = 0.0
    battles = failed = 0
    for order in orders:
        outcome = verdict_outcome(order.get("verdict"), normalize=True)
        if outcome is None:
            failed += 1
            continue
        shown_first_score, strong = outcome
        model_score = shown_first_score if order.get("model_position") == "first" else 1.0 - shown_first_score
        copies = strong_weight if strong else 1
        points += copies * model_score
        battles += copies
    return points, battles, failed


def _arena_hard_score(
    judgments: Sequence[PairJudgment], model: str, baseline: str, seed: int
) -> dict[str, Any] | None:
    """Arena-Hard's BT win rate vs the baseline when the judge wrote A>>B-style verdicts.

    Against one baseline the Bradley–Terry fit is the share of battle points the model won, so
    its CI is the task-clustered t interval of that share (questions weighted by their battles),
    the same interval as every other score here; a judgment with no verdict at all is two failed
    games, not a reason to drop the score.
    """
    if not any(verdict_outcome(o.get("verdict"), normalize=True) for j in judgments for o in j.orders):
        return None
    scored = [(j, *arena_hard_item_score(j.orders)) for j in judgments]
    n_games = sum(len(j.orders) for j in judgments)
    n_failed = sum(failed for *_, failed in scored)
    usable = [(j, points, battles) for j, points, battles, _ in scored if battles]
    games = [Game(j.id, model, arena_hard_games(j.orders)) for j, _, _ in usable]
    battles = battles_from_games(games, baseline, normalize=True).battles
    fit = bradley_terry(battles, baseline=baseline, rounds=1, seed=seed)
    interval = clustered_mean(
        [points / n for _, points, n in usable], [j.cluster or j.id for j, _, _ in usable],
        weights=[n for _, _, n in usable],
    )
    return {
        "score": fit.rating_of(model).win_rate,
        "lower": None if interval.ci_lower is None else interval.ci_lower * 100,
        "upper": None if interval.ci_upper is None else interval.ci_upper * 100,
        "ci_note": interval.note or None,
        "n_clusters": interval.n_clusters,
        "n_games": n_games,
        "n_failed_games": n_failed,
    }


def single_metrics(grades: Sequence[Grade], model_name: str = "model") -> dict[str, Any]:
    """MT-Bench scores exactly as FastChat's ``show_result.py`` averages them, plus failures and
    the task-clustered 95% CI of the average (none below ``MIN_CLUSTERS`` questions)."""
    judgments = [SingleJudgment(g.id, model_name, g.turn, g.score, None) for g in grades]
    questions = {g.id: Question(g.id, g.category) for g in grades if g.category}
    if not judgments:
        return {"n_items": 0}
    summary = summarize_mt_bench(judgments, questions if len(questions) == len({g.id for g in grades}) else None)
    [entry] = summary["models"]
    entry.pop("model")
    out = {"n_items": len(grades), "n_failed": sum(g.failed for g in grades), **entry}
    graded = [g for g in grades if not g.failed]
    if graded:
        mean = clustered_mean([g.score for g in graded], [g.id for g in graded])  # type: ignore[misc]
        out["average"] = {**out["average"], "ci_lower": mean.ci_lower, "ci_upper": mean.ci_upper,
                          "n_clusters": mean.n_clusters, "ci_note": mean.note or None}
    return out
