"""Judge answers against references (pairwise) or grade them (single), appending to a log.

Pairwise references are the suite's (AlpacaEval's GPT-4 Turbo outputs, Arena-Hard's gpt-4-0314
answers) or, for in-house tasks, whatever the caller passes (the un-updated policy's answers).
A rerun judges only what the log lacks; failures are logged (with every raw judge output) and
are judged again on the next run rather than kept as results. A prompt whose answer failed
(``failed: true`` in answers.jsonl) is never judged: there is nothing real to judge.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ads_bench.judging.configs import load_judge_config
from ads_bench.judging.engine import GradeItem, PairItem, PairwiseJudge, SingleGrader
from ads_bench.models.client import ChatModel
from ads_bench.pipeline.answering import usable_answers
from ads_bench.pipeline.prompts import Prompt
from ads_bench.utils.jsonl import JsonlLog

CHUNK = 32
#: the embedded engine runs one request at a time, so a large chunk batches nothing and only holds
#: the progress line at 0/N; and it writes ~20–40 tokens/s, so a judge config's 1–4k-token cap
#: would spend minutes a judgment: both are sized to it unless --judge-max-tokens is given
EMBEDDED_CHUNK = 4
EMBEDDED_JUDGE_MAX_TOKENS = 256


def _is_embedded(model: ChatModel) -> bool:
    return getattr(getattr(model, "spec", None), "backend", None) == "embedded"


def judgment_ids(prompt: Prompt) -> list[str]:
    if prompt.judge_mode == "single":
        return [f"{prompt.id}/turn{t}" for t in range(1, len(prompt.turns) + 1)]
    return [prompt.id]


async def judge_answers(
    judge_model: ChatModel,
    prompts: Sequence[Prompt],
    answers: Mapping[str, dict[str, Any]],
    log: JsonlLog,
    *,
    judge_config: str | None = None,
    reference_answers: Mapping[str, Sequence[str]] | None = None,
    orders: str = "both",
    retries: int = 2,
    max_tokens: int | None = None,
    on_done: Callable[[int], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """The latest judgment per id (``prompt id`` pairwise, ``prompt id/turnN`` single), failed
    ones included (they carry ``failed: true``); only missing or failed ones are judged now."""
    answers = usable_answers(answers)
    latest = log.index()
    done = {k for k, v in latest.items() if not v.get("failed")}
    todo = [p for p in prompts if p.id in answers and any(j not in done for j in judgment_ids(p))]
    if on_done and len(prompts) - len(todo):
        on_done(len(prompts) - len(todo))
    chunk_size = CHUNK
    if _is_embedded(judge_model):
        chunk_size = EMBEDDED_CHUNK
        max_tokens = max_tokens or EMBEDDED_JUDGE_MAX_TOKENS
    groups: dict[str, list[Prompt]] = defaultdict(list)
    for prompt in todo:
        groups[judge_config or prompt.judge].append(prompt)
    for config_name, group in groups.items():
        config = load_judge_config(config_name)
        for start in range(0, len(group), chunk_size):
            chunk = group[start : start + chunk_size]
            if config.mode == "pairwise":
                records = await _pairwise(judge_model, config, chunk, answers, reference_answers, orders, retries, max_tokens)
            else:
                records = await _single(judge_model, config, chunk, answers, retries, max_tokens)
            for record in records:
                log.append(record)
                latest[record["id"]] = record
            if on_done:
                on_done(len(chunk))
    wanted = {j for p in prompts for j in judgment_ids(p)}
    return {k: v for k, v in latest.items() if k in wanted}


def _reference(prompt: Prompt, reference_answers: Mapping[str, Sequence[str]] | None) -> str | None:
    if reference_answers is not None and reference_answers.get(prompt.id):  # a failed one has none
        return reference_answers[prompt.id][0]
    return prompt.reference[0] if prompt.reference else None


async def _pairwise(judge_model, config, prompts, answers, reference_answers, orders, retries, max_tokens):
    items, kept = [], []
    for prompt in prompts:
        reference = _reference(prompt, reference_answers)
        if reference is None:
            continue
        items.append(
            PairItem(
                id=prompt.id,
                instruction=prompt.instruction,
                model_output=answers[prompt.id]["answers"][0],
                reference_output=reference,
                cluster=prompt.cluster,
                reference_guided=prompt.reference_guided,
                reference_answer=prompt.reference[0] if prompt.reference else None,
            )
        )
        kept.append(prompt)
    judge = PairwiseJudge(judge_model, config, orders=orders, retries=retries, max_tokens=max_tokens)
    judgments = await judge.judge(items)
    return [
        {**j.to_dict(), "task_id": p.task_id, "category": p.category, "judge": config.name,
         "judge_model": judge_model.label, "model_output": item.model_output,
         "reference_output": item.reference_output}
        for p, item, j in zip(kept, items, judgments, strict=True)
    ]


async def _single(judge_model, config, prompts, answers, retries, max_tokens):
    items = []
    for prompt in prompts:
        answer = answers[prompt.id]["answers"]
        for turn in range(1, len(answer) + 1):
            items.append(
                GradeItem(
                    id=f"{prompt.id}/turn{turn}",
                    questions=prompt.turns,
                    answers=tuple(answer),
                    turn=turn,
                    references=prompt.reference or (),
                    reference_guided=prompt.reference_guided,
                    category=prompt.category,
                )
            )
    grader = SingleGrader(judge_model, config, retries=retries, max_tokens=max_tokens)
    grades = await grader.grade(items)
    return [
        {**g.to_dict(), "prompt_id": g.id.rsplit("/", 1)[0], "judge": config.name, "judge_model": judge_model.label}
        for g in grades
    ]
