"""A reward never judges a failed answer as if the policy had answered with an empty string."""

import sys
from pathlib import Path

from ads_bench.acquisition.items import AcquiredItem
from ads_bench.learning import get_learner
from ads_bench.learning.policy import Policy
from ads_bench.models import Runtime
from ads_bench.models.types import SamplingParams
from ads_bench.optimizer.rewards import RewardEvaluator

sys.path.insert(0, str(Path(__file__).parent))
from openai_server import FaultPlan, serve  # noqa: E402


async def test_an_instruction_whose_reference_answer_failed_scores_none_and_is_not_judged(tmp_path):
    # the first request to arrive is one of the un-updated policy's two answers: empty content cut
    # by length, and no retries, so that call fails (which of the two arrives first is up to the
    # event loop)
    with serve(FaultPlan.parse("1:empty_length")) as server:
        runtime = Runtime.create(cache_path=tmp_path / "cache.sqlite3")
        policy = runtime.model(server.spec(max_retries=0, context_window=4096), role="policy")
        judge = runtime.model(server.spec(), role="judge")
        evaluator = RewardEvaluator(
            task_id="t", instructions=["Name a colour.", "Name a fruit."], base=Policy(policy),
            judge=judge, learner=get_learner("icl"), runtime=runtime,
            params=SamplingParams(max_tokens=8, seed=0),
        )
        await evaluator.prepare()
        [failed] = [i for i, answer in enumerate(evaluator.base_answers) if answer is None]
        answered = 1 - failed
        assert evaluator.base_answers[answered]
        items = [AcquiredItem(api="QA", kind="answer", prompt="Which colour?", content="Blue.")]
        rewards = await evaluator.evaluate(items, [0, 1])
    assert rewards[failed] is None
    assert rewards[answered] is not None and 0.0 <= rewards[answered] <= 1.0
    assert runtime.ledger.total(role="judge").calls == 2  # instruction 1 in both orders only
