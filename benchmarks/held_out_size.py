"""How reward noise falls with the held-out set's size: the paper's 97 instructions vs our ~5.

    python benchmarks/held_out_size.py [--calibrate-from TRAIN_DIR ...] [--sizes 2,5,10,25,50,97]
        [--resamples 2000] [--seed 0] [--json FILE]

A trajectory's reward is its mean judged reward over the task's H held-out instructions. Which
instructions are held out, and the judge's noise on each, make that mean a random variable; this
benchmark measures its standard deviation (SD) across resamples of the held-out set and fresh
judge noise, and how often cost-tier selection (τ = 0) over K trajectories picks the pair it
would pick on the task's whole population of instructions.

The judgments are SYNTHETIC, from an additive model fitted to a real run's judgments::

    r_kc = clip(m_k + b_c + e_kc, 0, 1)   trajectory k, instruction c

m_k (trajectory quality), b_c (instruction difficulty, shared by the trajectories judged on it)
and e_kc (judge noise and trajectory-instruction interaction) are normal with SDs fitted by
two-way least squares (``optimizer/racing.py``'s ``fit_additive``) on the complete rows of
``samples.jsonl`` in the ``ads-bench train`` folders given (each task: the trajectories judged on
every held-out instruction; trajectories that acquired nothing, judged once, are left out). With
no folder, the SDs are ``--sd-trajectory/--sd-instruction/--sd-noise`` as given. Their defaults
are the fit to the smoke optimizer's training run that the quickstart's ``ads-bench run
--strategy ads`` makes (results/train-inhouse-train-9b6b1aba01: 2 tasks x 3 samples x 2
held-out, 12 judged cells, 4 residual degrees of freedom, so a rough fit), judged by the embedded
SmolLM2-135M: a judge that mostly picks a position, whose judgments hardly separate trajectories
(SD 0.007), so P(same pair) stays low at any size. Its noise is the pipeline's, not a real
judge's; calibrate on your own run for a real reading.

Each task has a population of ``--population`` instructions (100: the paper's 3 observed + 97
held-out); H of them are drawn without replacement for each resample. The printed SD comes with
a 95% interval (chi-square on the resamples), P(same pair) with a Wilson interval.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ads_bench.optimizer.racing import fit_additive, select_many  # noqa: E402

# --calibrate-from results/train-inhouse-train-9b6b1aba01 (the quickstart's smoke training run)
DEFAULT_SDS = {"trajectory": 0.007, "instruction": 0.024, "noise": 0.075}


def calibrate(folders: list[Path]) -> dict[str, float | int]:
    """SDs of trajectory effects, instruction effects and residual noise, pooled over tasks."""
    residual_ss = residual_dof = 0.0
    instruction_ss = instruction_dof = trajectory_ss = trajectory_dof = 0.0
    tasks = cells = 0
    for folder in folders:
        path = Path(folder) / "samples.jsonl"
        if not path.is_file():
            raise SystemExit(f"{path} not found: pass folders written by `ads-bench train`")
        for line in path.read_text().splitlines():
            record = json.loads(line)
            h = len(record["held_out"])
            rows = [s["held_out_rewards"] for s in record["samples"]
                    if s.get("reward") is not None and s.get("n_items") and len(s["held_out_rewards"]) == h]
            if len(rows) < 2 or h < 2:
                continue
            values = np.array(rows, dtype=float)
            fit = fit_additive(values, list(range(len(rows))))
            mu = np.array(list(fit.mu.values()))
            residual_ss += fit.residual_ss
            residual_dof += fit.residual_dof
            instruction_ss += float(np.sum(fit.beta**2))
            instruction_dof += h - 1
            trajectory_ss += float(np.sum((mu - mu.mean()) ** 2))
            trajectory_dof += len(mu) - 1
            tasks += 1
            cells += values.size
    if not tasks:
        raise SystemExit("no task with two complete, non-empty trajectories to calibrate from")
    noise2 = residual_ss / max(1.0, residual_dof)
    # an effect's sum of squares holds noise too: subtract its expected share (ANOVA's method of moments)
    instruction2 = max(0.0, instruction_ss / max(1.0, instruction_dof) - noise2 / max(1, cells / tasks / h))
    trajectory2 = max(0.0, trajectory_ss / max(1.0, trajectory_dof) - noise2 / h)
    return {"trajectory": math.sqrt(trajectory2), "instruction": math.sqrt(instruction2), "noise": math.sqrt(noise2),
            "tasks": tasks, "cells": cells, "residual_dof": int(residual_dof)}


def simulate(sizes: list[int], sds: dict[str, float], *, population: int, trajectories: int, tasks: int,
             resamples: int, seed: int) -> list[dict[str, object]]:
    """Per held-out size: the SD of a trajectory's reward across resamples of its held-out set and
    of the judge's noise (within a task, pooled over tasks), and P(selection's pair at τ = 0 is
    the pair of the trajectories' expected rewards over the whole population)."""
    rng = np.random.default_rng(seed)
    worlds = []
    for _ in range(tasks):  # a task: its trajectories' qualities and its instructions' difficulties
        quality = 0.5 + rng.standard_normal(trajectories) * sds["trajectory"]
        difficulty = rng.standard_normal(population) * sds["instruction"]
        mean = quality[:, None] + difficulty[None, :]
        # expected reward over the population: the clipped judgments averaged over many noise draws
        replicas = np.clip(mean[None] + rng.standard_normal((64, *mean.shape)) * sds["noise"], 0.0, 1.0)
        truth = replicas.mean(axis=(0, 2))
        worlds.append((mean, select_pair(truth)))
    rows = []
    for h in sizes:
        if h > population:
            raise SystemExit(f"held-out size {h} is larger than the population {population}")
        variances, same = [], 0
        for mean, true_pair in worlds:
            rewards = np.empty((resamples, trajectories))
            for r in range(resamples):
                held_out = rng.choice(population, size=h, replace=False)
                judged = np.clip(mean[:, held_out] + rng.standard_normal((trajectories, h)) * sds["noise"], 0.0, 1.0)
                rewards[r] = judged.mean(axis=1)
                same += select_pair(rewards[r]) == true_pair
            variances.append(rewards.var(axis=0, ddof=1).mean())
        n = tasks * resamples
        sd = math.sqrt(float(np.mean(variances)))
        rows.append({"held_out": h, "reward_sd": sd, "sd_ci": _sd_interval(sd, n - tasks),
                     "p_same_pair": same / n, "pair_ci": _wilson(same, n), "n": n})
    return rows


def select_pair(rewards: np.ndarray) -> tuple[int, int]:
    chosen, rejected = select_many(rewards[None, :], np.ones(len(rewards)), 0.0)
    return int(chosen[0]), int(rejected[0])


def _sd_interval(sd: float, n: int) -> tuple[float, float]:
    """95% interval of an SD from n draws (normal approximation to the chi-square)."""
    half = 1.96 / math.sqrt(2 * (n - 1))
    return sd / (1 + half), sd / max(1e-9, 1 - half)


def _wilson(k: int, n: int) -> tuple[float, float]:
    p, z = k / n, 1.96
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calibrate-from", nargs="*", default=[], metavar="TRAIN_DIR")
    parser.add_argument("--sd-trajectory", type=float, default=DEFAULT_SDS["trajectory"])
    parser.add_argument("--sd-instruction", type=float, default=DEFAULT_SDS["instruction"])
    parser.add_argument("--sd-noise", type=float, default=DEFAULT_SDS["noise"])
    parser.add_argument("--sizes", default="2,5,10,25,50,97")
    parser.add_argument("--population", type=int, default=100)
    parser.add_argument("--trajectories", type=int, default=4, help="K per task")
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--resamples", type=int, default=200, help="per task")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    if args.calibrate_from:
        fitted = calibrate([Path(f) for f in args.calibrate_from])
        sds = {k: float(fitted[k]) for k in ("trajectory", "instruction", "noise")}
        print(f"calibrated from {', '.join(args.calibrate_from)}: {fitted['tasks']} tasks, {fitted['cells']} "
              f"judged cells ({fitted['residual_dof']} residual degrees of freedom)")
    else:
        sds = {"trajectory": args.sd_trajectory, "instruction": args.sd_instruction, "noise": args.sd_noise}
        print("SDs as given (no --calibrate-from)")
    print(f"SYNTHETIC judgments: SD trajectory {sds['trajectory']:.3f}, instruction {sds['instruction']:.3f}, "
          f"noise {sds['noise']:.3f}; K={args.trajectories}, population {args.population}, "
          f"{args.tasks} tasks x {args.resamples} resamples")
    rows = simulate([int(h) for h in args.sizes.split(",")], sds, population=args.population,
                    trajectories=args.trajectories, tasks=args.tasks, resamples=args.resamples, seed=args.seed)
    print(f"{'held-out':>8}  {'reward SD [95% CI]':>24}  {'P(pair = whole-population pair) [95% CI]':>42}  n")
    for row in rows:
        lo, hi = row["sd_ci"]
        plo, phi = row["pair_ci"]
        print(f"{row['held_out']:>8}  {row['reward_sd']:.4f} [{lo:.4f}, {hi:.4f}]{'':>3}  "
              f"{row['p_same_pair']:.3f} [{plo:.3f}, {phi:.3f}]{'':>19}  {row['n']}")
    if args.json:
        Path(args.json).write_text(json.dumps({"sds": sds, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
