"""Paired, prompt-clustered bootstrap; confidence intervals; separability."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ads_bench.judging.metrics import (
    confidence_interval,
    paired_bootstrap,
    paired_bootstrap_many,
    resample_counts,
    separability,
)


def test_a_real_difference_has_a_small_p_value_and_a_ci_excluding_zero():
    rng = np.random.default_rng(0)
    baseline = rng.normal(5.0, 1.0, 300)
    better = baseline + 0.4 + rng.normal(0, 1.0, 300)
    result = paired_bootstrap(better, baseline, rounds=2000, seed=1)
    assert result.difference == pytest.approx(np.mean(better - baseline))
    assert result.p_value < 0.01
    assert 0 < result.ci_lower < result.difference < result.ci_upper


def test_no_difference_has_a_large_p_value_and_a_ci_covering_zero():
    rng = np.random.default_rng(2)
    baseline = rng.normal(5.0, 1.0, 300)
    same = baseline + rng.normal(0, 1.0, 300)
    same -= np.mean(same - baseline) - 0.01  # observed difference: 0.01, far inside the noise
    result = paired_bootstrap(same, baseline, rounds=2000, seed=3)
    assert result.p_value > 0.5
    assert result.ci_lower < 0 < result.ci_upper


def test_clustering_widens_the_ci_when_prompts_of_a_cluster_are_correlated():
    rng = np.random.default_rng(4)
    n_tasks, per_task = 40, 10
    task = np.repeat(np.arange(n_tasks), per_task)
    # the gain of A over B varies by task much more than by prompt within a task
    task_effect = rng.normal(0, 1.0, n_tasks)[task]
    scores_b = rng.normal(0, 1, task.size)
    scores_a = scores_b + 0.2 + task_effect + rng.normal(0, 0.2, task.size)
    naive = paired_bootstrap(scores_a, scores_b, rounds=2000, seed=5)
    clustered = paired_bootstrap(scores_a, scores_b, clusters=task, rounds=2000, seed=5)
    assert clustered.difference == pytest.approx(naive.difference)
    width = lambda r: r.ci_upper - r.ci_lower  # noqa: E731
    assert width(clustered) > 2 * width(naive)
    assert clustered.p_value > naive.p_value
    assert clustered.n_clusters == n_tasks and naive.n_clusters == task.size


def test_many_systems_at_once_equal_one_at_a_time():
    rng = np.random.default_rng(6)
    baseline = rng.random(200)
    systems = baseline + rng.normal([[0.0], [0.1], [-0.05]], 0.3, size=(3, 200))
    clusters = np.repeat(np.arange(50), 4)
    together = paired_bootstrap_many(systems, baseline, clusters, rounds=500, seed=9)
    for row, result in zip(systems, together, strict=True):
        alone = paired_bootstrap(row, baseline, clusters, rounds=500, seed=9)
        assert result.as_dict() == pytest.approx(alone.as_dict(), rel=1e-12)


def test_missing_scores_leave_only_that_prompt_out():
    scores_a = np.array([1.0, 0.0, math.nan, 1.0])
    scores_b = np.array([0.0, 0.0, 1.0, math.nan])
    result = paired_bootstrap(scores_a, scores_b, rounds=100)
    assert result.n_prompts == 2
    assert (result.mean_a, result.mean_b, result.difference) == (0.5, 0.0, 0.5)


def test_same_seed_same_interval():
    rng = np.random.default_rng(7)
    a, b = rng.random(100), rng.random(100)
    assert paired_bootstrap(a, b, seed=11) == paired_bootstrap(a, b, seed=11)
    assert paired_bootstrap(a, b, seed=11) != paired_bootstrap(a, b, seed=12)


def test_resample_counts_are_multinomial_draws_of_the_units():
    counts = resample_counts(np.random.default_rng(0), n_units=50, rounds=400)
    assert counts.shape == (400, 50)
    assert (counts.sum(axis=1) == 50).all()
    assert counts.mean() == pytest.approx(1.0)
    assert counts.var() == pytest.approx(1 - 1 / 50, rel=0.1)  # multinomial variance


def test_confidence_interval_is_the_percentile_interval():
    samples = np.arange(1001, dtype=float)
    lower, upper = confidence_interval(samples, level=0.95)
    assert (lower, upper) == pytest.approx((25.0, 975.0))
    with pytest.raises(ValueError):
        confidence_interval(samples, level=1.5)


def test_separability_is_the_fraction_of_pairs_whose_intervals_do_not_overlap():
    lower = [0.0, 2.0, 2.5, 10.0]
    upper = [1.0, 3.0, 4.0, 11.0]
    # pairs: (0,1) apart, (0,2) apart, (0,3) apart, (1,2) overlap, (1,3) apart, (2,3) apart
    assert separability(lower, upper) == pytest.approx(5 / 6)
    assert separability([0.0, 1.0], [1.0, 2.0]) == 0.0  # touching intervals overlap
    with pytest.raises(ValueError):
        separability([0.0], [1.0])
