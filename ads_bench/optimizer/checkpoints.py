"""Which optimizer a run uses: the one given, else the last trained checkpoint, else the shipped
smoke one, else a smoke one trained now."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from rich.console import Console

from ads_bench.errors import UserError
from ads_bench.paths import cache_dir
from ads_bench.utils.atomic import write_json_atomic

UNTRAINED_DEFAULT = "embedded"


def latest_pointer() -> Path:
    return cache_dir() / "optimizers" / "latest.json"


def record_latest(spec: str, stats: dict[str, Any]) -> None:
    """Remember a trained optimizer so that ``run --strategy ads`` finds it without flags."""
    write_json_atomic(latest_pointer(), {"spec": absolute_paths(spec), "stats": stats})


ADAPTER_OPTIONS = ("adapter", "lora")  # spec options that name adapter folders or files


def absolute_paths(spec: str) -> str:
    """``spec`` with its local weights and adapter paths made absolute: the pointer lives in the
    user's cache and must work from any directory, not only the one training ran in."""
    head, question, query = spec.partition("?")
    kind, colon, target = head.partition(":")
    if kind in ("hf", "gguf", "vllm") and Path(target).exists():
        target = str(Path(target).resolve())
    options = []
    for option in query.split("&") if query else []:
        name, _, value = option.partition("=")
        if name in ADAPTER_OPTIONS:
            option = f"{name}=" + ",".join(str(Path(v).resolve()) for v in value.split(","))
        options.append(option)
    return f"{kind}{colon}{target}{question}{'&'.join(options)}"


def adapter_paths(spec: str) -> list[Path]:
    """The adapter folders and files a spec names (``adapter=DIR``, ``lora=A.gguf,B.gguf``)."""
    paths = []
    for option in filter(None, spec.partition("?")[2].split("&")):
        name, _, values = option.partition("=")
        if name in ADAPTER_OPTIONS:
            paths += [Path(value) for value in values.split(",")]
    return paths


def latest_trained() -> str | None:
    pointer = latest_pointer()
    if not pointer.is_file():
        return None
    spec = json.loads(pointer.read_text()).get("spec")
    return spec if spec and all(path.exists() for path in adapter_paths(spec)) else None


def trained_optimizer(value: str) -> str:
    """``--optimizer`` given as an adapter folder of ``ads-bench train`` means the optimizer that
    folder's iteration produced (its ``ads_stats.json`` records the spec); a spec stays a spec."""
    folder = Path(value).expanduser()
    stats = folder / "ads_stats.json"
    if not folder.is_dir():
        return value
    if not stats.is_file():
        raise UserError(
            f"{folder} is a folder but not an adapter of `ads-bench train` (no ads_stats.json): pass "
            "results/train-.../adapters/iteration-N, or a model spec such as hf:BASE?adapter=DIR"
        )
    return absolute_paths(json.loads(stats.read_text())["optimizer_out"])


async def resolve_optimizer(config: Any, runtime: Any, console: Console | None) -> Any:
    """The run config with its optimizer decided: untrained for ``prompting``; for ``ads`` and
    its single-API ablations the same one — the last trained, else the shipped smoke one where
    it applies (:mod:`.shipped`), else a smoke one trained now — so an ablation never runs
    untrained while ``ads`` runs trained (issue 17, item 3)."""
    from ads_bench.strategies import OPTIMIZER_STRATEGIES

    if config.strategy not in OPTIMIZER_STRATEGIES:
        return config
    if config.optimizer:
        return dataclasses.replace(config, optimizer=absolute_paths(trained_optimizer(config.optimizer)))
    if config.strategy == "prompting":
        return dataclasses.replace(config, optimizer=UNTRAINED_DEFAULT)
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
