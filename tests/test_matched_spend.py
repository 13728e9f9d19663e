"""Scores at matched spend: each curve read at common $ levels, with paired jackknife intervals."""

import numpy as np
import pytest
from scipy import stats

from ads_bench.judging.metrics import clustered_mean
from ads_bench.reporting.matched_spend import (
    OUTSIDE,
    Curve,
    Point,
    acquisition_spend,
    interpolate,
    spend_levels,
)

RNG = np.random.default_rng(7)


def point(spend, values, name, tasks=None):
    ids = [f"t{k}#0" for k in range(len(values))]
    clusters = {i: (tasks[k] if tasks else i.split("#")[0]) for k, i in enumerate(ids)}
    return Point(spend, dict(zip(ids, map(float, values), strict=True)), clusters, dict.fromkeys(ids, 1.0), (name,))


def curve(*points):
    return Curve("s", "inhouse", "win rate %", sorted(points, key=lambda p: p.spend))


def test_the_score_between_two_rungs_is_linear_in_spend():
    cheap, dear = point(0.01, [40.0] * 12, "cheap"), point(0.03, [60.0] * 12, "dear")
    line = curve(cheap, dear)
    assert interpolate(line, 0.02).estimate == pytest.approx(50.0)
    assert interpolate(line, 0.015).estimate == pytest.approx(45.0)
    assert interpolate(line, 0.03).estimate == pytest.approx(60.0)
    assert interpolate(line, 0.02).between == ("cheap", "dear")


def test_there_is_no_extrapolation_beyond_a_curves_cheapest_and_dearest_rung():
    line = curve(point(0.01, [40.0] * 12, "a"), point(0.03, [60.0] * 12, "b"))
    for spend in (0.005, 0.031):
        outside = interpolate(line, spend)
        assert outside.estimate is None and outside.ci_lower is None and outside.note == OUTSIDE


def test_at_a_rung_the_interval_is_that_runs_own():
    values = RNG.uniform(0, 100, 15)
    line = curve(point(0.01, values, "a"), point(0.03, RNG.uniform(0, 100, 15), "b"))
    own = clustered_mean(values)
    at_rung = interpolate(line, 0.01)
    assert (at_rung.estimate, at_rung.ci_lower, at_rung.ci_upper) == pytest.approx(
        (own.estimate, own.ci_lower, own.ci_upper))


def test_the_interval_between_rungs_is_the_jackknife_t_interval_of_the_combination():
    a, b = RNG.uniform(0, 100, 12), RNG.uniform(0, 100, 12)
    share = 0.25
    combined = (1 - share) * a + share * b
    n = combined.size
    without = (combined.sum() - combined) / (n - 1)
    se = np.sqrt((n - 1) / n * ((without - without.mean()) ** 2).sum())
    half = stats.t.ppf(0.975, n - 1) * se
    got = interpolate(curve(point(1.0, a, "a"), point(2.0, b, "b")), 1.25)
    assert (got.estimate, got.ci_lower, got.ci_upper) == pytest.approx(
        (combined.mean(), combined.mean() - half, combined.mean() + half))


def test_paired_rungs_that_move_together_keep_one_rungs_interval_width():
    # each prompt scores 10 points more at the dearer rung: the curve is as certain between the
    # rungs as at them, which treating the rungs as independent would miss
    a = RNG.uniform(0, 80, 20)
    line = curve(point(1.0, a, "a"), point(2.0, a + 10, "b"))
    width = [s.ci_upper - s.ci_lower for s in (interpolate(line, x) for x in (1.0, 1.5, 2.0))]
    assert width == pytest.approx([width[0]] * 3)
    assert interpolate(line, 1.5).estimate == pytest.approx(a.mean() + 5)


def test_a_task_moves_its_prompts_together_in_the_interval():
    # two prompts per task: the interval is over the 12 tasks, not the 24 prompts
    tasks = [f"t{k // 2}" for k in range(24)]
    a, b = RNG.uniform(0, 100, 24), RNG.uniform(0, 100, 24)
    got = interpolate(curve(point(1.0, a, "a", tasks), point(2.0, b, "b", tasks)), 1.5)
    assert got.n_items == 24 and got.n_tasks == 12


def test_too_few_tasks_give_a_score_without_an_interval():
    got = interpolate(curve(point(1.0, [40.0, 60.0], "a"), point(2.0, [50.0, 70.0], "b")), 1.5)
    assert got.estimate == pytest.approx(55.0) and got.ci_lower is None
    assert "too few tasks" in got.note


def test_only_prompts_both_rungs_judged_enter_the_interpolation():
    a = point(1.0, [0.0, 100.0, 50.0], "a")
    b = Point(2.0, {"t0#0": 100.0, "t1#0": 100.0}, {"t0#0": "t0", "t1#0": "t1"}, {"t0#0": 1.0, "t1#0": 1.0}, ("b",))
    assert interpolate(curve(a, b), 1.5).estimate == pytest.approx((50.0 + 100.0) / 2)


def test_spend_levels_are_the_rungs_own_spends_preferring_those_most_curves_reach():
    few = [curve(point(0.0, [1.0], "zero"), point(0.01, [1.0], "a"), point(0.02, [1.0], "b"))]
    assert spend_levels(few) == [0.01, 0.02]  # $0 is a curve's lower end, not a level
    wide = curve(*(point(s, [1.0], str(s)) for s in (0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128)))
    narrow = curve(point(0.002, [1.0], "n1"), point(0.0021, [1.0], "n2"), point(0.004, [1.0], "n3"))
    levels = spend_levels([wide, narrow], most=3)
    # inside both ranges first (0.0021 is too close to 0.002 to add anything), then the
    # farthest from those in log $
    assert levels == [0.002, 0.004, 0.128]
    # a strategy whose spend does not move with the budget: the others are read at its spend
    flat, none = curve(point(0.05, [1.0], "flat")), curve(point(0.0, [1.0], "none"))
    anchored = spend_levels([wide, narrow, flat, none], most=3)
    assert 0.05 in anchored and 0.0 not in anchored and len(anchored) == 3


def test_spend_is_the_acquisition_run_cost_not_answering_or_judging():
    ledger = {"entries": [
        {"role": "expert", "model": "m", "api": "question_answering", "cost_usd": 0.002},
        {"role": "acquisition", "model": "-", "api": "question_answering", "cost_usd": 0.05},
        {"role": "optimizer", "model": "m", "api": "-", "cost_usd": 0.001},
        {"role": "policy", "model": "m", "api": "demonstration_generation", "cost_usd": 0.003},
        {"role": "policy", "model": "m", "api": "-", "cost_usd": 0.5},
        {"role": "judge", "model": "m", "api": "-", "cost_usd": 0.7},
    ]}
    assert acquisition_spend(ledger) == pytest.approx(0.056)
    assert acquisition_spend(None) is None


@pytest.mark.model
async def test_a_budget_ladder_sweep_shows_scores_at_matched_spend(fresh_runtime, tmp_path):
    from ads_bench.cli.sweep_run import run_sweep
    from ads_bench.reporting.leaderboard import load_leaderboard

    path = tmp_path / "ladder.yaml"
    path.write_text(
        "name: ladder\n"
        "base: {suite: inhouse, limit: 1, max_held_out: 1, max_tokens: 8, max_calls: 3, judge_max_tokens: 1}\n"
        "grid: {strategy: [none, rule-qa], budget_items: [1, 3]}\n"
        "baseline: none\n"
    )
    folder, _ = await run_sweep(path, fresh_runtime, out=tmp_path / "results")
    board = load_leaderboard([folder])
    [rule_qa] = [c for c in board.matched_spend.curves if c.label == "rule-qa"]
    low, high = rule_qa.points
    assert high.spend > low.spend > 0  # the larger budget was used, and it cost more
    markdown = (folder / "leaderboard.md").read_text()
    assert "Scores at matched spend" in markdown and f"{high.spend:.4g}" in markdown
    assert OUTSIDE in markdown  # `none` spent nothing: it has no score at a positive spend
    assert 'id="matched-spend"' in (folder / "report.html").read_text()
