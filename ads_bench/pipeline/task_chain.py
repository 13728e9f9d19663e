"""One task's acquire -> learn -> answer chain, as a unit an executor can run in any process.

The local executor (``pipeline/run.py``) runs these stages over all tasks at once, so engines
batch across tasks; the Ray executor (``pipeline/ray_executor.py``) runs this chain once per task
on a worker. The chain writes nothing: every record it finishes goes to ``emit(log, record)``
the moment it is finished, the same records the local path appends to the run folder's logs
(``acquisitions``, ``policies``, ``answers``, ``reference_answers``), and the caller decides
where they land. What a task already has (:class:`TaskState`) is skipped, so a chain resumes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ads_bench.acquisition.items import Acquisition
from ads_bench.learning import get_learner
from ads_bench.learning.policy import Policy
from ads_bench.learning.registry import base_policy
from ads_bench.models.client import Runtime
from ads_bench.models.ledger import fee_scope
from ads_bench.models.types import SamplingParams
from ads_bench.pipeline.answering import answer_prompts, usable_answers
from ads_bench.pipeline.prompts import Prompt
from ads_bench.strategies import OPTIMIZER_STRATEGIES, get_strategy
from ads_bench.strategies.acquisition_setup import acquisition_context
from ads_bench.suites import Task

#: learners that train (CPU/GPU-bound): run one task at a time locally, ask a GPU on Ray
TRAINING_LEARNERS = ("finetune", "source-finetune")
#: the run folder's logs a chain produces records for, in the order it produces them
CHAIN_LOGS = ("acquisitions", "policies", "answers", "reference_answers")

Emit = Callable[[str, dict[str, Any]], None]


@dataclass
class TaskState:
    """What a task already has: records from the run folder's logs or from an earlier attempt."""

    acquisition: dict[str, Any] | None = None
    taught: bool = False
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # usable records by prompt id
    reference_answers: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, log: str, record: dict[str, Any]) -> None:
        """Fold one emitted record in (a later record for a prompt supersedes an earlier one)."""
        if log == "acquisitions":
            self.acquisition = record
        elif log == "policies":
            self.taught = True
        elif log in ("answers", "reference_answers"):
            answers = getattr(self, log)
            answers.pop(record["id"], None)
            answers.update(usable_answers({record["id"]: record}))

    def complete(self, prompts: Sequence[Prompt], in_house: bool, answers_only: bool = False) -> bool:
        """Nothing left to compute: acquired, taught, and every prompt answered (twice in-house);
        ``answers_only``: an evaluation's chain, which only answers."""
        ids = {p.id for p in prompts}
        if answers_only:
            return ids <= set(self.answers)
        return (self.acquisition is not None and self.taught and ids <= set(self.answers)
                and (not in_house or ids <= set(self.reference_answers)))


def task_states(task_ids: Sequence[str], logs: Mapping[str, Mapping[str, dict[str, Any]]],
                prompt_task: Mapping[str, str]) -> dict[str, TaskState]:
    """Each task's state from the run folder's log indexes (``logs[name]``: records by id);
    ``prompt_task``: the task each prompt id belongs to."""
    states = {task_id: TaskState() for task_id in task_ids}
    for name in CHAIN_LOGS:
        for record_id, record in logs.get(name, {}).items():
            task_id = record_id if name in ("acquisitions", "policies") else prompt_task.get(record_id)
            if task_id in states:
                states[task_id].add(name, record)
    return states


def policy_record(task_id: str, learner: str, policy: Policy) -> dict[str, Any]:
    """The ``policies.jsonl`` line for a taught task."""
    return {"id": task_id, "learner": learner, "policy": policy.label, "context_sha": policy.context_sha,
            "context": policy.context, "details": policy.details}


class EmittingLog:
    """What :func:`answer_prompts` needs of a log (``index``, ``append``), kept in memory, each
    appended record emitted at once."""

    def __init__(self, name: str, records: Mapping[str, dict[str, Any]], emit: Emit):
        self.name, self._records, self._emit = name, dict(records), emit

    def index(self) -> dict[str, dict[str, Any]]:
        return dict(self._records)

    def append(self, record: dict[str, Any]) -> None:
        self._records[record["id"]] = record
        self._emit(self.name, record)


async def run_chain(task: Task, prompts: Sequence[Prompt], config: Any, runtime: Runtime, state: TaskState,
                    params: SamplingParams, in_house: bool, emit: Emit) -> None:
    """Acquire (unless acquired), teach, answer ``prompts`` with the taught policy and, for an
    in-house suite, with the un-updated one; ``config``: the run's ``RunConfig``."""
    if state.acquisition is None:
        optimizer = (runtime.model(config.optimizer, role="optimizer")
                     if config.strategy in OPTIMIZER_STRATEGIES and config.optimizer else None)
        context = acquisition_context(config, runtime, optimizer=optimizer,
                                      optimizer_temperature=config.optimizer_temperature)
        with fee_scope(task.id):  # a task acquired again (a retried worker) counts its fees once
            acquisition = await get_strategy(config.strategy).acquire(task, context)
        emit("acquisitions", acquisition.to_dict())
    else:
        acquisition = Acquisition.from_dict(state.acquisition)
    base = await base_policy(config.learner, runtime.model(config.policy, role="policy"), runtime)
    policy = await get_learner(config.learner)(base, acquisition.items, runtime=runtime, task_id=task.id)
    if not state.taught:
        emit("policies", policy_record(task.id, config.learner, policy))
    await answer_prompts(policy, prompts, EmittingLog("answers", state.answers, emit), params,
                         extra={"strategy": config.strategy})
    if in_house:
        await answer_prompts(base, prompts, EmittingLog("reference_answers", state.reference_answers, emit), params)


async def answer_chain(task: Task, prompts: Sequence[Prompt], config: Any, runtime: Runtime, state: TaskState,
                       params: SamplingParams, in_house: bool, emit: Emit) -> None:
    """``evaluate``'s chain: the model answers the task's prompts (nothing acquired or taught);
    ``config``: the evaluation's ``EvalConfig``."""
    policy = Policy(runtime.model(config.model, role="policy"))
    await answer_prompts(policy, prompts, EmittingLog("answers", state.answers, emit), params)
