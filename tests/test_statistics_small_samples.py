"""Intervals and p-values that hold up with few tasks (issue 12, items 16–18).

The shipped interval is the task-clustered t interval (jackknife SE over tasks, tasks − 1 degrees
of freedom, :mod:`ads_bench.judging.metrics.clustered`); below ``MIN_CLUSTERS`` tasks no interval
and no p-value is printed. The simulations measure its coverage on synthetic clustered data.
"""

from __future__ import annotations

import numpy as np
import pytest
from run_folders import write_run

from ads_bench.cli.tables import metrics_table
from ads_bench.judging.engine import PairJudgment
from ads_bench.judging.metrics import MIN_CLUSTERS, clustered_difference, clustered_mean, holm
from ads_bench.judging.metrics.winrate import win_rate_summary
from ads_bench.judging.summary import pairwise_metrics
from ads_bench.reporting.leaderboard import load_leaderboard
from ads_bench.reporting.report import build_report

SIMULATIONS = 4000


def clustered_preferences(rng, simulations: int, tasks: int, max_prompts: int = 4):
    """Per simulated run: a task-level mean drawn around 0.6 (Beta(6, 4)), 1..max_prompts prompts
    per task with preferences Beta-distributed around their task's mean. The true win rate is 0.6."""
    sizes = rng.integers(1, max_prompts + 1, size=(simulations, tasks))
    task_means = rng.beta(6, 4, size=(simulations, tasks))
    width = sizes.max()
    present = np.arange(width)[None, None, :] < sizes[:, :, None]
    values = rng.beta(8 * task_means[..., None], 8 * (1 - task_means[..., None]), size=(simulations, tasks, width))
    return values, present


def flatten(values, present, run):
    keep = present[run]
    clusters = np.broadcast_to(np.arange(values.shape[1])[:, None], keep.shape)[keep]
    return values[run][keep], clusters


def coverage_of_mean(tasks: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    values, present = clustered_preferences(rng, SIMULATIONS, tasks)
    covered = 0
    for run in range(SIMULATIONS):
        x, clusters = flatten(values, present, run)
        mean = clustered_mean(x, clusters)
        covered += mean.ci_lower <= 0.6 <= mean.ci_upper
    return covered / SIMULATIONS


def coverage_of_difference(tasks: int, seed: int) -> float:
    """Two systems on the same prompts: B = A's preference times a per-prompt factor around 0.75,
    so the true difference is 0.6 - 0.6 * 0.75 = 0.15 and the two are correlated."""
    rng = np.random.default_rng(seed)
    values, present = clustered_preferences(rng, SIMULATIONS, tasks)
    factors = rng.beta(6, 2, size=values.shape)
    covered = 0
    for run in range(SIMULATIONS):
        a, clusters = flatten(values, present, run)
        b = a * factors[run][present[run]]
        diff = clustered_difference(a, b, clusters)
        covered += diff.ci_lower <= 0.15 <= diff.ci_upper
    return covered / SIMULATIONS


@pytest.mark.parametrize("tasks", [MIN_CLUSTERS, 20, 40])
def test_the_95_percent_interval_covers_93_to_97_percent_at_and_above_the_threshold(tasks):
    # 4,000 runs per setting: the coverage estimate's own SE is 0.34 points
    assert 0.93 <= coverage_of_mean(tasks, seed=tasks) <= 0.97
    assert 0.93 <= coverage_of_difference(tasks, seed=100 + tasks) <= 0.97


def test_below_the_threshold_there_is_no_interval_and_no_p_value():
    rng = np.random.default_rng(0)
    few = clustered_mean(rng.random(12), np.repeat(np.arange(3), 4))
    assert few.n_clusters == 3 and few.ci_lower is None and few.ci_upper is None
    assert few.note == "too few tasks for a CI (n=3)"
    diff = clustered_difference(rng.random(9), rng.random(9), np.arange(9))
    assert diff.p_value is None and diff.ci_lower is None and diff.standard_error is not None
    enough = clustered_mean(rng.random(MIN_CLUSTERS), np.arange(MIN_CLUSTERS))
    assert enough.ci_lower is not None and enough.note == ""


def judgments_of(preferences, clusters):
    return [PairJudgment(f"{c}#{k}", p, [], None, cluster=c) for k, (p, c) in enumerate(zip(preferences, clusters, strict=True))]


def test_three_tasks_print_no_ci_and_a_clustered_standard_error():
    # the quickstart's shape: 3 tasks of several held-out prompts each
    preferences = [0.9, 0.8, 0.85, 0.9, 0.3, 0.4, 0.35, 0.3, 0.6, 0.5, 0.55, 0.6]
    clusters = [t for t in ("a", "b", "c") for _ in range(4)]
    metrics = pairwise_metrics(judgments_of(preferences, clusters))
    assert metrics["ci_lower"] is None and metrics["ci_upper"] is None
    assert metrics["ci_note"] == "too few tasks for a CI (n=3)"
    # a task's prompts are not independent: the SE is the task-level one, far above the prompt-level one
    naive = win_rate_summary(preferences)["standard_error"]
    task_means = np.array([0.8625, 0.3375, 0.5625])
    assert metrics["standard_error"] == pytest.approx(100 * task_means.std(ddof=1) / np.sqrt(3))
    assert metrics["standard_error"] > 2 * naive
    assert metrics["standard_error_method"] == "task-clustered jackknife"
    from rich.console import Console

    console = Console(width=200, record=True)
    console.print(metrics_table({"pairwise": metrics}, "metrics"))
    text = console.export_text()
    assert "too few tasks for a CI (n=3)" in text and "[" not in text.split("win rate")[1].splitlines()[0]


def test_a_suite_of_single_prompt_clusters_keeps_alpaca_evals_exact_standard_error():
    rng = np.random.default_rng(3)
    preferences = rng.random(805)
    metrics = pairwise_metrics(judgments_of(preferences, [f"q{i}" for i in range(805)]))
    assert metrics["standard_error"] == win_rate_summary(preferences)["standard_error"]  # bit for bit
    assert "standard_error_method" not in metrics
    assert metrics["clustered_standard_error"] == pytest.approx(metrics["standard_error"], rel=1e-9)


def test_holm_adjusts_a_family_of_p_values_step_down():
    assert holm([0.01, 0.04, None, 0.03]) == pytest.approx([0.03, 0.06, None, 0.06])
    assert holm([0.5]) == [0.5] and holm([]) == []
    assert holm([0.2, 0.6]) == pytest.approx([0.4, 0.6])


def test_one_held_out_prompt_says_n_too_small_with_no_p_value_star_or_zero_width_interval(tmp_path):
    write_run(tmp_path / "none", "none", [[0.5]])
    write_run(tmp_path / "ads", "ads", [[0.9]])
    board = load_leaderboard([tmp_path])
    [ads] = [e for e in board.entries if e.name == "ads"]
    assert ads.difference == pytest.approx(40.0)
    assert ads.p_value is None and ads.significance == ""
    assert ads.difference_lower is None and ads.ci_lower is None
    row = board.rows()[[e.name for e in board.entries].index("ads")]
    assert row["p"] == "n too small (1 task)" and row["sig."] == ""
    assert "[" not in row["Δ vs baseline [95% CI]"]
    assert "too few tasks for a CI (n=1)" in row["score [95% CI]"]
    table = [line for line in board.to_markdown().splitlines() if line.startswith("|")]
    assert not any("0.001" in line or "*" in line for line in table)
    page = build_report(tmp_path)
    assert "n too small (1 task): no p-value, no CI" in page and "p = 0.001" not in page


def test_many_strategies_against_one_baseline_are_starred_on_holm_adjusted_p_values(tmp_path):
    rng = np.random.default_rng(5)
    base = rng.uniform(0.3, 0.7, size=(12, 2))
    write_run(tmp_path / "none", "none", base.tolist())
    # a clear gain, and three small ones whose raw p is just under 0.05
    write_run(tmp_path / "clear", "clear", np.clip(base + 0.3, 0, 1).tolist())
    for name, shift in (("small-1", 0.05), ("small-2", 0.05), ("small-3", 0.05)):
        noise = rng.normal(0, 0.06, size=base.shape)
        write_run(tmp_path / name, name, np.clip(base + shift + noise, 0, 1).tolist())
    board = load_leaderboard([tmp_path])
    tested = [e for e in board.entries if e.p_value is not None]
    assert len(tested) == 4
    adjusted = holm([e.p_value for e in tested])
    for entry, p_holm in zip(tested, adjusted, strict=True):
        assert entry.p_holm == pytest.approx(p_holm) and entry.p_holm >= entry.p_value
    clear = next(e for e in tested if e.name == "clear")
    assert clear.significance == "***"
    # a raw p under 0.05 is not starred once adjusted above it
    for entry in tested:
        if entry.p_holm >= 0.05:
            assert entry.significance == "n.s."
    assert any(e.p_value < 0.05 <= e.p_holm for e in tested)
    assert "p (Holm)" in board.to_markdown() and "Holm" in " ".join(board.footnotes())
