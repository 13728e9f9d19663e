"""One optimizer for every optimizer-driven cell of a sweep (issue 17, item 3).

A sweep's ``optimizer:`` key says which optimizer its ``ads`` and single-API ablation cells use,
and the sweep resolves it once, before any cell runs, so no cell can differ from another by
having trained a smoke optimizer first (or by finding one another cell trained)::

    optimizer: trained            # the default: what `run --strategy ads` uses (the last trained
                                  # optimizer, else a smoke one trained now, before any cell)
    optimizer: untrained          # the untrained embedded model
    optimizer: results/train-x/adapters/iteration-1    # or any model spec

    optimizer:                    # per strategy: ablations with optimizers trained on one API
      default: trained
      ir-only: results/train-ir/adapters/iteration-1   # `ads-bench train --apis ir --out ...`

``prompting`` is the untrained optimizer by definition and keeps it unless named here.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from rich.console import Console

from ads_bench.errors import UserError
from ads_bench.optimizer.checkpoints import resolve_optimizer
from ads_bench.strategies import OPTIMIZER_STRATEGIES
from ads_bench.strategies.optimizer_provenance import run_optimizer_info
from ads_bench.strategies.optimizer_specs import UNTRAINED_DEFAULT

TRAINED = "trained"
UNTRAINED = "untrained"


def optimizer_plan(sweep: dict[str, Any]) -> dict[str, str]:
    """The sweep's ``optimizer:`` as {strategy or "default": value}; a clear error when the
    optimizer is also set per cell, or names a strategy no optimizer drives."""
    value = sweep.get("optimizer", TRAINED)
    if "optimizer" in sweep and ("optimizer" in (sweep.get("base") or {}) or "optimizer" in sweep["grid"]):
        raise UserError(f"sweep {sweep['name']} sets the optimizer twice: keep the top-level 'optimizer:' "
                        "and remove it from base/grid")
    plan = dict(value) if isinstance(value, dict) else {"default": value}
    for key, spec in plan.items():
        if key != "default" and key not in OPTIMIZER_STRATEGIES:
            raise UserError(f"'optimizer: {{{key}: ...}}' in sweep {sweep['name']}: {key} is not driven by an "
                            f"optimizer; use default or one of {', '.join(OPTIMIZER_STRATEGIES)}")
        if not isinstance(spec, str) or not spec.strip():
            raise UserError(f"'optimizer' for {key} in sweep {sweep['name']} must be {TRAINED}, {UNTRAINED}, "
                            "an adapter folder of `ads-bench train` or a model spec")
    plan.setdefault("default", TRAINED)
    return plan


async def assign_optimizers(sweep: dict[str, Any], cells: list[tuple[str, Any]], runtime: Any,
                            console: Console | None = None) -> list[tuple[str, Any]]:
    """``cells`` with each optimizer-driven one's optimizer resolved: each distinct choice once."""
    plan = optimizer_plan(sweep)
    resolved: dict[str, str] = {}
    out = []
    for name, config in cells:
        strategy = config.strategy
        if strategy not in OPTIMIZER_STRATEGIES or config.optimizer:
            out.append((name, config))
            continue
        if strategy == "prompting" and strategy not in plan:
            out.append((name, config))  # resolve_optimizer gives it the untrained model
            continue
        value = plan.get(strategy, plan["default"])
        if value not in resolved:
            resolved[value] = await _resolve(value, config, runtime, console)
            if console is not None:
                info = run_optimizer_info("ads", resolved[value])
                console.print(f"sweep optimizer ({value}): {resolved[value]} — {info['description']}")
        out.append((name, dataclasses.replace(config, optimizer=resolved[value])))
    return out


async def _resolve(value: str, config: Any, runtime: Any, console: Console | None) -> str:
    if value == UNTRAINED:
        return UNTRAINED_DEFAULT
    # "trained" is exactly what `run --strategy ads` would pick; a spec or folder is made absolute
    as_ads = dataclasses.replace(config, strategy="ads", optimizer=None if value == TRAINED else value)
    return (await resolve_optimizer(as_ads, runtime, console)).optimizer
