"""Speed of the Information Retrieval API's engine over the shipped Wikipedia corpus.

Prints, from one run: corpus load time, BM25 and dense index build times (the dense one embeds
all 10,033 documents on this machine's CPU), load-from-disk times, and queries/s of a batch of
queries in each search mode; then numpy against faiss for the exact inner-product search that
dense retrieval does after embedding the queries.

The queries are the Wikidata descriptions of randomly drawn articles ("German-born theoretical
physicist (1879–1955)"), so each has one known right answer: hit@1 / hit@10 are printed as a
sanity check that the indexes are right, not as a measure of retrieval quality (the description
is part of the document's text, which favours BM25).

    python benchmarks/retrieval.py                 # builds in a fresh temporary cache
    python benchmarks/retrieval.py --cache-dir DIR # reuses indexes already in DIR
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

from ads_bench.acquisition.corpus import Corpus, load_corpus
from ads_bench.acquisition.retrieval import (
    SEARCH_MODES,
    Retriever,
    best_per_row,
    embedding_model,
    encode,
)

T = TypeVar("T")


def timed(action: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def known_item_queries(corpus: Corpus, count: int, seed: int) -> tuple[list[str], list[str]]:
    documents = random.Random(seed).sample(list(corpus), count)
    queries = [doc.text.split("\n", 1)[0] for doc in documents]
    return queries, [doc.doc_id for doc in documents]


def exact_search_numpy_vs_faiss(embeddings: np.ndarray, queries: np.ndarray, k: int) -> None:
    repeats = 20
    _, numpy_seconds = timed(
        lambda: [best_per_row(queries @ embeddings.T, k) for _ in range(repeats)]
    )
    print(f"  numpy matmul + top-{k}: {numpy_seconds / repeats * 1000:8.2f} ms per batch")
    try:
        import faiss
    except ImportError:
        print("  faiss not installed: no comparison")
        return
    index = faiss.IndexFlatIP(embeddings.shape[1])
    index.add(embeddings)
    _, faiss_seconds = timed(lambda: [index.search(queries, k) for _ in range(repeats)])
    print(f"  faiss IndexFlatIP:      {faiss_seconds / repeats * 1000:8.2f} ms per batch")
    print(f"  faiss / numpy time:     {faiss_seconds / numpy_seconds:8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache-dir", type=Path, help="reuse indexes here (default: fresh)")
    parser.add_argument("--queries", type=int, default=200, help="queries in the batch")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import torch

    print(
        f"cpus: {os.cpu_count()}, torch threads: {torch.get_num_threads()}, "
        f"load average at start: {os.getloadavg()[0]:.1f}"
    )
    corpus, seconds = timed(load_corpus)
    print(f"corpus: {len(corpus)} documents ({corpus.name}), loaded in {seconds:.2f} s")

    with tempfile.TemporaryDirectory(prefix="ads-bench-retrieval-") as scratch:
        cache_dir = args.cache_dir or Path(scratch)
        _, model_seconds = timed(embedding_model)
        print(f"embedding model loaded in {model_seconds:.2f} s")

        builder = Retriever.open(corpus, cache_dir=cache_dir)
        print("\nindex build (or load, where the cache already has it)")
        for mode in ("bm25", "dense"):
            _, seconds = timed(lambda mode=mode: builder.prepare([mode]))
            rate = f", {len(corpus) / seconds:.0f} docs/s" if mode == "dense" else ""
            print(f"  {mode:6s} {builder.index_origin[mode]:6s} in {seconds:8.2f} s{rate}")

        print("\nload from disk (a fresh retriever, as in a second process)")
        retriever = Retriever.open(corpus, cache_dir=cache_dir)
        for mode in ("bm25", "dense"):
            _, seconds = timed(lambda mode=mode: retriever.prepare([mode]))
            print(f"  {mode:6s} {retriever.index_origin[mode]:6s} in {seconds:8.3f} s")

        queries, answers = known_item_queries(corpus, args.queries, args.seed)
        print(f"\nsearch: one batch of {len(queries)} queries, k={args.k}")
        retriever.search(queries[:4], k=args.k, mode="hybrid")  # warm-up: first-call overheads
        rates = {}
        for mode in SEARCH_MODES:
            results, seconds = timed(lambda mode=mode: retriever.search(queries, args.k, mode))
            rates[mode] = len(queries) / seconds
            found = [[hit.doc_id for hit in hits] for hits in results]
            hit1 = np.mean([ids[:1] == [a] for ids, a in zip(found, answers, strict=True)])
            hit10 = np.mean([a in ids for ids, a in zip(found, answers, strict=True)])
            print(
                f"  {mode:6s} {rates[mode]:8.1f} queries/s  ({seconds * 1000:7.1f} ms)"
                f"  hit@1 {hit1:.2f}  hit@{args.k} {hit10:.2f}"
            )
        print(
            f"  bm25 / dense speed: {rates['bm25'] / rates['dense']:.1f}x, "
            f"dense / hybrid: {rates['dense'] / rates['hybrid']:.2f}x"
        )

        print(f"\ndense search after embedding: exact inner product over {len(corpus)} docs")
        model = embedding_model()
        query_embeddings, seconds = timed(lambda: encode(model, queries))
        print(f"  embedding the queries:  {seconds * 1000:8.2f} ms per batch")
        exact_search_numpy_vs_faiss(retriever.dense_index().embeddings, query_embeddings, args.k)
    print(f"\nload average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
