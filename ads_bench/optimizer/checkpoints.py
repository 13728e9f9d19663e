"""Which optimizer a run uses: the one given, else the last trained checkpoint, else a smoke one."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from rich.console import Console

from ads_bench.paths import cache_dir
from ads_bench.store.atomic import write_json_atomic

UNTRAINED_DEFAULT = "embedded"


def latest_pointer() -> Path:
    return cache_dir() / "optimizers" / "latest.json"


def record_latest(spec: str, stats: dict[str, Any]) -> None:
    """Remember a trained optimizer so that ``run --strategy ads`` finds it without flags."""
    write_json_atomic(latest_pointer(), {"spec": absolute_paths(spec), "stats": stats})


def absolute_paths(spec: str) -> str:
    """``spec`` with its local weights and adapter folders made absolute: the pointer lives in the
    user's cache and must work from any directory, not only the one training ran in."""
    kind, colon, rest = spec.partition(":")
    target, question, query = rest.partition("?")
    if kind == "hf" and colon and Path(target).exists():
        target = str(Path(target).resolve())
    options = []
    for option in query.split("&") if query else []:
        name, _, value = option.partition("=")
        options.append(f"adapter={Path(value).resolve()}" if name == "adapter" else option)
    return f"{kind}{colon}{target}{question}{'&'.join(options)}"


def latest_trained() -> str | None:
    pointer = latest_pointer()
    if not pointer.is_file():
        return None
    spec = json.loads(pointer.read_text()).get("spec")
    adapter = spec.split("adapter=", 1)[1] if spec and "adapter=" in spec else None
    return spec if adapter is None or Path(adapter).is_dir() else None


async def resolve_optimizer(config: Any, runtime: Any, console: Console | None) -> Any:
    """The run config with its optimizer decided (untrained for ``prompting`` and the ablations)."""
    from ads_bench.strategies import OPTIMIZER_STRATEGIES

    if config.strategy not in OPTIMIZER_STRATEGIES or config.optimizer:
        return config
    if config.strategy == "prompting":
        return dataclasses.replace(config, optimizer=UNTRAINED_DEFAULT)
    trained = latest_trained()
    if trained is None and config.strategy != "ads":
        if console is not None:
            console.print(f"no trained optimizer yet: {config.strategy} uses the untrained {UNTRAINED_DEFAULT}")
        return dataclasses.replace(config, optimizer=UNTRAINED_DEFAULT)
    if trained is None:
        trained = await train_smoke(config, runtime, console)
    elif console is not None:
        console.print(f"using the last trained optimizer: {trained}")
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
    return rows[-1]["optimizer_out"]
