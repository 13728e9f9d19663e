"""No API call is free by default: local engines' tokens take a hosted-equivalent price
(models/prices.yaml), every acquisition API has a nonzero fee, and a call answered from the cache
costs a trajectory what it cost when it was computed (issue 17, item 5)."""

import json

import pytest

from ads_bench.acquisition.costs import DEFAULT_FEES_USD, CostModel
from ads_bench.acquisition.executor import execute_calls
from ads_bench.acquisition.items import (
    DEMONSTRATION_GENERATION,
    INFORMATION_RETRIEVAL,
    QUESTION_ANSWERING,
)
from ads_bench.acquisition.trajectory import ApiCall
from ads_bench.models import Runtime
from ads_bench.models.embedded import EMBEDDED_NAME
from ads_bench.models.ledger import PriceTable
from ads_bench.models.local_price import local_price, parameters_billions


@pytest.mark.parametrize("name, billions", [
    ("SmolLM2-135M-Instruct-Q4_1", 0.135),
    ("Qwen2-7B-Instruct", 7.0),
    ("qwen2.5-1.5b-instruct+lora1", 1.5),
    ("gemma-2-9b-it", 9.0),
    ("Mixtral-8x7B-Instruct-v0.1", 56.0),
    ("Meta-Llama-3.1-70B-Instruct", 70.0),
    ("fake", None),
    ("gpt-4o-mini", None),
])
def test_the_parameter_count_is_read_from_the_name_and_versions_are_not_sizes(name, billions):
    assert parameters_billions(name) == (pytest.approx(billions) if billions is not None else None)


@pytest.mark.parametrize("name, per_million, entry", [
    (EMBEDDED_NAME, 0.10, "local-up-to-4B"),  # the provider's smallest tier
    ("Qwen2-7B-Instruct", 0.20, "local-up-to-8B"),
    ("gemma-2-9b-it", 0.30, "local-up-to-21B"),
    ("Mixtral-8x7B-Instruct-v0.1", 0.90, "local-up-to-80B"),
    ("Llama-3.1-405B-Instruct", 1.80, "local-up-to-110B"),  # above every tier: the largest
    ("fake", 0.20, "local"),  # no size in the name: the 4.1B-8B tier
    ("Qwen/Qwen2-72B-Instruct", 0.90, "Qwen/Qwen2-72B-Instruct"),  # a listed model keeps its price
])
def test_a_local_model_takes_the_hosted_equivalent_price_of_its_size(name, per_million, entry):
    price, source = local_price(PriceTable.default(), name)
    assert (price.input_per_million, price.output_per_million, source) == (per_million, per_million, entry)


def test_every_local_backend_and_a_server_on_this_machine_is_priced_but_the_spec_still_overrides():
    runtime = Runtime.create(use_cache=False)
    assert runtime.model("embedded").price().cost(1_000_000, 0) == pytest.approx(0.10)
    assert runtime.model("http://127.0.0.1:9/v1::Qwen2-7B").price().cost(0, 1_000_000) == pytest.approx(0.20)
    assert runtime.model("http://127.0.0.1:9/v1::fake?price_in=0&price_out=0").price().cost(10**6, 10**6) == 0.0
    assert runtime.model("http://127.0.0.1:9/v1::fake?price_in=1&price_out=2").price().cost(10**6, 10**6) == 3.0


def test_a_price_table_can_reprice_local_models():
    table = PriceTable.default({"local": {"input": 0.0, "output": 0.0},
                                "local-up-to-4B": {"input": 0.05, "output": 0.07}})
    assert local_price(table, "fake")[0].cost(10**6, 10**6) == 0.0
    assert local_price(table, EMBEDDED_NAME)[0].cost(10**6, 10**6) == pytest.approx(0.12)


def test_every_acquisition_api_has_a_nonzero_default_fee_and_qa_is_the_dearest():
    assert set(DEFAULT_FEES_USD) == {INFORMATION_RETRIEVAL, DEMONSTRATION_GENERATION, QUESTION_ANSWERING}
    assert all(fee > 0 for fee in DEFAULT_FEES_USD.values())
    assert max(DEFAULT_FEES_USD, key=DEFAULT_FEES_USD.get) == QUESTION_ANSWERING


@pytest.fixture(scope="module")
def tiny_retriever(tmp_path_factory):
    from ads_bench.acquisition.corpus import load_corpus
    from ads_bench.acquisition.retrieval import Retriever

    folder = tmp_path_factory.mktemp("corpus")
    docs = [{"id": "1", "title": "Photosynthesis", "text": "Plants turn light and water into sugar."},
            {"id": "2", "title": "Chess", "text": "Chess is a board game for two players."}]
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    return Retriever.open(load_corpus(folder / "corpus.jsonl", title_field="title", id_field="id"),
                          cache_dir=folder / "idx")


def _apis(runtime, retriever):
    from ads_bench.acquisition.api_implementations import (
        DemonstrationApi,
        QuestionAnsweringApi,
        RetrievalApi,
    )

    costs = CostModel()  # the defaults
    return {
        INFORMATION_RETRIEVAL: RetrievalApi(retriever, costs, k=1, mode="bm25"),
        DEMONSTRATION_GENERATION: DemonstrationApi(runtime.model("embedded"), costs, n=1, max_tokens=8),
        QUESTION_ANSWERING: QuestionAnsweringApi(runtime.model("embedded", role="expert"), costs, max_tokens=8),
    }


CALLS = [
    ApiCall(INFORMATION_RETRIEVAL, {"query": "how plants make sugar"}, 0),
    ApiCall(DEMONSTRATION_GENERATION, {"scenario": "questions about chess openings"}, 1),
    ApiCall(QUESTION_ANSWERING, {"question": "What is photosynthesis?"}, 2),
]


@pytest.mark.model
async def test_every_api_call_costs_something_by_default_and_as_much_again_from_the_cache(
        fresh_runtime, tiny_retriever):
    """With the default prices every call on the embedded model costs more than nothing. The
    trainer's K samples of a task run concurrently and often repeat a call: the one that reads it
    from the cache (or shares it in flight) must not look cheaper to cost-tier selection."""
    from ads_bench.acquisition.items import Acquisition

    apis = _apis(fresh_runtime, tiny_retriever)
    first, dropped = await execute_calls(CALLS, apis, CostModel())
    assert not dropped
    for outcome in first:  # model calls add their tokens to the fee; retrieval is its fee
        fee = DEFAULT_FEES_USD[outcome.call.api]
        assert outcome.cost_usd > fee if outcome.call.api != INFORMATION_RETRIEVAL else outcome.cost_usd == fee
    by_api = fresh_runtime.ledger.grouped("api")
    assert by_api[DEMONSTRATION_GENERATION].cost_usd > 0 and by_api[QUESTION_ANSWERING].cost_usd > 0

    before = fresh_runtime.ledger.snapshot()
    again, _ = await execute_calls(CALLS, apis, CostModel())
    spent = fresh_runtime.ledger.since(before).total()
    assert spent.calls == 0 and spent.cache_hits > 0  # nothing was computed the second time
    assert [o.cost_usd for o in again] == [o.cost_usd for o in first]
    assert [(o.prompt_tokens, o.completion_tokens) for o in again] == [(o.prompt_tokens, o.completion_tokens)
                                                                       for o in first]
    # the trainer selects on Acquisition.cost_usd (optimizer/trainer.py): the sum of these
    costs = [Acquisition("t", "ads-train", outcomes).cost_usd for outcomes in (first, again)]
    assert costs[0] == costs[1] > sum(DEFAULT_FEES_USD.values())


def test_a_remote_server_of_an_unlisted_open_model_takes_its_size_tier_not_zero():
    from ads_bench.models import Runtime

    runtime = Runtime.create(use_cache=False)
    price = runtime.model("http://gpu.example:8000/v1::gemma-2-9b-it").price()
    assert price.input_per_million > 0 and price.output_per_million > 0
    assert price == runtime.model("http://gpu.example:8000/v1::some-9B-model").price()  # the 8-21B tier
