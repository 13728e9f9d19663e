"""Precompute the dense embeddings of the shipped Wikipedia corpus (float16, ~7.7 MB).

Embedding the 10,033 summaries with all-MiniLM-L6-v2 takes minutes on 2 CPU cores; shipping the
result makes the first hybrid search instant. The file is used only when the corpus fingerprint
and the model match exactly. Derived from CC BY-SA 4.0 text: same licence, same attribution.

    python scripts/embed_shipped_corpus.py
"""

from __future__ import annotations

import time

import numpy as np

from ads_bench.acquisition.corpus import load_corpus
from ads_bench.acquisition.retrieval import (
    DEFAULT_DENSE_MODEL,
    _encode_corpus,
    embedding_model,
    embedding_model_id,
    shipped_embeddings_path,
)


def main() -> None:
    corpus = load_corpus()
    model_id = embedding_model_id(DEFAULT_DENSE_MODEL)
    target = shipped_embeddings_path(corpus, model_id)
    started = time.perf_counter()
    embeddings = _encode_corpus(embedding_model(model_id), [doc.searchable_text for doc in corpus])
    target.parent.mkdir(parents=True, exist_ok=True)
    np.save(target, embeddings.astype(np.float16))
    print(f"{len(corpus)} documents embedded in {time.perf_counter() - started:.0f} s -> {target}")


if __name__ == "__main__":
    main()
