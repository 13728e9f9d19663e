"""Racing rewards vs exhaustive evaluation on the same samples: model calls saved, same pair?

Each task has K trajectories and H held-out instructions; exhaustive evaluation judges every
trajectory on every instruction (1 policy answer + 2 judge calls, both orders). Racing
(``ads_bench.optimizer.racing.Race``) replays the *same* per-instruction rewards in rounds and
stops evaluating trajectories that can no longer be chosen or rejected. A trajectory that
acquired nothing costs no call in either mode (its policy is the un-updated one: reward 0.5).

Rewards come from
- ``--from RUN_DIR``: a training run made with ``ads-bench train --no-racing`` (its
  samples.jsonl holds every trajectory's reward on every held-out instruction), and/or
- a synthetic reward model (default): per trajectory a latent quality, per instruction a
  difficulty, per judgment logistic noise, and a share of trajectories that acquired nothing —
  at several noise levels, because the saving depends on how separable trajectories are.

Prints, per setting: calls (exhaustive, racing), the ratio, and how often racing's
(chosen, rejected) pair equals exhaustive evaluation's.

    python benchmarks/reward_racing.py [--tasks 400] [--samples 8] [--held-out 16] [--tau 0.2]
    python benchmarks/reward_racing.py --from results/train-...   (an exhaustive training run)
"""

from __future__ import annotations

import argparse
import json
import math
import random
from pathlib import Path

from ads_bench.optimizer.racing import Race, exhaustive_selection

CALLS_PER_EVALUATION = 3  # the taught policy's answer + the judge in both orders


def synthetic_task(rng: random.Random, k: int, h: int, noise: float, empty_share: float):
    difficulty = [rng.gauss(0, 0.5) for _ in range(h)]
    rewards, costs, empty = [], [], []
    for _ in range(k):
        if rng.random() < empty_share:
            rewards.append([0.5] * h)
            costs.append(0.0)
            empty.append(True)
            continue
        quality = rng.gauss(0, 1.0)
        rewards.append([1 / (1 + math.exp(-(quality - d + rng.gauss(0, noise)))) for d in difficulty])
        costs.append(round(rng.choice([0.005, 0.05, 0.055, 0.1, 0.15]), 3))
        empty.append(False)
    return rewards, costs, empty


def replay(rewards, costs, empty, tau: float, z: float, round_size: int):
    h = len(rewards[0])
    race = Race(costs, h, tau=tau, z=z, round_size=round_size)
    while not race.done():
        alive, instructions = race.next_round()
        for t in alive:
            race.observe(t, [rewards[t][i] for i in instructions])
        race.end_round()
    raced_calls = sum(len(race.observed[t]) for t in range(len(rewards)) if not empty[t]) * CALLS_PER_EVALUATION
    full_calls = sum(h for t in range(len(rewards)) if not empty[t]) * CALLS_PER_EVALUATION
    exhaustive = exhaustive_selection(rewards, costs, tau)
    raced = race.selection()
    same = (raced.chosen, raced.rejected) == (exhaustive.chosen, exhaustive.rejected)
    return full_calls, raced_calls, same


def report(label: str, tasks, tau: float, z_values, round_size: int) -> None:
    for z in z_values:
        full = raced = same = 0
        for rewards, costs, empty in tasks:
            f, r, s = replay(rewards, costs, empty, tau, z, round_size)
            full, raced, same = full + f, raced + r, same + s
        print(f"{label:<34} z={z:<4} calls exhaustive {full:>7}  racing {raced:>7}  "
              f"saving {full / max(1, raced):5.2f}x  same pair {100 * same / len(tasks):5.1f}%")


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
        tasks.append((rewards, [s["cost_usd"] for s in samples], [s["n_items"] == 0 for s in samples]))
    return tasks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=400)
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--held-out", type=int, default=16)
    parser.add_argument("--tau", type=float, default=0.2)
    parser.add_argument("--round-size", type=int, default=2)
    parser.add_argument("--z", type=float, nargs="+", default=[1.0, 1.5, 2.0, 3.0])
    parser.add_argument("--empty-share", type=float, default=0.25)
    parser.add_argument("--from", dest="run", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"K={args.samples} trajectories x H={args.held_out} held-out instructions per task, tau={args.tau}, "
          f"round size {args.round_size}; {CALLS_PER_EVALUATION} model calls per evaluation")
    if args.run is not None:
        tasks = tasks_from_run(args.run)
        report(f"recorded run ({len(tasks)} tasks)", tasks, args.tau, args.z, args.round_size)
    for noise in (0.5, 1.0, 2.0):
        rng = random.Random(args.seed)
        tasks = [synthetic_task(rng, args.samples, args.held_out, noise, args.empty_share) for _ in range(args.tasks)]
        report(f"synthetic, judgment noise {noise}", tasks, args.tau, args.z, args.round_size)


if __name__ == "__main__":
    main()
