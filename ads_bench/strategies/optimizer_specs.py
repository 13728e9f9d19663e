"""Which optimizer spec a run names: the last trained one (a pointer in the user's cache), an
adapter folder of `ads-bench train` read as its spec, paths made absolute. Nothing here trains:
a smoke optimizer, when none exists, is the command's decision
(:mod:`ads_bench.optimizer.checkpoints`).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

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


def given_optimizer(config: Any) -> Any:
    """The run config with the optimizer it already names made canonical, deciding nothing and
    training nothing: none for a strategy no optimizer drives, the untrained one for ``prompting``,
    the named one (an adapter folder read as its spec, paths absolute). An ``ads`` run or an
    ablation that names none is an error here: which trained optimizer drives it, and whether a
    smoke one is trained first, is the command's decision (:func:`ads_bench.optimizer.checkpoints.resolve_optimizer`)."""
    from ads_bench.strategies import OPTIMIZER_STRATEGIES

    if config.strategy not in OPTIMIZER_STRATEGIES:
        return config
    if config.optimizer:
        return dataclasses.replace(config, optimizer=absolute_paths(trained_optimizer(config.optimizer)))
    if config.strategy == "prompting":
        return dataclasses.replace(config, optimizer=UNTRAINED_DEFAULT)
    raise UserError(
        f"strategy {config.strategy} needs a trained optimizer and none was chosen: `ads-bench run` picks the last "
        "trained one (or trains a smoke one first); from Python, pass optimizer=SPEC or call "
        "ads_bench.optimizer.checkpoints.resolve_optimizer first"
    )
