"""What a strategy gets to work with, and the registry that names strategies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from ads_bench.acquisition.api_implementations import AcquisitionApi
from ads_bench.acquisition.costs import CostModel
from ads_bench.acquisition.executor import execute_calls
from ads_bench.acquisition.items import Acquisition
from ads_bench.acquisition.trajectory import ApiCall, Budget, Trajectory
from ads_bench.errors import UserError
from ads_bench.models.client import ChatModel, Runtime
from ads_bench.registry import Registry
from ads_bench.suites import Task
from ads_bench.suites.held_out_guard import check_observed_ready, guard_request


@dataclass
class AcquisitionContext:
    """Everything a strategy may use for one run: models by role, the APIs, costs and budgets."""

    runtime: Runtime
    policy: ChatModel
    expert: ChatModel
    apis: dict[str, AcquisitionApi]
    costs: CostModel
    budget: Budget = field(default_factory=Budget)
    max_items: int | None = None
    optimizer: ChatModel | None = None
    optimizer_temperature: float = 0.0
    optimizer_max_tokens: int = 512
    # "schema": engines that can constrain decoding hold the optimizer to the trajectory schema;
    # "free": it writes what it likes and the tolerant parser reads what it can
    optimizer_format: str = "schema"
    seed: int = 0


class Strategy(Protocol):
    name: str
    description: str

    async def acquire(self, task: Task, context: AcquisitionContext) -> Acquisition: ...


async def run_calls(
    name: str, task: Task, calls: list[ApiCall], context: AcquisitionContext, trajectory: Trajectory | None = None
) -> Acquisition:
    """Execute ``calls`` under the context's budget; dropped calls join the trajectory's record.
    A call whose arguments hold one of the task's held-out prompts aborts the run (the guard)."""
    check_observed_ready(task)
    for call in calls:
        guard_request(task, f"the {call.api} API", call.args)
    outcomes, dropped = await execute_calls(
        calls, context.apis, context.costs, budget=context.budget, max_items=context.max_items,
        ledger=context.runtime.ledger,
    )
    if trajectory is not None:
        trajectory.dropped.extend(dropped)
    else:
        trajectory = Trajectory(calls=list(calls), dropped=dropped)
    return Acquisition(task.id, name, outcomes, trajectory, trajectory.error)


#: strategies by name: a registered factory (class or function) builds a fresh one per run
STRATEGIES = Registry("strategies")


def register_strategy(name: str) -> Callable:
    """Decorator: ``@register_strategy("my-strategy")`` over a class or zero-argument factory."""
    return STRATEGIES.register(name)


def strategy_names() -> list[str]:
    return STRATEGIES.names()


def get_strategy(name: str) -> Strategy:
    if name not in STRATEGIES:
        raise UserError(f"unknown strategy '{name}': choose one of {', '.join(strategy_names())}")
    return STRATEGIES.load(name)()
