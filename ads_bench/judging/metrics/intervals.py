"""Percentile confidence intervals and a leaderboard's separability.

Separability is Arena-Hard's measure of how well a benchmark tells models apart: the fraction
of model pairs whose confidence intervals do not overlap ("Separability with Confidence",
Li et al. 2024, *From Crowdsourced Data to High-Quality Benchmarks: Arena-Hard and BenchBuilder
Pipeline*, §4; arena-hard-auto computes the intervals as the 2.5th/97.5th percentiles of
bootstrapped scores, ``show_result.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def confidence_interval(
    samples: Sequence[float] | np.ndarray, level: float = 0.95, axis: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of bootstrap ``samples`` along ``axis``: the ``(1 - level) / 2`` and
    ``(1 + level) / 2`` quantiles (numpy's default linear interpolation, as arena-hard's
    ``np.percentile(..., 2.5)``). NaN samples (a model absent from a resample) are ignored."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    values = np.asarray(samples, dtype=float)
    tail = (1 - level) / 2 * 100
    with np.errstate(invalid="ignore"):
        lower = np.nanpercentile(values, tail, axis=axis)
        upper = np.nanpercentile(values, 100 - tail, axis=axis)
    return lower, upper


def separability(lower: Sequence[float] | np.ndarray, upper: Sequence[float] | np.ndarray) -> float:
    """Fraction of the pairs of intervals ``[lower_i, upper_i]`` that do not overlap.

    Intervals that only touch (``upper_i == lower_j``) count as overlapping.
    """
    low = np.asarray(lower, dtype=float)
    high = np.asarray(upper, dtype=float)
    if low.shape != high.shape or low.ndim != 1:
        raise ValueError("lower and upper must be 1-D arrays of the same length")
    if (low > high).any():
        raise ValueError("every lower bound must be at most its upper bound")
    n = low.size
    if n < 2:
        raise ValueError("separability needs at least two intervals")
    apart = (high[:, None] < low[None, :]) | (high[None, :] < low[:, None])
    pairs = np.triu_indices(n, k=1)
    return float(apart[pairs].mean())
