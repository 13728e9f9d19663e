"""``train --executor ray``: reward evaluations run as Ray tasks; sampling, executing the
trajectories, racing, selection and the SFT/DPO stages stay on the driver, which alone writes
the training folder (the hub, the worker runtime, draining: ``execution/ray_cluster.py``).

The unit is one call the race makes: one trajectory's evaluation on one round's held-out
instructions (teach the policy with its data, answer them, judge each answer against the
un-updated policy's), plus one task per training task for the un-updated policy's answers, which
its K trajectories share. A trajectory's whole evaluation cannot be one task without changing
the race: which instructions it is judged on next (if any) is decided on the driver after each
round from every trajectory's rewards. A round's batch as one task would keep the round's K
trajectories on one worker; one task per trajectory spreads them over the cluster.

Teaching again in each round's task costs ICL nothing (a context); a LoRA learner's adapter is
cached by content on the worker's node (``learning/finetune.py``), so it is trained once per
node. Every model call goes through the driver's response cache via the hub, so the rewards are
the local executor's (the embedded model is exact: any process computes the same bytes) and a
lost worker's retried task bills no call twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ads_bench.acquisition.items import AcquiredItem
from ads_bench.execution.ray_cluster import MAX_RETRIES, RayCluster, worker_runtime
from ads_bench.learning import get_learner
from ads_bench.learning.registry import base_policy
from ads_bench.models.client import Runtime
from ads_bench.models.ledger import PriceTable
from ads_bench.optimizer.rewards import RewardEvaluator, reward_evaluator

#: learners that train a LoRA adapter per reward: a GPU per task where the cluster has one
TRAINING_LEARNERS = ("finetune",)


@dataclass(frozen=True)
class RewardJob:
    """What a worker needs to rebuild a task's evaluator (``config``: the ``TrainConfig``)."""

    task_id: str
    instructions: tuple[str, ...]
    truths: tuple[Any, ...]
    config: Any


async def _evaluator(job: RewardJob, runtime: Runtime) -> RewardEvaluator:
    config = job.config
    base = await base_policy(config.learner, runtime.model(config.policy, role="policy"), runtime)
    judge = None if config.reward else runtime.model(config.judge, role="judge")
    return reward_evaluator(job.task_id, job.instructions, job.truths, config, runtime, base, judge,
                            get_learner(config.learner))


def _in_worker(hub: Any, job: RewardJob, prices: PriceTable, cached: bool,
               body: Callable[[RewardEvaluator], Awaitable[Any]]) -> Any:
    runtime = worker_runtime(hub, job.task_id, prices, cached)

    async def go() -> Any:
        try:
            return await body(await _evaluator(job, runtime))
        finally:
            await runtime.aclose()

    return asyncio.run(go())


def base_answers_task(hub: Any, job: RewardJob, prices: PriceTable, cached: bool) -> list[str | None]:
    """The Ray task: the un-updated policy's answers to the task's held-out instructions."""
    async def body(evaluator: RewardEvaluator) -> list[str | None]:
        await evaluator.prepare()
        return evaluator.base_answers

    return _in_worker(hub, job, prices, cached, body)


def score_task(hub: Any, job: RewardJob, prices: PriceTable, cached: bool, base_answers: list[str | None],
               items: list[AcquiredItem], indices: list[int]) -> list[float | None]:
    """The Ray task: one trajectory's rewards on the held-out instructions ``indices``."""
    async def body(evaluator: RewardEvaluator) -> list[float | None]:
        evaluator.base_answers = list(base_answers)
        return await evaluator.score(items, indices)

    return _in_worker(hub, job, prices, cached, body)


@dataclass
class RayRewards:
    """The driver's side for one iteration: submits to the cluster, with the hub of
    :meth:`RayCluster.streaming`."""

    cluster: RayCluster
    hub: Any
    runtime: Runtime  # the driver's: its prices, and whether the workers share its cache
    _remotes: dict[Any, Any] = field(default_factory=dict)  # each function exported to the cluster once

    def for_task(self, job: RewardJob) -> RemoteEvaluation:
        return RemoteEvaluation(self, job)

    async def submit(self, function: Callable[..., Any], job: RewardJob, *args: Any) -> Any:
        import ray

        if function not in self._remotes:
            # asking for a GPU a cluster lacks would leave the task pending forever
            gpu = job.config.learner in TRAINING_LEARNERS and ray.cluster_resources().get("GPU", 0) >= 1
            self._remotes[function] = ray.remote(function).options(num_cpus=1, num_gpus=1 if gpu else 0,
                                                                   max_retries=MAX_RETRIES)
        remote = self._remotes[function]
        ref = remote.remote(self.hub, job, self.runtime.prices, self.runtime.cache is not None, *args)
        return await self.cluster.result(ref)


@dataclass
class RemoteEvaluation:
    """A :class:`RewardEvaluator`'s ``offload``: its un-updated answers and scores from Ray tasks."""

    rewards: RayRewards
    job: RewardJob
    _base_answers: list[str | None] | None = None

    async def base_answers(self) -> list[str | None]:
        self._base_answers = await self.rewards.submit(base_answers_task, self.job)
        return self._base_answers

    async def score(self, items: Sequence[AcquiredItem], indices: Sequence[int]) -> list[float | None]:
        assert self._base_answers is not None, "base_answers() first (RewardEvaluator.prepare)"
        return await self.rewards.submit(score_task, self.job, self._base_answers, list(items), list(indices))
