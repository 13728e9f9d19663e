"""Which optimizer a run uses: the one given, else the last trained checkpoint, else the shipped
smoke one, else a smoke one trained now."""

from __future__ import annotations

import dataclasses
from typing import Any

from rich.console import Console

from ads_bench.strategies.optimizer_specs import (
    UNTRAINED_DEFAULT,
    absolute_paths,
    given_optimizer,
    latest_trained,
)


async def resolve_optimizer(config: Any, runtime: Any, console: Console | None) -> Any:
    """The run config with its optimizer decided: untrained for ``prompting``; for ``ads`` and
    its single-API ablations the same one — the last trained, else the shipped smoke one where
    it applies (:mod:`.shipped`), else a smoke one trained now — so an ablation never runs
    untrained while ``ads`` runs trained (issue 17, item 3)."""
    from ads_bench.strategies import OPTIMIZER_STRATEGIES

    if config.strategy not in OPTIMIZER_STRATEGIES or config.optimizer or config.strategy == "prompting":
        return given_optimizer(config)
    trained = latest_trained()
    if trained is not None:
        if console is not None:
            console.print(f"using the last trained optimizer: {trained}")
        return dataclasses.replace(config, optimizer=trained)
    from ads_bench.optimizer.shipped import shipped_optimizer

    trained, why = shipped_optimizer(config.policy, config.expert, config.judge)
    if trained is not None:
        if console is not None:
            console.print("[bold]no trained ADS optimizer yet[/bold]: using the smoke one shipped with ads-bench "
                          "(made by `ads-bench train` with the smoke recipe: a pipeline check, not a useful "
                          "optimizer; train a real one with `ads-bench train`)")
    else:
        if console is not None and why != "no shipped smoke optimizer in this install":
            console.print(f"not using the shipped smoke optimizer: {why}")
        trained = await train_smoke(config, runtime, console)
    return dataclasses.replace(config, optimizer=trained)


async def train_smoke(config: Any, runtime: Any, console: Console | None) -> str:
    """No trained optimizer yet: train a small one on the run's own models first, and say so."""
    from ads_bench.optimizer.trainer import smoke_config, train_optimizer

    smoke = smoke_config(optimizer=UNTRAINED_DEFAULT, policy=config.policy, expert=config.expert,
                         judge=config.judge, seed=config.seed)
    if console is not None:
        console.print(
            f"[bold]no trained ADS optimizer yet[/bold]: training a smoke one first ({smoke.iterations} "
            f"iterations x {smoke.limit} tasks x {smoke.samples} samples on {smoke.suite}); "
            "train a real one with `ads-bench train`"
        )
    _, rows = await train_optimizer(smoke, runtime, console=console)
    # absolute, as latest_trained() gives it on every later run: one optimizer, one spelling,
    # so the first run and its reruns share a configuration digest and a run folder
    return absolute_paths(rows[-1]["optimizer_out"])
