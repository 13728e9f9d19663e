"""Reciprocal rank fusion: how the hybrid search merges the BM25 and the dense rankings."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

DEFAULT_RRF_K = 60


K = TypeVar("K", bound=Hashable)


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[K]], k: int = DEFAULT_RRF_K
) -> list[tuple[K, float]]:
    """RRF: score(d) = Σ over rankings holding d of 1 / (k + rank of d), ranks from 1.

    Ties keep the order in which items were first met (first ranking first), so the result
    is deterministic.
    """
    if k < 0:
        raise ValueError(f"RRF k must be >= 0, got {k}")
    fused: dict[K, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda pair: -pair[1])
