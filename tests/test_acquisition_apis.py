"""The three acquisition APIs on real engines: retrieval over a corpus, demos by the policy,
answers by the expert — each item traced to its call and costed."""

import json

import pytest

from ads_bench.acquisition.api_implementations import (
    DemonstrationApi,
    QuestionAnsweringApi,
    RetrievalApi,
)
from ads_bench.acquisition.costs import CostModel
from ads_bench.acquisition.trajectory import ApiCall

pytestmark = pytest.mark.model

COSTS = CostModel({"information_retrieval": 0.005, "question_answering": 0.05, "demonstration_generation": 0.0})


@pytest.fixture(scope="module")
def tiny_retriever(tmp_path_factory):
    from ads_bench.acquisition.corpus import load_corpus
    from ads_bench.acquisition.retrieval import Retriever

    folder = tmp_path_factory.mktemp("corpus")
    docs = [
        {"id": "1", "title": "Photosynthesis", "text": "Plants turn light, water and carbon dioxide into sugar."},
        {"id": "2", "title": "Volcano", "text": "A volcano is a rupture in a planet's crust where lava erupts."},
        {"id": "3", "title": "Chess", "text": "Chess is a board game for two players with sixteen pieces each."},
    ]
    path = folder / "corpus.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    return Retriever.open(load_corpus(path, title_field="title", id_field="id"), cache_dir=folder / "idx")


async def test_retrieval_returns_documents_for_the_query(tiny_retriever):
    api = RetrievalApi(tiny_retriever, COSTS, k=1, mode="bm25")
    outcome = await api.run(ApiCall("information_retrieval", {"query": "how do plants make sugar from light"}, 3))
    [item] = outcome.items
    assert (item.kind, item.prompt, item.call_position) == ("document", "Photosynthesis", 3)
    assert outcome.cost_usd == 0.005


async def test_the_expert_answers_questions(fresh_runtime):
    api = QuestionAnsweringApi(fresh_runtime.model("embedded", role="expert"), COSTS, max_tokens=24)
    outcome = await api.run(ApiCall("question_answering", {"question": "What is the boiling point of water?"}, 0))
    [item] = outcome.items
    assert item.kind == "answer" and item.content
    # the fee plus the expert's tokens at the embedded model's hosted-equivalent $0.10 per 1M
    tokens = outcome.prompt_tokens + outcome.completion_tokens
    assert outcome.completion_tokens > 0 and outcome.cost_usd == pytest.approx(0.05 + tokens * 0.10 / 1e6)
    assert fresh_runtime.ledger.grouped("api")["question_answering"].calls == 1


async def test_the_policy_writes_distinct_demonstrations(fresh_runtime):
    api = DemonstrationApi(fresh_runtime.model("embedded"), COSTS, n=2, max_tokens=24)
    outcome = await api.run(ApiCall("demonstration_generation", {"scenario": "questions about cooking pasta"}, 1))
    assert 1 <= len(outcome.items) <= 2
    assert all(i.kind == "demonstration" and i.prompt and i.content for i in outcome.items)
    assert len({i.prompt for i in outcome.items}) == len(outcome.items)
