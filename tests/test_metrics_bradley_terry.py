"""Bradley–Terry scores as Arena-Hard computes them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ads_bench.judging.metrics import (
    STYLE_FEATURES,
    Battles,
    Game,
    battles_from_games,
    bradley_terry,
    style_counts,
    win_rate_against,
)


def _synthetic_battles(
    strengths: dict[str, float], n: int, seed: int, tie_rate: float = 0.1, with_style: bool = False
) -> Battles:
    """Random pairings; A beats B with the Bradley–Terry probability of their strengths."""
    rng = np.random.default_rng(seed)
    names = list(strengths)
    pairs = np.array([rng.choice(len(names), 2, replace=False) for _ in range(n)])
    diff = np.array([strengths[names[a]] - strengths[names[b]] for a, b in pairs])
    p_win = 1 / (1 + 10 ** (-diff / 400))
    u = rng.random(n)
    score = np.where(u < tie_rate, 0.5, np.where(rng.random(n) < p_win, 1.0, 0.0))
    style = rng.integers(1, 500, size=(2, n, len(STYLE_FEATURES))).astype(float)
    return Battles(
        model_a=np.array([names[a] for a, _ in pairs], dtype=object),
        model_b=np.array([names[b] for _, b in pairs], dtype=object),
        score_a=score,
        prompt=np.arange(n).astype(object),
        style_a=style[0] if with_style else None,
        style_b=style[1] if with_style else None,
    )


def test_recovers_known_strengths_on_synthetic_battles():
    truth = {"baseline": 1000.0, "weak": 900.0, "good": 1100.0, "best": 1250.0}
    result = bradley_terry(
        _synthetic_battles(truth, 8000, seed=0, tie_rate=0.0), baseline="baseline", rounds=50
    )
    for name, rating in truth.items():
        fitted = result.rating_of(name)
        assert fitted.rating == pytest.approx(rating, abs=25), name
        assert fitted.rating_lower <= fitted.rating <= fitted.rating_upper
    assert [entry.model for entry in result.ratings] == ["best", "good", "baseline", "weak"]


def _sklearn_arena_hard_design(battles: Battles, names: list[str], style=None):
    """arena-hard's compute_mle_elo / construct_style_matrices, literally."""
    index = {name: i for i, name in enumerate(names)}
    n = len(battles)
    X = np.zeros((2 * n, len(names)))
    Y = np.zeros(2 * n)
    for row in range(n):
        for copy in (row, row + n):
            X[copy, index[battles.model_a[row]]] = math.log(10)
            X[copy, index[battles.model_b[row]]] = -math.log(10)
        if battles.score_a[row] == 1.0:
            Y[row] = Y[row + n] = 1.0
        elif battles.score_a[row] == 0.5:
            Y[row] = 1.0  # one tie => one A win + one B win
    if style is not None:
        X = np.hstack([X, np.vstack([style, style])])
    return X, Y


def test_point_ratings_equal_arena_hards_sklearn_fit():
    from sklearn.linear_model import LogisticRegression

    truth = {"gpt-4-0314": 1000.0, "a": 950.0, "b": 1080.0, "c": 1010.0}
    battles = _synthetic_battles(truth, 1500, seed=1)
    names = sorted(truth)
    X, Y = _sklearn_arena_hard_design(battles, names)
    sklearn_fit = LogisticRegression(fit_intercept=False, C=np.inf, tol=1e-12, max_iter=10_000)
    elo = 400 * sklearn_fit.fit(X, Y).coef_[0] + 1000
    elo += 1000 - elo[names.index("gpt-4-0314")]
    result = bradley_terry(battles, baseline="gpt-4-0314", rounds=2)
    for i, name in enumerate(names):
        assert result.rating_of(name).rating == pytest.approx(elo[i], abs=1e-4)


def test_style_control_equals_arena_hards_penalised_fit():
    from sklearn.linear_model import LogisticRegression

    truth = {"gpt-4-0314": 1000.0, "a": 950.0, "b": 1080.0}
    battles = _synthetic_battles(truth, 1200, seed=2, with_style=True)
    names = sorted(truth)
    ratio = (battles.style_a - battles.style_b) / (battles.style_a + battles.style_b + 1)
    standardised = (ratio - ratio.mean(axis=0)) / ratio.std(axis=0)
    X, Y = _sklearn_arena_hard_design(battles, names, standardised)
    # fit_bt: LogisticRegression(fit_intercept=False), i.e. the default L2 penalty with C = 1
    coef = LogisticRegression(fit_intercept=False, tol=1e-12, max_iter=10_000).fit(X, Y).coef_[0]
    elo = 400 * coef[: len(names)]
    elo += 1000 - elo[names.index("gpt-4-0314")]
    result = bradley_terry(battles, baseline="gpt-4-0314", rounds=2, style=STYLE_FEATURES)
    for i, name in enumerate(names):
        assert result.rating_of(name).rating == pytest.approx(elo[i], abs=1e-4)
    assert list(result.style_coefficients.values()) == pytest.approx(coef[len(names) :], abs=1e-7)


def test_style_control_removes_a_length_bias():
    """Two models as good as the baseline; the judge prefers longer answers. "verbose" answers
    are mostly 3x longer than the baseline's, "concise" ones 3x shorter."""
    rng = np.random.default_rng(4)
    n = 3000
    zeros = np.zeros(n)
    model_a, model_b, scores, style_a, style_b = [], [], [], [], []
    for model, factor in (("verbose", 3.0), ("concise", 1 / 3)):
        length_a = rng.integers(100, 1000, n).astype(float)
        length_b = np.where(rng.random(n) < 0.8, length_a * factor, length_a / factor)
        ratio = (length_a - length_b) / (length_a + length_b + 1)
        scores.append((rng.random(n) < 1 / (1 + np.exp(-3 * ratio))).astype(float))
        model_a += ["baseline"] * n
        model_b += [model] * n
        style_a.append(np.column_stack([length_a, zeros, zeros, zeros]))
        style_b.append(np.column_stack([length_b, zeros, zeros, zeros]))
    battles = Battles(
        np.array(model_a, dtype=object),
        np.array(model_b, dtype=object),
        np.concatenate(scores),
        style_a=np.vstack(style_a),
        style_b=np.vstack(style_b),
    )

    raw = bradley_terry(battles, baseline="baseline", rounds=10)
    centred = bradley_terry(battles, baseline="baseline", rounds=10, style=("length",))
    at_equal_length = bradley_terry(
        battles, baseline="baseline", rounds=10, style=("length",), center_style=False
    )

    def gap(fit):
        return fit.rating_of("verbose").win_rate - fit.rating_of("concise").win_rate

    assert gap(raw) > 30
    assert abs(gap(centred)) < 5  # arena-hard's style control: equal at equal style
    assert centred.style_coefficients["length"] > 0  # the longer answer (A) is preferred
    for model in ("verbose", "concise"):
        assert at_equal_length.rating_of(model).win_rate == pytest.approx(50, abs=4)


def test_win_rate_against_the_baseline_is_the_elo_prediction():
    assert win_rate_against(1000.0, 1000.0) == pytest.approx(50.0)
    assert win_rate_against(1400.0, 1000.0) == pytest.approx(100 / 1.1)


def test_a_model_that_only_met_the_baseline_scores_its_empirical_win_rate():
    battles = Battles.from_rows(
        [("base", "m", 0.0)] * 6 + [("base", "m", 1.0)] * 3 + [("base", "m", 0.5)] * 3
    )
    result = bradley_terry(battles, baseline="base", rounds=10)
    assert result.rating_of("m").win_rate == pytest.approx((6 + 1.5) / 12 * 100)
    assert result.rating_of("base").rating == 1000.0


def test_bootstrap_is_seeded_and_its_ci_shrinks_with_more_battles():
    truth = {"base": 1000.0, "m": 1100.0}
    small = _synthetic_battles(truth, 200, seed=5)
    large = _synthetic_battles(truth, 5000, seed=5)
    first = bradley_terry(small, baseline="base", rounds=200, seed=7).rating_of("m")
    again = bradley_terry(small, baseline="base", rounds=200, seed=7).rating_of("m")
    wide = first.rating_upper - first.rating_lower
    narrow = bradley_terry(large, baseline="base", rounds=200, seed=7).rating_of("m")
    assert (first.rating_lower, first.rating_upper) == (again.rating_lower, again.rating_upper)
    assert narrow.rating_upper - narrow.rating_lower < wide / 3


def test_prompt_resampling_keeps_a_prompts_battles_together():
    truth = {"base": 1000.0, "m": 1050.0}
    battles = _synthetic_battles(truth, 400, seed=6)
    # every prompt fought 4 times with the same outcome: 100 independent prompts, not 400
    repeated = Battles(
        model_a=np.repeat(battles.model_a[:100], 4),
        model_b=np.repeat(battles.model_b[:100], 4),
        score_a=np.repeat(battles.score_a[:100], 4),
        prompt=np.repeat(np.arange(100), 4),
    )
    by_battle = bradley_terry(repeated, baseline="base", rounds=300).rating_of("m")
    by_prompt = bradley_terry(repeated, baseline="base", rounds=300, resample="prompt").rating_of(
        "m"
    )
    width = lambda r: r.rating_upper - r.rating_lower  # noqa: E731
    assert width(by_prompt) > 1.5 * width(by_battle)


def test_arena_hard_games_become_battles_with_swapped_second_game_and_strong_weight():
    games = [
        Game("q1", "model", ("B>A", "A>B")),  # model wins both (second game swapped)
        Game("q2", "model", ("A>>B", "B>>A")),  # baseline wins both, strongly: 3 + 3 battles
        Game("q3", "model", ("A=B", None)),  # a tie and a failed game
        Game("q4", "model", ("B<A", "not a verdict")),  # v2 spelling: v0.1 drops it
    ]
    result = battles_from_games(games, "base", strong_weight=3)
    assert result.n_games == 8 and result.n_failed_games == 3
    assert set(result.battles.model_a) == {"base"} and set(result.battles.model_b) == {"model"}
    assert result.battles.score_a.tolist() == [0.0, 0.0] + [1.0] * 6 + [0.5]
    assert result.battles.prompt.tolist() == ["q1", "q1"] + ["q2"] * 6 + ["q3"]
    # normalising reads the v2 spelling: A (the baseline) wins
    normalized = battles_from_games(games, "base", strong_weight=3, normalize=True)
    assert normalized.n_failed_games == 2
    assert normalized.battles.score_a.tolist() == [0.0, 0.0] + [1.0] * 6 + [0.5, 1.0]


def test_style_counts_follow_arena_hards_markdown_rules():
    text = (
        "# Title\n## Part\n- one\n* two\n1. first\n**bold** and __also__\n```\n# not a header\n```"
    )
    counts = style_counts(text, length=42)
    assert counts.tolist() == [42.0, 2.0, 3.0, 2.0]
    assert style_counts("plain")[0] == 5.0  # characters when no token length is given


def test_rejects_unknown_baseline_and_style_without_counts():
    battles = Battles.from_rows([("a", "b", 1.0)])
    with pytest.raises(ValueError, match="baseline"):
        bradley_terry(battles, baseline="zzz")
    with pytest.raises(ValueError, match="style"):
        bradley_terry(battles, baseline="a", style=("length",))


def test_a_model_that_won_every_battle_saturates_instead_of_diverging():
    battles = Battles.from_rows([("base", "m", 0.0)] * 10 + [("base", "w", 1.0)] * 4)
    result = bradley_terry(battles, baseline="base", rounds=20)
    assert result.rating_of("m").win_rate > 99.99
    assert result.rating_of("w").win_rate < 0.01
    assert all(np.isfinite([r.rating_lower for r in result.ratings]))
