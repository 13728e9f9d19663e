"""A sweep: a grid of runs sharing one cache, ending in a leaderboard and curves (`ads-bench sweep`).

A sweep file::

    name: icl-vs-finetune
    base: {suite: inhouse, limit: 3, max_held_out: 2}      # RunConfig fields every run shares
    grid:                                                  # one run per combination
      strategy: [none, rule-qa]
      learner: [icl, finetune]
    baseline: none                                         # the leaderboard's paired baseline
    optimizer: trained                                     # for ads and its ablations (optimizer/sweep_choice.py)

Grid keys are RunConfig fields (strategy, learner, n_observed, budget_items, grouping, ...).
Runs land in ``<out>/<name>/<key=value,...>/``; rerunning the sweep resumes every run.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from typing import Any

from rich.console import Console

from ads_bench.cli.estimate_cmd import estimate_before
from ads_bench.cli.estimates import estimate_run
from ads_bench.config import read_config_file
from ads_bench.errors import UserError
from ads_bench.models.client import Runtime
from ads_bench.optimizer.sweep_choice import assign_optimizers, optimizer_plan
from ads_bench.pipeline.run import RunConfig, run_strategy
from ads_bench.pipeline.suite_defaults import with_suite_defaults
from ads_bench.strategies.source_data import valid_pair
from ads_bench.utils.atomic import write_text_atomic

RUN_FIELDS = {f.name for f in dataclasses.fields(RunConfig)}


def read_sweep(path: str | Path) -> dict[str, Any]:
    sweep = read_config_file(path)
    unknown = set(sweep) - {"name", "base", "grid", "baseline", "description", "optimizer"}
    if unknown:
        raise UserError(f"unknown keys {sorted(unknown)} in sweep {path}: use name, base, grid, baseline, "
                        "description, optimizer")
    grid = sweep.get("grid") or {}
    if not isinstance(grid, dict) or not grid:
        raise UserError(f"sweep {path} needs a non-empty 'grid:' mapping of option: [values]")
    for key in {**(sweep.get("base") or {}), **grid}:
        if key not in RUN_FIELDS:
            raise UserError(f"'{key}' in sweep {path} is not a run option: use {', '.join(sorted(RUN_FIELDS))}")
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise UserError(f"grid '{key}' in sweep {path} must be a non-empty list")
    sweep.setdefault("name", Path(path).stem)
    optimizer_plan(sweep)  # a bad 'optimizer:' fails here, before any run
    return sweep


def grid_configs(sweep: dict[str, Any]) -> list[tuple[str, RunConfig]]:
    """One RunConfig per grid cell; a field the sweep leaves unset takes the cell suite's own
    recommendation where it makes one, as `ads-bench run` does (wikifacts: its program judge)."""
    base = sweep.get("base") or {}
    keys = list(sweep["grid"])
    out = []
    for values in itertools.product(*(sweep["grid"][k] for k in keys)):
        chosen = dict(zip(keys, values, strict=True))
        name = ",".join(f"{k}={v}" for k, v in chosen.items())
        config = with_suite_defaults(RunConfig(**{**base, **chosen}), given={*base, *chosen})
        if valid_pair(config.strategy, config.learner):  # source-finetune runs only as a pair
            out.append((name, config))
    return out


async def run_sweep(path: str | Path, runtime: Runtime, *, out: str | Path = "results",
                    console: Console | None = None, executor: Any = None) -> tuple[Path, list[dict[str, Any]]]:
    """``executor``: as for ``run_strategy``. With the Ray executor each cell still runs here, one
    after another, and only its tasks' chains go to the cluster: a cell is a run whose folder only
    the driver may write and whose judging runs here, and its tasks already fill the cluster, so a
    cell as a Ray task of its own would add nested scheduling without more parallel work."""
    from ads_bench.reporting.leaderboard import load_leaderboard
    from ads_bench.reporting.report import write_report

    sweep = read_sweep(path)
    folder = Path(out) / sweep["name"]
    rows = []
    # one optimizer for every optimizer-driven cell, decided (and trained, if need be) first
    cells = await assign_optimizers(sweep, grid_configs(sweep), runtime, console)
    for name, config in cells:
        if console is not None:
            console.rule(f"{sweep['name']}: {name}")
        estimate = estimate_before(estimate_run, runtime, config=config, out=folder / name)
        run_folder, metrics = await run_strategy(config, runtime, out=folder / name, console=console,
                                                 estimate=estimate, executor=executor)
        rows.append({"run": name, "folder": str(run_folder.path), "metrics": metrics})
    board = load_leaderboard([folder], baseline=sweep.get("baseline"))
    write_text_atomic(folder / "leaderboard.md", board.to_markdown())
    write_report(folder, folder / "report.html")  # the leaderboard, score-vs-cost and scaling curves
    return folder, rows
