"""Reward of a trajectory: how the policy taught with its data fares on held-out instructions.

reward = mean over held-out instructions of P(taught policy's answer beats the un-updated
policy's answer), judged in both orders (the ADS paper's reward: win rate against the un-updated policy).
A trajectory that acquired nothing leaves the policy unchanged: its answers *are* the
reference answers, so it scores exactly 0.5 with no judge call (a tie by construction, not by
a judge's verdict). Trajectories whose acquired items are identical share one evaluation.
Evaluations of one trajectory follow one another so engines with prefix caching reuse the
shared acquired-data prefix (the trainer reports prompt tokens sent vs served from that cache).
The embedded engine reuses it only with ``?determinism=fast``: a reused prefix changes
llama.cpp's numerics, so by default every prompt is evaluated afresh, the price of rewards that
a fresh run reproduces exactly (README, "Models": ~0.17x the speed on prefix-sharing requests).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ads_bench.acquisition.items import AcquiredItem
from ads_bench.judging.engine import PairItem, PairwiseJudge
from ads_bench.learning.policy import Policy
from ads_bench.models.client import ChatModel
from ads_bench.models.types import ChatRequest, SamplingParams
from ads_bench.utils.hashing import json_sha256

NO_DATA_REWARD = 0.5


def items_key(items: Sequence[AcquiredItem]) -> str:
    return json_sha256([i.to_dict() for i in items], 16)


@dataclass
class RewardEvaluator:
    """Evaluates one task's trajectories on its held-out instructions, on demand and memoised."""

    task_id: str
    instructions: Sequence[str]
    base: Policy
    judge: ChatModel
    learner: Any
    runtime: Any
    params: SamplingParams
    judge_config: str = "alpaca_eval_2"
    judge_max_tokens: int | None = None
    #: a verified reward (``--reward program:KIND``): a ProgramJudge scores both answers against
    #: ``truths`` (aligned with ``instructions``) and the pairwise rule of
    #: ads_bench.judging.programmatic gives 1, 0.5 or 0; no judge model is asked
    program: Any = None
    truths: Sequence[Any] = ()
    #: None: evaluated here; else where the evaluations run (``optimizer/ray_rewards.py``'s
    #: ``RemoteEvaluation``: ``base_answers()`` and ``score(items, indices)`` as Ray tasks)
    offload: Any = None
    base_answers: list[str | None] = field(default_factory=list)  # None: the policy gave no answer
    _policies: dict[str, Policy] = field(default_factory=dict)
    _scores: dict[tuple[str, int], float | None] = field(default_factory=dict)

    async def prepare(self) -> None:
        """The un-updated policy's answers: every reward is measured against them."""
        if self.offload is not None:
            self.base_answers = await self.offload.base_answers()
            return
        responses = await self.base.model.generate(
            [ChatRequest(tuple(self.base.messages([q])), self.params) for q in self.instructions]
        )
        self.base_answers = [r.text if r.ok else None for r in responses]

    async def _policy(self, items: Sequence[AcquiredItem]) -> Policy:
        key = items_key(items)
        if key not in self._policies:
            self._policies[key] = await self.learner(
                self.base, list(items), runtime=self.runtime, task_id=f"{self.task_id}:{key}"
            )
        return self._policies[key]

    async def evaluate(self, items: Sequence[AcquiredItem], indices: Sequence[int]) -> list[float | None]:
        """P(win vs the un-updated policy) on the given held-out instructions.

        None where the judge failed or either policy gave no answer: a failed call is never
        judged as if it were an empty answer.
        """
        if not items:
            return [NO_DATA_REWARD for _ in indices]
        key = items_key(items)
        missing = [i for i in indices if (key, i) not in self._scores]
        if missing:
            scored = await (self.offload.score(items, missing) if self.offload is not None
                            else self.score(items, missing))
            self._scores.update({(key, i): score for i, score in zip(missing, scored, strict=True)})
        return [self._scores[(key, i)] for i in indices]

    async def score(self, items: Sequence[AcquiredItem], indices: Sequence[int]) -> list[float | None]:
        """Teach the policy with ``items`` (once per evaluator), answer the instructions ``indices``
        and judge each answer against the un-updated policy's; not memoised (:meth:`evaluate` is)."""
        key = items_key(items)
        policy = await self._policy(items)
        # one after another: they share the acquired-data prefix, and an engine with a prefix
        # cache (llama.cpp's slots in fast mode, vLLM) reuses it only for a request that follows
        # on the same slot; trajectories still run concurrently with each other
        responses = []
        for i in indices:
            responses += await policy.model.generate(
                [ChatRequest(tuple(policy.messages([self.instructions[i]])), self.params)]
            )
        answered = [(i, r) for i, r in zip(indices, responses, strict=True)
                    if r.ok and self.base_answers[i] is not None]
        scores: dict[int, float | None] = dict.fromkeys(indices)
        if self.program is not None:
            from ads_bench.judging.programmatic import pairwise_preference

            for i, r in answered:
                truth = self.truths[i]
                scores[i] = pairwise_preference(
                    self.program.score(r.text, truth), self.program.score(self.base_answers[i] or "", truth))
            return [scores[i] for i in indices]
        pairs = [
            PairItem(f"{self.task_id}/{key}/{i}", self.instructions[i], r.text, self.base_answers[i])
            for i, r in answered
        ]
        judge = PairwiseJudge(self.judge, self.judge_config, max_tokens=self.judge_max_tokens)
        for (i, _), judgment in zip(answered, await judge.judge(pairs), strict=True):
            scores[i] = judgment.preference
        return [scores[i] for i in indices]


def reward_evaluator(task_id: str, instructions: Sequence[str], truths: Sequence[Any], config: Any, runtime: Any,
                     base: Policy, judge: ChatModel | None, learner: Any, offload: Any = None) -> RewardEvaluator:
    """A task's evaluator as a training ``config`` (``TrainConfig``) asks for it, built alike on
    the driver and on a Ray worker (``optimizer/ray_rewards.py``)."""
    program = None
    if config.reward:
        from ads_bench.judging.programmatic import parse_program_judge

        program = parse_program_judge(config.reward)
    return RewardEvaluator(
        task_id, instructions, base, judge, learner, runtime,  # type: ignore[arg-type]
        SamplingParams(temperature=0.0, max_tokens=config.max_tokens, seed=config.seed),
        judge_config=config.judge_config, judge_max_tokens=config.judge_max_tokens,
        program=program, truths=truths, offload=offload,
    )
