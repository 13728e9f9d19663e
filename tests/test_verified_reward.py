"""Training on a verified reward (``train --reward program:KIND``): the reward of a trajectory is
the programmatic pairwise outcome against the un-updated policy, with no judge model."""

from __future__ import annotations

import dataclasses

import pytest

from ads_bench.acquisition.items import AcquiredItem
from ads_bench.errors import UserError
from ads_bench.judging.programmatic import parse_program_judge
from ads_bench.learning.policy import Policy
from ads_bench.models.types import ChatResponse, Completion, SamplingParams
from ads_bench.optimizer.rewards import RewardEvaluator
from ads_bench.optimizer.trainer import TrainConfig, task_view
from ads_bench.suites import load_suite


class ContextEcho:
    """A unit-test double for the policy: answers 1879 when taught (a system message), else 1700."""

    label = "double"

    async def generate(self, requests):
        return [ChatResponse(r, [Completion("1879" if r.messages[0]["role"] == "system" else "1700")])
                for r in requests]


async def _learner(base, items, **_):
    return Policy(base.model, context="taught: " + ";".join(i.content for i in items))


async def test_the_reward_is_the_programmatic_pairwise_outcome_and_no_judge_is_asked():
    truths = [{"answer": "1879", "answer_type": "year"}, {"answer": "1700", "answer_type": "year"}]
    evaluator = RewardEvaluator("t", ["When was A born?", "When was B born?"], Policy(ContextEcho()),
                                judge=None, learner=_learner, runtime=None, params=SamplingParams(),
                                program=parse_program_judge("program:numeric"), truths=truths)
    await evaluator.prepare()
    items = [AcquiredItem("information_retrieval", "document", "A", "A (1879-1955)", 0, "A")]
    assert await evaluator.evaluate(items, [0, 1]) == [1.0, 0.0]  # taught right / taught wrong
    assert await evaluator.evaluate([], [0, 1]) == [0.5, 0.5]  # nothing acquired: a tie by construction


def test_a_task_with_truth_keeps_its_article_split_in_every_iteration():
    [task] = load_suite("wikifacts-train", limit=1).tasks
    config = TrainConfig(suite="wikifacts-train", reward="program:numeric", max_held_out=3)
    for iteration in (0, 1):
        view = task_view(task, config, iteration)
        assert view.observed == task.observed and view.held_out == task.held_out[:3]
        assert view.metadata["truth"][:3] == task.metadata["truth"][:3]


def test_the_reward_is_checked_at_once_and_absent_from_a_judged_trainings_identity():
    with pytest.raises(UserError, match="program:"):
        TrainConfig(reward="program:bleu")
    assert "reward" not in TrainConfig().to_dict()  # older train folders keep their digest
    assert dataclasses.replace(TrainConfig(), reward="program:exact").to_dict()["reward"] == "program:exact"
