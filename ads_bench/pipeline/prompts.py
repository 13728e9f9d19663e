"""The unit of answering and judging: one held-out prompt of one task, with its turns."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ads_bench.judging.configs import default_judge
from ads_bench.suites import Task


@dataclass(frozen=True)
class Prompt:
    id: str  # "<task id>#<held-out index>": stable across reruns
    task_id: str
    category: str
    turns: tuple[str, ...]
    reference: tuple[str, ...] | None
    cluster: str
    judge_mode: str
    reference_guided: bool
    judge: str  # the judge config the suite asks for (see judging.configs.default_judge)
    #: the known answer, for suites that have one (wikifacts: task metadata ``truth``, aligned
    #: with held_out): what a programmatic judge checks (ads_bench.judging.programmatic)
    truth: dict[str, Any] | None = field(default=None, compare=False, hash=False)

    @property
    def instruction(self) -> str:
        return self.turns[0]


def prompts_of(tasks: Iterable[Task]) -> list[Prompt]:
    prompts = []
    for task in tasks:
        cluster = str(task.metadata.get("cluster") or task.id)
        truths = task.metadata.get("truth") or []
        for index in range(len(task.held_out)):
            prompts.append(
                Prompt(
                    id=f"{task.id}#{index}",
                    task_id=task.id,
                    category=task.category,
                    turns=task.conversation(index),
                    reference=task.reference(index),
                    cluster=cluster,
                    judge_mode=task.judge_mode,
                    reference_guided=task.reference_guided,
                    judge=default_judge(task.judge_mode, task.metadata.get("judge_prompts")),
                    truth=truths[index] if index < len(truths) else None,
                )
            )
    return prompts
