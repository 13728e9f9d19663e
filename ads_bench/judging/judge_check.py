"""Judge the judge, as AlpacaEval's evaluator leaderboard does: on pairs whose better side is
known, how often does a judge agree, prefer the first position, prefer the longer output, and
what does a thousand judgments cost?

Known pairs come from two sources, shown in a seeded random order so that position bias is
measured directly:

- ``silver``: AlpacaEval 2.0 pairs (gpt4_1106_preview vs gpt-3.5-turbo-1106) on which AlpacaEval's
  own GPT-4 Turbo judge was confident (P >= 0.9 either way), balanced between the two winners;
- ``mismatched``: an instruction with its reference answer vs the reference answer of another
  instruction — wrong by construction, so any judge worth its price prefers the real answer.
"""

from __future__ import annotations

import gzip
import json
import random
from dataclasses import dataclass
from typing import Any

import numpy as np

from ads_bench.judging.engine import PairItem, PairwiseJudge
from ads_bench.judging.metrics.repeats import retest_agreement
from ads_bench.models.client import ChatModel
from ads_bench.paths import tasks_dir

SILVER_FILE = "judge_check/gpt-3.5-turbo-1106_weighted_alpaca_eval_gpt4_turbo_annotations.json.gz"
REFERENCE_FILE = "data/alpaca_eval/reference_outputs_gpt4_1106_preview.json.gz"
SOURCES = ("silver", "mismatched", "both")


@dataclass(frozen=True)
class KnownPair:
    item: PairItem  # model_output = the side shown second; reference_output = shown first
    second_is_better: bool
    source: str


def _load_json_gz(relative: str) -> Any:
    with gzip.open(tasks_dir() / relative, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def _shown(pair_id: str, better: str, worse: str, instruction: str, rng: random.Random, source: str) -> KnownPair:
    better_second = rng.random() < 0.5
    first, second = (worse, better) if better_second else (better, worse)
    return KnownPair(PairItem(pair_id, instruction, second, first), better_second, source)


def known_pairs(source: str = "both", limit: int = 40, seed: int = 0) -> list[KnownPair]:
    rng = random.Random(seed)
    pairs: list[KnownPair] = []
    # "both" splits the pairs, silver taking the odd one, so --limit 1 still judges a pair
    n_silver = limit if source == "silver" else (limit - limit // 2 if source == "both" else 0)
    n_mismatched = limit - n_silver if source != "silver" else 0
    if n_silver:
        rows = _load_json_gz(SILVER_FILE)
        firsts = [r for r in rows if r["preference"] is not None and float(r["preference"]) <= 1.1]
        seconds = [r for r in rows if r["preference"] is not None and float(r["preference"]) >= 1.9]
        take = min(n_silver // 2, len(seconds))
        chosen = rng.sample(firsts, n_silver - take) + rng.sample(seconds, take)
        for row in chosen:
            first_wins = float(row["preference"]) <= 1.1
            better, worse = (row["output_1"], row["output_2"]) if first_wins else (row["output_2"], row["output_1"])
            pairs.append(_shown(f"silver:{rows.index(row)}", better, worse, row["instruction"], rng, "silver"))
    if n_mismatched:
        rows = _load_json_gz(REFERENCE_FILE)
        indices = rng.sample(range(len(rows)), n_mismatched)
        for index in indices:
            other = rows[(index + 1 + rng.randrange(len(rows) - 1)) % len(rows)]
            row = rows[index]
            pairs.append(
                _shown(f"mismatched:{index}", row["output"], other["output"], row["instruction"], rng, "mismatched")
            )
    return pairs


async def check_judge(
    model: ChatModel, config: str = "alpaca_eval_2", *, source: str = "both", limit: int = 40, seed: int = 0,
    max_tokens: int | None = None, retest: bool = True, pairs: list[KnownPair] | None = None,
) -> dict[str, Any]:
    """``retest``: judge the same pairs a second time, the response cache bypassed
    (:meth:`ChatModel.for_repeat`), for the judge's test-retest agreement; its cost is not in the
    per-1000 figures."""
    pairs = known_pairs(source, limit, seed) if pairs is None else pairs  # given: e.g. truth_pairs
    before = model.runtime.ledger.snapshot()
    judge = PairwiseJudge(model, config, orders="fixed", max_tokens=max_tokens)
    judgments = await judge.judge([p.item for p in pairs])
    spent = model.runtime.ledger.since(before).total(role=model.role)
    rows = []
    for pair, judgment in zip(pairs, judgments, strict=True):
        if judgment.failed:
            continue
        p_second = judgment.preference  # the engine's "model" side is the one shown second
        longer_second = len(pair.item.model_output) > len(pair.item.reference_output)
        rows.append(
            {
                "source": pair.source,
                "p_first": 1 - p_second,  # type: ignore[operator]
                "agree": (p_second > 0.5) == pair.second_is_better if p_second != 0.5 else False,  # type: ignore[operator]
                "p_longer": p_second if longer_second else 1 - p_second,  # type: ignore[operator]
                "tie": p_second == 0.5,
            }
        )

    def mean(key: str, subset: list[dict]) -> float | None:
        return float(np.mean([r[key] for r in subset])) if subset else None

    report: dict[str, Any] = {
        "judge": model.label,
        "judge_config": judge.config.name,
        "n_pairs": len(pairs),
        "n_failed": sum(j.failed for j in judgments),
        "agreement": mean("agree", rows),
        "p_prefer_first_position": mean("p_first", rows),
        "p_prefer_longer": mean("p_longer", rows),
        "ties": sum(r["tie"] for r in rows),
        "usd_per_1000": 1000 * spent.cost_usd / max(1, len(pairs)),
        "seconds_per_1000": 1000 * spent.seconds / max(1, len(pairs)),
        "tokens_per_judgment": spent.tokens / max(1, len(pairs)),
    }
    for name in ("silver", "mismatched"):
        subset = [r for r in rows if r["source"] == name]
        if subset:
            report[f"agreement_{name}"] = mean("agree", subset)
    if retest:
        again = await PairwiseJudge(model.for_repeat(1), config, orders="fixed", max_tokens=max_tokens).judge(
            [p.item for p in pairs])
        report.update(retest_agreement([None if j.failed else j.preference for j in judgments],
                                  [None if j.failed else j.preference for j in again]))
    return report
