"""``--executor ray``: each task's acquire -> learn -> answer chain runs as one Ray task.

The driver (the process that runs the command) stays the only writer of the run folder:

- a :class:`RunHub` actor, pinned to the driver's node, owns the driver's response cache for
  the workers (:class:`HubCache`: ``get``/``get_many``/``put``), so calls made on the cluster
  are in the driver's cache and a rerun on one machine makes none, and the reverse;
- a worker's ledger writes each record (a ``start`` before a call is sent, the ``call`` when it
  returns, fees, retries) to the hub as it happens (:class:`HubSink`), tagged with the worker's
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
import itertools
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ads_bench.acquisition.items import Acquisition
from ads_bench.errors import UserError
from ads_bench.extras import require
from ads_bench.models.cache import ResponseCache
from ads_bench.models.client import Runtime
from ads_bench.models.ledger import PriceTable
from ads_bench.models.types import Completion, SamplingParams
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

#: how often a lost worker's task is run again (Ray retries system failures, not the task's errors)
MAX_RETRIES = 3
#: seconds between drains of the hub while tasks run: how stale ledger.jsonl may be on disk
DRAIN_EVERY_S = 0.5


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


# -- the hub: the driver's side of the cache and of every record a worker makes --------------------
class RunHub:
    """Runs as a Ray actor on the driver's node (see :meth:`RayExecutor._start_hub`)."""

    def __init__(self, cache_path: str | None):
        self.cache = ResponseCache(Path(cache_path)) if cache_path else None
        self.outbox: list[tuple[str, dict[str, Any]]] = []
        self.emitted: dict[str, list[tuple[str, dict[str, Any]]]] = {}

    def get(self, key: str) -> Completion | None:
        return self.cache.get(key) if self.cache else None

    def get_many(self, keys: list[str]) -> dict[str, Completion]:
        return self.cache.get_many(keys) if self.cache else {}

    def put(self, key: str, model: str, completion: Completion) -> None:
        if self.cache:
            self.cache.put(key, model, completion)

    def emit(self, task_id: str, log: str, record: dict[str, Any]) -> None:
        """``log``: ``ledger`` or one of the chain's logs; kept in arrival order for the driver."""
        self.outbox.append((log, record))
        if log != "ledger":
            self.emitted.setdefault(task_id, []).append((log, record))

    def drain(self) -> list[tuple[str, dict[str, Any]]]:
        out, self.outbox = self.outbox, []
        return out

    def progress(self, task_id: str) -> list[tuple[str, dict[str, Any]]]:
        return list(self.emitted.get(task_id, []))


class HubCache:
    """The response cache's interface in a worker, answered by the hub's cache."""

    def __init__(self, hub: Any):
        self.hub = hub

    def get(self, key: str) -> Completion | None:
        import ray

        return ray.get(self.hub.get.remote(key))

    def get_many(self, keys: list[str]) -> dict[str, Completion]:
        import ray

        return ray.get(self.hub.get_many.remote(list(keys))) if keys else {}

    def put(self, key: str, model: str, completion: Completion) -> None:
        import ray

        ray.get(self.hub.put.remote(key, model, completion))  # stored before the call counts as done


class HubSink:
    """A worker ledger's sink (:class:`~ads_bench.models.ledger.LedgerSink`'s interface): each
    record reaches the hub before the worker goes on, so a worker killed mid-task loses none."""

    def __init__(self, hub: Any, task_id: str, node: str):
        self.hub, self.task_id, self.node = hub, task_id, node
        self._prefix = f"w-{uuid.uuid4().hex[:12]}"  # unique per attempt: a retry's ids are new
        self._ids = itertools.count(1)

    def next_call_id(self) -> str:
        return f"{self._prefix}/{next(self._ids)}"

    def write(self, record: dict[str, Any]) -> None:
        import ray

        ray.get(self.hub.emit.remote(self.task_id, "ledger", {**record, "node": self.node, "task": self.task_id}))


def chain_task(chain: Chain, hub: Any, task: Task, prompts: list[Prompt], config: Any, prices: PriceTable,
               cached: bool, state: TaskState, params: SamplingParams, in_house: bool) -> str:
    """The Ray task: one task's chain (``run_chain``, or ``answer_chain`` for ``evaluate``) in a
    worker, with its own runtime on the driver's cache."""
    import ray

    node = ray.get_runtime_context().get_node_id()
    runtime = Runtime(cache=HubCache(hub) if cached else None, prices=prices)  # type: ignore[arg-type]
    runtime.ledger.attach(HubSink(hub, task.id, node))  # type: ignore[arg-type]
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
def check_reachable(address: str, timeout: float = 5.0) -> None:
    """One line, at once, for a ``host:port`` nobody listens on (ray.init would retry for minutes)."""
    if address in ("auto", "local") or "://" in address:
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise UserError(f"Ray address '{address}' is not host:port: pass the address `ray start --head` printed")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise UserError(f"cannot reach the Ray cluster at {address} ({exc.strerror or exc}): start it with "
                        "`ray start --head`, or pass its address with --ray-address") from exc


@dataclass
class RayExecutor:
    """Runs each task's chain on a Ray cluster; ``address``: ``--ray-address``, else ``RAY_ADDRESS``,
    else a Ray instance started on this machine."""

    address: str | None = None
    _started_here: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        require("ray", "the Ray executor (--executor ray)")  # one line before anything runs
        self.address = self.address or os.environ.get("RAY_ADDRESS") or None

    def connect(self) -> None:
        import ray

        if ray.is_initialized():  # a driver already connected (a test's cluster, a notebook)
            return
        if self.address:
            check_reachable(self.address)
        try:
            ray.init(address=self.address, log_to_driver=False, logging_level=logging.WARNING,
                     **({} if self.address else {"include_dashboard": False}))
        except ConnectionError as exc:
            raise UserError(f"cannot connect to the Ray cluster at {self.address} ({exc}): start it with "
                            "`ray start --head`, or pass its address with --ray-address") from exc
        self._started_here = True

    def close(self) -> None:
        import ray

        if self._started_here and ray.is_initialized():
            ray.shutdown()
            self._started_here = False

    def _start_hub(self, runtime: Runtime) -> Any:
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        here = ray.get_runtime_context().get_node_id()
        actor = ray.remote(RunHub).options(  # on the driver's node, where its cache file is; no CPU
            num_cpus=0, scheduling_strategy=NodeAffinitySchedulingStrategy(here, soft=False))
        return actor.remote(str(runtime.cache.path) if runtime.cache is not None else None)

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

        hub = self._start_hub(runtime)
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

        try:
            while pending:
                done, pending = await asyncio.to_thread(ray.wait, pending, num_returns=1, timeout=DRAIN_EVERY_S)
                write(ray.get(hub.drain.remote()))  # a finished task's records are all in the hub by now
                for ref in done:
                    try:
                        ray.get(ref)
                    except ray.exceptions.RayTaskError as exc:  # the task's own error, as the local path raises it
                        cause = getattr(exc, "cause", None)
                        raise (cause if isinstance(cause, Exception) else exc) from None
                    except ray.exceptions.RayError as exc:  # its worker died more often than Ray retries
                        raise UserError(f"a Ray task failed {MAX_RETRIES + 1} times ({exc.__class__.__name__}): "
                                        "check the cluster (`ray status`) and rerun the command to resume") from exc
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)
            write(ray.get(hub.drain.remote()))  # the billing of whatever ran, even on an error
            ray.kill(hub)
