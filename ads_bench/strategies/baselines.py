"""The paper's baselines that need no optimizer: none, rule-based QA, RAG, Self-Instruct."""

from __future__ import annotations

from dataclasses import dataclass

from ads_bench.acquisition.items import (
    DEMONSTRATION_GENERATION,
    INFORMATION_RETRIEVAL,
    QUESTION_ANSWERING,
    Acquisition,
)
from ads_bench.acquisition.trajectory import ApiCall
from ads_bench.strategies.base import AcquisitionContext, register_strategy, run_calls
from ads_bench.suites import Task


@register_strategy("none")
@dataclass
class NoAcquisition:
    name: str = "none"
    description: str = "the base policy, taught nothing"

    async def acquire(self, task: Task, context: AcquisitionContext) -> Acquisition:
        return Acquisition(task.id, self.name)


@register_strategy("rule-qa")
@dataclass
class RuleBasedQA:
    name: str = "rule-qa"
    description: str = "one Question Answering call per observed instruction"

    async def acquire(self, task: Task, context: AcquisitionContext) -> Acquisition:
        calls = [ApiCall(QUESTION_ANSWERING, {"question": q}, i) for i, q in enumerate(task.observed)]
        return await run_calls(self.name, task, calls, context)


@register_strategy("rag")
@dataclass
class RetrievalAugmentation:
    name: str = "rag"
    description: str = "sparse + dense retrieval with each observed instruction as the query"

    async def acquire(self, task: Task, context: AcquisitionContext) -> Acquisition:
        calls = [ApiCall(INFORMATION_RETRIEVAL, {"query": q}, i) for i, q in enumerate(task.observed)]
        return await run_calls(self.name, task, calls, context)


SELF_INSTRUCT_SCENARIO = "A user gives instructions of the same kind as these examples:\n{examples}"


@register_strategy("self-instruct")
@dataclass
class SelfInstruct:
    name: str = "self-instruct"
    description: str = "the policy writes new instruction-response pairs like the observed ones"

    async def acquire(self, task: Task, context: AcquisitionContext) -> Acquisition:
        examples = "\n".join(f"- {q}" for q in task.observed)
        n = context.max_items or len(task.observed)
        call = ApiCall(DEMONSTRATION_GENERATION, {"scenario": SELF_INSTRUCT_SCENARIO.format(examples=examples), "n": n}, 0)
        return await run_calls(self.name, task, [call], context)
