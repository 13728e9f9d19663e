"""The repeats statistics (ads_bench/judging/metrics/repeats.py) against simulated runs whose
variance components are known: y_ir = mu + a_i + b_r + e_ir."""

import numpy as np
import pytest

from ads_bench.judging.metrics.repeats import complete_matrix, decompose, repeats_text

MU = 50.0


def simulate(rng, n=40, repeats=5, sd_prompt=20.0, sd_run=3.0, sd_residual=8.0):
    return (MU + rng.normal(0, sd_prompt, (n, 1)) + rng.normal(0, sd_run, (1, repeats))
            + rng.normal(0, sd_residual, (n, repeats)))


def coverage(sd_run, runs=2000, **kwargs):
    rng = np.random.default_rng(7)
    inside = {"ci_prompts": 0, "ci_total": 0}
    for _ in range(runs):
        result = decompose(simulate(rng, sd_run=sd_run, **kwargs))
        for key in inside:
            lower, upper = getattr(result, key)
            inside[key] += lower <= MU <= upper
    return {key: count / runs for key, count in inside.items()}


def test_with_a_shift_shared_by_each_run_only_the_interval_with_runs_covers():
    covered = coverage(sd_run=8.0)
    assert 0.92 <= covered["ci_total"] <= 0.985
    assert covered["ci_prompts"] < 0.85  # blind to the shared shift


def test_without_a_shared_shift_both_intervals_cover():
    covered = coverage(sd_run=0.0)
    assert 0.93 <= covered["ci_prompts"] <= 0.97
    assert covered["ci_total"] >= covered["ci_prompts"]


def test_the_components_are_estimated_without_bias():
    rng = np.random.default_rng(1)
    results = [decompose(simulate(rng, n=60, repeats=6)) for _ in range(800)]
    assert np.mean([r.sd_run**2 for r in results]) == pytest.approx(9.0, rel=0.15)
    assert np.mean([r.sd_residual**2 for r in results]) == pytest.approx(64.0, rel=0.05)
    assert np.mean([r.sd_prompt**2 for r in results]) == pytest.approx(400.0, rel=0.1)
    # the SD of the per-repeat scores estimates sqrt(sd_run^2 + sd_residual^2 / n)
    assert np.mean([r.between_run_sd**2 for r in results]) == pytest.approx(9.0 + 64.0 / 60, rel=0.15)


def test_identical_repeats_have_no_run_component():
    scores = np.repeat(np.array([[100.0], [0.0], [50.0], [100.0]]), 3, axis=1)
    result = decompose(scores)
    assert result.between_run_sd == 0.0 and result.sd_run == 0.0 and result.sd_residual == 0.0
    assert result.ci_total == result.ci_prompts
    assert result.n_prompts_differing == 0


def test_only_prompts_scored_in_every_repeat_enter():
    ids, matrix = complete_matrix([{"a": 1.0, "b": 0.0, "c": None}, {"a": 1.0, "b": 1.0, "c": 0.5}])
    assert ids == ["a", "b"] and matrix.tolist() == [[1.0, 1.0], [0.0, 1.0]]


def test_one_repeat_is_no_measurement():
    with pytest.raises(ValueError, match="at least 2 repeats"):
        decompose(np.zeros((5, 1)))


def test_the_table_cell_names_n_the_run_sd_and_the_interval_with_runs():
    block = {"n_repeats": 3, "stage": "both",
             "score": {"mean": 52.0, "between_run_sd": 1.25, "ci_total": [40.0, 64.0]}}
    assert repeats_text(block) == "3 (both): run SD 1.2 · 52.0 [40.0, 64.0] incl. runs"
    assert repeats_text(None) == "–"
