"""Executing API calls: budgets admit in order, calls run, items are cut to size and costed."""

import pytest

from ads_bench.acquisition.costs import CostModel
from ads_bench.acquisition.executor import execute_calls
from ads_bench.acquisition.items import AcquiredItem, CallOutcome
from ads_bench.acquisition.trajectory import ApiCall, Budget
from ads_bench.errors import UserError
from ads_bench.models.ledger import Ledger


class EchoApi:
    """Returns ``per_call`` items of ``size`` characters (a unit-test double)."""

    def __init__(self, name, per_call=1, size=40, fail=False):
        self.name, self.per_call, self.size, self.fail = name, per_call, size, fail
        self.seen = []

    async def run(self, call):
        self.seen.append(call)
        if self.fail:
            raise RuntimeError("search backend down")
        items = [AcquiredItem(self.name, "answer", f"q{call.position}.{i}", "x" * self.size, call.position)
                 for i in range(self.per_call)]
        return CallOutcome(call, items, cost_usd=0.05)


def apis(**kwargs):
    return {
        "question_answering": EchoApi("question_answering", **kwargs),
        "information_retrieval": EchoApi("information_retrieval", **kwargs),
    }


def qa(i):
    return ApiCall("question_answering", {"question": f"q{i}"}, i)


async def test_calls_past_max_calls_are_dropped_with_the_reason():
    outcomes, dropped = await execute_calls([qa(i) for i in range(5)], apis(), CostModel(), budget=Budget(max_calls=3))
    assert [o.call.position for o in outcomes] == [0, 1, 2]
    assert [d.reason for d in dropped] == ["over budget: max_calls"] * 2


async def test_a_dollar_budget_admits_by_the_cost_models_estimate():
    costs = CostModel({"question_answering": 0.05, "information_retrieval": 0.005})
    calls = [qa(0), qa(1), ApiCall("information_retrieval", {"query": "x"}, 2), qa(3)]
    outcomes, dropped = await execute_calls(calls, apis(), costs, budget=Budget(max_cost=0.06))
    assert [o.call.position for o in outcomes] == [0, 2]  # a cheap later call still fits
    assert {d.position for d in dropped} == {1, 3}


async def test_items_are_kept_in_call_order_until_the_item_budget_is_full():
    outcomes, _ = await execute_calls([qa(i) for i in range(3)], apis(per_call=2), CostModel(), max_items=3)
    assert [len(o.items) for o in outcomes] == [2, 1, 0]
    assert [o.dropped_items for o in outcomes] == [0, 1, 2]


async def test_the_acquired_token_budget_cuts_items_too():
    outcomes, _ = await execute_calls([qa(i) for i in range(3)], apis(size=400), CostModel(),
                                      budget=Budget(max_acquired_tokens=250))
    assert sum(len(o.items) for o in outcomes) == 2  # ~105 tokens each


async def test_a_failing_call_is_recorded_and_the_others_still_run():
    table = apis()
    table["information_retrieval"] = EchoApi("information_retrieval", fail=True)
    calls = [ApiCall("information_retrieval", {"query": "x"}, 0), qa(1)]
    outcomes, _ = await execute_calls(calls, table, CostModel())
    assert "search backend down" in outcomes[0].error and outcomes[1].items


async def test_calls_to_apis_not_offered_are_dropped():
    table = {"question_answering": EchoApi("question_answering")}
    _, dropped = await execute_calls([ApiCall("information_retrieval", {"query": "x"}, 0)], table, CostModel())
    assert dropped[0].reason.startswith("api not available")


async def test_fixed_fees_enter_the_ledger_under_their_api():
    ledger = Ledger()
    await execute_calls([qa(0), qa(1)], apis(), CostModel({"question_answering": 0.05}), ledger=ledger)
    assert ledger.grouped("api")["question_answering"].cost_usd == pytest.approx(0.10)


def test_api_costs_file_rejects_unknown_apis(tmp_path):
    path = tmp_path / "costs.yaml"
    path.write_text("web_search: 0.1\n")
    with pytest.raises(UserError, match="unknown APIs"):
        CostModel.from_file(path)
    path.write_text("question_answering: 0.5\n")
    assert CostModel.from_file(path).fee("question_answering") == 0.5
