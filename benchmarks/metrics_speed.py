"""Speed of the judge engine's statistics; prints figures, asserts nothing.

    python benchmarks/metrics_speed.py [--compare-sklearn]

1. Paired differences against one baseline, 20 systems x 1000 tasks of 4 held-out prompts each:
   the task-clustered jackknife t intervals the leaderboard computes, and the 1000-round
   clustered bootstrap they replaced (target: < 2 s on 2 cores).
2. Bradley–Terry fit with bootstrap CIs, Arena-Hard style: 20 models judged against a baseline on
   500 prompts, two games each, strong verdicts ×3 (target: seconds), with and without style
   control. ``--compare-sklearn`` also times arena-hard's own approach (a scikit-learn refit per
   bootstrap round) on a few rounds and extrapolates.
"""

from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np

from ads_bench.judging.metrics import (
    STYLE_FEATURES,
    Game,
    battles_from_games,
    bradley_terry,
    paired_bootstrap_many,
)
from ads_bench.judging.metrics.clustered import clustered_difference

VERDICT_LABELS = ("A>>B", "A>B", "A=B", "B>A", "B>>A")


def timed(function, repeat: int = 3) -> float:
    """Best wall time of ``repeat`` runs, in seconds."""
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def bootstrap_case(rng: np.random.Generator):
    n_systems, n_tasks, per_task = 20, 1000, 4
    tasks = np.repeat(np.arange(n_tasks), per_task)
    baseline = rng.random(tasks.size)
    systems = np.clip(baseline + rng.normal(0.02, 0.3, (n_systems, tasks.size)), 0, 1)
    return systems, baseline, tasks


def arena_games(rng: np.random.Generator, n_models: int = 20, n_prompts: int = 500):
    strengths = rng.normal(0, 1, n_models)
    games, style = [], {"baseline": {}}
    for prompt in range(n_prompts):
        style["baseline"][prompt] = np.array(
            [rng.integers(100, 900), *rng.integers(0, 8, 3)], float
        )
    for model, strength in enumerate(strengths):
        name = f"model-{model:02d}"
        style[name] = {}
        for prompt in range(n_prompts):
            style[name][prompt] = np.array([rng.integers(100, 900), *rng.integers(0, 8, 3)], float)
            # verdict on a 5-point scale, shifted by the model's strength; game 2 swaps positions
            first = VERDICT_LABELS[int(np.clip(np.round(2 + strength + rng.normal(0, 1)), 0, 4))]
            second = VERDICT_LABELS[int(np.clip(np.round(2 - strength + rng.normal(0, 1)), 0, 4))]
            games.append(Game(prompt, name, (first, second)))
    return games, style


def sklearn_round_seconds(battles, baseline: str, rounds: int = 3) -> float:
    """One bootstrap round of arena-hard's compute_mle_elo (duplicated design, sklearn fit)."""
    from sklearn.linear_model import LogisticRegression

    names = sorted(set(battles.model_a) | set(battles.model_b))
    index = {name: i for i, name in enumerate(names)}
    rng = np.random.default_rng(0)

    def one_round() -> None:
        rows = rng.integers(0, len(battles), len(battles))
        n = rows.size
        X = np.zeros((2 * n, len(names)))
        X[np.arange(n), [index[m] for m in battles.model_a[rows]]] = math.log(10)
        X[np.arange(n), [index[m] for m in battles.model_b[rows]]] = -math.log(10)
        X[n:] = X[:n]
        score = battles.score_a[rows]
        Y = np.concatenate([score >= 0.5, score == 1.0]).astype(float)
        LogisticRegression(fit_intercept=False, C=np.inf, tol=1e-8).fit(X, Y)

    return timed(one_round, repeat=rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare-sklearn", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"cores available: {os.cpu_count()}")

    systems, baseline, tasks = bootstrap_case(rng)
    # what the leaderboard computes: each system's paired difference, task-clustered jackknife t
    seconds = timed(lambda: [clustered_difference(s, baseline, tasks) for s in systems])
    print(
        f"paired task-clustered jackknife t intervals (the leaderboard's), 20 systems x 1000 tasks "
        f"({tasks.size} prompts): {seconds:.3f} s"
    )
    seconds = timed(lambda: paired_bootstrap_many(systems, baseline, tasks, rounds=1000, seed=0))
    print(
        f"paired clustered bootstrap (the method it replaced), 1000 rounds, same data: {seconds:.3f} s"
    )

    games, style = arena_games(rng)
    with_style = battles_from_games(games, "baseline", style=style)
    battles = with_style.battles
    print(
        f"arena-hard battles: {len(battles)} rows from {with_style.n_games} games "
        f"(20 models x 500 prompts x 2 games, strong verdicts x3)"
    )
    for rounds in (100, 1000):
        seconds = timed(
            lambda r=rounds: bradley_terry(battles, baseline="baseline", rounds=r), repeat=2
        )
        print(f"Bradley-Terry + bootstrap CIs, {rounds} rounds: {seconds:.3f} s")
    seconds = timed(
        lambda: bradley_terry(battles, baseline="baseline", rounds=100, resample="prompt"), repeat=2
    )
    print(f"Bradley-Terry + bootstrap CIs, 100 rounds, prompts resampled: {seconds:.3f} s")
    seconds = timed(
        lambda: bradley_terry(battles, baseline="baseline", rounds=100, style=STYLE_FEATURES),
        repeat=2,
    )
    print(f"Bradley-Terry with style control + bootstrap CIs, 100 rounds: {seconds:.3f} s")
    if args.compare_sklearn:
        per_round = sklearn_round_seconds(battles, "baseline")
        print(
            f"arena-hard's way (sklearn refit per round): {per_round:.3f} s per round, "
            f"~{100 * per_round:.1f} s for 100 rounds"
        )


if __name__ == "__main__":
    main()
