"""AlpacaEval win rates: our numbers are AlpacaEval's numbers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from ads_bench.judging.format_alpaca_eval import read_alpaca_eval
from ads_bench.judging.metrics import preferences_from_alpaca_eval, win_rate_summary

VALIDATION = (
    Path(__file__).resolve().parents[1]
    / "tasks/judge_check/gpt-3.5-turbo-1106_weighted_alpaca_eval_gpt4_turbo_annotations.json.gz"
)
# AlpacaEval's leaderboard row (weighted_alpaca_eval_gpt4_turbo_leaderboard.csv, gpt-3.5-turbo-1106)
PUBLISHED = {
    "win_rate": 9.177964561962735,
    "standard_error": 0.8904117511864436,
    "n_wins": 64,
    "n_wins_base": 737,
    "n_draws": 4,
    "n_total": 805,
    "discrete_win_rate": 8.198757763975156,
    "avg_length": 796,
}


def test_published_alpaca_eval_figures_are_reproduced_to_the_last_bit():
    annotations = read_alpaca_eval(VALIDATION)
    summary = win_rate_summary(
        annotations.preferences,
        lengths_model=annotations.lengths_model,
        lengths_reference=annotations.lengths_reference,
    )
    for key, published in PUBLISHED.items():
        assert summary[key] == published, key
    assert summary["n_failed"] == 0


def test_alpaca_eval_preferences_become_the_probability_that_the_model_wins():
    converted = preferences_from_alpaca_eval([1.0, 2.0, 1.5, 1.25, "1.75", 0, None, 2.5, -1])
    assert converted[:6].tolist() == [0.0, 1.0, 0.5, 0.25, 0.75, 0.5]  # legacy 0 = draw
    assert np.isnan(converted[6:]).all()  # null and out-of-range are failures, not ties


def test_failed_judgments_are_counted_and_left_out_not_turned_into_ties():
    with_failures = win_rate_summary([1.0, 0.0, math.nan, math.nan])
    assert with_failures["n_failed"] == 2
    assert with_failures["n_total"] == 2
    assert with_failures["n_draws"] == 0
    assert with_failures["win_rate"] == 50.0


def test_counts_and_discrete_win_rate_follow_alpaca_eval_definitions():
    summary = win_rate_summary([0.9, 0.6, 0.5, 0.5, 0.2])
    assert (summary["n_wins"], summary["n_wins_base"], summary["n_draws"]) == (2, 1, 2)
    assert summary["discrete_win_rate"] == pytest.approx((2 + 2 / 2) / 5 * 100)
    assert summary["win_rate"] == pytest.approx(54.0)
    assert summary["standard_error"] == pytest.approx(
        np.std([0.9, 0.6, 0.5, 0.5, 0.2], ddof=1) / math.sqrt(5) * 100
    )


def test_no_successful_judgment_is_an_error():
    with pytest.raises(ValueError, match="no successful judgment"):
        win_rate_summary([math.nan])


def test_matches_alpaca_eval_get_winrate_on_random_preferences():
    alpaca_metrics = pytest.importorskip("alpaca_eval.metrics")
    rng = np.random.default_rng(1)
    raw = 1 + rng.random(300)
    raw[::17] = 1.5
    raw[::29] = 2.0
    stored = [float(value) for value in raw] + [None, 0]
    ours = win_rate_summary(preferences_from_alpaca_eval(stored))
    theirs = alpaca_metrics.get_winrate([{"preference": value} for value in stored])
    for key, value in theirs.items():
        assert ours[key] == pytest.approx(float(value), rel=1e-13, abs=1e-13), key
