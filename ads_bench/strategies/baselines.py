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


@dataclass
class OneCallPerObserved:
    """One call to ``api`` per observed instruction, the instruction as its ``arg``."""

    name: str
    description: str
    api: str
    arg: str

    async def acquire(self, task: Task, context: AcquisitionContext) -> Acquisition:
        calls = [ApiCall(self.api, {self.arg: q}, i) for i, q in enumerate(task.observed)]
        return await run_calls(self.name, task, calls, context)


register_strategy("rule-qa")(lambda: OneCallPerObserved(
    "rule-qa", "one Question Answering call per observed instruction", QUESTION_ANSWERING, "question"))
register_strategy("rag")(lambda: OneCallPerObserved(
    "rag", "sparse + dense retrieval with each observed instruction as the query", INFORMATION_RETRIEVAL, "query"))


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
