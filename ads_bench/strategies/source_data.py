"""``source-finetune``: the paper's "fine-tuned on source dataset" baseline (Appendix F).

It acquires nothing for the task: its learner, also ``source-finetune``
(``learning/source_finetune.py``), fine-tunes the policy on the in-house training pool's
instruction–response pairs. The acquisition record says which data that is, so a run folder
shows it beside every task; the two run only as a pair (``pipeline/preflight.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ads_bench.acquisition.items import Acquisition
from ads_bench.acquisition.trajectory import Trajectory
from ads_bench.learning.source_pool import pool_description, training_pool_pairs
from ads_bench.strategies.base import AcquisitionContext, register_strategy
from ads_bench.suites import Task

SOURCE_FINETUNE = "source-finetune"


@register_strategy(SOURCE_FINETUNE)
@dataclass
class SourceFinetune:
    name: str = SOURCE_FINETUNE
    description: str = ("no acquisition: the policy is LoRA-fine-tuned on the in-house training pool "
                        "(paper, Appendix F; use with --learner source-finetune)")

    async def acquire(self, task: Task, context: AcquisitionContext) -> Acquisition:
        summary = training_pool_pairs().summary
        return Acquisition(task.id, self.name, trajectory=Trajectory(analysis=pool_description(summary)))


def check_source_pairing(strategy: str, learner: str) -> None:
    """The strategy acquires nothing and the learner ignores acquired data: apart, each would
    measure nothing (or waste an acquisition), so they run as a pair or not at all."""
    from ads_bench.errors import UserError

    if not valid_pair(strategy, learner):
        raise UserError(f"{SOURCE_FINETUNE} is a strategy/learner pair: run it with --strategy {SOURCE_FINETUNE} "
                        f"--learner {SOURCE_FINETUNE} (got --strategy {strategy} --learner {learner})")


def valid_pair(strategy: str, learner: str) -> bool:
    """Whether a sweep grid's (strategy, learner) combination is one to run: a grid that crosses
    [none, rule-qa, source-finetune] with [icl, finetune, source-finetune] runs the pairs that
    mean something and skips the rest (the sweep says which)."""
    return (strategy == SOURCE_FINETUNE) == (learner == SOURCE_FINETUNE)
