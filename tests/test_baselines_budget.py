"""The baselines use a larger budget where their definition allows, and never exceed one."""

import itertools

import pytest

from ads_bench.acquisition.costs import CostModel
from ads_bench.acquisition.items import AcquiredItem, CallOutcome
from ads_bench.acquisition.trajectory import Budget
from ads_bench.models import Runtime
from ads_bench.models.ledger import Price
from ads_bench.models.types import ChatResponse, Completion, Usage
from ads_bench.strategies import AcquisitionContext, get_strategy
from ads_bench.suites import Task

HELD_OUT = "Write an ode to the sea."
TASK = Task("t1", "toy", "poems", ("Write a haiku about rain.", "Write a limerick about a cat."), (HELD_OUT,))
FEES = {"information_retrieval": 0.005, "demonstration_generation": 0.001, "question_answering": 0.05}


class RecordingApi:
    """An API double: a retrieval call returns ``k`` documents, any other call one item."""

    def __init__(self, name):
        self.name = name
        self.calls = []

    async def run(self, call):
        self.calls.append(call)
        n = int(call.args.get("k") or call.args.get("n") or 1)
        items = [AcquiredItem(self.name, "item", f"{call.args}#{i}", "data", call.position) for i in range(n)]
        return CallOutcome(call, items, FEES[self.name])


class WritingPolicy:
    """A policy double that writes the instructions it is given, in turn; priced like a hosted model."""

    def __init__(self, texts):
        self.texts = list(texts)
        self.requests = []

    async def generate(self, requests):
        out = []
        for request in requests:
            self.requests.append(request)
            text = self.texts[(len(self.requests) - 1) % len(self.texts)]
            out.append(ChatResponse(request, [Completion(text, usage=Usage(20, 10))]))
        return out

    def price(self):
        return Price(1.0, 2.0)


def context(policy=None, **kwargs):
    apis = {name: RecordingApi(name) for name in FEES}
    runtime = Runtime.create(use_cache=False)
    return AcquisitionContext(runtime=runtime, policy=policy, expert=None, apis=apis,
                              costs=CostModel(dict(FEES)), **kwargs), apis


async def test_rag_retrieves_more_documents_per_query_as_the_item_budget_grows():
    for items, ks in ((1, [1]), (2, [1, 1]), (4, [2, 2]), (7, [4, 4])):
        ctx, apis = context(max_items=items)
        acquisition = await get_strategy("rag").acquire(TASK, ctx)
        assert [c.args["k"] for c in apis["information_retrieval"].calls] == ks
        assert len(acquisition.items) == items


async def test_rag_spreads_its_items_over_the_queries_the_call_budget_admits():
    ctx, apis = context(max_items=6, budget=Budget(max_calls=1))
    acquisition = await get_strategy("rag").acquire(TASK, ctx)
    [call] = apis["information_retrieval"].calls
    assert call.args == {"query": TASK.observed[0], "k": 6} and len(acquisition.items) == 6
    assert [d.reason for d in acquisition.trajectory.dropped] == ["over budget: max_calls"]


async def test_self_instruct_asks_for_as_many_demonstrations_as_the_item_budget_holds():
    for items in (1, 4, 8):
        ctx, apis = context(max_items=items)
        acquisition = await get_strategy("self-instruct").acquire(TASK, ctx)
        assert apis["demonstration_generation"].calls[0].args["n"] == items and len(acquisition.items) == items


async def test_rule_qa_asks_its_observed_instructions_first_then_self_instructed_variants():
    policy = WritingPolicy(["Write a sonnet about snow.", "Here is a new instruction:\nInstruction: Write a ballad about a dog."])
    ctx, apis = context(policy, max_items=4)
    acquisition = await get_strategy("rule-qa").acquire(TASK, ctx)
    questions = [c.args["question"] for c in apis["question_answering"].calls]
    assert questions == [*TASK.observed, "Write a sonnet about snow.", "Write a ballad about a dog."]
    assert len(acquisition.items) == 4
    # the policy wrote each variant from one observed instruction, never from a held-out prompt
    prompts = [r.messages[-1]["content"] for r in policy.requests]
    assert [TASK.observed[0] in prompts[0], TASK.observed[1] in prompts[1]] == [True, True]
    assert not any(HELD_OUT in p for p in prompts)


async def test_rule_qa_never_asks_a_held_out_prompt_or_repeats_a_question():
    policy = WritingPolicy([HELD_OUT, TASK.observed[0], "Write a sonnet about snow.", "write a SONNET about snow."])
    ctx, apis = context(policy, max_items=6)
    await get_strategy("rule-qa").acquire(TASK, ctx)
    questions = [c.args["question"] for c in apis["question_answering"].calls]
    assert questions == [*TASK.observed, "Write a sonnet about snow."]


async def test_rule_qa_asks_only_as_many_questions_as_the_item_budget_keeps():
    ctx, apis = context(max_items=1)
    acquisition = await get_strategy("rule-qa").acquire(TASK, ctx)
    assert [c.args["question"] for c in apis["question_answering"].calls] == [TASK.observed[0]]
    assert acquisition.cost_usd == pytest.approx(FEES["question_answering"])


async def test_rule_qa_pays_for_its_variants_out_of_a_dollar_budget():
    # $0.15 alone admits three QA calls at $0.05: two observed and one variant; writing that
    # variant costs $0.00004 of policy tokens, which leaves room for two calls only
    policy = WritingPolicy(["Write a sonnet about snow.", "Write a ballad about a dog."])
    ctx, apis = context(policy, max_items=8, budget=Budget(max_cost=0.15))
    acquisition = await get_strategy("rule-qa").acquire(TASK, ctx)
    assert len(apis["question_answering"].calls) == 2 and len(acquisition.items) == 2
    assert [d.reason for d in acquisition.trajectory.dropped] == ["over budget: max_cost"]


@pytest.mark.parametrize("strategy", ["rag", "self-instruct", "rule-qa"])
async def test_no_baseline_exceeds_any_budget(strategy):
    for items, calls, usd in itertools.product((None, 0, 1, 2, 5, 9), (None, 0, 1, 3), (None, 0.0, 0.06, 0.2)):
        policy = WritingPolicy([f"Write poem number {i}." for i in range(20)])
        ctx, apis = context(policy, max_items=items, budget=Budget(max_calls=calls, max_cost=usd))
        acquisition = await get_strategy(strategy).acquire(TASK, ctx)
        made = [c for api in apis.values() for c in api.calls]
        assert items is None or len(acquisition.items) <= items, (items, calls, usd)
        assert calls is None or len(made) <= calls, (items, calls, usd)
        writing = len(policy.requests) * policy.price().cost(20, 10)  # rule-qa's variants
        assert usd is None or acquisition.cost_usd + writing <= usd + 1e-9, (items, calls, usd)
