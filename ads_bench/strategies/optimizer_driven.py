"""Strategies where an optimizer model writes the trajectory: prompting, ADS and its ablations.

``prompting`` is the untrained optimizer (the paper's iteration-0 baseline); ``ads`` is a trained
optimizer checkpoint (``--optimizer hf:...?adapter=...``, or the one ``ads-bench train`` last
produced); ``ir-only``, ``demo-only`` and ``qa-only`` are ADS restricted to one API — the
optimizer is told about that API only, and any other call it writes is dropped and recorded.
Which optimizer that is — the all-API one restricted at inference, or one trained with that API
alone (``ads-bench train --apis ir``) — the run records (``optimizer/provenance.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ads_bench.acquisition.items import (
    DEMONSTRATION_GENERATION,
    INFORMATION_RETRIEVAL,
    QUESTION_ANSWERING,
    Acquisition,
)
from ads_bench.acquisition.trajectory import (
    API_NAMES,
    Trajectory,
    optimizer_messages,
    parse_trajectory,
    restrict_apis,
)
from ads_bench.acquisition.trajectory.schema import trajectory_schema_text
from ads_bench.models.types import ChatRequest, SamplingParams
from ads_bench.strategies.base import AcquisitionContext, register_strategy, run_calls
from ads_bench.suites import Task
from ads_bench.suites.held_out_guard import check_observed_ready, guard_request


def optimizer_request(task: Task, context: AcquisitionContext, allowed: tuple[str, ...], sample_seed: int | None = None,
                      n: int = 1) -> ChatRequest:
    check_observed_ready(task)  # a one-prompt task whose observed set is not built: say how to build it
    messages = optimizer_messages(
        task.observed, {api: context.costs.estimate_api(api) for api in allowed}, context.budget, allowed
    )
    params = SamplingParams(
        temperature=context.optimizer_temperature,
        max_tokens=context.optimizer_max_tokens,
        seed=context.seed if sample_seed is None else sample_seed,
        n=n,
        json_schema=(trajectory_schema_text(allowed, context.budget.max_calls)
                     if context.optimizer_format == "schema" else None),
    )
    guard_request(task, "the optimizer", messages)  # the held-out guard (ads_bench/suites/held_out_guard.py)
    return ChatRequest(tuple(messages), params, metadata={"task": task.id})


def parse_for(text: str, context: AcquisitionContext, allowed: tuple[str, ...]) -> Trajectory:
    trajectory = parse_trajectory(text, budget=None)
    if set(allowed) != set(API_NAMES):
        trajectory = restrict_apis(trajectory, allowed)
    return trajectory


@dataclass
class OptimizerStrategy:
    name: str
    description: str
    allowed: tuple[str, ...] = API_NAMES

    async def acquire(self, task: Task, context: AcquisitionContext) -> Acquisition:
        if context.optimizer is None:
            raise ValueError(f"strategy '{self.name}' needs an optimizer model")
        [response] = await context.optimizer.generate([optimizer_request(task, context, self.allowed)])
        if not response.ok:
            return Acquisition(task.id, self.name, error=f"optimizer call failed: {response.error}")
        trajectory = parse_for(response.text, context, self.allowed)
        return await run_calls(self.name, task, trajectory.calls, context, trajectory)


register_strategy("prompting")(
    lambda: OptimizerStrategy("prompting", "an untrained optimizer writes the trajectory (iteration 0)")
)
register_strategy("ads")(
    lambda: OptimizerStrategy("ads", "a trained ADS optimizer writes the trajectory (all APIs)")
)
register_strategy("ir-only")(
    lambda: OptimizerStrategy("ir-only", "ADS restricted to Information Retrieval", (INFORMATION_RETRIEVAL,))
)
register_strategy("demo-only")(
    lambda: OptimizerStrategy("demo-only", "ADS restricted to Demonstration Generation", (DEMONSTRATION_GENERATION,))
)
register_strategy("qa-only")(
    lambda: OptimizerStrategy("qa-only", "ADS restricted to Question Answering", (QUESTION_ANSWERING,))
)
