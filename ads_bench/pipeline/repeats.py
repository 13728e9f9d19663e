"""``--repeats N``: the same answers and/or judgments computed N times, and what varies.

Repeat 0 is the run itself (its logs and metrics.json's headline). Repeats 1..N-1 ask the
same models the same requests again through :meth:`ChatModel.for_repeat`: each repeat's calls
carry its index in their cache keys, so the engine computes them afresh (the response cache,
which would replay repeat 0, is bypassed for them), the ledger bills each repeat, and a rerun of
the command replays repeat r from the cache, free. Each repeat logs under ``repeats/rN/`` (its
answers.jsonl, reference_answers.jsonl, judgments.jsonl), so a killed repeat resumes.

Stages (``--repeat-stage``): ``answer`` repeats the policy's answers (judged by the ordinary
judge, whose calls for unchanged answers are then cache hits), ``judge`` repeats the judging of
the same answers, ``both`` repeats both (the default for ``run`` and ``evaluate``; ``rescore``
judges answers it did not make, so it repeats the judge only). In ``run``, acquisition and the
learner are not repeated: a repeat teaches the same acquired data again (for ``icl`` the same
context; ``finetune`` reuses its cached adapter) and asks the taught policy again.

metrics.json's ``repeats`` block holds the statistics of
:mod:`ads_bench.judging.metrics.repeats` on the prompts' scores (pairwise: the win rate, 100 x
preference; single: the mean grade over a prompt's turns) and each repeat's headline with
their standard deviation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from ads_bench.errors import UserError
from ads_bench.judging.headline import headline
from ads_bench.judging.metrics.repeats import complete_matrix, decompose
from ads_bench.learning import get_learner
from ads_bench.learning.policy import Policy
from ads_bench.models.client import ChatModel
from ads_bench.models.types import SamplingParams
from ads_bench.pipeline.answering import answer_prompts
from ads_bench.pipeline.prompts import Prompt
from ads_bench.progress import progress_bar
from ads_bench.store.run_folder import RunFolder

REPEAT_STAGES = ("both", "answer", "judge")

#: what a repeat gives back: its answers by prompt id and the reference answers (in-house) or None
Answered = tuple[Mapping[str, dict[str, Any]], Mapping[str, Sequence[str]] | None]


def check_repeats(repeats: int, stage: str, *, answers_made_here: bool = True) -> None:
    """One line naming the fix for a repeats request that cannot be run."""
    if repeats < 1:
        raise UserError(f"--repeats {repeats}: use 1 (no repeat) or more")
    if stage not in REPEAT_STAGES:
        raise UserError(f"--repeat-stage {stage}: use {', '.join(REPEAT_STAGES)}")
    if not answers_made_here and stage != "judge" and repeats > 1:
        raise UserError(f"--repeat-stage {stage}: rescore judges answers it did not make; use --repeat-stage judge")


def repeat_fields(repeats: int, stage: str) -> dict[str, Any]:
    """The config keys of a repeated run; none for one repeat, so a plain run's configuration
    digest (hence its run folder) is what it was before repeats existed."""
    return {"repeats": repeats, "repeat_stage": stage} if repeats > 1 else {}


def answer_repeat(stage: str, repeat: int) -> int:
    return repeat if stage in ("both", "answer") else 0


def judge_repeat(stage: str, repeat: int) -> int:
    return repeat if stage in ("both", "judge") else 0


def repeated_policy(policy: Policy, repeat: int) -> Policy:
    return replace(policy, model=policy.model.for_repeat(repeat))


def prompt_scores(prompts: Sequence[Prompt], judgments: Mapping[str, Mapping[str, Any]]) -> dict[str, float | None]:
    """Each prompt's score in one repeat: 100 x preference (pairwise), the mean grade over its
    turns (single); None where a judgment failed or is missing."""
    out: dict[str, float | None] = {}
    for prompt in prompts:
        if prompt.judge_mode == "single":
            grades = [(judgments.get(f"{prompt.id}/turn{t}") or {}).get("score") for t in range(1, len(prompt.turns) + 1)]
            out[prompt.id] = None if any(g is None for g in grades) else sum(grades) / len(grades)
        else:
            preference = (judgments.get(prompt.id) or {}).get("preference")
            out[prompt.id] = None if preference is None else 100 * preference
    return out


async def taught_answers(
    tasks: Sequence[Any], prompts: Sequence[Prompt], acquisitions: Mapping[str, Any], base: Policy, learner_name: str,
    runtime: Any, folder: RunFolder, params: SamplingParams, repeat: int, in_house: bool,
) -> Answered:
    """``run``'s answers for one repeat: the same data taught again, the taught and (in-house) the
    un-updated policy asked again as repeat ``repeat``."""
    learner = get_learner(learner_name)
    by_task: dict[str, list[Prompt]] = {}
    for prompt in prompts:
        by_task.setdefault(prompt.task_id, []).append(prompt)
    answers: dict[str, dict[str, Any]] = {}

    async def one(task: Any) -> None:
        policy = await learner(base, acquisitions[task.id].items, runtime=runtime, task_id=task.id)
        answers.update(await answer_prompts(repeated_policy(policy, repeat), by_task.get(task.id, []),
                                            folder.log("answers"), params))

    if learner_name == "finetune":  # as run.teach_and_answer: one adapter at a time
        for task in tasks:
            await one(task)
    else:
        await asyncio.gather(*(one(t) for t in tasks))
    references = None
    if in_house:
        base_answers = await answer_prompts(repeated_policy(base, repeat), prompts, folder.log("reference_answers"), params)
        references = {pid: record["answers"] for pid, record in base_answers.items()}
    return answers, references


async def measure_repeats(
    repeats: int, stage: str, prompts: Sequence[Prompt], first: Mapping[str, Mapping[str, Any]], *,
    folder: RunFolder, answers: Answered, judge_model: ChatModel,
    answer: Callable[[int, RunFolder], Awaitable[Answered]],
    judge: Callable[[ChatModel, Answered, RunFolder], Awaitable[Mapping[str, Mapping[str, Any]]]],
    score: Callable[[Mapping[str, Mapping[str, Any]]], dict[str, Any]], console: Any = None,
) -> dict[str, Any]:
    """Repeats 1..N-1 (repeat 0 is ``first``, the run's own judgments), then the repeats block.

    ``answer(r, folder)`` answers as repeat r; ``judge(model, answers, folder)`` judges them;
    ``score(judgments)`` is the run's metrics of one repeat's judgments (its headline is kept)."""
    judged = [first]
    for repeat in range(1, repeats):
        sub = RunFolder(folder.path / "repeats" / f"r{repeat}")
        sub.path.mkdir(parents=True, exist_ok=True)
        with progress_bar(f"repeat {repeat + 1} of {repeats} ({stage})", len(prompts),
                          judge_model.runtime.ledger, console) as advance:
            answered = await answer(answer_repeat(stage, repeat), sub) if stage != "judge" else answers
            judgments = await judge(judge_model.for_repeat(judge_repeat(stage, repeat)), answered, sub)
            advance(len(prompts))
        judged.append(judgments)
    return repeats_block(stage, prompts, judged, [score(j) for j in judged])


def repeats_block(stage: str, prompts: Sequence[Prompt], judged: Sequence[Mapping[str, Mapping[str, Any]]],
                  metrics: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """metrics.json's ``repeats``: the prompts' scores decomposed, and each repeat's headline."""
    import statistics

    single = any(p.judge_mode == "single" for p in prompts)
    block: dict[str, Any] = {
        "n_repeats": len(judged), "stage": stage,
        "cache": "repeat r's calls carry r in their cache keys: computed afresh once, billed, replayed by a rerun",
    }
    ids, matrix = complete_matrix([prompt_scores(prompts, j) for j in judged])
    score: dict[str, Any] = {"metric": "mean grade" if single else "win rate (100 x preference)"}
    if ids:
        score.update(decompose(matrix).to_dict())
    else:
        block["note"] = "no prompt scored in every repeat"
    block["score"] = score
    stated = [headline(m) for m in metrics]
    values = [h.score for h in stated]
    block["headline"] = {
        "metric": stated[0].metric, "per_repeat": values,
        "between_run_sd": statistics.stdev(values) if all(v is not None for v in values) else None,
    }
    return block
