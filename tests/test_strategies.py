"""Strategies: what each baseline asks the APIs for, under budgets, with test-double APIs."""

import pytest

from ads_bench.acquisition.costs import CostModel
from ads_bench.acquisition.items import AcquiredItem, CallOutcome
from ads_bench.acquisition.trajectory import Budget
from ads_bench.errors import UserError
from ads_bench.models import Runtime
from ads_bench.strategies import AcquisitionContext, get_strategy, strategy_names
from ads_bench.suites import Task

TASK = Task("t1", "toy", "poems", ("Write a haiku about rain.", "Write a limerick about a cat."), ("Write an ode.",))


class RecordingApi:
    def __init__(self, name):
        self.name = name
        self.calls = []

    async def run(self, call):
        self.calls.append(call)
        return CallOutcome(call, [AcquiredItem(self.name, "answer", str(call.args), "data", call.position)], 0.01)


class ScriptedOptimizer:
    """Returns a fixed trajectory text (a unit-test double for the optimizer model)."""

    def __init__(self, text):
        self.text = text
        self.requests = []

    async def generate(self, requests):
        from ads_bench.models.types import ChatResponse, Completion

        self.requests.extend(requests)
        return [ChatResponse(r, [Completion(self.text)]) for r in requests]


def context(optimizer=None, **kwargs):
    apis = {name: RecordingApi(name) for name in ("information_retrieval", "demonstration_generation", "question_answering")}
    runtime = Runtime.create(use_cache=False)
    return AcquisitionContext(runtime=runtime, policy=None, expert=None, apis=apis, costs=CostModel(),
                              optimizer=optimizer, **kwargs), apis


def test_every_strategy_the_paper_reports_is_registered():
    assert set(strategy_names()) >= {"none", "prompting", "rule-qa", "rag", "self-instruct", "ir-only",
                                     "demo-only", "qa-only", "ads"}
    with pytest.raises(UserError, match="choose one of"):
        get_strategy("magic")


async def test_none_acquires_nothing():
    ctx, apis = context()
    acquisition = await get_strategy("none").acquire(TASK, ctx)
    assert acquisition.items == [] and not any(api.calls for api in apis.values())


async def test_rule_qa_asks_the_expert_each_observed_instruction():
    ctx, apis = context()
    acquisition = await get_strategy("rule-qa").acquire(TASK, ctx)
    assert [c.args["question"] for c in apis["question_answering"].calls] == list(TASK.observed)
    assert acquisition.api_counts() == {"question_answering": 2}


async def test_rag_queries_with_each_observed_instruction():
    ctx, apis = context()
    await get_strategy("rag").acquire(TASK, ctx)
    assert [c.args["query"] for c in apis["information_retrieval"].calls] == list(TASK.observed)


async def test_self_instruct_asks_the_policy_for_pairs_like_the_observed_ones():
    ctx, apis = context(max_items=5)
    await get_strategy("self-instruct").acquire(TASK, ctx)
    [call] = apis["demonstration_generation"].calls
    assert call.args["n"] == 5 and "haiku about rain" in call.args["scenario"]


async def test_an_equal_budget_caps_every_baseline_alike():
    ctx, apis = context(budget=Budget(max_calls=1))
    acquisition = await get_strategy("rule-qa").acquire(TASK, ctx)
    assert len(apis["question_answering"].calls) == 1
    assert [d.reason for d in acquisition.trajectory.dropped] == ["over budget: max_calls"]


TRAJECTORY = """```json
{"analysis": "needs forms", "self_reflection": "forgets meter",
 "calls": [{"api": "QA", "args": {"question": "What is a haiku?"}},
           {"api": "search", "args": {"query": "limerick"}},
           {"api": "demo", "args": {"scenario": "odes", "n": 2}},]}
```"""


async def test_an_optimizer_strategy_executes_the_parsed_trajectory():
    optimizer = ScriptedOptimizer(TRAJECTORY)
    ctx, apis = context(optimizer=optimizer)
    acquisition = await get_strategy("prompting").acquire(TASK, ctx)
    assert acquisition.api_counts() == {"question_answering": 1, "information_retrieval": 1, "demonstration_generation": 1}
    assert acquisition.trajectory.analysis == "needs forms"
    prompt = optimizer.requests[0].messages[-1]["content"]
    assert "haiku about rain" in prompt  # the optimizer sees the observed instructions


async def test_single_api_ablations_tell_and_enforce_one_api():
    optimizer = ScriptedOptimizer(TRAJECTORY)
    ctx, apis = context(optimizer=optimizer)
    acquisition = await get_strategy("qa-only").acquire(TASK, ctx)
    assert acquisition.api_counts() == {"question_answering": 1}
    assert sorted(d.reason.split(":")[0] for d in acquisition.trajectory.dropped) == ["api not allowed"] * 2
    prompt = " ".join(m["content"] for m in optimizer.requests[0].messages)
    assert "information_retrieval" not in prompt


async def test_a_malformed_trajectory_is_an_empty_acquisition_with_its_error():
    ctx, apis = context(optimizer=ScriptedOptimizer("I think the task needs poems. Good luck!"))
    acquisition = await get_strategy("ads").acquire(TASK, ctx)
    assert acquisition.items == [] and acquisition.error
