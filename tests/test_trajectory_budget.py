"""Budgets: calls past a limit are dropped, in the written order, and never exceeded."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ads_bench.acquisition.trajectory import (
    API_NAMES,
    ApiCall,
    Budget,
    BudgetTracker,
    Trajectory,
    parse_trajectory,
    restrict_apis,
)
from ads_bench.errors import UserError

TOLERANCE = 1e-9

QA = "question_answering"
IR = "information_retrieval"
DEMO = "demonstration_generation"


def rendered(*calls: tuple[str, dict]) -> str:
    return Trajectory(calls=[ApiCall(api, args, i) for i, (api, args) in enumerate(calls)]).render()


def test_calls_past_max_calls_are_dropped_with_the_limit_named():
    text = rendered((QA, {"question": "a"}), (QA, {"question": "b"}), (IR, {"query": "c"}))
    trajectory = parse_trajectory(text, budget=Budget(max_calls=2))
    assert [c.position for c in trajectory.calls] == [0, 1]
    assert [(d.position, d.reason) for d in trajectory.dropped] == [(2, "over budget: max_calls")]
    assert trajectory.dropped[0].raw_call == {"api": IR, "args": {"query": "c"}}


def test_a_cheaper_call_after_an_unaffordable_one_is_still_made():
    costs = {QA: 10.0, IR: 1.0, DEMO: 2.0}
    text = rendered((IR, {"query": "a"}), (QA, {"question": "b"}), (IR, {"query": "c"}))
    trajectory = parse_trajectory(
        text, budget=Budget(max_cost=5), cost_of=lambda call: costs[call.api]
    )
    assert [c.position for c in trajectory.calls] == [0, 2]
    assert [(d.position, d.reason) for d in trajectory.dropped] == [(1, "over budget: max_cost")]


def test_per_api_limits_accept_api_aliases():
    budget = Budget(per_api_max_calls={"QA": 1})
    assert budget.per_api_max_calls == {QA: 1}
    text = rendered((QA, {"question": "a"}), (IR, {"query": "b"}), (QA, {"question": "c"}))
    trajectory = parse_trajectory(text, budget=budget)
    assert [c.position for c in trajectory.calls] == [0, 1]
    assert trajectory.dropped[0].reason == "over budget: per_api_max_calls[question_answering]"


def test_float_costs_that_add_up_to_the_budget_fit():
    text = rendered(*[(IR, {"query": str(i)}) for i in range(3)])
    trajectory = parse_trajectory(text, budget=Budget(max_cost=0.3), cost_of=lambda call: 0.1)
    assert len(trajectory.calls) == 3


def test_duplicates_do_not_spend_the_budget():
    text = rendered((QA, {"question": "Why?"}), (QA, {"question": "why? "}), (IR, {"query": "x"}))
    trajectory = parse_trajectory(text, budget=Budget(max_calls=2))
    assert [c.position for c in trajectory.calls] == [0, 2]
    assert trajectory.dropped[0].kind == "duplicate call"


def test_a_cost_budget_without_a_cost_model_is_the_callers_mistake():
    with pytest.raises(ValueError, match="max_cost needs cost_of"):
        parse_trajectory("[]", budget=Budget(max_cost=1))


def test_a_negative_cost_is_the_callers_mistake():
    text = rendered((QA, {"question": "a"}))
    with pytest.raises(ValueError, match="finite number >= 0"):
        parse_trajectory(text, budget=Budget(max_cost=1), cost_of=lambda call: -1.0)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"max_calls": -1}, "max_calls must be a whole number >= 0"),
        ({"max_calls": 2.5}, "max_calls must be a whole number >= 0"),
        ({"max_cost": float("inf")}, "max_cost must be a finite number >= 0"),
        ({"max_acquired_tokens": True}, "max_acquired_tokens must be a whole number"),
        ({"per_api_max_calls": {"telepathy": 1}}, "unknown API 'telepathy'.*use one of"),
        ({"per_api_max_calls": {"qa": -2}}, r"per_api_max_calls\[question_answering\]"),
    ],
)
def test_bad_budgets_are_user_errors_naming_the_fix(fields, message):
    with pytest.raises(UserError, match=message):
        Budget(**fields)


def test_budget_round_trips_through_a_dict_and_rejects_unknown_fields():
    budget = Budget(max_calls=3, max_cost=2.5, max_acquired_tokens=100, per_api_max_calls={"qa": 1})
    assert Budget.from_dict(budget.to_dict()) == budget
    with pytest.raises(UserError, match="unknown budget field 'max_call'"):
        Budget.from_dict({"max_call": 3})


def test_budget_description_for_the_prompt():
    assert Budget().describe() == "no fixed limit, but every call costs"
    assert Budget(max_calls=4, max_cost=12, per_api_max_calls={"qa": 1}).describe() == (
        "at most 4 calls; total cost at most 12; at most 1 question_answering calls"
    )


# --- the tracker used while executing ----------------------------------------------------------


def test_acquired_tokens_are_counted_until_the_limit_then_refused():
    tracker = BudgetTracker(Budget(max_acquired_tokens=100))
    assert tracker.add_tokens(60)
    assert not tracker.add_tokens(50)  # would pass 100: not counted
    assert tracker.tokens == 60 and tracker.remaining_tokens == 40
    assert tracker.add_tokens(40)
    assert tracker.remaining_tokens == 0


def test_no_call_is_admitted_once_the_tokens_are_spent():
    tracker = BudgetTracker(Budget(max_acquired_tokens=10))
    call = ApiCall(IR, {"query": "x"}, 0)
    assert tracker.admit(call)
    tracker.add_tokens(10)
    assert tracker.refusal(call) == "over budget: max_acquired_tokens"
    assert not tracker.admit(call)
    assert tracker.calls == 1


def test_admit_uses_the_estimate_it_is_given_before_the_cost_model():
    tracker = BudgetTracker(Budget(max_cost=5), cost_of=lambda call: 100.0)
    call = ApiCall(QA, {"question": "x"}, 0)
    assert tracker.admit(call, est_cost=4)
    assert not tracker.admit(call, est_cost=2)
    assert tracker.cost == 4


def test_refusal_counts_nothing():
    tracker = BudgetTracker(Budget(max_calls=1))
    call = ApiCall(QA, {"question": "x"}, 0)
    assert tracker.refusal(call) is None
    assert tracker.refusal(call) is None
    assert tracker.calls == 0


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3"])
def test_token_counts_must_be_whole_numbers(bad):
    with pytest.raises(ValueError, match="token count"):
        BudgetTracker().add_tokens(bad)


def test_unlimited_tracker_admits_everything():
    tracker = BudgetTracker()
    assert all(tracker.admit(ApiCall(QA, {"question": str(i)}, i)) for i in range(50))
    assert tracker.add_tokens(10**9) and tracker.remaining_tokens is None


# --- single-API ablations ----------------------------------------------------------------------


def test_restrict_apis_drops_other_apis_with_a_reason_and_keeps_positions():
    text = rendered((QA, {"question": "a"}), (IR, {"query": "b"}), (DEMO, {"scenario": "c"}))
    trajectory = restrict_apis(parse_trajectory(text), ["IR"])
    assert [(c.api, c.position) for c in trajectory.calls] == [(IR, 1)]
    assert [(d.position, d.reason) for d in trajectory.dropped] == [
        (0, "api not allowed: question_answering (allowed: information_retrieval)"),
        (2, "api not allowed: demonstration_generation (allowed: information_retrieval)"),
    ]


def test_restrict_apis_rejects_an_unknown_api_name():
    with pytest.raises(UserError, match="unknown API 'telepathy'"):
        restrict_apis(Trajectory(), ["telepathy"])


# --- property: a budget is never exceeded, and only exceeded limits drop calls -------------------


@st.composite
def budgets(draw: st.DrawFn) -> Budget:
    limits = st.none() | st.integers(min_value=0, max_value=6)
    per_api = draw(
        st.none() | st.dictionaries(st.sampled_from(API_NAMES), st.integers(0, 3), max_size=3)
    )
    return Budget(
        max_calls=draw(limits),
        max_cost=draw(st.none() | st.floats(min_value=0, max_value=20)),
        per_api_max_calls=per_api,
    )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(API_NAMES), st.integers(0, 3)),  # api, small id for duplicates
        max_size=12,
    ),
    st.lists(st.floats(min_value=0, max_value=10), min_size=12, max_size=12),
    budgets(),
)
def test_budgets_are_never_exceeded_and_only_a_broken_limit_drops_a_call(specs, costs, budget):
    primary = {QA: "question", IR: "query", DEMO: "scenario"}
    text = rendered(*[(api, {primary[api]: f"topic {ident}"}) for api, ident in specs])

    trajectory = parse_trajectory(text, budget=budget, cost_of=lambda call: costs[call.position])

    kept = trajectory.calls
    if budget.max_calls is not None:
        assert len(kept) <= budget.max_calls
    if budget.max_cost is not None:
        spent = sum(costs[c.position] for c in kept)
        assert spent <= budget.max_cost + TOLERANCE * max(1.0, budget.max_cost)
    for api, limit in (budget.per_api_max_calls or {}).items():
        assert sum(c.api == api for c in kept) <= limit
    for drop in trajectory.dropped:
        before = [c for c in kept if c.position < drop.position]
        api = specs[drop.position][0]
        if drop.reason == "over budget: max_calls":
            assert len(before) + 1 > budget.max_calls
        elif drop.reason == "over budget: max_cost":
            spent = sum(costs[c.position] for c in before) + costs[drop.position]
            assert spent > budget.max_cost + TOLERANCE * max(1.0, budget.max_cost)
        elif drop.reason.startswith("over budget: per_api_max_calls"):
            assert sum(c.api == api for c in before) + 1 > budget.per_api_max_calls[api]
        else:
            assert drop.kind == "duplicate call"
    assert len(kept) + len(trajectory.dropped) == len(specs)
