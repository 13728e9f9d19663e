"""Synthetic run folders for the statistics tests: any number of tasks, pairwise or Arena-Hard
verdicts, with metrics.json computed by the pipeline's own ``score_run``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from ads_bench.pipeline.prompts import Prompt
from ads_bench.pipeline.scoring import score_run


def _prompt(task: str, k: int, judge: str) -> Prompt:
    return Prompt(f"{task}#{k}", task, "general", (f"Instruction {k} of {task}.",), None, task,
                  "pairwise", False, judge)


def preference_record(prompt: Prompt, preference: float | None, *, p_first: float | None = None) -> dict:
    """A judgment in both orders averaging to ``preference``; ``p_first``: the model's preference
    when it was shown first (default: the same as when shown second)."""
    if preference is None:
        return {"id": prompt.id, "preference": None, "orders": [{"model_position": "second", "attempts": []}],
                "agreement": None, "error": "no verdict found", "cluster": prompt.cluster, "failed": True,
                "task_id": prompt.task_id, "model_output": "answer", "reference_output": "reference"}
    first = preference if p_first is None else p_first
    second = 2 * preference - first
    orders = [{"model_position": "second", "attempts": [], "p_model": second, "verdict": "M" if second > 0.5 else "m"},
              {"model_position": "first", "attempts": [], "p_model": first, "verdict": "m" if first > 0.5 else "M"}]
    return {"id": prompt.id, "preference": preference, "orders": orders,
            "agreement": (second > 0.5) == (first > 0.5), "error": None, "cluster": prompt.cluster,
            "failed": False, "task_id": prompt.task_id, "model_output": "answer", "reference_output": "reference"}


ARENA_POINTS = {"A>>B": 1.0, "A>B": 1.0, "A=B": 0.5, "B>A": 0.0, "B>>A": 0.0}


def verdict_record(prompt: Prompt, verdicts: tuple[str | None, str | None]) -> dict:
    """An Arena-Hard judgment: (verdict with the baseline shown first, with the model shown first);
    None for a game whose output did not parse."""
    orders, p_model = [], []
    for position, label in zip(("second", "first"), verdicts, strict=True):
        order = {"model_position": position, "attempts": []}
        if label is not None:
            p_second = 1.0 - ARENA_POINTS[label]
            order["p_model"] = p_second if position == "second" else 1.0 - p_second
            order["verdict"] = label
            p_model.append(order["p_model"])
        orders.append(order)
    failed = len(p_model) < 2
    preference = None if failed else sum(p_model) / 2
    return {"id": prompt.id, "preference": preference, "orders": orders,
            "agreement": None if failed else (p_model[0] > 0.5) == (p_model[1] > 0.5),
            "error": "no verdict found" if failed else None, "cluster": prompt.cluster, "failed": failed,
            "task_id": prompt.task_id, "model_output": "answer", "reference_output": "reference"}


def write_run(folder: Path, strategy: str, per_task: Sequence[Sequence], *, kind: str = "run",
              suite: str = "inhouse", judge_config: str = "alpaca_eval_2", p_first: float | None = None,
              orders: str | None = None, judge: str | None = None, **metrics_extra) -> Path:
    """A complete run folder: task ``t`` gets one prompt per entry of ``per_task[t]``, a preference
    (float or None) or an Arena-Hard verdict pair (tuple)."""
    folder.mkdir(parents=True, exist_ok=True)
    prompts, judgments = [], {}
    for t, entries in enumerate(per_task):
        for k, entry in enumerate(entries):
            prompt = _prompt(f"task-{t:03d}", k, judge_config)
            prompts.append(prompt)
            judgments[prompt.id] = (verdict_record(prompt, entry) if isinstance(entry, tuple)
                                    else preference_record(prompt, entry, p_first=p_first))
    config = {"kind": kind, "strategy": strategy, "suite": suite, "policy": "embedded", "judge": "embedded",
              "learner": "icl", "judge_config": judge_config, "orders": orders}
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "judgments.jsonl").write_text("".join(json.dumps(judgments[p.id]) + "\n" for p in prompts))
    metrics = score_run(prompts, judgments, model_name=strategy, reference_name="baseline", suite=suite,
                        orders=orders, judge=judge)
    metrics.update(suite=suite, **metrics_extra)
    (folder / "metrics.json").write_text(json.dumps(metrics, allow_nan=False))
    return folder
