"""Score answers to lm-evaluation-harness tasks with lm-eval's own filters and metrics (no judge)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from ads_bench.models.types import SamplingParams
from ads_bench.pipeline.prompts import Prompt
from ads_bench.suites import Suite
from ads_bench.utils.jsonl import JsonlLog


def is_lm_eval(suite: Suite) -> bool:
    return suite.kind == "lm-eval"


def lm_eval_params(suite: Any, base: SamplingParams) -> SamplingParams:
    """Greedy with lm-eval's stop strings (``until``) and its length limit where it sets one."""
    kwargs = suite.generation_kwargs
    until = kwargs.get("until") or ()
    return SamplingParams(
        temperature=0.0,
        max_tokens=int(kwargs.get("max_gen_toks", base.max_tokens)),
        seed=base.seed,
        stop=tuple(until if isinstance(until, list) else [until]),
    )


def score_answers(
    suite: Any, prompts: Sequence[Prompt], answers: Mapping[str, Mapping[str, Any]], log: JsonlLog
) -> dict[str, dict[str, Any]]:
    done = log.index()
    for prompt in prompts:
        if prompt.id in done or prompt.id not in answers:
            continue
        task = suite.task(prompt.task_id)
        record = {"id": prompt.id, "task_id": prompt.task_id, "scorer": "lm-eval", "failed": False,
                  "lm_eval_scores": suite.score(task, answers[prompt.id]["answers"][0])}
        log.append(record)
        done[prompt.id] = record
    return {p.id: done[p.id] for p in prompts if p.id in done}


def lm_eval_metrics(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    values: dict[str, list[float]] = defaultdict(list)
    for record in records:
        for metric, value in record["lm_eval_scores"].items():
            values[metric].append(value)
    return {metric: {"mean": sum(v) / len(v), "n": len(v)} for metric, v in sorted(values.items())}
