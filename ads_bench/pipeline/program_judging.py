"""The judging step with a programmatic judge: the same judgment records as an LLM judge writes
(``judgments.jsonl``), so metrics, ``leaderboard``, ``report`` and ``rescore`` read them unchanged.

Each record is a pairwise judgment whose ``preference`` follows from the two answers' scores
against the truth (:func:`ads_bench.judging.programmatic.pairwise_preference`); it also keeps
both scores and the truth. ``orders`` is empty and ``agreement`` null: no order was judged, so no
position bias can be measured or warned about. A prompt without a truth cannot be judged by a
program: it is recorded as a failed judgment naming why (never a tie).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ads_bench.judging.programmatic import (  # noqa: F401  (is_program_judge: for the pipeline)
    ProgramJudge,
    is_program_judge,
    pairwise_preference,
    parse_program_judge,
)
from ads_bench.pipeline.answering import usable_answers
from ads_bench.pipeline.prompts import Prompt
from ads_bench.utils.jsonl import JsonlLog

JUDGE_MODEL_LABEL = "program"


def program_judgment(judge: ProgramJudge, prompt: Prompt, answer: str, reference: str) -> dict[str, Any]:
    """One pairwise judgment record of ``answer`` (the model's) against ``reference``."""
    record: dict[str, Any] = {
        "id": prompt.id, "orders": [], "agreement": None, "cluster": prompt.cluster,
        "task_id": prompt.task_id, "category": prompt.category, "judge": judge.name,
        "judge_model": JUDGE_MODEL_LABEL, "model_output": answer, "reference_output": reference,
        "truth": prompt.truth,
    }
    if not prompt.truth:
        return {**record, "preference": None, "error": "no truth for this prompt: a programmatic judge "
                "needs a suite whose tasks carry metadata.truth (e.g. wikifacts)", "failed": True}
    model_score, reference_score = judge.score(answer, prompt.truth), judge.score(reference, prompt.truth)
    return {**record, "preference": pairwise_preference(model_score, reference_score), "error": None,
            "failed": False, "scores": {"model": model_score, "reference": reference_score}}


def judge_answers_programmatically(
    spec: str,
    prompts: Sequence[Prompt],
    answers: Mapping[str, dict[str, Any]],
    log: JsonlLog,
    *,
    reference_answers: Mapping[str, Sequence[str]] | None = None,
    on_done: Callable[[int], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Like :func:`ads_bench.pipeline.judging_step.judge_answers`: the latest judgment per prompt
    id. Judgments by this same judge already in the log are kept; the rest are computed now."""
    judge = parse_program_judge(spec)
    answers = usable_answers(answers)
    latest = log.index()
    for prompt in prompts:
        done = latest.get(prompt.id)
        if done is not None and not done.get("failed") and done.get("judge") == judge.name:
            continue
        if prompt.id not in answers:
            continue
        if reference_answers is not None:
            reference = (reference_answers.get(prompt.id) or [None])[0]
        else:
            reference = prompt.reference[0] if prompt.reference else None
        if reference is None:  # the un-updated policy's answer failed: nothing to compare with
            continue
        record = program_judgment(judge, prompt, answers[prompt.id]["answers"][0], reference)
        log.append(record)
        latest[prompt.id] = record
    if on_done:
        on_done(len(prompts))
    wanted = {p.id for p in prompts}
    return {k: v for k, v in latest.items() if k in wanted}
