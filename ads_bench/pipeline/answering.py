"""Answer prompts with a policy, turn by turn, appending each finished answer to a log.

Multi-turn prompts (MT-Bench) are answered in rounds: every first turn in one batch, then
every second turn with its first answer in the conversation. A rerun skips answered prompts.

A prompt the policy could not answer (the call failed, e.g. a reply that stayed malformed or
empty after the transport's retries) is logged with ``failed: true`` and its error, so the
failure is counted and shown with the metrics (:func:`failed_answers`); it is never returned as
an answer, so nothing judges it, and a rerun asks again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ads_bench.learning.policy import Policy
from ads_bench.models.types import ChatRequest, SamplingParams
from ads_bench.pipeline.prompts import Prompt
from ads_bench.utils.jsonl import JsonlLog

CHUNK = 64  # prompts per batch: large enough to keep engines busy, small enough to save often

logger = logging.getLogger(__name__)


def usable_answers(records: Mapping[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The answer records a judge may see: those that did not fail."""
    return {pid: r for pid, r in records.items() if not r.get("failed")}


def failed_answers(records: Mapping[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The prompts whose latest answer record failed (``n_failed_answers`` is its length)."""
    return {pid: r for pid, r in records.items() if r.get("failed")}


def count_failed_answers(prompts: Sequence[Prompt], *logs: JsonlLog) -> int:
    """Prompts left unjudged because a policy (taught or un-updated) gave no usable answer."""
    failed: set[str] = set()
    for log in logs:
        failed |= set(failed_answers(log.index()))
    return sum(p.id in failed for p in prompts)


async def answer_prompts(
    policy: Policy,
    prompts: Sequence[Prompt],
    log: JsonlLog,
    params: SamplingParams,
    *,
    on_done: Callable[[int], None] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """Usable answers by prompt id (from the log where already there), computing only what is
    missing; failed ones are logged, counted (``n_failed_answers``) and left out."""
    done = usable_answers(log.index())
    todo = [p for p in prompts if p.id not in done]
    n_failed_answers = 0
    if on_done and len(prompts) - len(todo):
        on_done(len(prompts) - len(todo))
    for start in range(0, len(todo), CHUNK):
        chunk = todo[start : start + CHUNK]
        answers: dict[str, list[str]] = {p.id: [] for p in chunk}
        finish: dict[str, list[str | None]] = {p.id: [] for p in chunk}
        usage: dict[str, list[int]] = {p.id: [0, 0] for p in chunk}
        errors: dict[str, str] = {}
        for turn in range(max(len(p.turns) for p in chunk)):
            active = [p for p in chunk if turn < len(p.turns) and p.id not in errors]
            requests = [
                ChatRequest(tuple(policy.messages(p.turns[: turn + 1], answers[p.id])), params) for p in active
            ]
            responses = await policy.model.generate(requests)
            for prompt, response in zip(active, responses, strict=True):
                if not response.ok:
                    errors[prompt.id] = response.error or "unknown error"
                    continue
                completion = response.completions[0]
                answers[prompt.id].append(completion.text)
                finish[prompt.id].append(completion.finish_reason)
                usage[prompt.id][0] += completion.usage.prompt_tokens
                usage[prompt.id][1] += completion.usage.completion_tokens
        for prompt in chunk:
            if prompt.id in errors:  # earlier turns of a failed conversation are no answer either
                answers[prompt.id], finish[prompt.id] = [], []
            record = {
                "id": prompt.id,
                "task_id": prompt.task_id,
                "category": prompt.category,
                "turns": list(prompt.turns),
                "answers": answers[prompt.id],
                "finish_reasons": finish[prompt.id],
                "prompt_tokens": usage[prompt.id][0],
                "completion_tokens": usage[prompt.id][1],
                "policy": policy.label,
                "context_sha": policy.context_sha,
                "error": errors.get(prompt.id),
                "failed": prompt.id in errors,
                **(extra or {}),
            }
            log.append(record)  # a failed one too: it is shown with the metrics, and asked again next run
            if record["failed"]:
                n_failed_answers += 1
            else:
                done[prompt.id] = record
        if on_done:
            on_done(len(chunk))
    if n_failed_answers:
        logger.warning("n_failed_answers=%d: the policy gave no usable answer to %d of %d prompts "
                     "(logged with failed: true; a rerun asks again)", n_failed_answers, n_failed_answers, len(todo))
    return done
