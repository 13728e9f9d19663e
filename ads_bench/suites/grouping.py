"""Task grouping variants, for the reviewers' robustness question: do results survive when tasks
are random bags of instructions instead of careful clusters?"""

from __future__ import annotations

import random
from collections.abc import Sequence

from ads_bench.suites._split import split_instructions, stable_seed
from ads_bench.suites._task import Task

GROUPINGS = ("careful", "random")


def random_grouping(tasks: Sequence[Task], seed: int = 0) -> list[Task]:
    """The same instructions dealt into tasks of the same sizes at random (seeded), each split
    again with its original number of observed instructions. References and turns are dropped:
    they belonged to the careful tasks."""
    pool = [text for task in tasks for text in task.instructions]
    random.Random(stable_seed(seed, "random-grouping")).shuffle(pool)
    regrouped, start = [], 0
    for task in tasks:
        size = len(task.instructions)
        texts = pool[start : start + size]
        start += size
        observed, held_out = split_instructions(texts, n_observed=len(task.observed), seed=seed, key=task.id)
        regrouped.append(
            Task(f"{task.id}~random", task.suite, "random", observed, held_out,
                 metadata={**task.metadata, "grouping": "random", "cluster": f"{task.id}~random"})
        )
    return regrouped
