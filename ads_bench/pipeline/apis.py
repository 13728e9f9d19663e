"""Build a run's three acquisition APIs from its configuration (the retriever opens lazily)."""

from __future__ import annotations

import threading
from typing import Any

from ads_bench.acquisition.apis import (
    AcquisitionApi,
    DemonstrationApi,
    QuestionAnsweringApi,
    RetrievalApi,
)
from ads_bench.acquisition.costs import CostModel
from ads_bench.acquisition.items import (
    DEMONSTRATION_GENERATION,
    INFORMATION_RETRIEVAL,
    QUESTION_ANSWERING,
)
from ads_bench.models.client import ChatModel, Runtime


class LazyRetriever:
    """Loads the corpus and its indexes on the first search: strategies without retrieval pay nothing."""

    def __init__(self, corpus_path: str | None):
        self.corpus_path = corpus_path
        self._retriever = None
        self._lock = threading.Lock()

    def search(self, queries: list[str], k: int, mode: str) -> Any:
        with self._lock:
            if self._retriever is None:
                from ads_bench.acquisition.corpus import load_corpus
                from ads_bench.acquisition.retrieval import Retriever

                self._retriever = Retriever.open(load_corpus(self.corpus_path))
        return self._retriever.search(queries, k, mode)


def build_apis(config: Any, runtime: Runtime, policy: ChatModel) -> dict[str, AcquisitionApi]:
    costs = CostModel.from_file(config.api_costs)
    return {
        INFORMATION_RETRIEVAL: RetrievalApi(LazyRetriever(config.corpus), costs, config.retrieval_k, config.retrieval_mode),
        DEMONSTRATION_GENERATION: DemonstrationApi(policy, costs, n=config.demos_per_call, seed=config.seed,
                                                   max_tokens=config.max_tokens),
        QUESTION_ANSWERING: QuestionAnsweringApi(runtime.model(config.expert, role="expert"), costs,
                                                 max_tokens=config.max_tokens),
    }
