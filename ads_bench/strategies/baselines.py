"""The paper's baselines that need no optimizer: none, rule-based QA, RAG, Self-Instruct.

Each baseline grows with the budget where its definition allows, so that a budget ladder
(``examples/equal-budget-baselines.yaml``) can compare strategies at matched spend rather than
at equal caps only:

- ``rag`` queries with each observed instruction and retrieves more documents per query (its
  top-k is the item budget spread over the queries the budget admits);
- ``self-instruct`` asks the policy for as many demonstrations as the item budget holds;
- ``rule-qa`` asks the expert its observed instructions first and then self-instructed variants
  of them, one question per budgeted item (:data:`VARIANT_PROMPT`).

How many calls a budget admits is worked out before calling (:func:`calls_allowed`), so no call
is made whose items the item budget would throw away. The executor still enforces every limit
(``acquisition/executor.py``): a baseline never exceeds ``max_calls``, ``budget_items`` or the
$ budget's per-call estimates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ads_bench.acquisition.api_implementations import _first_line
from ads_bench.acquisition.items import (
    DEMONSTRATION_GENERATION,
    INFORMATION_RETRIEVAL,
    QUESTION_ANSWERING,
    Acquisition,
)
from ads_bench.acquisition.trajectory import ApiCall
from ads_bench.models.ledger import api_scope
from ads_bench.models.types import ChatRequest
from ads_bench.strategies.base import AcquisitionContext, register_strategy, run_calls
from ads_bench.suites import Task


@register_strategy("none")
@dataclass
class NoAcquisition:
    name: str = "none"
    description: str = "the base policy, taught nothing"

    async def acquire(self, task: Task, context: AcquisitionContext) -> Acquisition:
        return Acquisition(task.id, self.name)


def calls_allowed(api: str, wanted: int, context: AcquisitionContext) -> int:
    """How many of ``wanted`` calls to ``api`` the context's budget admits (calls, per-API
    calls, and the $ budget at the cost model's per-call estimate)."""
    budget = context.budget
    n = wanted
    if budget.max_calls is not None:
        n = min(n, budget.max_calls)
    per_api = (budget.per_api_max_calls or {}).get(api)
    if per_api is not None:
        n = min(n, per_api)
    estimate = context.costs.estimate_api(api)
    if budget.max_cost is not None and estimate > 0:
        n = min(n, math.floor(budget.max_cost / estimate + 1e-9))
    return max(n, 0)


@register_strategy("rag")
@dataclass
class Rag:
    name: str = "rag"
    description: str = "sparse + dense retrieval with each observed instruction as the query; top-k grows with the item budget"

    async def acquire(self, task: Task, context: AcquisitionContext) -> Acquisition:
        queries = list(task.observed)
        if context.max_items is None:  # no item budget: each query at the run's retrieval_k
            calls = [ApiCall(INFORMATION_RETRIEVAL, {"query": q}, i) for i, q in enumerate(queries)]
            return await run_calls(self.name, task, calls, context)
        queries = queries[: context.max_items]  # more queries than items would only waste fees
        affordable = max(1, min(len(queries), calls_allowed(INFORMATION_RETRIEVAL, len(queries), context)))
        k = math.ceil(max(1, context.max_items) / affordable)  # the executor keeps the first max_items
        # calls past what the budget admits stay in the list: the executor drops them on record
        calls = [ApiCall(INFORMATION_RETRIEVAL, {"query": q, "k": k}, i) for i, q in enumerate(queries)]
        return await run_calls(self.name, task, calls, context)


SELF_INSTRUCT_SCENARIO = "A user gives instructions of the same kind as these examples:\n{examples}"


@register_strategy("self-instruct")
@dataclass
class SelfInstruct:
    name: str = "self-instruct"
    description: str = "the policy writes new instruction-response pairs like the observed ones, as many as the item budget holds"

    async def acquire(self, task: Task, context: AcquisitionContext) -> Acquisition:
        examples = "\n".join(f"- {q}" for q in task.observed)
        n = len(task.observed) if context.max_items is None else context.max_items
        call = ApiCall(DEMONSTRATION_GENERATION, {"scenario": SELF_INSTRUCT_SCENARIO.format(examples=examples), "n": n}, 0)
        return await run_calls(self.name, task, [call] if n > 0 else [], context)


#: how rule-qa writes a question beyond the observed ones: the policy (as Self-Instruct does,
#: the ADS paper's §4.3) writes a new instruction of the same kind as one observed instruction; it sees
#: only observed instructions, never a held-out one
VARIANT_PROMPT = (
    "Here is an instruction a user gave an AI assistant:\n{instruction}\n\n"
    "Write one new, different instruction of the same kind. Reply with the instruction only."
)
VARIANT_MAX_TOKENS = 64


def _normal(text: str) -> str:
    return " ".join(text.lower().split())


def _instruction(text: str) -> str:
    """The instruction in a reply: its first line that is not a preamble ("Here is one:")."""
    for line in text.strip().splitlines():
        cleaned = _first_line(line)
        if cleaned and not cleaned.endswith(":"):
            return cleaned
    return ""


async def instruction_variants(task: Task, n: int, context: AcquisitionContext) -> tuple[list[str], float]:
    """Up to ``n`` new instructions like the observed ones (round-robin over them, seeded), none
    equal to an observed instruction or containing a held-out prompt; and what writing them cost
    at the policy's price, cached calls included (the run-cost convention of ``models/ledger_replay.py``)."""
    if n <= 0 or not task.observed:
        return [], 0.0
    requests = [
        ChatRequest.user(VARIANT_PROMPT.format(instruction=task.observed[i % len(task.observed)]),
                         max_tokens=VARIANT_MAX_TOKENS, temperature=0.8, seed=context.seed + i)
        for i in range(n)
    ]
    with api_scope(QUESTION_ANSWERING):  # the questions' writing is billed to the QA it feeds
        responses = await context.policy.generate(requests)
    seen = {_normal(q) for q in task.observed}
    held_out = [_normal(h) for h in task.held_out]
    variants = []
    for response in responses:
        text = _instruction(response.text) if response.ok else ""
        key = _normal(text)
        if not key or key in seen or any(h and h in key for h in held_out):
            continue
        seen.add(key)
        variants.append(text)
    usage = [c.usage for r in responses for c in r.completions]
    cost = context.policy.price().cost(sum(u.prompt_tokens for u in usage), sum(u.completion_tokens for u in usage))
    return variants, cost


@register_strategy("rule-qa")
@dataclass
class RuleQa:
    name: str = "rule-qa"
    description: str = "one Question Answering call per observed instruction, then per self-instructed variant, up to the item budget"

    async def acquire(self, task: Task, context: AcquisitionContext) -> Acquisition:
        target = len(task.observed) if context.max_items is None else context.max_items
        questions = list(task.observed)[:target]  # no question whose answer the item budget drops
        affordable = calls_allowed(QUESTION_ANSWERING, target, context)
        if affordable > len(questions):
            variants, cost = await instruction_variants(task, affordable - len(questions), context)
            questions += variants
            if context.budget.max_cost is not None:  # writing the variants spent part of the $ budget
                remaining = max(0.0, context.budget.max_cost - cost)
                context = replace(context, budget=replace(context.budget, max_cost=remaining))
        # calls past what the budget admits stay in the list: the executor drops them on record
        calls = [ApiCall(QUESTION_ANSWERING, {"question": q}, i) for i, q in enumerate(questions)]
        return await run_calls(self.name, task, calls, context)
