"""Metrics of a run from its logged judgments: overall, per category, with failures shown."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from ads_bench.judging.engine import Grade, PairJudgment
from ads_bench.judging.programmatic import is_program_judge
from ads_bench.judging.summary import pairwise_metrics, single_metrics
from ads_bench.models.spec import parse_spec
from ads_bench.pipeline.lm_eval_scoring import lm_eval_metrics
from ads_bench.pipeline.prompts import Prompt


def _pair(record: Mapping[str, Any]) -> PairJudgment:
    return PairJudgment(
        id=record["id"],
        preference=record.get("preference"),
        orders=record.get("orders", []),
        agreement=record.get("agreement"),
        error=record.get("error"),
        cluster=record.get("cluster"),
    )


def _grade(record: Mapping[str, Any]) -> Grade:
    return Grade(
        id=record["prompt_id"],
        turn=record["turn"],
        score=record.get("score"),
        category=record.get("category"),
        messages=[],
        attempts=[],
        error=record.get("error"),
    )


#: the order(s) each suite's published protocol judges a pair in; other suites judge both
#: orders, which cancels a judge's position bias. AlpacaEval 2.0 judges one order per
#: instruction, drawn at random with a fixed seed (alpaca_eval's annotators/pairwise_evaluator.py,
#: ``is_randomize_output_order``), so its published leaderboard is comparable only with that.
PUBLISHED_ORDERS = {"alpacaeval": "random"}
DEFAULT_ORDERS = "both"
NOT_COMPARABLE_WITH_ALPACA_EVAL = (
    "judged in both orders: not comparable with the published AlpacaEval leaderboard "
    "(it judges one random order per instruction; rerun with --orders random)"
)


#: the embedded default mostly picks a position as a judge (README, `ads-bench judges check`): a
#: number it judged shows the pipeline ran, not which model is better
EMBEDDED_JUDGE_WARNING = "judged by the embedded SmolLM2-135M: tests the pipeline, not models"


def judge_warnings(judge: str | None) -> list[str]:
    """What the judge itself makes of an LLM-judged headline."""
    if judge is not None and not judge.startswith("program:") and parse_spec(judge).backend == "embedded":
        return [EMBEDDED_JUDGE_WARNING]
    return []


def resolve_orders(orders: str | None, suite: str) -> str:
    """The judged orders: the ones asked for, else the suite's published protocol's."""
    return orders or PUBLISHED_ORDERS.get(suite, DEFAULT_ORDERS)


def protocol_warnings(suite: str | None, orders: str | None) -> list[str]:
    """What makes a result not comparable with its suite's published leaderboard."""
    expected = PUBLISHED_ORDERS.get(suite or "")
    if expected == "random" and orders == "both":
        return [NOT_COMPARABLE_WITH_ALPACA_EVAL]
    return []


def score_run(
    prompts: Sequence[Prompt],
    judgments: Mapping[str, Mapping[str, Any]],
    *,
    model_name: str = "model",
    reference_name: str = "reference",
    rounds: int = 1000,
    seed: int = 0,
    suite: str | None = None,
    orders: str | None = None,
    judge: str | None = None,
) -> dict[str, Any]:
    """metrics.json of a run; ``warnings`` lists what makes its headline unreliable or not
    comparable with the suite's published figures (``suite``, ``orders``: how it was judged;
    ``judge``: the judge's model spec)."""
    lm_eval_records = [judgments[p.id] for p in prompts if "lm_eval_scores" in judgments.get(p.id, {})]
    if lm_eval_records:
        return {"lm_eval": lm_eval_metrics(lm_eval_records), "n_prompts": len(prompts),
                "n_unjudged": len(prompts) - len(lm_eval_records)}
    pair_records = [judgments[p.id] for p in prompts if p.judge_mode != "single" and p.id in judgments]
    grade_records = [
        judgments[f"{p.id}/turn{t}"]
        for p in prompts if p.judge_mode == "single"
        for t in range(1, len(p.turns) + 1) if f"{p.id}/turn{t}" in judgments
    ]
    out: dict[str, Any] = {}
    if pair_records:
        # AlpacaEval's LC win rate controls an LLM judge's taste for longer answers; a program
        # that checks the answer against the truth has none, so it gets no LC figure
        by_program = is_program_judge(judge)
        lengths_model = None if by_program else [len(r.get("model_output", "")) for r in pair_records]
        lengths_reference = None if by_program else [len(r.get("reference_output", "")) for r in pair_records]
        out["pairwise"] = pairwise_metrics(
            [_pair(r) for r in pair_records],
            lengths_model=lengths_model,
            lengths_reference=lengths_reference,
            model_name=model_name,
            reference_name=reference_name,
            rounds=rounds,
            seed=seed,
        )
        if by_program:
            out["pairwise"]["lc_note"] = "not computed: a program judge has no length bias to control"
        by_category: dict[str, list[float]] = defaultdict(list)
        for record in pair_records:
            if record.get("preference") is not None:
                by_category[record.get("category") or "-"].append(record["preference"])
        out["pairwise"]["categories"] = {
            c: {"win_rate": 100 * sum(v) / len(v), "n": len(v)} for c, v in sorted(by_category.items())
        }
    if grade_records:
        out["single"] = single_metrics([_grade(r) for r in grade_records], model_name)
    warnings = protocol_warnings(suite, orders) if pair_records else []
    if pair_records or grade_records:
        warnings += judge_warnings(judge)
    if orders and pair_records:
        out["pairwise"]["orders"] = orders
    out["warnings"] = [*(out.get("pairwise") or {}).get("warnings", []), *warnings]
    out["n_prompts"] = len(prompts)
    out["n_unjudged"] = len(prompts) - len({r["id"] for r in pair_records} | {r["prompt_id"] for r in grade_records})
    return out
