"""``--executor ray``: each task's acquire -> learn -> answer chain runs as one Ray task
(the hub, the worker runtime and the drain loop: ``execution/ray_cluster.py``).

The driver (the process that runs the command) stays the only writer of the run folder:

- a ``RunHub`` actor (``execution/ray_cluster.py``, as are ``HubCache`` and ``HubSink``), pinned to the driver's node, owns the driver's response cache for
  the workers (``HubCache``: ``get``/``get_many``/``put``), so calls made on the cluster
  are in the driver's cache and a rerun on one machine makes none, and the reverse;
- a worker's ledger writes each record (a ``start`` before a call is sent, the ``call`` when it
  returns, fees, retries) to the hub as it happens (``HubSink``), tagged with the worker's
  ``node`` and the ``task`` it ran; so does the chain with each record it finishes (acquisition, policy, answers);
- the driver drains the hub while it waits on the tasks (``ray.wait``) and appends what it
  drains to ``ledger.jsonl`` and the stage logs exactly as the local path does, so a killed run
  resumes the same way whichever executor ran it.

A task whose worker dies is retried by Ray (``max_retries``). The retry starts from what the
hub already holds for its task (an acquisition is not made, nor its fees paid, again), and every
call the lost worker finished is a cache hit: no call is billed twice. A call in flight when the
worker died shows as *unconfirmed* in the ledger, as a killed local run's does.

Judging and scoring stay on the driver (``pipeline/run.py``). ``evaluate`` uses the same
machinery with a chain that only answers (``task_chain.answer_chain``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ads_bench.acquisition.items import Acquisition
from ads_bench.execution.ray_cluster import MAX_RETRIES, RayCluster, worker_runtime
from ads_bench.models.client import Runtime
from ads_bench.models.ledger import PriceTable
from ads_bench.models.types import SamplingParams
from ads_bench.pipeline.answering import usable_answers
from ads_bench.pipeline.prompts import Prompt
from ads_bench.pipeline.task_chain import (
    CHAIN_LOGS,
    TRAINING_LEARNERS,
    TaskState,
    answer_chain,
    run_chain,
    task_states,
)
from ads_bench.progress import progress_bar
from ads_bench.store.run_folder import RunFolder
from ads_bench.suites import Task

Chain = Callable[..., Awaitable[None]]  # task_chain.run_chain's signature


def chain_resources(learner: str, cluster: Mapping[str, float]) -> dict[str, float]:
    """What one task's chain asks of the cluster: a CPU, and a GPU for a LoRA learner where the
    cluster has one (asking for a GPU a cluster lacks would leave the task pending forever)."""
    gpu = learner in TRAINING_LEARNERS and cluster.get("GPU", 0) >= 1
    return {"num_cpus": 1, "num_gpus": 1 if gpu else 0}


def merge_progress(state: TaskState, emitted: Sequence[tuple[str, dict[str, Any]]]) -> TaskState:
    """A task's state from the run folder plus what an earlier attempt of it already emitted."""
    for log, record in emitted:
        state.add(log, record)
    return state


def chain_task(chain: Chain, hub: Any, task: Task, prompts: list[Prompt], config: Any, prices: PriceTable,
               cached: bool, state: TaskState, params: SamplingParams, in_house: bool) -> str:
    """The Ray task: one task's chain (``run_chain``, or ``answer_chain`` for ``evaluate``) in a
    worker, with its own runtime on the driver's cache."""
    import ray

    runtime = worker_runtime(hub, task.id, prices, cached)
    state = merge_progress(state, ray.get(hub.progress.remote(task.id)))

    def emit(log: str, record: dict[str, Any]) -> None:
        ray.get(hub.emit.remote(task.id, log, record))

    async def go() -> None:
        try:
            await chain(task, prompts, config, runtime, state, params, in_house, emit)
        finally:
            await runtime.aclose()

    asyncio.run(go())
    return task.id


# -- the driver -------------------------------------------------------------------------------
@dataclass
class RayExecutor(RayCluster):
    """Runs each task's chain on a Ray cluster (:class:`RayCluster`: where, and how to connect)."""

    async def run_chains(
        self, tasks: Sequence[Task], prompts: Sequence[Prompt], config: Any, runtime: Runtime, folder: RunFolder,
        params: SamplingParams, in_house: bool, console: Any = None, answers_only: bool = False,
    ) -> tuple[dict[str, Acquisition], dict[str, dict[str, Any]], dict[str, list[str]] | None]:
        """Every task's chain on the cluster; returns what the local stages return: the
        acquisitions, the taught policy's usable answers and (in-house) the reference answers.
        ``answers_only``: ``evaluate``'s chains (``config`` an ``EvalConfig``), which only answer."""
        self.connect()
        logs = {name: folder.log(name) for name in CHAIN_LOGS}
        by_task: dict[str, list[Prompt]] = {}
        for prompt in prompts:
            by_task.setdefault(prompt.task_id, []).append(prompt)
        states = task_states([t.id for t in tasks], {name: log.index() for name, log in logs.items()},
                             {p.id: p.task_id for p in prompts})
        todo = [t for t in tasks if not states[t.id].complete(by_task.get(t.id, []), in_house, answers_only)]
        total = len(prompts) * (2 if in_house else 1)
        label = (f"answering on Ray ({len(todo)} tasks)" if answers_only else
                 f"{config.strategy}, {config.learner} and answering on Ray ({len(todo)} tasks)")
        with progress_bar(label, total, runtime.ledger, console) as advance:
            advance(sum(len(states[t.id].answers) + len(states[t.id].reference_answers) for t in tasks))
            if todo:
                chain = answer_chain if answers_only else run_chain
                await self._run(chain, todo, by_task, states, config, runtime, params, in_house, logs, advance)
        acquisitions = {task_id: Acquisition.from_dict(r) for task_id, r in logs["acquisitions"].index().items()}
        answers = usable_answers(logs["answers"].index())
        references = ({pid: r["answers"] for pid, r in usable_answers(logs["reference_answers"].index()).items()}
                      if in_house else None)
        return acquisitions, answers, references

    async def _run(self, chain: Chain, todo: Sequence[Task], by_task: Mapping[str, list[Prompt]], states: Mapping[str, TaskState],
                   config: Any, runtime: Runtime, params: SamplingParams, in_house: bool, logs: Mapping[str, Any],
                   advance: Callable[..., None]) -> None:
        import ray

        hub = self.start_hub(runtime)
        learner = getattr(config, "learner", "icl")  # an evaluation trains nothing
        remote = ray.remote(chain_task).options(**chain_resources(learner, ray.cluster_resources()),
                                                max_retries=MAX_RETRIES)
        pending = [remote.remote(chain, hub, task, by_task.get(task.id, []), config, runtime.prices,
                                 runtime.cache is not None, states[task.id], params, in_house) for task in todo]

        def write(drained: list[tuple[str, dict[str, Any]]]) -> None:
            for log, record in drained:
                if log == "ledger":
                    runtime.ledger.absorb(record)
                else:
                    logs[log].append(record)
                    if log in ("answers", "reference_answers") and not record.get("failed"):
                        advance()

        await self.drain_until_done(pending, hub, write)
