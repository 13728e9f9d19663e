"""A run's per-prompt scores, clustered by task, from its judgments: what the paired comparison
with a baseline is computed over; and the warnings that make a headline unreliable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ads_bench.judging.headline import ARENA_HARD, MT_BENCH, WIN_RATE
from ads_bench.judging.metrics import (
    ClusteredMean,
    clustered_mean,
)
from ads_bench.judging.summary import arena_hard_item_score, position_bias_warning
from ads_bench.reporting.run_data import RunData


@dataclass(frozen=True)
class PromptScores:
    """A run's score per judged item (id -> score; failures left out), each item's cluster and
    weight (1, or an Arena-Hard question's number of battles): the headline is the weighted mean."""

    metric: str
    values: dict[str, float]
    clusters: dict[str, str]
    weights: dict[str, float] = field(default_factory=dict)

    def weight(self, item: str) -> float:
        return self.weights.get(item, 1.0)

    def interval(self) -> ClusteredMean | None:
        if not self.values:
            return None
        ids = list(self.values)
        return clustered_mean([self.values[i] for i in ids], [self.clusters[i] for i in ids],
                              [self.weight(i) for i in ids])


def _task_of(prompt_id: str) -> str:
    return prompt_id.rsplit("#", 1)[0]


def _cluster_of(record: dict[str, Any]) -> str:
    return str(record.get("cluster") or record.get("task_id") or _task_of(record["id"]))


def _arena_hard_scores(pairwise: list[dict[str, Any]]) -> PromptScores | None:
    """Per question the share of battle points the model won (%), weighted by its battles, when
    the judge wrote Arena-Hard verdicts; a failed game drops out alone, as in metrics.json."""
    scored = {r["id"]: (r, *arena_hard_item_score(r.get("orders") or [])) for r in pairwise}
    usable = {i: (r, points, battles) for i, (r, points, battles, _) in scored.items() if battles}
    if not usable:
        return None
    return PromptScores(
        ARENA_HARD,
        {i: 100.0 * points / battles for i, (_, points, battles) in usable.items()},
        {i: _cluster_of(r) for i, (r, _, _) in usable.items()},
        {i: float(battles) for i, (_, _, battles) in usable.items()},
    )


def prompt_scores(run: RunData) -> PromptScores | None:
    """Scores from judgments.jsonl: Arena-Hard battle shares or pairwise preferences in %,
    MT-Bench grades, or the first lm-eval metric; None when the run judged nothing."""
    records = list(run.indexed("judgments").values())
    pairwise = [r for r in records if "preference" in r and "prompt_id" not in r]
    if pairwise:
        if (run.metrics or {}).get("pairwise", {}).get("arena_hard"):
            return _arena_hard_scores(pairwise)
        usable = [r for r in pairwise if r.get("preference") is not None and not r.get("failed")]
        return PromptScores(
            WIN_RATE,
            {r["id"]: 100.0 * float(r["preference"]) for r in usable},
            {r["id"]: _cluster_of(r) for r in usable},
        )
    single = [r for r in records if "prompt_id" in r and r.get("score") is not None]
    if single:
        return PromptScores(
            MT_BENCH,
            {r["id"]: float(r["score"]) for r in single},
            {r["id"]: _task_of(str(r["prompt_id"])) for r in single},
        )
    lm_eval = [r for r in records if r.get("lm_eval_scores")]
    if lm_eval:
        metric = sorted(lm_eval[0]["lm_eval_scores"])[0]
        usable = [r for r in lm_eval if metric in r["lm_eval_scores"]]
        return PromptScores(
            f"lm-eval {metric}",
            {r["id"]: float(r["lm_eval_scores"][metric]) for r in usable},
            {r["id"]: str(r.get("task_id") or _task_of(r["id"])) for r in usable},
        )
    return None


def run_warnings(metrics: dict[str, Any]) -> list[str]:
    """What makes the headline unreliable or not comparable: metrics.json's ``warnings``, and for
    older files without them the position-bias check on the judge figures they hold."""
    if "warnings" in metrics:
        return [str(w) for w in metrics["warnings"]]
    warning = position_bias_warning(metrics.get("pairwise") or {})
    return [warning] if warning else []
