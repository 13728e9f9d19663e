"""``oracle``: acquire exactly the source documents of a task's held-out answers.

The ceiling that perfect data search reaches with this policy and learner on a suite that knows
where its answers come from (``wikifacts``: each held-out prompt's ``metadata.truth[i].doc_id``).
``none`` is the floor; ``oracle - none`` is the headroom any strategy can win.

It goes through the Information Retrieval API by its *document path*: one call per source
document, ``{"doc_id": ID}`` instead of ``{"query": ...}``, executed by the same executor under the
same budget, so each call pays the retrieval fee, enters the ledger and the trajectory as a
retrieval call does, and the documents come from the run's own corpus (``--corpus``). Only the
held-out prompts the run answers (``--max-held-out``) count; their documents are fetched in
held-out order, each once, and under an item budget (``--budget-items N``) only the first N: one
item a document, so a budget ladder's rung 0 pays nothing, as the other baselines' does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ads_bench.acquisition.api_implementations import AcquisitionApi, RetrievalApi
from ads_bench.acquisition.items import (
    INFORMATION_RETRIEVAL,
    AcquiredItem,
    Acquisition,
    CallOutcome,
)
from ads_bench.acquisition.trajectory import ApiCall
from ads_bench.errors import UserError
from ads_bench.strategies.base import AcquisitionContext, register_strategy, run_calls
from ads_bench.suites import Task

DOC_ARG = "doc_id"


def source_documents(task: Task) -> list[str]:
    """The source document ids of the task's held-out answers (those it will answer), each once."""
    truths = task.metadata.get("truth") or []
    ids = [t.get("doc_id") for t in truths[: len(task.held_out)] if isinstance(t, Mapping)]
    if len(ids) < len(task.held_out) or not all(ids):
        raise UserError(f"task {task.id} does not say where its held-out answers come from "
                        "(metadata.truth[].doc_id): the oracle strategy needs a suite like wikifacts")
    return list(dict.fromkeys(ids))


@dataclass
class DocumentPath:
    """The retrieval API with its document path: ``{"doc_id": ID}`` fetches that document."""

    search: RetrievalApi
    name: str = INFORMATION_RETRIEVAL

    async def run(self, call: ApiCall) -> CallOutcome:
        if DOC_ARG not in call.args:
            return await self.search.run(call)
        started = time.perf_counter()
        document = await asyncio.to_thread(_document, self.search.retriever, str(call.args[DOC_ARG]))
        items = [AcquiredItem(self.name, "document", document.title, document.text, call.position, document.doc_id)]
        return CallOutcome(call, items, cost_usd=self.search.costs.fee(self.name),
                           seconds=time.perf_counter() - started)


def _document(retriever: Any, doc_id: str):
    corpus = _corpus_of(retriever)
    try:
        return corpus.by_id(doc_id)
    except KeyError:
        raise UserError(f"document '{doc_id}' is not in the retrieval corpus {corpus.name}: run the "
                        "oracle with the corpus the suite was built from (the shipped one)") from None


def _corpus_of(retriever: Any):
    # strategies.acquisition_setup.LazyRetriever loads its corpus on the first search; the oracle needs only it
    inner = getattr(retriever, "_retriever", None) or retriever
    if hasattr(inner, "corpus"):
        return inner.corpus
    from ads_bench.acquisition.corpus import load_corpus

    corpus = load_corpus(getattr(retriever, "corpus_path", None))
    retriever.corpus = corpus
    return corpus


@register_strategy("oracle")
@dataclass
class Oracle:
    name: str = "oracle"
    description: str = "the source documents of the held-out answers (the ceiling of data search; suites with truth)"

    async def acquire(self, task: Task, context: AcquisitionContext) -> Acquisition:
        documents = source_documents(task)
        if context.max_items is not None:  # one item per document: fetch none the item budget would drop
            documents = documents[: max(context.max_items, 0)]
        calls = [ApiCall(INFORMATION_RETRIEVAL, {DOC_ARG: doc_id}, i) for i, doc_id in enumerate(documents)]
        apis: dict[str, AcquisitionApi] = dict(context.apis)
        search = apis.get(INFORMATION_RETRIEVAL)
        if isinstance(search, RetrievalApi):
            apis[INFORMATION_RETRIEVAL] = DocumentPath(search)
        local = AcquisitionContext(**{**context.__dict__, "apis": apis})
        return await run_calls(self.name, task, calls, local)
