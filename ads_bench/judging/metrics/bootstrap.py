"""Paired, prompt-clustered bootstrap of the difference between systems judged on the same prompts.

Two systems answered the same prompts and each answer got a score (a judge's preference, a 1–10
grade, 0/1 correctness). Prompts are not independent when several come from one task (ADS
splits each task into many held-out instructions), so we resample *clusters* of prompts — all
prompts of a drawn cluster come together — and keep the pairing: a drawn prompt contributes
both systems' scores (Davison & Hinkley 1997, §3.8, the cluster bootstrap; the paired design
is Koehn 2004, "Statistical significance tests for machine translation evaluation").

For a resample with cluster multiplicities ``w_c`` the difference is the prompt-level mean
``sum_c w_c S_c / sum_c w_c n_c`` (``S_c``: sum over the cluster's prompts of score_a - score_b,
``n_c``: its number of prompts). The CI is the percentile interval of those resampled
differences. The two-sided p-value tests "no difference" with the resampled differences shifted
to mean zero (Efron & Tibshirani 1993, §16.4; the form used for NLP by Berg-Kirkpatrick et
al. 2012): ``p = (1 + #{|d* - d| >= |d|}) / (rounds + 1)``, the +1 keeping it a valid p-value.

All rounds are drawn at once as a (rounds × clusters) matrix of multiplicities, and every
system is scored against the baseline with the same draws, so many systems cost one matrix
product.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from ads_bench.judging.metrics.intervals import confidence_interval

#: resampling is done in blocks of rounds so that a block's (rounds × units) matrix stays small
_BLOCK_ELEMENTS = 4_000_000


def resample_counts(rng: np.random.Generator, n_units: int, rounds: int) -> np.ndarray:
    """Multiplicities of ``n_units`` units in ``rounds`` resamples of size ``n_units`` with
    replacement: a (rounds × n_units) integer matrix whose rows each sum to ``n_units``.

    One offset ``bincount`` over all draws, instead of a Python loop over rounds.
    """
    draws = rng.integers(0, n_units, size=(rounds, n_units))
    draws += (np.arange(rounds) * n_units)[:, None]
    return np.bincount(draws.ravel(), minlength=rounds * n_units).reshape(rounds, n_units)


def resample_blocks(rng: np.random.Generator, n_units: int, rounds: int):
    """Yield :func:`resample_counts` matrices covering ``rounds`` rounds in memory-light blocks."""
    block = max(1, min(rounds, _BLOCK_ELEMENTS // max(n_units, 1)))
    done = 0
    while done < rounds:
        size = min(block, rounds - done)
        yield resample_counts(rng, n_units, size)
        done += size


def cluster_index(clusters: Sequence[Hashable] | np.ndarray | None, n_prompts: int) -> np.ndarray:
    """Dense cluster ids 0..C-1 per prompt; each prompt is its own cluster when none are given."""
    if clusters is None:
        return np.arange(n_prompts)
    labels = list(clusters)
    if len(labels) != n_prompts:
        raise ValueError(f"{len(labels)} cluster ids for {n_prompts} prompts")
    ids: dict[Hashable, int] = {}
    return np.array([ids.setdefault(label, len(ids)) for label in labels], dtype=np.int64)


@dataclass(frozen=True)
class PairedDiff:
    """Mean score of system A minus system B over the prompts both have a score for."""

    mean_a: float
    mean_b: float
    difference: float
    ci_lower: float
    ci_upper: float
    p_value: float
    standard_error: float
    n_prompts: int
    n_clusters: int
    rounds: int
    level: float

    def as_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


def paired_bootstrap_many(
    scores: Sequence[Sequence[float]] | np.ndarray,
    baseline: Sequence[float] | np.ndarray,
    clusters: Sequence[Hashable] | np.ndarray | None = None,
    *,
    rounds: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> list[PairedDiff]:
    """:func:`paired_bootstrap` of every row of ``scores`` (systems × prompts) against
    ``baseline`` (prompts), all with the same resamples. NaN marks a missing score: that prompt
    is left out of that system's comparison only."""
    matrix = np.atleast_2d(np.asarray(scores, dtype=float))
    reference = np.asarray(baseline, dtype=float)
    n_systems, n_prompts = matrix.shape
    if reference.shape != (n_prompts,):
        raise ValueError(f"baseline has {reference.size} scores, the systems {n_prompts}")
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    cluster = cluster_index(clusters, n_prompts)
    n_clusters = int(cluster.max()) + 1 if n_prompts else 0

    valid = np.isfinite(matrix) & np.isfinite(reference)[None, :]
    differences = np.where(valid, matrix - reference[None, :], 0.0)
    # per-system, per-cluster sums of differences and counts of usable prompts
    cluster_sums = np.zeros((n_systems, n_clusters))
    cluster_sizes = np.zeros((n_systems, n_clusters))
    for system in range(n_systems):
        cluster_sums[system] = np.bincount(
            cluster, weights=differences[system], minlength=n_clusters
        )
        cluster_sizes[system] = np.bincount(cluster, weights=valid[system], minlength=n_clusters)
    n_used = cluster_sizes.sum(axis=1)
    if (n_used == 0).any():
        raise ValueError("a system shares no scored prompt with the baseline")
    observed = cluster_sums.sum(axis=1) / n_used

    rng = np.random.default_rng(seed)
    resampled = np.empty((rounds, n_systems))
    done = 0
    for counts in resample_blocks(rng, n_clusters, rounds):
        weights = counts.astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            resampled[done : done + len(counts)] = (weights @ cluster_sums.T) / (
                weights @ cluster_sizes.T
            )
        done += len(counts)

    lower, upper = confidence_interval(resampled, level=level, axis=0)
    centred = np.abs(resampled - observed[None, :])
    extreme = (centred >= np.abs(observed)[None, :] - 1e-12).sum(axis=0)
    p_values = (1 + extreme) / (rounds + 1)
    standard_errors = np.nanstd(resampled, axis=0, ddof=1) if rounds > 1 else np.zeros(n_systems)

    results = []
    for system in range(n_systems):
        used = valid[system]
        results.append(
            PairedDiff(
                mean_a=float(matrix[system, used].mean()),
                mean_b=float(reference[used].mean()),
                difference=float(observed[system]),
                ci_lower=float(lower[system]),
                ci_upper=float(upper[system]),
                p_value=float(p_values[system]),
                standard_error=float(standard_errors[system]),
                n_prompts=int(n_used[system]),
                n_clusters=int((cluster_sizes[system] > 0).sum()),
                rounds=rounds,
                level=level,
            )
        )
    return results


def paired_bootstrap(
    scores_a: Sequence[float] | np.ndarray,
    scores_b: Sequence[float] | np.ndarray,
    clusters: Sequence[Hashable] | np.ndarray | None = None,
    *,
    rounds: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> PairedDiff:
    """Difference in mean score of A over B on the same prompts, with a cluster-bootstrap CI and
    a two-sided p-value (see the module docstring for the formulas).

    ``clusters``: one id per prompt (e.g. the task a held-out instruction came from); by default
    every prompt is its own cluster, i.e. the ordinary paired bootstrap.
    """
    return paired_bootstrap_many(
        [scores_a], scores_b, clusters, rounds=rounds, seed=seed, level=level  # type: ignore[list-item]
    )[0]
