"""The oracle strategy: exactly the held-out answers' source documents, through the retrieval
API's document path (billed, ledgered and budgeted like any retrieval call)."""

from __future__ import annotations

import pytest

from ads_bench.acquisition.api_implementations import RetrievalApi
from ads_bench.acquisition.costs import CostModel
from ads_bench.acquisition.items import INFORMATION_RETRIEVAL
from ads_bench.acquisition.trajectory import Budget
from ads_bench.errors import UserError
from ads_bench.models import Runtime
from ads_bench.pipeline.run import held_out_slice
from ads_bench.strategies import AcquisitionContext, get_strategy
from ads_bench.strategies.acquisition_setup import LazyRetriever
from ads_bench.suites import Task, load_suite

QUESTION = "In what year was X born? Answer with the year only."


def _task(doc_ids: list[str]) -> Task:
    held = tuple(f"{QUESTION} ({i})" for i in range(len(doc_ids)))
    truth = [{"answer": "1", "answer_type": "year", "doc_id": d} for d in doc_ids]
    return Task("t", "wikifacts", "People", ("In what year was Y born?",), held, metadata={"truth": truth})


def _context(budget: Budget | None = None) -> tuple[AcquisitionContext, Runtime]:
    runtime = Runtime.create(use_cache=False)
    costs = CostModel()
    apis = {INFORMATION_RETRIEVAL: RetrievalApi(LazyRetriever(None), costs, k=2)}  # the shipped corpus
    return AcquisitionContext(runtime=runtime, policy=None, expert=None, apis=apis, costs=costs,
                              budget=budget or Budget()), runtime


async def test_it_fetches_each_source_document_once_in_held_out_order_and_pays_retrieval_fees():
    context, runtime = _context()
    task = _task(["Albert Einstein", "Marie Curie", "Albert Einstein"])
    acquisition = await get_strategy("oracle").acquire(task, context)
    assert [item.source_id for item in acquisition.items] == ["Albert Einstein", "Marie Curie"]
    assert all(item.kind == "document" and item.api == INFORMATION_RETRIEVAL for item in acquisition.items)
    assert "1879" in acquisition.items[0].content  # the text the answer is read from
    assert [c.args for c in acquisition.trajectory.calls] == [{"doc_id": "Albert Einstein"}, {"doc_id": "Marie Curie"}]
    fee = CostModel().fee(INFORMATION_RETRIEVAL)
    assert acquisition.cost_usd == pytest.approx(2 * fee)


async def test_only_the_held_out_prompts_the_run_answers_count_and_the_budget_holds():
    suite = load_suite("wikifacts", limit=1)
    [task] = held_out_slice(suite.tasks, 2)
    context, _ = _context()
    acquisition = await get_strategy("oracle").acquire(task, context)
    assert {i.source_id for i in acquisition.items} == {t["doc_id"] for t in task.metadata["truth"][:2]}
    limited, _ = _context(Budget(max_calls=1))
    two_sources = _task(["Albert Einstein", "Marie Curie"])
    cut = await get_strategy("oracle").acquire(two_sources, limited)
    assert [i.source_id for i in cut.items] == ["Albert Einstein"] and len(cut.trajectory.dropped) == 1


async def test_a_suite_without_truth_or_an_unknown_document_is_one_clear_error():
    context, _ = _context()
    with pytest.raises(UserError, match="metadata.truth"):
        await get_strategy("oracle").acquire(Task("t", "s", "", ("a",), ("b",)), context)
    with pytest.raises(UserError, match="not in the retrieval corpus"):
        await get_strategy("oracle").acquire(_task(["No Such Article"]), context)


@pytest.mark.parametrize("items", [0, 1])
async def test_under_an_item_budget_it_fetches_and_pays_for_only_the_documents_the_budget_keeps(items):
    """A budget ladder's rung 0 is free for the oracle, as for every baseline (issue 17, item 2)."""
    context = AcquisitionContext(**{**_context()[0].__dict__, "max_items": items})  # --budget-items
    acquisition = await get_strategy("oracle").acquire(_task(["Albert Einstein", "Marie Curie"]), context)
    assert [i.source_id for i in acquisition.items] == ["Albert Einstein"][:items]
    assert len(acquisition.trajectory.calls) == items
    assert acquisition.cost_usd == pytest.approx(items * CostModel().fee(INFORMATION_RETRIEVAL))
