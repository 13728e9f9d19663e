"""Build a run's three acquisition APIs from its configuration (the retriever opens lazily)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from ads_bench.acquisition.api_implementations import (
    APIS,
    AcquisitionApi,
    DemonstrationApi,
    QuestionAnsweringApi,
    RetrievalApi,
    register_api,
)
from ads_bench.acquisition.costs import CostModel
from ads_bench.acquisition.items import (
    DEMONSTRATION_GENERATION,
    INFORMATION_RETRIEVAL,
    QUESTION_ANSWERING,
)
from ads_bench.acquisition.trajectory import Budget
from ads_bench.errors import UserError
from ads_bench.models.client import ChatModel, Runtime
from ads_bench.strategies.base import AcquisitionContext

OPTIMIZER_FORMATS = ("schema", "free")


@dataclass(frozen=True, kw_only=True)
class AcquisitionSettings:
    """What :func:`acquisition_context` reads: the fields a run and a training config share."""

    policy: str = "embedded"
    expert: str = "embedded"
    seed: int = 0
    max_calls: int | None = 4
    budget_usd: float | None = None
    budget_items: int | None = None
    budget_tokens: int | None = None
    retrieval_k: int = 2
    retrieval_mode: str = "hybrid"
    corpus: str | None = None
    demos_per_call: int = 2
    max_tokens: int = 256  # answer length (policy, demonstrations, expert)
    optimizer_max_tokens: int = 512
    optimizer_format: str = "schema"  # "free": no constrained decoding (see strategies.base)
    api_costs: str | None = None


class LazyRetriever:
    """Loads the corpus and its indexes on the first search: strategies without retrieval pay nothing."""

    def __init__(self, corpus_path: str | None):
        self.corpus_path = corpus_path
        self._retriever = None
        self._lock = threading.Lock()

    def search(self, queries: list[str], k: int, mode: str) -> Any:
        with self._lock:
            if self._retriever is None:
                from ads_bench.extras import require

                require("retrieval")
                from ads_bench.acquisition.corpus import load_corpus
                from ads_bench.acquisition.retrieval import Retriever

                self._retriever = Retriever.open(load_corpus(self.corpus_path))
        return self._retriever.search(queries, k, mode)


def acquisition_context(
    config: AcquisitionSettings, runtime: Runtime, *, optimizer: ChatModel | None, optimizer_temperature: float
) -> AcquisitionContext:
    """The models, APIs, cost model and budgets a strategy works with, from a run or train config."""
    if config.optimizer_format not in OPTIMIZER_FORMATS:
        raise UserError(f"optimizer_format '{config.optimizer_format}' is unknown: use {' or '.join(OPTIMIZER_FORMATS)}")
    policy = runtime.model(config.policy, role="policy")
    return AcquisitionContext(
        runtime=runtime,
        policy=policy,
        expert=runtime.model(config.expert, role="expert"),
        apis=build_apis(config, runtime, policy),
        costs=CostModel.from_file(config.api_costs),
        budget=Budget(max_calls=config.max_calls, max_cost=config.budget_usd,
                      max_acquired_tokens=config.budget_tokens),
        max_items=config.budget_items,
        optimizer=optimizer,
        optimizer_temperature=optimizer_temperature,
        optimizer_max_tokens=config.optimizer_max_tokens,
        optimizer_format=config.optimizer_format,
        seed=config.seed,
    )


@register_api(INFORMATION_RETRIEVAL, description="BM25 + dense (hybrid, RRF) search over a corpus for a query")
def _retrieval(config: AcquisitionSettings, runtime: Runtime, policy: ChatModel, costs: CostModel) -> AcquisitionApi:
    return RetrievalApi(LazyRetriever(config.corpus), costs, config.retrieval_k, config.retrieval_mode)


@register_api(DEMONSTRATION_GENERATION, description="the policy writes instruction-response pairs for a scenario")
def _demonstrations(config: AcquisitionSettings, runtime: Runtime, policy: ChatModel, costs: CostModel) -> AcquisitionApi:
    return DemonstrationApi(policy, costs, n=config.demos_per_call, seed=config.seed, max_tokens=config.max_tokens)


@register_api(QUESTION_ANSWERING, description="the expert model answers a question")
def _question_answering(config: AcquisitionSettings, runtime: Runtime, policy: ChatModel, costs: CostModel) -> AcquisitionApi:
    return QuestionAnsweringApi(runtime.model(config.expert, role="expert"), costs, max_tokens=config.max_tokens)


def build_apis(config: AcquisitionSettings, runtime: Runtime, policy: ChatModel) -> dict[str, AcquisitionApi]:
    """Every registered API (the three built-ins first, then plugins'), built for this run."""
    costs = CostModel.from_file(config.api_costs)
    return {name: APIS.load(name)(config, runtime, policy, costs) for name in APIS.names()}
