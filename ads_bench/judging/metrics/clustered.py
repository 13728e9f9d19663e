"""Means over prompts that come in clusters, with intervals that stay honest with few clusters.

A task's held-out prompts are not independent (ADS splits each task into several held-out
instructions), so the unit of sampling is the cluster (the task), not the prompt. The estimate
is the prompt-level weighted mean ``R = sum_c S_c / sum_c N_c`` (``S_c``: the cluster's sum of
weight x value, ``N_c``: its total weight; a weight is 1 per prompt, or an Arena-Hard question's
number of battles). Its standard error is the delete-one-cluster jackknife's; the 95% interval
is ``R +- t(G - 1) * SE`` and the p-value of "no difference" the two-sided t test with ``G - 1``
degrees of freedom, ``G`` the number of clusters.

Why these and not the percentile bootstrap used before: with G clusters a cluster bootstrap has
at most C(2G - 1, G) distinct resamples (10 for G = 3) and its percentile interval is too narrow
for small G; the t quantile widens the interval by the uncertainty of the SE itself. The
jackknife SE is the cluster-robust one for a ratio of sums, and it covers better than the plain
sandwich SE when clusters differ in size (coverage of both measured in
tests/test_statistics_small_samples.py). With one prompt per cluster and unit weights it is the
ordinary standard error of the mean, sd / sqrt(n) with ddof = 1.

Below :data:`MIN_CLUSTERS` there is no interval and no p-value at all: the t interval's coverage
rests on the cluster means being near-normal, which a handful of tasks cannot show, and the
closer a score sits to its bound (a win rate near 100%) the more tasks that takes. Measured
coverage of the nominal 95% interval (tests/test_statistics_small_samples.py, 4,000 synthetic
runs each, tasks of 1-4 prompts): 94.0% for a win rate and 93.5% for a paired difference at 10
tasks, 93.9% / 94.4% at 20, 94.7% / 94.8% at 40.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ads_bench.judging.metrics.bootstrap import cluster_index

#: fewest clusters (tasks) for a confidence interval or a p-value; at 10 and above the
#: simulation in tests/test_statistics_small_samples.py measures 93-97% coverage of the 95% CI
MIN_CLUSTERS = 10
LEVEL = 0.95


def too_few_clusters(n_clusters: int) -> str:
    """What is printed instead of an interval below :data:`MIN_CLUSTERS`."""
    return f"too few tasks for a CI (n={n_clusters})"


@dataclass(frozen=True)
class ClusteredMean:
    """A weighted prompt-level mean with its clustered SE and 95% t interval (None below
    :data:`MIN_CLUSTERS`)."""

    estimate: float
    standard_error: float | None
    ci_lower: float | None
    ci_upper: float | None
    p_value: float | None  # of "the mean is 0" (used for paired differences)
    n_items: int
    n_clusters: int

    @property
    def enough_clusters(self) -> bool:
        return self.n_clusters >= MIN_CLUSTERS

    @property
    def note(self) -> str:
        return "" if self.enough_clusters else too_few_clusters(self.n_clusters)


def _cluster_sums(values: np.ndarray, weights: np.ndarray, cluster: np.ndarray, n: int) -> tuple:
    return (np.bincount(cluster, weights=weights * values, minlength=n),
            np.bincount(cluster, weights=weights, minlength=n))


def _jackknife_se(estimate_without: np.ndarray) -> float:
    """Jackknife SE from the estimate with each cluster left out in turn."""
    g = estimate_without.size
    return float(np.sqrt((g - 1) / g * ((estimate_without - estimate_without.mean()) ** 2).sum()))


def _summarise(estimate: float, without: np.ndarray, n_items: int, level: float) -> ClusteredMean:
    g = without.size
    se = _jackknife_se(without) if g >= 2 else None
    if g < MIN_CLUSTERS or se is None:
        return ClusteredMean(estimate, se, None, None, None, n_items, g)
    quantile = float(stats.t.ppf((1 + level) / 2, g - 1))
    if se == 0.0:  # every cluster says the same: no sampling spread to test against
        p_value = 1.0 if estimate == 0.0 else 0.0
    else:
        p_value = float(2 * stats.t.sf(abs(estimate) / se, g - 1))
    return ClusteredMean(estimate, se, estimate - quantile * se, estimate + quantile * se, p_value, n_items, g)


def clustered_mean(
    values: Sequence[float] | np.ndarray,
    clusters: Sequence[Hashable] | None = None,
    weights: Sequence[float] | np.ndarray | None = None,
    *,
    level: float = LEVEL,
) -> ClusteredMean:
    """Weighted mean of ``values`` (one per prompt) with its cluster-jackknife SE and t interval.

    ``clusters``: one id per prompt (default: each prompt its own cluster). ``weights``: one per
    prompt (default 1); the mean is ``sum(w * v) / sum(w)``.
    """
    x = np.asarray(values, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    if x.size == 0 or w.sum() <= 0:
        raise ValueError("no value to average")
    cluster = cluster_index(clusters, x.size)
    g = int(cluster.max()) + 1
    sums, sizes = _cluster_sums(x, w, cluster, g)
    estimate = float(sums.sum() / sizes.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        without = (sums.sum() - sums) / (sizes.sum() - sizes)
    return _summarise(estimate, without, x.size, level)


def clustered_difference(
    values_a: Sequence[float] | np.ndarray,
    values_b: Sequence[float] | np.ndarray,
    clusters: Sequence[Hashable] | None = None,
    weights_a: Sequence[float] | np.ndarray | None = None,
    weights_b: Sequence[float] | np.ndarray | None = None,
    *,
    level: float = LEVEL,
) -> ClusteredMean:
    """Paired difference of two weighted means over the same prompts (A minus B), with the
    jackknife leaving out a cluster from both sides at once, so the pairing is kept."""
    a = np.asarray(values_a, dtype=float)
    b = np.asarray(values_b, dtype=float)
    if a.shape != b.shape or a.size == 0:
        raise ValueError("the two systems need scores for the same, non-empty set of prompts")
    wa = np.ones_like(a) if weights_a is None else np.asarray(weights_a, dtype=float)
    wb = np.ones_like(b) if weights_b is None else np.asarray(weights_b, dtype=float)
    cluster = cluster_index(clusters, a.size)
    g = int(cluster.max()) + 1
    sums_a, sizes_a = _cluster_sums(a, wa, cluster, g)
    sums_b, sizes_b = _cluster_sums(b, wb, cluster, g)
    estimate = float(sums_a.sum() / sizes_a.sum() - sums_b.sum() / sizes_b.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        without = ((sums_a.sum() - sums_a) / (sizes_a.sum() - sizes_a)
                   - (sums_b.sum() - sums_b) / (sizes_b.sum() - sizes_b))
    return _summarise(estimate, without, a.size, level)


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjustment of a family of p-values (None entries are not tests).

    The k-th smallest of m p-values becomes ``max_{j<=k} min(1, (m - j + 1) p_(j))``; rejecting
    where the adjusted p is below alpha keeps the family-wise error rate at alpha under any
    dependence between the tests (here: many runs compared with one baseline run).
    """
    tested = [(p, i) for i, p in enumerate(p_values) if p is not None]
    m = len(tested)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, index) in enumerate(sorted(tested)):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[index] = running
    return adjusted
