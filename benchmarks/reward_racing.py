"""Racing rewards vs exhaustive evaluation on the same samples: model calls saved, same pair?

Each task has K trajectories and H held-out instructions; exhaustive evaluation judges every
trajectory on every instruction (1 policy answer + 2 judge calls, both orders). Racing
(``ads_bench.optimizer.racing.Race``, a posterior-predictive race) replays the *same*
per-instruction rewards in rounds and stops once the exhaustive pair is predictable. A trajectory
that acquired nothing costs no call in either mode (its policy is the un-updated one: reward 0.5,
whatever the instruction — the race is told so, as the trainer tells it).

Rewards come from
- ``--from RUN_DIR``: a training run made with ``ads-bench train --no-racing`` (its
  samples.jsonl holds every trajectory's reward on every held-out instruction), and/or
- a synthetic reward model (default): per trajectory a latent quality q, per instruction a
  difficulty d ~ N(0, 0.5²), per judgment logistic noise e ~ N(0, noise²), reward
  sigmoid(q - d + e), and a share of trajectories that acquired nothing — at several noise levels,
  because the saving depends on how separable trajectories are.

Prints, per confidence setting: calls (exhaustive, racing), the ratio, and how often racing's
(chosen, rejected) pair equals exhaustive evaluation's. On synthetic data it also prints the
truth: how often each pair equals the *true* pair (cost-tier selection on the trajectories'
expected rewards E[sigmoid(q - d + e)], same costs), and the mean regret of each pair in true
reward: (true chosen - chosen) + (rejected - true rejected), i.e. the true pair's true reward
margin minus the pair's (a missing pair has margin 0).

``--bound`` adds, on synthetic data, the same race with the *generator's own* model as its
forecaster: it knows that logit(reward) = q - d + e with q ~ N(0, 1), d ~ N(0, 0.5²) and the
judgment noise, so its posterior and forecasts are exact rather than fitted. No race that has to
learn the model from the judgments can forecast better, so at equal agreement its saving is what
better modelling could at most add to this allocation rule (slow: a few minutes per setting).

    python benchmarks/reward_racing.py [--tasks 200] [--samples 8] [--held-out 16] [--tau 0.2]
    python benchmarks/reward_racing.py --from results/train-...   (an exhaustive training run)
    python benchmarks/reward_racing.py --bound --noise 0.5 --tasks 600
"""

from __future__ import annotations

import argparse
import json
import math
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ads_bench.optimizer.cost_tier_selection import Scored, select
from ads_bench.optimizer.racing import Race, exhaustive_selection

CALLS_PER_EVALUATION = 3  # the taught policy's answer + the judge in both orders
#: the target (issue 14): >= 3x fewer calls than exhaustive evaluation, with the true pair found at
#: least as often as exhaustive evaluation finds it, minus 1 point
TARGET_SAVING = 3.0
TARGET_POINTS = 1.0
QUALITY_SD = 1.0
DIFFICULTY_SD = 0.5


def synthetic_task(rng: random.Random, k: int, h: int, noise: float, empty_share: float):
    """(rewards, costs, empty, true expected rewards) of one task."""
    difficulty = [rng.gauss(0, DIFFICULTY_SD) for _ in range(h)]
    rewards, costs, empty, truth = [], [], [], []
    for _ in range(k):
        if rng.random() < empty_share:
            rewards.append([0.5] * h)
            costs.append(0.0)
            empty.append(True)
            truth.append(0.5)
            continue
        quality = rng.gauss(0, QUALITY_SD)
        rewards.append([1 / (1 + math.exp(-(quality - d + rng.gauss(0, noise)))) for d in difficulty])
        costs.append(round(rng.choice([0.005, 0.05, 0.055, 0.1, 0.15]), 3))
        empty.append(False)
        truth.append(expected_reward(quality, noise))
    return rewards, costs, empty, truth


_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(80)  # for E[f(Z)], Z ~ N(0, 1)


def expected_reward(quality: float, noise: float) -> float:
    """E[sigmoid(q - d + e)] over the instruction and judgment distribution (Gauss–Hermite)."""
    spread = math.sqrt(DIFFICULTY_SD**2 + noise**2)  # -d + e is N(0, spread²)
    values = 1 / (1 + np.exp(-(quality + spread * _NODES)))
    return float(values @ _WEIGHTS / _WEIGHTS.sum())


@dataclass
class GeneratorModelRace(Race):
    """The race with the synthetic generator's exact model in place of the fitted one: a Gaussian
    linear model of logit(reward) = q_i - d_c + e_ic with the generator's priors and noise, so the
    posterior of (q, d) given the judged cells, and the forecast of every exhaustive mean, are
    exact. Only the forecast changes; allocation and stopping are Race's."""

    noise: float = 0.5  # the generator's judgment noise, in logit units

    def _posterior(self) -> tuple[list[int], np.ndarray, np.ndarray]:
        if self._fitted is None:
            arms = [i for i in self._arms() if i not in self._constant]
            k, h = len(arms), self.n_instructions
            cells = np.argwhere(~np.isnan(self._values[arms]))
            design = np.zeros((len(cells), k + h))
            design[np.arange(len(cells)), cells[:, 0]] = 1.0
            design[np.arange(len(cells)), k + cells[:, 1]] = -1.0
            y = _logit(self._values[arms][cells[:, 0], cells[:, 1]])
            precision = np.diag([QUALITY_SD**-2] * k + [DIFFICULTY_SD**-2] * h) + design.T @ design / self.noise**2
            covariance = np.linalg.inv(precision)
            self._fitted = (arms, covariance @ (design.T @ y) / self.noise**2, covariance)
        return self._fitted

    def _exhaustive_mean_draws(self, arms: list[int], n: int, rng: np.random.Generator) -> np.ndarray:
        modelled, mean, covariance = self._posterior()
        theta = rng.multivariate_normal(mean, covariance, size=n, method="cholesky")
        quality, difficulty = theta[:, : len(modelled)], theta[:, len(modelled):]
        out = np.empty((n, len(arms)))
        for a, i in enumerate(arms):
            values, unseen = self.observed[i], ~self._judged[i]
            if i in self._constant or not unseen.any():
                out[:, a] = sum(values) / len(values)
                continue
            logits = quality[:, [modelled.index(i)]] - difficulty[:, unseen] + rng.standard_normal((n, int(unseen.sum()))) * self.noise
            out[:, a] = (sum(values) + (1 / (1 + np.exp(-logits))).sum(axis=1)) / self.n_instructions
        return out

    def _expected_means(self) -> np.ndarray:
        means = np.full(len(self.costs), np.nan)
        arms = self._arms()
        if arms:
            means[arms] = self._exhaustive_mean_draws(arms, 4 * self.draws, np.random.default_rng(self.seed)).mean(axis=0)
        return means

    def _draw_exhaustive_means(self, arms: list[int]) -> np.ndarray:
        rng = np.random.default_rng([self.seed, self.next_instruction, int(self._judged.sum())])
        return self._exhaustive_mean_draws(arms, self.draws, rng)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return np.log(p / (1 - p))


def replay(rewards, costs, empty, tau: float, race_options: dict, race_type: type[Race] = Race):
    h = len(rewards[0])
    race = race_type(costs, h, tau=tau, constant=empty, **race_options)
    while not race.done():
        alive, instructions = race.next_round()
        for t in alive:
            race.observe(t, [rewards[t][i] for i in instructions])
        race.end_round()
    raced_calls = sum(len(race.observed[t]) for t in range(len(rewards)) if not empty[t]) * CALLS_PER_EVALUATION
    full_calls = sum(h for t in range(len(rewards)) if not empty[t]) * CALLS_PER_EVALUATION
    return full_calls, raced_calls, race.selection()


def pair_of(selection):
    return selection.chosen, selection.rejected


def true_margin(pair, truth) -> float:
    chosen, rejected = pair
    return 0.0 if chosen is None or rejected is None else truth[chosen] - truth[rejected]


def report(label: str, tasks, tau: float, confidences, race_options: dict, race_type: type[Race] = Race) -> None:
    has_truth = tasks and tasks[0][3] is not None
    for confidence in confidences:
        full = raced = same = race_true = exhaustive_true = 0
        race_regret = exhaustive_regret = 0.0
        for rewards, costs, empty, truth in tasks:
            f, r, raced_selection = replay(rewards, costs, empty, tau, {**race_options, "confidence": confidence}, race_type)
            full, raced = full + f, raced + r
            raced_pair, exhaustive_pair = pair_of(raced_selection), pair_of(exhaustive_selection(rewards, costs, tau))
            same += raced_pair == exhaustive_pair
            if has_truth:
                true_pair = pair_of(select([Scored(i, t, c) for i, (t, c) in enumerate(zip(truth, costs, strict=True))], tau))
                race_true += raced_pair == true_pair
                exhaustive_true += exhaustive_pair == true_pair
                best = true_margin(true_pair, truth)
                race_regret += best - true_margin(raced_pair, truth)
                exhaustive_regret += best - true_margin(exhaustive_pair, truth)
        n = len(tasks)
        line = (f"{label:<30} conf={confidence:<5} calls exhaustive {full:>6}  racing {raced:>6}  "
                f"saving {full / max(1, raced):5.2f}x  same pair {100 * same / n:5.1f}%")
        if has_truth:
            line += (f" | true pair: racing {100 * race_true / n:5.1f}% exhaustive {100 * exhaustive_true / n:5.1f}%"
                     f" | regret: racing {race_regret / n:.4f} exhaustive {exhaustive_regret / n:.4f}")
            met = full / max(1, raced) >= TARGET_SAVING and race_true >= exhaustive_true - TARGET_POINTS * n / 100
            line += f" | target {'met' if met else 'not met'}"
        print(line, flush=True)


def tasks_from_run(folder: Path):
    tasks = []
    for line in (folder / "samples.jsonl").read_text().splitlines():
        record = json.loads(line)
        samples = record["samples"]
        if len(samples) < 2 or not record["held_out"]:
            continue
        h = len(record["held_out"])
        rewards = [s["held_out_rewards"] for s in samples]
        if any(len(r) != h for r in rewards):
            raise SystemExit(f"{folder} was trained with racing: rerun `ads-bench train --no-racing` for full matrices")
        tasks.append((rewards, [s["cost_usd"] for s in samples], [s["n_items"] == 0 for s in samples], None))
    return tasks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=200)  # ~1.5% standard error on the shares; ~2 min
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--held-out", type=int, default=16)
    parser.add_argument("--tau", type=float, default=0.2)
    parser.add_argument("--round-size", type=int, default=1)
    parser.add_argument("--min-evaluations", type=int, default=2)
    parser.add_argument("--confidence", type=float, nargs="+", default=[0.8, 0.85, 0.9, 0.95])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--noise", type=float, nargs="+", default=[0.5, 1.0, 2.0])
    parser.add_argument("--empty-share", type=float, default=0.25)
    parser.add_argument("--from", dest="run", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bound", action="store_true", help="also race with the generator's exact model (slow)")
    args = parser.parse_args()
    race_options = {"round_size": args.round_size, "min_evaluations": args.min_evaluations, "draws": args.draws}
    print(f"K={args.samples} trajectories x H={args.held_out} held-out instructions per task, tau={args.tau}, "
          f"round size {args.round_size}, min evaluations {args.min_evaluations}, {args.draws} draws; "
          f"{CALLS_PER_EVALUATION} model calls per evaluation")
    if args.run is not None:
        tasks = tasks_from_run(args.run)
        report(f"recorded run ({len(tasks)} tasks)", tasks, args.tau, args.confidence, race_options)
    for noise in args.noise:
        rng = random.Random(args.seed)
        tasks = [synthetic_task(rng, args.samples, args.held_out, noise, args.empty_share) for _ in range(args.tasks)]
        report(f"synthetic, judgment noise {noise}", tasks, args.tau, args.confidence, race_options)
        if args.bound:
            report("  generator's exact model", tasks, args.tau, args.confidence, {**race_options, "noise": noise},
                   GeneratorModelRace)


if __name__ == "__main__":
    main()
